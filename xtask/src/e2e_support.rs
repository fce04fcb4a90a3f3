//! Preparation for `cargo test --features e2e --test tests -- e2e_cluster::`: a running
//! local cluster and the probe image the tests deploy.
use std::process::Command;

use anyhow::{Context, Result};

use crate::exec;
use crate::images::oci::{self, ImageSpec};
use crate::repo::repo_root;
use crate::{cluster, tools};

/// Brings the cluster up, builds and pushes the probe image, and returns the
/// environment the test binary needs (`KUBECONFIG`, `CODEX_E2E_PROBE_IMAGE`).
pub fn prepare_cluster_e2e() -> Result<Vec<(String, String)>> {
    let info = cluster::up()?;
    let probe = push_probe_image()?;
    Ok(vec![
        ("KUBECONFIG".to_string(), info.kubeconfig.display().to_string()),
        ("CODEX_E2E_PROBE_IMAGE".to_string(), probe),
    ])
}

/// The probe's user (the distroless "nonroot" UID and GID) and how its tag says so.
const PROBE_USER: &str = "65532:65532";
const PROBE_USER_TAG: &str = "u65532";

/// The probe image, tagged by its sources' digest: a changed probe gets a new
/// tag, so kubelet never runs a stale cached copy.
fn push_probe_image() -> Result<String> {
    let sources = repo_root().join("testdata/images/probe");
    // The user is part of the tag: an image that changed only in its config gets a new one too.
    let tag = format!("src-{}-{PROBE_USER_TAG}", tools::sources_digest(&sources)?);
    let reference = format!("{}/codex/e2e-probe:{tag}", oci::registry_address());
    if oci::exists(&reference)? {
        return Ok(reference);
    }
    let binary = repo_root().join("target/e2e/probe");
    exec::run(
        Command::new("go")
            .current_dir(&sources)
            .env("CGO_ENABLED", "0")
            .args(["build", "-trimpath", "-ldflags=-s -w", "-o"])
            .arg(&binary)
            .arg("."),
    )
    .with_context(|| format!("building the probe in {} (is Go installed?)", sources.display()))?;
    oci::assemble_and_push(&ImageSpec {
        repository: "codex/e2e-probe".to_string(),
        tag,
        files: vec![(binary, "/probe".to_string())],
        entrypoint: vec!["/probe".to_string()],
        // A numeric non-root user, so pods in namespaces that enforce Pod Security
        // "restricted" (runAsNonRoot) run it as it is.
        user: Some(PROBE_USER.to_string()),
        ..ImageSpec::default()
    })
}
