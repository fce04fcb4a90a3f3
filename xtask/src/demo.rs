//! `cargo xtask demo`: the README's first command. Local cluster and BuildKit up, then
//! `kubectl codex up`, which builds the example's images from their Dockerfiles with BuildKit
//! (base images assembled locally, nothing pulled) and deploys them phase by phase; then
//! where to look, the evidence, and the `export` lines after which the README's quick start
//! works as written. `--prebuilt` deploys images xtask assembles without a builder instead
//! (`cargo xtask images`), as the end-to-end tests do.
//!
//! Every step prints one line ([`crate::progress`]); what the tools print is in
//! `.local-cluster/logs/<step>.log`.

use crate::exec;
use crate::images::example;
use crate::progress::step;
use crate::repo::repo_root;
use crate::{buildkit, cluster, tools};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Environment of services.yaml to bring up.
    #[arg(long, default_value = "prod")]
    pub env: String,
    /// Deploy the images `cargo xtask images` assembles without a builder, instead of
    /// building them with BuildKit first.
    #[arg(long)]
    pub prebuilt: bool,
}

/// The first line of the export block; the quick-start check finds the block by it.
pub const EXPORTS_HEADER: &str = "Paste these lines, then every command of the README's quick start works as written:";

pub fn run_cli(args: DemoArgs) -> Result<()> {
    let root = repo_root();
    let info = cluster::up()?;
    let helm = step("demo: helm", || tools::tool_path("helm"))?;
    let mut build_flags: Vec<String> = Vec::new();
    let mut buildkit_host = None;
    if args.prebuilt {
        step("demo: assemble the example's images (no builder)", || {
            example::build_example_images(example::DEFAULT_TAG).map(drop)
        })?;
        build_flags.push("--skip-build".into());
    } else {
        buildkit_host = Some(buildkit::up()?);
        build_flags.extend(["--builder".into(), "buildctl".into()]);
    }
    let codex = step("demo: build kubectl-codex (cargo build --release)", || crate::repo::release_binary(""))?;
    // The example's secret input: kept between demos, never printed.
    let db_password = crate::repo::example_db_password()?;
    let buildctl = match &buildkit_host {
        Some(_) => Some(buildkit::buildctl()?),
        None => None,
    };
    let codex_command = |args: &[&str]| {
        let mut command = Command::new(&codex);
        command.current_dir(&root).args(args).env("KUBECONFIG", &info.kubeconfig).env("CODEX_HELM", &helm);
        command.env(crate::repo::DB_PASSWORD_ENV, &db_password);
        // buildctl itself is found in the tool cache, as a user's shell would find it.
        if let Some(host) = &buildkit_host {
            command.env("BUILDKIT_HOST", host);
        }
        command
    };
    let mut up: Vec<&str> = vec!["up", "--env", &args.env];
    up.extend(build_flags.iter().map(String::as_str));
    step(&format!("demo: kubectl codex up --env {}", args.env), || {
        let status = codex_command(&up)
            .stdout(crate::progress::stdout())
            .stderr(crate::progress::stderr())
            .status()
            .with_context(|| format!("running {}", codex.display()))?;
        if !status.success() {
            bail!("kubectl codex up --env {} failed ({status})", args.env);
        }
        Ok(())
    })?;
    let namespace = namespace_of(&codex, &root, &args.env, &db_password)?;
    println!("\nThe {} environment is up in namespace {namespace}. Open (from this machine):", args.env);
    for (service, path) in [("web", "/"), ("gateway", "/api/greeting")] {
        let ip = Command::new("kubectl")
            .args(["get", "service", service, "-n", &namespace, "-o", "jsonpath={.spec.clusterIP}"])
            .env("KUBECONFIG", &info.kubeconfig)
            .output()?;
        println!("  {service:<8} http://{}{path}", String::from_utf8_lossy(&ip.stdout).trim());
    }
    println!("\nEvidence of the run (kubectl codex evidence -n {namespace}):");
    let evidence = exec::stdout(&mut codex_command(&["evidence", "-n", &namespace]))?;
    print!("{}", latest_run(&evidence));
    let verify = exec::stdout(&mut codex_command(&["evidence", "-n", &namespace, "--verify"]))?;
    let summary = verify.lines().last().unwrap_or_default();
    println!("verified against Helm's history (kubectl codex evidence -n {namespace} --verify): {summary}");
    // The quick start's kubectl: built on first use, so its go output lands in the step log.
    step("demo: kubectl for the quick start", || tools::tool_path("kubectl"))?;
    println!("\n{EXPORTS_HEADER}");
    for line in export_lines(&info.kubeconfig, buildkit_host.as_deref(), &codex, buildctl.as_deref())? {
        println!("{line}");
    }
    Ok(())
}

/// The `export` lines for a shell: the cluster's kubeconfig, BuildKit's address, PATH with
/// kubectl-codex, buildctl and the cluster's kubectl, and the example's secret input read
/// from its file (the value itself is never printed).
pub fn export_lines(
    kubeconfig: &Path,
    buildkit_host: Option<&str>,
    codex: &Path,
    buildctl: Option<&Path>,
) -> Result<Vec<String>> {
    let mut lines = vec![format!("export KUBECONFIG={}", kubeconfig.display())];
    if let Some(host) = buildkit_host {
        lines.push(format!("export BUILDKIT_HOST={host}"));
    }
    let mut path: Vec<PathBuf> = vec![parent(codex)];
    if let Some(buildctl) = buildctl {
        path.push(parent(buildctl));
    }
    path.push(parent(&tools::tool_path("kubectl")?));
    let path: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
    lines.push(format!("export PATH={}:$PATH", path.join(":")));
    let password = crate::repo::example_db_password_file()?;
    if password.is_file() {
        lines.push(format!("export {}=\"$(cat {})\"", crate::repo::DB_PASSWORD_ENV, password.display()));
    }
    Ok(lines)
}

fn parent(binary: &Path) -> PathBuf {
    binary.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn namespace_of(codex: &Path, root: &Path, env: &str, db_password: &str) -> Result<String> {
    let plan = Command::new(codex)
        .current_dir(root)
        .args(["plan", "--env", env, "-o", "json"])
        .env(crate::repo::DB_PASSWORD_ENV, db_password)
        .output()?;
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).context("reading the plan")?;
    Ok(plan["namespace"].as_str().unwrap_or_default().to_string())
}

/// The last run of `evidence`'s text: each run starts with a `run ` line.
fn latest_run(evidence: &str) -> String {
    let start = evidence.rfind("\nrun ").map_or(0, |i| i + 1);
    evidence[start..].to_string()
}
