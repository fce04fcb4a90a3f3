//! An in-memory Docker registry stand-in (manifests, blobs, monolithic uploads, mounts) on
//! top of [`super::http_stub`], for the mirror tests: every request is logged, so they can be
//! counted.

use super::http_stub::{self, Request, Response};
use kubectl_codex::build::inputs::sha256_hex;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// What one stand-in registry holds.
#[derive(Default)]
pub struct Store {
    /// (repository, tag or digest) → (media type, body).
    pub manifests: HashMap<(String, String), (String, Vec<u8>)>,
    /// (repository, digest) → bytes.
    pub blobs: HashMap<(String, String), Vec<u8>>,
    pub uploads: usize,
    /// GET of a blob answers 307 to `/cdn/<digest>`, as Docker Hub sends to its CDN.
    pub redirect_blobs: bool,
    /// Answer this many requests with 503 first.
    pub unavailable: usize,
    /// Every request needs this `Authorization` (a Basic challenge otherwise).
    pub authorization: Option<String>,
}

pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

impl Store {
    pub fn put_blob(&mut self, repository: &str, bytes: &[u8]) -> String {
        let digest = digest_of(bytes);
        self.blobs.insert((repository.into(), digest.clone()), bytes.to_vec());
        digest
    }

    pub fn put_manifest(&mut self, repository: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
        let digest = digest_of(body);
        for key in [reference.to_string(), digest.clone()] {
            self.manifests.insert((repository.into(), key), (media_type.into(), body.to_vec()));
        }
        digest
    }

    pub fn answer(&mut self, request: &Request) -> Response {
        if self.unavailable > 0 {
            self.unavailable -= 1;
            return Response::new(503);
        }
        if let Some(expected) = &self.authorization {
            if request.authorization.as_ref() != Some(expected) {
                return Response::new(401).header("WWW-Authenticate", r#"Basic realm="stub""#);
            }
        }
        let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
        let param = |name: &str| {
            query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).map(|v| v.replace("%3A", ":"))
        };
        if let Some(digest) = path.strip_prefix("/cdn/") {
            let found = self.blobs.iter().find(|((_, d), _)| d == digest).map(|(_, b)| b.clone());
            return found.map_or(Response::new(404), |b| Response::new(200).body(b));
        }
        let Some(rest) = path.strip_prefix("/v2/") else { return Response::new(404) };
        if let Some((repository, reference)) = rest.split_once("/manifests/") {
            let key = (repository.to_string(), reference.to_string());
            return match request.method.as_str() {
                "HEAD" | "GET" => match self.manifests.get(&key) {
                    Some((media_type, body)) => Response::new(200)
                        .header("Content-Type", media_type)
                        .header("Docker-Content-Digest", &digest_of(body))
                        .body(body.clone()),
                    None => Response::new(404),
                },
                "PUT" => {
                    let media_type = request.content_type.clone().unwrap_or_default();
                    self.put_manifest(repository, reference, &media_type, &request.body);
                    Response::new(201)
                }
                _ => Response::new(405),
            };
        }
        if let Some((repository, upload)) = rest.split_once("/blobs/uploads/") {
            return match request.method.as_str() {
                "POST" => {
                    if let (Some(digest), Some(from)) = (param("mount"), param("from")) {
                        if let Some(bytes) = self.blobs.get(&(from, digest.clone())).cloned() {
                            self.blobs.insert((repository.into(), digest), bytes);
                            return Response::new(201);
                        }
                    }
                    self.uploads += 1;
                    Response::new(202)
                        .header("Location", &format!("/v2/{repository}/blobs/uploads/{}?_state=s", self.uploads))
                }
                "PUT" if !upload.is_empty() => {
                    let digest = param("digest").unwrap_or_default();
                    if digest_of(&request.body) != digest {
                        return Response::new(400).body("digest mismatch");
                    }
                    self.blobs.insert((repository.into(), digest), request.body.clone());
                    Response::new(201)
                }
                _ => Response::new(405),
            };
        }
        if let Some((repository, digest)) = rest.split_once("/blobs/") {
            let Some(bytes) = self.blobs.get(&(repository.to_string(), digest.to_string())) else {
                return Response::new(404);
            };
            if request.method == "GET" && self.redirect_blobs {
                return Response::new(307).header("Location", &format!("/cdn/{digest}"));
            }
            return Response::new(200).body(bytes.clone());
        }
        Response::new(404)
    }
}

pub type Log = Arc<Mutex<Vec<Request>>>;

/// A stand-in registry: its address, its store and its request log.
pub fn registry(store: Store) -> (String, Arc<Mutex<Store>>, Log) {
    let store = Arc::new(Mutex::new(store));
    let shared = store.clone();
    let (address, log) = http_stub::serve(move |request| shared.lock().unwrap().answer(request));
    (address, store, log)
}

/// Two platforms of an image under `upstream/redis:7`, behind an OCI index, sharing one layer.
/// Returns the index digest and every blob digest.
pub fn seed(store: &mut Store, repository: &str) -> (String, Vec<String>) {
    let shared = store.put_blob(repository, b"shared base layer");
    let mut blobs = vec![shared.clone()];
    let mut children = Vec::new();
    for arch in ["amd64", "arm64"] {
        let config = store.put_blob(repository, format!(r#"{{"architecture":"{arch}"}}"#).as_bytes());
        let layer = store.put_blob(repository, format!("layer for {arch}").as_bytes());
        blobs.extend([config.clone(), layer.clone()]);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 1},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": shared, "size": 1},
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 1},
            ],
        })
        .to_string();
        let digest = digest_of(manifest.as_bytes());
        store.put_manifest(repository, &digest, OCI_MANIFEST, manifest.as_bytes());
        children.push(serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len(),
            "platform": {"os": "linux", "architecture": arch},
        }));
    }
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}).to_string();
    (store.put_manifest(repository, "7", OCI_INDEX, index.as_bytes()), blobs)
}
