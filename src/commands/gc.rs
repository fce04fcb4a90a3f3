//! `kubectl codex gc`: managed namespaces whose idle lease has expired, deleted.

use super::connect::{connect, runtime};
use crate::cli::{GcArgs, OutputFormat};
use crate::exit::Failure;
use crate::lifecycle::gc;

pub fn run(args: &GcArgs) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        let report = gc::sweep(&client, args.dry_run, k8s_openapi::jiff::Timestamp::now()).await?;
        match args.output.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            OutputFormat::Text => {
                if report.decisions.is_empty() {
                    println!("no namespaces managed by kubectl-codex");
                }
                for d in &report.decisions {
                    let action = serde_json::to_value(&d.action)?.as_str().unwrap_or_default().to_string();
                    println!("{:<13} {:<40} {}", action, d.namespace, d.reason);
                }
                println!("{} API request(s)", report.api_requests);
            }
        }
        Ok::<(), Failure>(())
    })
}
