//! For unit tests: a stack of a few inline services, with one environment, resolved.

use super::stack::{Selection, Stack};
use std::path::Path;

/// The stack of a ServiceStack whose `services:` are `services` (YAML lines, indented as list
/// items), in its only environment, `dev`.
pub fn dev_stack(services: &[&str]) -> Stack {
    let header = [
        "apiVersion: codex-k8s.dev/v1alpha1",
        "kind: ServiceStack",
        "project: { name: demo }",
        "environments: { dev: {} }",
        "services:",
    ];
    let text = header.iter().chain(services).copied().collect::<Vec<_>>().join("\n");
    let loaded = super::load_bytes("services.yaml", text.into_bytes(), Path::new(".")).expect("valid");
    loaded.resolve(&Selection { env: "dev".into(), ..Default::default() }).expect("resolves")
}
