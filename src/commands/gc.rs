//! `kubectl codex gc`: managed namespaces whose idle lease has expired, deleted.

use super::connect::{connect, runtime};
use super::output::{self, Layout};
use crate::cli::GcArgs;
use crate::exit::Failure;
use crate::lifecycle::gc;
use serde::Serialize;
use std::fmt;

pub fn run(args: &GcArgs) -> Result<(), Failure> {
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        let report = gc::sweep(&client, args.dry_run, k8s_openapi::jiff::Timestamp::now()).await?;
        output::print(&Swept(&report), args.output.format, Layout::Pretty)?;
        Ok::<(), Failure>(())
    })
}

/// A sweep's report: its JSON is the sweep's own, its text a line per namespace.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Swept<'a>(&'a gc::Report);

impl fmt::Display for Swept<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.0;
        if report.decisions.is_empty() {
            writeln!(f, "no namespaces managed by kubectl-codex")?;
        }
        for d in &report.decisions {
            // The action in the words its JSON uses (`would-delete`), defined once by serde.
            let action = serde_json::to_value(&d.action).map_err(|_| fmt::Error)?;
            writeln!(f, "{:<13} {:<40} {}", action.as_str().unwrap_or_default(), d.namespace, d.reason)?;
        }
        writeln!(f, "{} API request(s)", report.api_requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::ttl::LeaseStatus;

    fn report(decisions: Vec<gc::Decision>) -> gc::Report {
        gc::Report { dry_run: true, decisions, api_requests: 3 }
    }

    #[test]
    fn text_has_a_line_per_namespace_and_the_request_count() {
        let decision = |namespace: &str, action, reason: &str| gc::Decision {
            namespace: namespace.into(),
            action,
            lease: LeaseStatus::Unknown { reason: "no annotation".into() },
            reason: reason.into(),
        };
        let sweep = report(vec![
            decision("codex-dev-1", gc::Action::WouldDelete, "idle 9h, TTL 8h"),
            decision("codex-prod", gc::Action::Kept, "within its TTL"),
        ]);
        assert_eq!(
            Swept(&sweep).to_string(),
            format!(
                "would-delete  {:<40} idle 9h, TTL 8h\nkept          {:<40} within its TTL\n3 API request(s)\n",
                "codex-dev-1", "codex-prod"
            )
        );
        assert_eq!(Swept(&report(vec![])).to_string(), "no namespaces managed by kubectl-codex\n3 API request(s)\n");
    }

    #[test]
    fn json_is_the_sweep_report_itself() {
        let report = report(vec![]);
        assert_eq!(
            output::to_json(&Swept(&report), Layout::OneLine).unwrap(),
            r#"{"dryRun":true,"decisions":[],"apiRequests":3}"#
        );
    }
}
