//! Whether a failed helm process failed because the API server hiccupped (worth one more
//! try) rather than because of the chart, the values or the objects (final).
//!
//! Helm reports what client-go saw as text on stderr, so this reads its words: the messages
//! of Go's net stack, of the API server when it is starting or overloaded, and of etcd.

/// Fragments of helm's error text that only a transient condition produces.
const TRANSIENT_FRAGMENTS: &[&str] = &[
    "connection refused",
    "connection reset by peer",
    "broken pipe",
    "i/o timeout",
    "tls handshake timeout",
    "unexpected eof",
    "http2: client connection lost",
    "http2: server sent goaway",
    "net/http: request canceled",
    "the server is currently unable to handle the request",
    "the server was unable to return a response in the time allotted",
    "too many requests",
    "etcdserver: request timed out",
    "etcdserver: leader changed",
    "etcdserver: too many requests",
    "apiserver is shutting down",
];

/// True when `stderr` of a failed helm names a transient failure of the API server.
pub fn is_transient(stderr: &str) -> bool {
    let lower = stderr.to_lowercase();
    TRANSIENT_FRAGMENTS.iter().any(|fragment| lower.contains(fragment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_server_hiccups_are_transient_and_chart_errors_are_not() {
        for hiccup in [
            "Error: UPGRADE FAILED: Get \"https://127.0.0.1:6443/api/v1/namespaces/x/secrets\": dial tcp 127.0.0.1:6443: connect: connection refused",
            "Error: INSTALLATION FAILED: etcdserver: leader changed",
            "Error: an error on the server (\"\") has prevented the request from succeeding: the server is currently unable to handle the request",
            "Error: UPGRADE FAILED: read tcp 127.0.0.1:51234->127.0.0.1:6443: read: connection reset by peer",
            "Error: Kubernetes cluster unreachable: Get \"https://127.0.0.1:6443/version\": net/http: TLS handshake timeout",
        ] {
            assert!(is_transient(hiccup), "{hiccup}");
        }
        for final_error in [
            "Error: UPGRADE FAILED: template: codex-env/templates/workload.yaml:3:4: executing ...",
            "Error: UPGRADE FAILED: resource Deployment x: spec.template.spec.containers[0].image: Required value",
            "Error: UPGRADE FAILED: context deadline exceeded",
            "Error: INSTALLATION FAILED: cannot re-use a name that is still in use",
        ] {
            assert!(!is_transient(final_error), "{final_error}");
        }
    }
}
