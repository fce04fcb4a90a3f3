//! `kubectl codex <TAB>`: the real kubectl finds `kubectl_complete-codex` (the committed
//! scripts/kubectl_complete-codex) on PATH next to the built kubectl-codex and gets the
//! plugin's candidates in cobra's protocol.

use crate::support::host_tool;

use std::path::Path;
use std::process::{Command, Output};

/// A directory holding only the plugin and its completion helper, as krew's bin directory
/// would, and the kubectl `__complete` output for `words` with it on PATH.
fn kubectl_complete(words: &[&str]) -> Output {
    let kubectl = host_tool::host_tool("CODEX_TEST_KUBECTL", "kubectl");
    let bin = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubectl-codex"), bin.path().join("kubectl-codex")).unwrap();
    std::os::unix::fs::symlink(repo.join("scripts/kubectl_complete-codex"), bin.path().join("kubectl_complete-codex"))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    // /usr/bin and /bin for the helper's sh and dirname; no other kubectl-codex anywhere.
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    Command::new(kubectl)
        .arg("__complete")
        .args(words)
        .current_dir(repo)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .output()
        .expect("kubectl runs")
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

fn candidates(out: &Output) -> Vec<String> {
    lines(out).iter().filter(|l| !l.starts_with(':')).map(|l| l.split('\t').next().unwrap().to_string()).collect()
}

#[test]
fn kubectl_completes_the_plugin_subcommands() {
    let out = kubectl_complete(&["codex", ""]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = candidates(&out);
    for expected in ["up", "plan", "validate", "evidence", "graph", "down"] {
        assert!(listed.contains(&expected.to_string()), "{expected} not offered: {:?}", lines(&out));
    }
    assert!(!listed.contains(&"__complete".to_string()), "the hidden command leaked: {listed:?}");
    assert_eq!(lines(&out).last().map(String::as_str), Some(":4"), "no file completion for subcommands");
}

#[test]
fn kubectl_completes_flags_values_and_environments() {
    let flags = candidates(&kubectl_complete(&["codex", "plan", "--o"]));
    assert_eq!(flags, ["--output"]);
    // A word clap would read as its own flag is still just the word being completed.
    assert_eq!(candidates(&kubectl_complete(&["codex", "plan", "--help"])), ["--help"]);
    let formats = candidates(&kubectl_complete(&["codex", "graph", "-o", ""]));
    assert_eq!(formats, ["dot", "mermaid", "svg"]);
    // --env offers the environments of ./services.yaml (the example at the repository root).
    let environments = candidates(&kubectl_complete(&["codex", "up", "--env", ""]));
    assert_eq!(environments, ["ai", "dev", "prod", "staging"]);
    let files = kubectl_complete(&["codex", "plan", "-f", ""]);
    assert_eq!(lines(&files).last().map(String::as_str), Some(":0"), "file names for -f");
}
