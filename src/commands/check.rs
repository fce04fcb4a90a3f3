//! `kubectl codex check`: the agent may do what it must and nothing more, every pod on the
//! shared workspace runs as the declared identity with its declared mount mode, and the
//! environment's posture (Pod Security level, NetworkPolicy, quota, workloads admission would
//! refuse) is what services.yaml declares.

use super::connect::{connect, require_namespace, runtime};
use super::load::resolve;
use crate::cli::{CheckArgs, OutputFormat};
use crate::cluster::access_review::{self, Answer, BindingFinding, Scope};
use crate::cluster::posture::{self, Posture, Verdict};
use crate::cluster::slot_access::AGENT_ACCOUNT;
use crate::cluster::workspace_audit::{self, Declared, Finding, Identity};
use crate::exit::Failure;
use serde_json::json;

pub fn run(args: &CheckArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, args.output.format)?;
    let rules = stack.agent.as_ref().map(|a| a.permissions.clone()).unwrap_or_default();
    let namespace = stack.namespace.clone();
    let (user, groups) = access_review::service_account_subject(&namespace, AGENT_ACCOUNT);
    let w = &stack.workspace;
    let identity = Identity { uid: w.uid.into(), gid: w.gid.into(), fs_group: w.fs_group.into() };
    let declared = Declared {
        units: stack.units.iter().filter_map(|u| Some((u.name.clone(), u.workspace.as_ref()?.read_only))).collect(),
        agent: stack.agent.as_ref().map(|a| a.workspace.read_only),
    };
    runtime()?.block_on(async {
        let client = connect(&args.kube).await?;
        require_namespace(&client, &stack).await?;
        let secrets: Vec<String> = stack.secrets.iter().map(|s| s.name.clone()).collect();
        let questions = access_review::questions(&namespace, &rules, &secrets);
        let answers = access_review::review(&client, &user, &groups, questions).await?;
        let bindings = access_review::bindings(&client, &namespace, AGENT_ACCOUNT, &rules).await?;
        let workloads = workspace_audit::audit(&client, &namespace, &w.claim_name, identity, &declared).await?;
        let posture = posture::read(&client, &namespace, &stack.isolation).await?;
        let checks = answers.len() + bindings.len() + workloads.len() + posture.checks;
        let violations = answers.iter().filter(|a| !a.ok()).count()
            + bindings.iter().filter(|b| !b.ok).count()
            + workloads.iter().filter(|f| !f.ok()).count()
            + posture.violations;
        match args.output.format {
            OutputFormat::Json => {
                let access: Vec<_> = answers.iter().map(|a| json!({"ok": a.ok(), "answer": a})).collect();
                let workloads: Vec<_> = workloads.iter().map(|f| json!({"ok": f.ok(), "finding": f})).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "namespace": namespace,
                        "subject": {"user": user, "groups": groups},
                        "workspace": {"claimName": w.claim_name, "identity": identity},
                        "access": access,
                        "bindings": bindings,
                        "workloads": workloads,
                        "posture": posture,
                        "checks": checks,
                        "violations": violations,
                        "passed": violations == 0,
                    }))?
                );
            }
            OutputFormat::Text => print!(
                "{}{}",
                text_report(&namespace, &user, &answers, &bindings, &workloads, &w.claim_name, identity),
                posture_report(&namespace, &posture, checks, violations)
            ),
        }
        if violations > 0 {
            return Err(Failure::VerifyFailed);
        }
        Ok::<(), Failure>(())
    })
}

/// One matrix cell: the expected answer when it came, else the surprise in capitals.
fn cell(answer: &Answer) -> &'static str {
    match (answer.question.expect_allowed, answer.allowed) {
        (true, true) => "allow ok",
        (false, false) => "deny ok",
        (false, true) => "ALLOWED  FAIL",
        (true, false) => "DENIED  FAIL",
    }
}

fn text_report(
    namespace: &str,
    user: &str,
    answers: &[Answer],
    bindings: &[BindingFinding],
    workloads: &[Finding],
    claim: &str,
    identity: Identity,
) -> String {
    let mut out = format!("check of {namespace}: what {user} may do (SubjectAccessReview)\n");
    // Columns: the scopes of the namespaced questions, in the order they were asked.
    let mut columns: Vec<Scope> = Vec::new();
    for a in answers.iter().filter(|a| a.question.scope != Scope::Cluster) {
        if !columns.contains(&a.question.scope) {
            columns.push(a.question.scope.clone());
        }
    }
    let title = |scope: &Scope| match scope {
        Scope::Namespace(ns) => ns.clone(),
        Scope::AllNamespaces => "all namespaces".to_string(),
        Scope::Cluster => "cluster".to_string(),
    };
    let width = columns.iter().map(|c| title(c).len()).max().unwrap_or(0).max(13) + 2;
    // Column widths from the content, so long group names never run into the next column.
    let verb_width = answers.iter().map(|a| a.question.verb.len()).max().unwrap_or(4) + 2;
    let resource_width = answers
        .iter()
        .map(|a| {
            access_review::qualified(&a.question.group, &a.question.resource).len()
                + if a.question.name.is_empty() { 0 } else { a.question.name.len() + 1 }
        })
        .max()
        .unwrap_or(8)
        + 2;
    out.push_str(&format!("  {:<verb_width$}{:<resource_width$}", "verb", "resource"));
    for c in &columns {
        out.push_str(&format!("{:<width$}", title(c)));
    }
    out.push_str("expected because\n");
    // A question about one object (a Secret of services.yaml) is a row of its own: `secrets/db`.
    let target = |a: &Answer| {
        let resource = access_review::qualified(&a.question.group, &a.question.resource);
        if a.question.name.is_empty() {
            resource
        } else {
            format!("{resource}/{}", a.question.name)
        }
    };
    let mut rows: Vec<(&str, String)> = Vec::new();
    for a in answers.iter().filter(|a| a.question.scope != Scope::Cluster) {
        let key = (a.question.verb.as_str(), target(a));
        if !rows.contains(&key) {
            rows.push(key);
        }
    }
    for (verb, resource) in &rows {
        out.push_str(&format!("  {verb:<verb_width$}{resource:<resource_width$}"));
        let row: Vec<&Answer> = answers
            .iter()
            .filter(|a| a.question.verb == *verb && target(a) == *resource && a.question.scope != Scope::Cluster)
            .collect();
        for c in &columns {
            let shown = row.iter().find(|a| &a.question.scope == c).map_or("-", |a| cell(a));
            out.push_str(&format!("{shown:<width$}"));
        }
        out.push_str(&format!("{}\n", row.first().map_or("", |a| a.question.because.as_str())));
    }
    out.push_str("  cluster-scoped\n");
    for a in answers.iter().filter(|a| a.question.scope == Scope::Cluster) {
        let resource = access_review::qualified(&a.question.group, &a.question.resource);
        let target = if a.question.name.is_empty() { resource } else { format!("{resource}/{}", a.question.name) };
        out.push_str(&format!(
            "  {:<verb_width$}{target:<resource_width$}{:<width$}{}\n",
            a.question.verb,
            cell(a),
            a.question.because
        ));
    }
    let failed: Vec<&Answer> = answers.iter().filter(|a| !a.ok()).collect();
    if !failed.is_empty() {
        out.push_str("  unexpected answers:\n");
        for a in failed {
            let reason = if a.reason.is_empty() { "no reason given".to_string() } else { a.reason.clone() };
            out.push_str(&format!(
                "    FAIL {} {} in {}: {} (expected {}); {reason}\n",
                a.question.verb,
                target(a),
                title(&a.question.scope),
                if a.allowed { "allowed" } else { "denied" },
                if a.question.expect_allowed { "allowed" } else { "denied" },
            ));
        }
    }
    out.push_str("grants\n");
    let object_width = bindings.iter().map(|b| b.object.len()).max().unwrap_or(0) + 2;
    for b in bindings {
        out.push_str(&format!("  {:<5}{:<object_width$}{}\n", if b.ok { "ok" } else { "FAIL" }, b.object, b.detail));
    }
    out.push_str(&format!(
        "workspace (claim {claim}; uid {} gid {} fsGroup {})\n",
        identity.uid, identity.gid, identity.fs_group
    ));
    if workloads.is_empty() {
        out.push_str("  no workload mounts the workspace\n");
    }
    let label = |f: &Finding| format!("{} {} ({})", f.kind, f.name, f.unit);
    let label_width = workloads.iter().map(|f| label(f).len()).max().unwrap_or(0) + 2;
    for f in workloads {
        let verdict = if f.ok() { "ok" } else { "FAIL" };
        out.push_str(&format!("  {verdict:<5}{:<label_width$}{}\n", label(f), f.observed));
        for problem in &f.problems {
            out.push_str(&format!("       - {problem}\n"));
        }
    }
    out
}

/// The posture section, and the totals of the whole report.
fn posture_report(namespace: &str, posture: &Posture, checks: usize, violations: usize) -> String {
    let verdict = |ok: bool| if ok { "ok" } else { "FAIL" };
    let mut out = format!("posture of {namespace}\n");
    let level = &posture.pod_security;
    let enforced = level.enforced.as_deref().unwrap_or("nothing");
    out.push_str(&format!("  {:<5}pod security {} (enforced {enforced})", verdict(level.ok), level.declared.as_str()));
    if let Some(problem) = &level.problem {
        out.push_str(&format!(": {problem}"));
    }
    out.push('\n');
    let policy = &posture.network_policy;
    out.push_str(&format!(
        "  {:<5}network policy {}{}\n",
        verdict(policy.ok),
        policy.name,
        if policy.present { "" } else { ": missing" }
    ));
    match &posture.quota {
        None => out.push_str("  -    quota: none declared\n"),
        Some(quota) if quota.ok => {
            let hard: Vec<String> = quota.found.iter().map(|(k, v)| format!("{k} {v}")).collect();
            out.push_str(&format!("  ok   quota {}: {}\n", quota.name, hard.join(", ")));
        }
        Some(quota) => out.push_str(&format!("  FAIL quota {}: {}\n", quota.name, quota.problems.join("; "))),
    }
    if let Some(range) = &posture.limit_range {
        out.push_str(&format!(
            "  {:<5}limit range {}{}\n",
            verdict(range.ok),
            range.name,
            if range.present { "" } else { ": missing" }
        ));
    }
    let w = &posture.workloads;
    let otherwise = w.results.iter().filter(|r| r.verdict == Verdict::RefusedOtherwise).count();
    out.push_str(&format!("  {:<5}workloads: {} checked, {} refused", verdict(w.refused == 0), w.checked, w.refused));
    if otherwise > 0 {
        out.push_str(&format!(", {otherwise} refused for another reason (not a posture violation)"));
    }
    out.push('\n');
    for r in w.results.iter().filter(|r| r.verdict != Verdict::Admitted) {
        let message = r.message.as_deref().unwrap_or("");
        match r.verdict {
            Verdict::ViolatesPodSecurity => out.push_str(&format!("       - {} {}: {message}\n", r.kind, r.name)),
            _ => out.push_str(&format!("       - {} {}: refused, not for its posture: {message}\n", r.kind, r.name)),
        }
    }
    if let Some(limit) = &w.limit {
        out.push_str(&format!("       note: {limit}\n"));
    }
    out.push_str(&format!("{checks} checks, {violations} violation{}\n", if violations == 1 { "" } else { "s" }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::posture::{judge_level, judge_quota, PresenceFinding, WorkloadAdmission, WorkloadsFinding};
    use crate::config::isolation::PodSecurityLevel;
    use std::collections::BTreeMap;

    #[test]
    fn the_posture_section_names_each_check_and_every_refusal() {
        let labels = BTreeMap::from([(crate::labels::POD_SECURITY_ENFORCE.to_string(), "privileged".to_string())]);
        let declared = BTreeMap::from([("pods".to_string(), "20".to_string())]);
        let quota: k8s_openapi::api::core::v1::ResourceQuota = serde_json::from_value(
            serde_json::json!({"metadata": {"name": "codex-quota"}, "spec": {"hard": {"pods": "20"}}}),
        )
        .unwrap();
        let refused = WorkloadAdmission {
            kind: "Deployment",
            name: "priv".into(),
            verdict: Verdict::ViolatesPodSecurity,
            message: Some("would violate PodSecurity \"restricted:latest\": privileged".into()),
            warnings: vec![],
        };
        let posture = Posture::new(
            judge_level(PodSecurityLevel::Restricted, &labels),
            PresenceFinding { kind: "NetworkPolicy", name: "codex-isolation", present: false, ok: false },
            Some(judge_quota(&declared, Some(&quota))),
            Some(PresenceFinding { kind: "LimitRange", name: "codex-defaults", present: true, ok: true }),
            WorkloadsFinding { checked: 3, refused: 1, results: vec![refused], limit: None },
        );
        let text = posture_report("codex-staging", &posture, 10, 3);
        assert_eq!(
            text,
            "posture of codex-staging\n\
             \x20 FAIL pod security restricted (enforced privileged): enforces privileged, weaker than the declared restricted\n\
             \x20 FAIL network policy codex-isolation: missing\n\
             \x20 ok   quota codex-quota: pods 20\n\
             \x20 ok   limit range codex-defaults\n\
             \x20 FAIL workloads: 3 checked, 1 refused\n\
             \x20      - Deployment priv: would violate PodSecurity \"restricted:latest\": privileged\n\
             10 checks, 3 violations\n"
        );
    }
}
