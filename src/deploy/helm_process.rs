//! One running `helm upgrade --install` of a phase step: its pipes drained side by side, the
//! moment it starts waiting noticed, and its outcome collected later if the phase moves on.
//!
//! Helm runs with `--debug` so that it says when it has applied every object and begins its
//! own wait. From then on our gate is the one that decides: once it has seen every unit ready,
//! the next phase need not wait for Helm to see the same, a moment later (Helm 4's watcher
//! trails by 0.1 s; a Job's `Complete` condition by over a second). Helm keeps running and
//! records the release when its wait ends; `up` collects it before it reports, so Helm's record
//! stays honest and a Helm that fails after all still fails the run.

use crate::helm::HelmVersion;
use anyhow::{Context, Result};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How a failure of the helm process itself begins (others come from our gate).
pub const HELM_FAILED: &str = "helm upgrade --install";

/// A helm process of one release.
pub struct HelmProcess {
    release: String,
    child: tokio::process::Child,
    /// Helm's standard error without its debug lines: what it says when it fails.
    stderr: JoinHandle<String>,
    /// Drained and dropped: with `--debug`, Helm prints the release's values there.
    stdout: JoinHandle<()>,
    waiting: watch::Receiver<bool>,
}

impl HelmProcess {
    /// Starts `command` (a `helm upgrade --install … --debug`), writing `stdin_values` (the
    /// Secrets' values, never put on disk) to its standard input.
    pub async fn spawn(
        mut command: tokio::process::Command,
        release: &str,
        version: HelmVersion,
        stdin_values: Option<&str>,
    ) -> Result<HelmProcess> {
        let mut child = command.spawn().context("starting helm")?;
        if let Some(values) = stdin_values {
            // Helm reads the whole document before doing anything else.
            let mut stdin = child.stdin.take().context("helm's standard input")?;
            stdin.write_all(values.as_bytes()).await.context("passing the secrets' values to helm")?;
            stdin.shutdown().await.context("passing the secrets' values to helm")?;
        }
        let (said_waiting, waiting) = watch::channel(false);
        // Both pipes are drained side by side: helm blocks once either one's buffer is full.
        let stderr = tokio::spawn(read_stderr(child.stderr.take(), version, said_waiting));
        let stdout = tokio::spawn(drain(child.stdout.take()));
        Ok(HelmProcess { release: release.to_string(), child, stderr, stdout, waiting })
    }

    /// Whether Helm has applied every object and is waiting for them.
    pub fn is_waiting(&self) -> bool {
        *self.waiting.borrow()
    }

    /// What [`started_waiting`] listens to.
    pub fn waiting_signal(&self) -> watch::Receiver<bool> {
        self.waiting.clone()
    }

    /// Waits for Helm to exit by itself.
    pub async fn exited(&mut self) -> Result<std::process::ExitStatus> {
        Ok(self.child.wait().await?)
    }

    /// Asks Helm to stop (SIGTERM, so it can record the release as failed), then insists.
    pub async fn stop(&mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: sending a signal to our own child process by pid.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
        }
    }

    /// Waits for Helm to exit; the failure message when it did not succeed.
    pub async fn finish(mut self) -> Result<Option<String>> {
        let status = self.child.wait().await?;
        let errors = self.stderr.await.unwrap_or_default();
        let _ = self.stdout.await;
        Ok((!status.success()).then(|| format!("{HELM_FAILED} {} failed ({status}): {}", self.release, errors.trim())))
    }
}

/// Returns once Helm starts waiting; never, if it exits without saying so.
pub async fn started_waiting(signal: &mut watch::Receiver<bool>) {
    if signal.wait_for(|waiting| *waiting).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The line with which Helm, run with `--debug`, says it has applied every object and begins
/// to wait for them.
fn says_waiting(version: HelmVersion, line: &str) -> bool {
    if version.major >= 4 {
        line.starts_with("level=DEBUG") && line.contains("msg=\"waiting for resources\"")
    } else {
        line.contains("[debug] beginning wait for ")
    }
}

/// A debug line of Helm's: not part of what it says when it fails.
fn is_debug(line: &str) -> bool {
    line.starts_with("level=DEBUG") || line.contains(" [debug] ")
}

async fn read_stderr<R: tokio::io::AsyncRead + Unpin>(
    pipe: Option<R>,
    version: HelmVersion,
    said_waiting: watch::Sender<bool>,
) -> String {
    let mut kept = String::new();
    let Some(pipe) = pipe else { return kept };
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if says_waiting(version, &line) {
            said_waiting.send_replace(true);
        } else if !is_debug(&line) {
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    kept
}

async fn drain<R: tokio::io::AsyncRead + Unpin>(pipe: Option<R>) {
    if let Some(mut pipe) = pipe {
        let mut sink = [0u8; 8192];
        while matches!(pipe.read(&mut sink).await, Ok(n) if n > 0) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3: HelmVersion = HelmVersion { major: 3, minor: 22, patch: 0 };
    const V4: HelmVersion = HelmVersion { major: 4, minor: 3, patch: 2 };

    #[test]
    fn each_major_says_in_its_own_words_that_it_waits() {
        // As Helm 3.22.0 and 4.3.2 print them with --debug (captured on the local cluster).
        let helm3 = "wait.go:50: 2026-12-07 15:07:33.478830441 +0000 UTC m=+0.120127132 [debug] beginning wait for 1 resources with timeout of 5m0s";
        let helm4 = "level=DEBUG msg=\"waiting for resources\" count=3 timeout=5m0s";
        assert!(says_waiting(V3, helm3) && !says_waiting(V3, helm4));
        assert!(says_waiting(V4, helm4) && !says_waiting(V4, helm3));
        let per_resource = "level=DEBUG msg=\"waiting for resource\" namespace=n name=web kind=Deployment";
        assert!(!says_waiting(V4, per_resource));
        assert!(is_debug(helm3) && is_debug(helm4) && !is_debug("Error: UPGRADE FAILED: timed out"));
    }

    #[tokio::test]
    async fn a_process_that_says_it_waits_is_noticed_and_its_errors_are_kept_without_debug_lines() {
        let script = "echo 'level=DEBUG msg=\"waiting for resources\" count=1' >&2; read go; \
                      echo 'level=DEBUG msg=\"x\"' >&2; echo 'Error: it broke' >&2; echo values; exit 1";
        let mut command = tokio::process::Command::new("sh");
        command
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let helm = HelmProcess::spawn(command, "codex-edge", V4, Some("go\n")).await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), started_waiting(&mut helm.waiting_signal())).await.unwrap();
        assert!(helm.is_waiting());
        let failure = helm.finish().await.unwrap().expect("exit 1 is a failure");
        assert!(failure.starts_with("helm upgrade --install codex-edge failed"), "{failure}");
        assert!(failure.ends_with("Error: it broke"), "{failure}");
        assert!(!failure.contains("DEBUG") && !failure.contains("values"), "{failure}");
    }

    #[tokio::test]
    async fn a_process_that_never_says_it_waits_is_never_taken_for_waiting() {
        let mut command = tokio::process::Command::new("sh");
        command
            .args(["-c", "echo 'Error: no' >&2"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut helm = HelmProcess::spawn(command, "codex-edge", V3, None).await.unwrap();
        helm.exited().await.unwrap();
        let waited =
            tokio::time::timeout(Duration::from_millis(200), started_waiting(&mut helm.waiting_signal())).await;
        assert!(waited.is_err() && !helm.is_waiting());
        assert_eq!(helm.finish().await.unwrap(), None);
    }
}
