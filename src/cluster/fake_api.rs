//! A fake API server for unit tests: a closure answers GETs by path; what it leaves alone
//! gets discovery of the built-in groups the gates read, or an empty list.

use http::{Request, Response};
use kube::client::Body;
use kube::Client;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;

/// The namespace the fake client defaults to.
pub const NAMESPACE: &str = "codex-test";

/// A client whose requests `answer` serves by path (`None`: the defaults above).
pub fn client(answer: impl Fn(&str) -> Option<Value> + Send + Sync + 'static) -> Client {
    let answer = Arc::new(answer);
    let service = tower::service_fn(move |request: Request<Body>| {
        let answer = answer.clone();
        async move {
            let path = request.uri().path().to_string();
            let body = answer(&path).unwrap_or_else(|| default_answer(&path));
            Ok::<_, Infallible>(Response::new(Body::from(serde_json::to_vec(&body).unwrap())))
        }
    });
    Client::new(service, NAMESPACE)
}

fn default_answer(path: &str) -> Value {
    let resource = |name: &str, kind: &str| {
        json!({"name": name, "singularName": kind.to_lowercase(), "namespaced": true, "kind": kind,
               "verbs": ["get", "list", "watch"]})
    };
    let group = |version: &str, resources: Vec<Value>| json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": version, "resources": resources});
    match path {
        "/apis/apps/v1" => group("apps/v1", vec![resource("deployments", "Deployment")]),
        "/apis/batch/v1" => group("batch/v1", vec![resource("jobs", "Job")]),
        _ => json!({"kind": "List", "apiVersion": "v1", "metadata": {}, "items": []}),
    }
}
