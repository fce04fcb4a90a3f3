//! The gate against a fake API server that changes a Deployment between two reads, the way
//! Helm's apply lands between two of our polls.

use super::*;
use crate::cluster::fake_api::{self, NAMESPACE};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A stack of one Deployment unit, `web`, in the internal phase.
fn web_phase() -> (Stack, PhaseValues) {
    let stack = crate::config::test_stack::dev_stack(&[
        "  - name: web",
        "    phase: internal",
        "    workload: { kind: Deployment, image: \"web:1\" }",
    ]);
    let phase = crate::values::phase_values(&stack, &crate::plan::plan(&stack))
        .into_iter()
        .find(|p| p.release == "codex-internal")
        .expect("the internal phase");
    (stack, phase)
}

/// `web` at `generation`, its controller having observed `observed` and rolled that out.
fn deployment(generation: i64, observed: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NAMESPACE, "generation": generation},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}},
        "status": {"observedGeneration": observed, "replicas": 1, "updatedReplicas": 1,
                   "readyReplicas": 1, "availableReplicas": 1},
    })
}

/// A fake API server whose n-th read of `web` (from 1) is answered by `web_at(n)`.
fn fake_client(web_at: impl Fn(usize) -> Value + Send + Sync + 'static) -> Client {
    let reads = AtomicUsize::new(0);
    fake_api::client(move |path| {
        path.ends_with("/deployments/web").then(|| web_at(reads.fetch_add(1, Ordering::SeqCst) + 1))
    })
}

fn web() -> BTreeSet<String> {
    BTreeSet::from(["web".to_string()])
}

/// Helm's new spec lands right after the poll's first read: a gate that judged the state it
/// read first and the generation it read second took the old pods' readiness for the new
/// spec's, and moved on while the new pods might never come.
#[tokio::test]
async fn a_spec_helm_applies_between_two_reads_is_not_taken_as_ready_by_the_old_pods() {
    let (stack, phase) = web_phase();
    let mut tracker = Tracker::new(&stack, &phase, Default::default());
    // Read 1: the step's baseline; read 2: the poll's first read; then Helm has applied.
    let client = fake_client(|read| if read <= 2 { deployment(1, 1) } else { deployment(2, 1) });
    tracker.note_generations(&client, NAMESPACE, &web()).await.unwrap();
    let mut progress = Progress::new();
    let failure = tracker.poll(&client, NAMESPACE, "internal", &web(), true, &mut progress).await.unwrap();
    assert!(failure.is_none());
    assert!(!tracker.all_ready(&web()), "ready by the old spec while Helm applied the new one");
}

/// While Helm applies, readiness by the old spec waits; once Helm has applied everything (it
/// waits), a spec still unchanged is the step's spec, and its readiness counts.
#[tokio::test]
async fn an_unchanged_spec_counts_once_helm_has_applied_everything() {
    let (stack, phase) = web_phase();
    let mut tracker = Tracker::new(&stack, &phase, Default::default());
    let client = fake_client(|_| deployment(1, 1));
    tracker.note_generations(&client, NAMESPACE, &web()).await.unwrap();
    let mut progress = Progress::new();
    assert!(tracker.poll(&client, NAMESPACE, "internal", &web(), true, &mut progress).await.unwrap().is_none());
    assert!(!tracker.all_ready(&web()), "Helm may still replace this spec");
    assert!(tracker.poll(&client, NAMESPACE, "internal", &web(), false, &mut progress).await.unwrap().is_none());
    assert!(tracker.all_ready(&web()), "nothing replaces it any more");
}

/// A new spec that the controller rolled out is ready while Helm still applies the rest.
#[tokio::test]
async fn a_new_spec_rolled_out_counts_while_helm_still_applies() {
    let (stack, phase) = web_phase();
    let mut tracker = Tracker::new(&stack, &phase, Default::default());
    let client = fake_client(|read| if read == 1 { deployment(1, 1) } else { deployment(2, 2) });
    tracker.note_generations(&client, NAMESPACE, &web()).await.unwrap();
    let mut progress = Progress::new();
    assert!(tracker.poll(&client, NAMESPACE, "internal", &web(), true, &mut progress).await.unwrap().is_none());
    assert!(tracker.all_ready(&web()));
}
