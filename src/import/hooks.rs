//! codexctl hooks: none is carried as a shell step. Each is reported with its line, why, and
//! what kubectl-codex does instead.

use super::context::{Importer, SourceFile};
use super::report::Action;
use crate::config::path::FieldPath;
use serde_json::Value;

/// `hooks: {beforeAll, afterAll}` at the top level.
pub fn report_set(imp: &mut Importer, file: &SourceFile, path: &str, set: &Value) {
    for stage in ["beforeAll", "afterAll"] {
        report_steps(imp, file, &FieldPath::key(path, stage), set.get(stage));
    }
}

/// A unit's `hooks: {beforeApply, afterApply, beforeDestroy, afterDestroy}`.
pub fn report_resource(imp: &mut Importer, file: &SourceFile, path: &str, set: &Value) {
    for stage in ["beforeApply", "afterApply", "beforeDestroy", "afterDestroy"] {
        report_steps(imp, file, &FieldPath::key(path, stage), set.get(stage));
    }
}

fn report_steps(imp: &mut Importer, file: &SourceFile, path: &str, steps: Option<&Value>) {
    for (index, step) in steps.and_then(Value::as_array).into_iter().flatten().enumerate() {
        let at = FieldPath::index(path, index);
        let name = step.get("name").and_then(Value::as_str).unwrap_or("");
        let label = if name.is_empty() { String::new() } else { format!("hook \"{name}\": ") };
        let (action, reason) = describe(step);
        imp.note_at(file, &at, "", action, format!("{label}{reason}"));
    }
}

/// What becomes of one step. A step with `run` is a shell step whatever `use` says (as in
/// codexctl, which checks `run` first).
fn describe(step: &Value) -> (Action, String) {
    if step.get("run").and_then(Value::as_str).is_some_and(|r| !r.trim().is_empty()) {
        return (
            Action::NotCarried,
            "a shell step on the operator's machine: kubectl-codex runs nothing on the host; a check that must pass \
             before the next phase is a typed readiness hook (`hooks.readiness: [{job: {image, command}}]`), \
             work inside the cluster a Job in the unit's manifests"
                .into(),
        );
    }
    let builtin = step.get("use").and_then(Value::as_str).unwrap_or("");
    match builtin {
        "kubectl.wait" => (Action::Dropped, "kubectl.wait: readiness is automatic, every object of every phase is waited for by its kind's rule".into()),
        "sleep" => (Action::Dropped, "sleep: phases are gated on readiness, not on time".into()),
        "preflight" => (Action::Dropped, "preflight: kubectl-codex checks its tools and the cluster before it changes anything".into()),
        "github.comment" => (Action::NotCarried, "github.comment: kubectl-codex does not talk to GitHub; post `kubectl codex status -o json` from the workflow".into()),
        "codex.ensure-codex-secrets" => (
            Action::NotCarried,
            "codex.ensure-codex-secrets: declare the Secrets under `secrets:` with secret inputs (`inputs: {openaiKey: {secret: true, required: true}}`, `secrets: {openai-secret: {data: {api-key: \"{{ inputs.openaiKey }}\"}}}`)".into(),
        ),
        "codex.reuse-dev-tls-secret" => (
            Action::NotCarried,
            "codex.reuse-dev-tls-secret: copying a TLS Secret between namespaces breaks their isolation; give the certificate as a secret input (`secrets.<name>.data` or `files`)".into(),
        ),
        "" => (Action::NotCarried, "a step with neither run nor use does nothing in codexctl either".into()),
        other => (Action::NotCarried, format!("the builtin \"{other}\" has no kubectl-codex equivalent")),
    }
}
