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
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
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

/// A helm started before its values are known: it has read its kubeconfig, looked up the
/// release's history and loaded the chart, and waits on its standard input for the values
/// (`values::STDIN_GUARD` says why a helm that never gets them installs nothing). Dropped
/// unused, it is killed before its standard input closes.
pub struct Standby {
    process: Option<HelmProcess>,
    stdin: Option<tokio::process::ChildStdin>,
}

impl Standby {
    /// Starts `command` (a `helm upgrade --install … --values - --debug`, standard input piped).
    pub fn spawn(mut command: tokio::process::Command, release: &str, version: HelmVersion) -> Result<Standby> {
        let mut child = command.spawn().context("starting helm")?;
        let stdin = child.stdin.take();
        let (said_waiting, waiting) = watch::channel(false);
        // Both pipes are drained side by side from the start: helm blocks once either one's
        // buffer is full, and it speaks before it reads its values.
        let stderr = tokio::spawn(read_stderr(child.stderr.take(), version, said_waiting));
        let stdout = tokio::spawn(drain(child.stdout.take()));
        let process = HelmProcess { release: release.to_string(), child, stderr, stdout, waiting };
        Ok(Standby { process: Some(process), stdin })
    }

    /// Hands helm its values document; from here on it installs.
    pub async fn go(mut self, document: &str) -> Result<HelmProcess> {
        let stdin = self.stdin.take().context("helm's standard input")?;
        match hand_over(stdin, document.to_string()).await {
            // A helm that has already exited says why in its status and its standard error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(anyhow::Error::new(e).context("passing the values to helm"))
            }
            _ => Ok(self.process.take().expect("a standby goes once")),
        }
    }
}

/// Writes `document` to helm's standard input and closes it, from a thread of its own that
/// blocks SIGPIPE: `main` gives SIGPIPE back its default (death, for `… | head`), and a helm
/// that has exited already must cost an error, not the run. The signal left pending on that
/// thread goes with it.
async fn hand_over(stdin: tokio::process::ChildStdin, document: String) -> std::io::Result<()> {
    use std::io::Write;
    let mut pipe = std::fs::File::from(stdin.into_owned_fd()?);
    let (written, wrote) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        // SAFETY: a signal mask of this thread alone, set up from a zeroed set.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let _ = written.send(pipe.write_all(document.as_bytes()));
    });
    wrote.await.unwrap_or_else(|_| Err(std::io::Error::other("the thread passing helm its values died")))
}

impl Drop for Standby {
    fn drop(&mut self) {
        // SIGKILL before the standard input closes: at end of input helm would go on.
        if let Some(process) = &mut self.process {
            let _ = process.child.start_kill();
        }
    }
}

impl HelmProcess {
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

    /// `sh -c script` with its three pipes, as a helm's command is spawned.
    fn sh(script: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("sh");
        command
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }

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
        let command = sh(script);
        let helm = Standby::spawn(command, "codex-edge", V4).unwrap().go("go\n").await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), started_waiting(&mut helm.waiting_signal())).await.unwrap();
        assert!(helm.is_waiting());
        let failure = helm.finish().await.unwrap().expect("exit 1 is a failure");
        assert!(failure.starts_with("helm upgrade --install codex-edge failed"), "{failure}");
        assert!(failure.ends_with("Error: it broke"), "{failure}");
        assert!(!failure.contains("DEBUG") && !failure.contains("values"), "{failure}");
    }

    #[tokio::test]
    async fn a_standby_dropped_unused_is_killed_and_never_reads_end_of_input() {
        let dir = tempfile::tempdir().unwrap();
        let went = dir.path().join("went");
        // Stands for a helm that would install with whatever it read once its input ends.
        let script = format!("cat > /dev/null; touch {}", went.display());
        let command = sh(&script);
        let standby = Standby::spawn(command, "codex-edge", V4).unwrap();
        let pid = standby.process.as_ref().and_then(|p| p.child.id()).unwrap();
        drop(standby);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!went.exists(), "the standby went on after its input closed");
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(state.is_empty() || state.contains(") Z "), "pid {pid} still runs: {state}");
    }

    #[tokio::test]
    async fn a_standby_handed_its_document_reads_all_of_it() {
        let command = sh("test \"$(cat)\" = '{\"global\":{}}' || { echo 'Error: wrong input' >&2; exit 1; }");
        let standby = Standby::spawn(command, "codex-edge", V4).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let helm = standby.go(r#"{"global":{}}"#).await.unwrap();
        assert_eq!(helm.finish().await.unwrap(), None);
    }

    #[tokio::test]
    async fn values_handed_to_a_helm_that_has_exited_are_an_error_of_helm_not_a_sigpipe() {
        let command = sh("echo 'Error: gone early' >&2; exit 1");
        let mut standby = Standby::spawn(command, "codex-edge", V4).unwrap();
        standby.process.as_mut().unwrap().child.wait().await.unwrap();
        // As `main` sets it: SIGPIPE would end this test binary if it reached the writer.
        // SAFETY: restoring a signal's disposition; the test harness ignores SIGPIPE otherwise.
        let before = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        let handed = standby.go(&"x".repeat(1 << 20)).await;
        unsafe { libc::signal(libc::SIGPIPE, before) };
        let failure = handed.unwrap().finish().await.unwrap().expect("exit 1 is a failure");
        assert!(failure.ends_with("Error: gone early"), "{failure}");
    }

    #[tokio::test]
    async fn a_process_that_never_says_it_waits_is_never_taken_for_waiting() {
        let command = sh("echo 'Error: no' >&2");
        let mut helm = Standby::spawn(command, "codex-edge", V3).unwrap().go("").await.unwrap();
        helm.exited().await.unwrap();
        let waited =
            tokio::time::timeout(Duration::from_millis(200), started_waiting(&mut helm.waiting_signal())).await;
        assert!(waited.is_err() && !helm.is_waiting());
        assert_eq!(helm.finish().await.unwrap(), None);
    }
}
