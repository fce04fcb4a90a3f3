//! What bench reload does on the cluster: deploy with and without a build, edit through an
//! agent Job, and wait until a Service answers with the new text.

use super::copies::BuildCopy;
use super::{Bench, Built, Hot, DEV_NAMESPACE, DEV_SLOT, POLL};
use crate::bench::harness::path_str;
use crate::bench::time;
use crate::exec;
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

impl Bench {
    pub(super) fn kubectl(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command.env("KUBECONFIG", &self.kubeconfig).args(args);
        command
    }

    pub(super) fn delete_namespace(&self, namespace: &str) -> Result<()> {
        crate::bench::harness::delete_namespace(self.kubectl(&[]), namespace, Duration::from_secs(300))
    }

    /// `kubectl-codex up --env prod` in the BuildKit baseline's copy, building with buildctl;
    /// `total` is left at the `up` run's own length.
    pub(super) fn up_with_build(&self, copy: &BuildCopy, log: &str) -> Result<Built> {
        let buildctl = path_str(&self.buildctl)?;
        let started_at = time::seconds(time::now_ns());
        let started = Instant::now();
        let out = self.codex_in(
            &copy.dir,
            &[
                "up",
                "-f",
                "services.yaml",
                "--env",
                "prod",
                "--timeout",
                "8m",
                "-o",
                "json",
                "--builder",
                "buildctl",
                "--buildctl",
                buildctl,
            ],
            log,
        )?;
        let up = started.elapsed().as_secs_f64();
        let answer: Value =
            serde_json::from_str(&out).with_context(|| format!("{log}: `up -o json` printed no JSON"))?;
        let first_phase = answer["phases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["startedAt"].as_str().and_then(|t| time::rfc3339_ns(t).ok()).map(time::seconds))
            .min_by(f64::total_cmp)
            .with_context(|| format!("{log}: no phase startedAt in {answer}"))?;
        let build = (first_phase - started_at).clamp(0.0, up);
        let built = answer["images"]
            .as_array()
            .with_context(|| format!("{log}: no images in {answer}"))?
            .iter()
            .filter(|i| i["status"] == "built")
            .filter_map(|i| i["name"].as_str().map(str::to_string))
            .collect();
        Ok(Built { total: up, build, deploy: up - build, built })
    }

    /// Runs kubectl-codex; its output goes to <work>/<log>.{out,err}. Returns stdout.
    pub(super) fn codex_ok(&self, args: &[&str], log: &str) -> Result<String> {
        self.codex_in(&self.root, args, log)
    }

    /// As [`Bench::codex_ok`], from `dir`.
    pub(super) fn codex_in(&self, dir: &Path, args: &[&str], log: &str) -> Result<String> {
        let out = Command::new(&self.codex)
            .args(args)
            .current_dir(dir)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("BUILDKIT_HOST", &self.buildkit_host)
            .env("CODEX_HELM", &self.helm)
            .env(crate::repo::DB_PASSWORD_ENV, &self.db_password)
            .output()
            .with_context(|| format!("running {}", self.codex.display()))?;
        fs::write(self.work.join(format!("{log}.out")), &out.stdout)?;
        fs::write(self.work.join(format!("{log}.err")), &out.stderr)?;
        ensure!(
            out.status.success(),
            "kubectl-codex {} failed ({}); see {}",
            args.join(" "),
            out.status,
            self.work.join(format!("{log}.err")).display()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The agent edits the workspace with `script`, then prints the kernel's uptime; the
    /// time from there until `service` answers `path` with `wanted` is the hot reload. The
    /// Service is polled while the agent run is still going: its Job takes about a second to
    /// end after the edit, and a fast reload is over by then.
    pub(super) fn hot_edit(&self, script: &str, service: &str, path_: &str, wanted: &str, run: usize) -> Result<Hot> {
        let log = format!("agent-{service}-{run}");
        let (stdout_path, stderr_path) = (self.work.join(format!("{log}.out")), self.work.join(format!("{log}.err")));
        let before = uptime()?;
        let started = Instant::now();
        let script = format!("{script} && cat /proc/uptime");
        let mut agent = Command::new(&self.codex)
            .args(["agent", "run", "--env", "dev", "--slot", DEV_SLOT, "--timeout", "5m", "--", "sh", "-c", &script])
            .current_dir(&self.root)
            .env("KUBECONFIG", &self.kubeconfig)
            .env(crate::repo::DB_PASSWORD_ENV, &self.db_password)
            .stdout(fs::File::create(&stdout_path)?)
            .stderr(fs::File::create(&stderr_path)?)
            .spawn()
            .with_context(|| format!("running {}", self.codex.display()))?;
        let addr = self.service_address(DEV_NAMESPACE, service)?;
        let deadline = Instant::now() + self.timeout;
        let mut finished = None;
        let seen = loop {
            if http_get(addr, path_).is_ok_and(|body| body.contains(wanted)) {
                break uptime()?;
            }
            if finished.is_none() {
                finished = agent.try_wait()?;
            }
            if let Some(status) = finished.filter(|s| !s.success()) {
                bail!("kubectl-codex agent run failed ({status}); see {}", stderr_path.display());
            }
            ensure!(
                Instant::now() < deadline,
                "{DEV_NAMESPACE}/{service} did not answer with the edit within {:?}",
                self.timeout
            );
            std::thread::sleep(POLL);
        };
        let status = agent.wait()?;
        let agent_run = started.elapsed().as_secs_f64();
        ensure!(status.success(), "kubectl-codex agent run failed ({status}); see {}", stderr_path.display());
        let after = uptime()?;
        let printed = fs::read_to_string(&stdout_path)?;
        let edited = printed.lines().rev().find_map(parse_uptime).context("the agent printed no /proc/uptime line")?;
        // A reading outside the run would mean the pod's clock is not this host's.
        ensure!(
            before - 0.02 <= edited && edited <= after + 0.02,
            "the agent pod's uptime {edited} is outside the run ({before}..{after}): is the cluster on another machine?"
        );
        ensure!(seen + 0.02 >= edited, "{service} answered with the edit ({seen}) before it was made ({edited})");
        Ok(Hot { reload: (seen - edited).max(0.0), agent_run })
    }

    /// The Service's ClusterIP and port 80: this host is the node, so it reaches Services directly.
    pub(super) fn service_address(&self, namespace: &str, service: &str) -> Result<SocketAddr> {
        let ip = exec::stdout(&mut self.kubectl(&[
            "get",
            "service",
            service,
            "-n",
            namespace,
            "-o",
            "jsonpath={.spec.clusterIP}",
        ]))?;
        let ip = ip.trim();
        ensure!(!ip.is_empty(), "no ClusterIP for {namespace}/{service}");
        format!("{ip}:80").parse().with_context(|| format!("ClusterIP {ip:?}"))
    }

    /// Polls the Service until `ready`; returns the kernel uptime when it first held.
    pub(super) fn wait_for(
        &self,
        namespace: &str,
        service: &str,
        ready: impl Fn(SocketAddr) -> Result<bool>,
    ) -> Result<f64> {
        let addr = self.service_address(namespace, service)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            if ready(addr).unwrap_or(false) {
                return uptime();
            }
            if Instant::now() > deadline {
                bail!("{namespace}/{service} did not answer with the edit within {:?}", self.timeout);
            }
            std::thread::sleep(POLL);
        }
    }

    pub(super) fn pod_identity(&self, namespace: &str, unit: &str) -> Result<String> {
        let pods = exec::stdout(&mut self.kubectl(&[
            "get",
            "pods",
            "-n",
            namespace,
            "-l",
            &format!("app.kubernetes.io/name={unit}"),
            "-o",
            "jsonpath={range .items[*]}{.metadata.uid}:{.status.containerStatuses[0].restartCount} {end}",
        ]))?;
        Ok(pods.trim().to_string())
    }
}

/// The kernel's uptime in seconds: the clock the agent pod reads too.
pub(super) fn uptime() -> Result<f64> {
    parse_uptime(&fs::read_to_string("/proc/uptime")?).context("unreadable /proc/uptime")
}

fn parse_uptime(line: &str) -> Option<f64> {
    let mut parts = line.split_whitespace();
    let first = parts.next()?.parse().ok()?;
    parts.next()?.parse::<f64>().ok()?;
    parts.next().is_none().then_some(first)
}

/// A plain HTTP/1.0 GET (1.0: never chunked); the body, or an error for a non-2xx status.
pub(super) fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("no HTTP status")?;
    ensure!((200..300).contains(&status), "GET {path}: {status}");
    Ok(body.to_string())
}

/// Whether the JavaScript bundle the page loads contains `wanted` (webserve in prod).
pub(super) fn bundle_contains(addr: SocketAddr, wanted: &str) -> Result<bool> {
    let page = http_get(addr, "/")?;
    let Some(script) = page.split("src=\"").skip(1).filter_map(|s| s.split('"').next()).find(|s| s.ends_with(".js"))
    else {
        return Ok(false);
    };
    Ok(http_get(addr, script)?.contains(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_lines_are_recognised() {
        assert_eq!(parse_uptime("4452.80 316.49"), Some(4452.80));
        assert_eq!(parse_uptime("const Message = \"x\""), None);
        assert_eq!(parse_uptime("1 2 3"), None);
    }
}
