//! `cargo xtask demo`: the README's first command. Local cluster and BuildKit up, then
//! `kubectl codex up`, which builds the example's images from their Dockerfiles with BuildKit
//! (base images assembled locally, nothing pulled) and deploys them phase by phase; then
//! where to look and the evidence. `--prebuilt` deploys images xtask assembles without a
//! builder instead (`cargo xtask images`), as the end-to-end tests do.

use crate::repo::repo_root;
use crate::{buildkit, cluster, example_images, tools};
use anyhow::{bail, Context, Result};
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

pub fn run_cli(args: DemoArgs) -> Result<()> {
    let root = repo_root();
    let info = cluster::up()?;
    let helm = tools::tool_path("helm")?;
    let mut build_flags: Vec<String> = Vec::new();
    let mut buildkit_host = None;
    if args.prebuilt {
        example_images::build_example_images(example_images::DEFAULT_TAG)?;
        build_flags.push("--skip-build".into());
    } else {
        buildkit_host = Some(buildkit::up()?);
        build_flags.extend([
            "--builder".into(),
            "buildctl".into(),
            "--buildctl".into(),
            buildkit::buildctl()?.display().to_string(),
        ]);
    }
    let codex = crate::repo::release_binary("[demo] ")?;
    // The example's secret input: kept between demos, never printed.
    let db_password = crate::repo::example_db_password()?;
    let codex_run = |args: &[&str]| -> Result<std::process::ExitStatus> {
        let mut command = Command::new(&codex);
        command.current_dir(&root).args(args).env("KUBECONFIG", &info.kubeconfig).env("CODEX_HELM", &helm);
        command.env(crate::repo::DB_PASSWORD_ENV, &db_password);
        if let Some(host) = &buildkit_host {
            command.env("BUILDKIT_HOST", host);
        }
        command.status().with_context(|| format!("running {}", codex.display()))
    };
    let mut up: Vec<&str> = vec!["up", "--env", &args.env];
    up.extend(build_flags.iter().map(String::as_str));
    let status = codex_run(&up)?;
    if !status.success() {
        bail!("kubectl codex up --env {} failed ({status})", args.env);
    }
    let plan = Command::new(&codex)
        .current_dir(&root)
        .args(["plan", "--env", &args.env, "-o", "json"])
        .env(crate::repo::DB_PASSWORD_ENV, &db_password)
        .output()?;
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).context("reading the plan")?;
    let namespace = plan["namespace"].as_str().unwrap_or_default().to_string();
    println!("\nThe {} environment is up in namespace {namespace}. Open (from this machine):", args.env);
    for service in ["web", "gateway"] {
        let ip = Command::new("kubectl")
            .args(["get", "service", service, "-n", &namespace, "-o", "jsonpath={.spec.clusterIP}"])
            .env("KUBECONFIG", &info.kubeconfig)
            .output()?;
        let ip = String::from_utf8_lossy(&ip.stdout).to_string();
        let path = if service == "web" { "/" } else { "/api/greeting" };
        println!("  {service:<8} http://{ip}{path}");
    }
    println!("\nEvidence of the run, and its verification against Helm's history:");
    codex_run(&["evidence", "-n", &namespace])?;
    codex_run(&["evidence", "-n", &namespace, "--verify"])?;
    println!("\nexport KUBECONFIG={}", info.kubeconfig.display());
    println!("kubectl codex status -n {namespace}    # with target/release on PATH");
    Ok(())
}
