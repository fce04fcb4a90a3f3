//! The command line as scripts see it: exit codes, output formats, determinism. One module per
//! subject; the helpers here run the binary as a script would.

mod build;
mod commands;
mod connection;
mod helm_check;
mod inputs;
mod mirror;

use crate::support::{codex_command, http_stub, registry_stub, text};

use std::path::Path;
use std::process::{Command, Output};

/// The example's secret input `dbPassword`, given through the environment as a script would.
const DB_PASSWORD: &str = "cli-test-db-password-91d3";

fn codex(args: &[&str]) -> Output {
    codex_env(args, &[("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)])
}

/// kubectl-codex with exactly the inputs in `env`: none from the caller's environment.
fn codex_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = codex_command(args);
    command.env_remove("CODEX_INPUT_DBPASSWORD").envs(env.iter().copied());
    command.output().expect("the binary runs")
}

/// A fake `helm` that answers `version` with `prints` and fails every other command, so a
/// test that gets past the version check still cannot touch a cluster.
fn fake_helm(dir: &Path, prints: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("helm");
    std::fs::write(&path, format!("#!/bin/sh\n[ \"$1\" = version ] && printf '%s' '{prints}' && exit 0\nexit 1\n"))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A stack of one image `app` built from `ctx/`, pushed to the registry on 127.0.0.1:`port`.
fn one_image_stack(port: impl std::fmt::Display) -> String {
    [
        "apiVersion: codex-k8s.dev/v1alpha1",
        "kind: ServiceStack",
        "project: { name: demo }",
        "environments:",
        &format!("  prod: {{ registry: \"127.0.0.1:{port}\" }}"),
        "images:",
        "  app: { build: { context: ctx }, repository: demo/app }",
        "services:",
        "  - { name: app, phase: internal, workload: { kind: Deployment, image: app } }",
    ]
    .join("\n")
}
