//! The outcome of a deploy run (`up`, `revise`): its summary and the exit code it asks for.

use crate::cli::OutputFormat;
use crate::evidence::record::{EvidenceRecord, RunResult};
use crate::evidence::store;
use crate::exit::Failure;
use serde_json::json;

/// Prints a run's outcome, with `extra` fields merged into the JSON summary; a failed run is
/// [`Failure::DeployFailed`].
pub fn deploy_run(record: &EvidenceRecord, output: OutputFormat, extra: serde_json::Value) -> Result<(), Failure> {
    let failed = record.result != RunResult::Deployed;
    match output {
        OutputFormat::Json => {
            let phases: Vec<_> = record
                .phases
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "release": p.release,
                        "result": p.result.as_str(),
                        "revision": p.revision,
                        "startedAt": p.started_at,
                        "readyAt": p.ready_at,
                    })
                })
                .collect();
            let mut summary = json!({
                "runId": record.run_id,
                "trigger": record.trigger,
                "namespace": record.namespace,
                "namespaceUid": record.namespace_uid,
                "namespaceDecision": record.namespace_decision,
                "result": record.result,
                "evidence": store::config_map_name(&record.run_id),
                "phases": phases,
            });
            if let (Some(summary), serde_json::Value::Object(extra)) = (summary.as_object_mut(), extra) {
                summary.extend(extra);
            }
            println!("{}", serde_json::to_string_pretty(&summary)?);
        }
        OutputFormat::Text => {
            println!("{} {} in namespace {} (run {})", record.trigger, record.result, record.namespace, record.run_id);
            for p in &record.phases {
                println!(
                    "  {:<11} {:<9} {} revision {}",
                    p.name,
                    p.result.as_str(),
                    p.release,
                    p.revision.map_or("-".into(), |r| r.to_string())
                );
            }
        }
    }
    if let Some(error) = record.phases.iter().find_map(|p| p.error.as_ref()) {
        eprint!("{error}");
    }
    if failed {
        return Err(Failure::DeployFailed);
    }
    Ok(())
}
