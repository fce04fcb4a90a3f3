//! `kubectl` with the admin kubeconfig: applying manifests and reading state.
use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use super::layout::Layout;

fn command(layout: &Layout) -> Command {
    let mut command = Command::new("kubectl");
    command.arg("--kubeconfig").arg(layout.kubeconfig()).arg("--request-timeout=10s");
    command
}

/// Runs kubectl and returns its standard output.
pub fn output(layout: &Layout, args: &[&str]) -> Result<String> {
    Ok(crate::exec::stdout(command(layout).args(args))?)
}

/// `kubectl apply` of a multi-document YAML, server-side with our field manager.
pub fn apply(layout: &Layout, manifest: &str) -> Result<()> {
    let mut child = command(layout)
        .args(["apply", "--server-side", "--force-conflicts", "--field-manager=codex-xtask", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running kubectl (it must be on PATH)")?;
    child.stdin.take().expect("piped stdin").write_all(manifest.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("kubectl apply failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// Whether the node reports Ready.
pub fn node_ready(layout: &Layout, node: &str) -> bool {
    output(layout, &["get", "node", node, "-o", r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#])
        .map(|s| s.trim() == "True")
        .unwrap_or(false)
}
