//! The text of `check`: the access matrix, the grants, the workspace mounts and the posture.

use crate::cluster::access_review::{self, Answer, BindingFinding, Scope};
use crate::cluster::posture::{Posture, Verdict};
use crate::cluster::workspace_audit::{Finding, Identity};

/// What the agent may do: namespaced questions as rows (verb and target) by their scope as
/// columns, the cluster-scoped ones below, and every unexpected answer at the end.
pub fn access_report(namespace: &str, user: &str, answers: &[&Answer]) -> String {
    let matrix = Matrix::of(answers);
    let mut out = format!("check of {namespace}: what {user} may do (SubjectAccessReview)\n");
    matrix.header(&mut out);
    matrix.namespaced_rows(&mut out, answers);
    matrix.cluster_rows(&mut out, answers);
    unexpected_answers(&mut out, answers);
    out
}

/// The matrix's columns and their widths.
struct Matrix {
    /// The scopes of the namespaced questions, in the order they were asked.
    columns: Vec<Scope>,
    scope_width: usize,
    verb_width: usize,
    target_width: usize,
}

impl Matrix {
    fn of(answers: &[&Answer]) -> Self {
        let mut columns: Vec<Scope> = Vec::new();
        for a in answers.iter().filter(|a| namespaced(a)) {
            if !columns.contains(&a.question.scope) {
                columns.push(a.question.scope.clone());
            }
        }
        // Widths from the content, so long group names never run into the next column.
        Matrix {
            scope_width: columns.iter().map(|c| title(c).len()).max().unwrap_or(0).max(13) + 2,
            verb_width: answers.iter().map(|a| a.question.verb.len()).max().unwrap_or(4) + 2,
            target_width: answers.iter().map(|a| target(a).len()).max().unwrap_or(8) + 2,
            columns,
        }
    }

    fn header(&self, out: &mut String) {
        let (verb_width, target_width, scope_width) = (self.verb_width, self.target_width, self.scope_width);
        out.push_str(&format!("  {:<verb_width$}{:<target_width$}", "verb", "resource"));
        for c in &self.columns {
            out.push_str(&format!("{:<scope_width$}", title(c)));
        }
        out.push_str("expected because\n");
    }

    /// One row per verb and target, a cell per scope it was asked in (`-` where it was not).
    fn namespaced_rows(&self, out: &mut String, answers: &[&Answer]) {
        let (verb_width, target_width, scope_width) = (self.verb_width, self.target_width, self.scope_width);
        let mut rows: Vec<(&str, String)> = Vec::new();
        for a in answers.iter().filter(|a| namespaced(a)) {
            let key = (a.question.verb.as_str(), target(a));
            if !rows.contains(&key) {
                rows.push(key);
            }
        }
        for (verb, resource) in &rows {
            out.push_str(&format!("  {verb:<verb_width$}{resource:<target_width$}"));
            let row: Vec<&&Answer> = answers
                .iter()
                .filter(|a| a.question.verb == *verb && target(a) == *resource && namespaced(a))
                .collect();
            for c in &self.columns {
                let shown = row.iter().find(|a| &a.question.scope == c).map_or("-", |a| cell(a));
                out.push_str(&format!("{shown:<scope_width$}"));
            }
            out.push_str(&format!("{}\n", row.first().map_or("", |a| a.question.because.as_str())));
        }
    }

    fn cluster_rows(&self, out: &mut String, answers: &[&Answer]) {
        let (verb_width, target_width, scope_width) = (self.verb_width, self.target_width, self.scope_width);
        out.push_str("  cluster-scoped\n");
        for a in answers.iter().filter(|a| !namespaced(a)) {
            out.push_str(&format!(
                "  {:<verb_width$}{:<target_width$}{:<scope_width$}{}\n",
                a.question.verb,
                target(a),
                cell(a),
                a.question.because
            ));
        }
    }
}

fn unexpected_answers(out: &mut String, answers: &[&Answer]) {
    let failed: Vec<&&Answer> = answers.iter().filter(|a| !a.ok()).collect();
    if failed.is_empty() {
        return;
    }
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

fn namespaced(answer: &Answer) -> bool {
    answer.question.scope != Scope::Cluster
}

fn title(scope: &Scope) -> String {
    match scope {
        Scope::Namespace(ns) => ns.clone(),
        Scope::AllNamespaces => "all namespaces".to_string(),
        Scope::Cluster => "cluster".to_string(),
    }
}

/// What a question is about: `pods`, or a row of its own for one object (a Secret of
/// services.yaml): `secrets/db`.
fn target(answer: &Answer) -> String {
    let question = &answer.question;
    let resource = access_review::qualified(&question.group, &question.resource);
    if question.name.is_empty() {
        resource
    } else {
        format!("{resource}/{}", question.name)
    }
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

/// The Roles and bindings that give the agent its rights.
pub fn grants_report(bindings: &[BindingFinding]) -> String {
    let mut out = "grants\n".to_string();
    let object_width = bindings.iter().map(|b| b.object.len()).max().unwrap_or(0) + 2;
    for b in bindings {
        out.push_str(&format!("  {:<5}{:<object_width$}{}\n", if b.ok { "ok" } else { "FAIL" }, b.object, b.detail));
    }
    out
}

/// Every workload that mounts the workspace, against the declared identity and mount mode.
pub fn workspace_report(claim: &str, identity: Identity, workloads: &[&Finding]) -> String {
    let mut out =
        format!("workspace (claim {claim}; uid {} gid {} fsGroup {})\n", identity.uid, identity.gid, identity.fs_group);
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
pub fn posture_report(namespace: &str, posture: &Posture, checks: usize, violations: usize) -> String {
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
pub(super) mod tests {
    use super::*;
    use crate::cluster::posture::{judge_level, judge_quota, PresenceFinding, WorkloadAdmission, WorkloadsFinding};
    use crate::config::isolation::PodSecurityLevel;
    use std::collections::BTreeMap;

    fn answer(
        verb: &str,
        group: &str,
        resource: &str,
        name: &str,
        scope: Scope,
        expect: bool,
        allowed: bool,
    ) -> Answer {
        Answer {
            question: access_review::Question {
                verb: verb.into(),
                group: group.into(),
                resource: resource.into(),
                name: name.into(),
                scope,
                expect_allowed: expect,
                because: if expect { "required".into() } else { "sensitive".into() },
            },
            allowed,
            reason: if allowed { "RBAC: allowed by RoleBinding codex-agent".into() } else { String::new() },
        }
    }

    pub(in crate::commands::check) fn answers() -> Vec<Answer> {
        let ns = || Scope::Namespace("codex-dev-1".into());
        vec![
            answer("get", "", "pods", "", ns(), true, true),
            answer("get", "", "pods", "", Scope::AllNamespaces, false, false),
            answer("create", "batch", "jobs", "", ns(), true, true),
            answer("get", "", "pods/log", "", ns(), true, false),
            answer("get", "", "secrets", "db", ns(), true, true),
            answer("list", "", "secrets", "", Scope::AllNamespaces, false, true),
            answer("delete", "", "namespaces", "", Scope::Cluster, false, false),
            answer("create", "rbac.authorization.k8s.io", "clusterrolebindings", "", Scope::Cluster, false, true),
        ]
    }

    pub(in crate::commands::check) fn findings() -> (Vec<BindingFinding>, Vec<Finding>) {
        let bindings = vec![
            BindingFinding {
                object: "Role codex-agent".into(),
                ok: true,
                detail: "grants what agent.permissions declares".into(),
            },
            BindingFinding {
                object: "ClusterRoleBinding x".into(),
                ok: false,
                detail: "binds the agent cluster-wide".into(),
            },
        ];
        let workloads = vec![
            Finding {
                kind: "Deployment".into(),
                name: "web".into(),
                unit: "web".into(),
                observed: "uid 1000, read-only".into(),
                problems: vec![],
            },
            Finding {
                kind: "Job".into(),
                name: "agent-r1".into(),
                unit: "agent".into(),
                observed: "uid 0, read-write".into(),
                problems: vec!["runs as uid 0, not 1000".into(), "mounts read-write".into()],
            },
        ];
        (bindings, workloads)
    }

    #[test]
    fn the_access_matrix_has_a_row_per_verb_and_target_a_column_per_scope_and_lists_the_surprises() {
        let answers = answers();
        let refs: Vec<&Answer> = answers.iter().collect();
        let text = access_report("codex-dev-1", "system:serviceaccount:codex-dev-1:codex-agent", &refs);
        assert_eq!(
            text,
            "check of codex-dev-1: what system:serviceaccount:codex-dev-1:codex-agent may do (SubjectAccessReview)\n\
             \x20 verb    resource                                       codex-dev-1     all namespaces  expected because\n\
             \x20 get     pods                                           allow ok        deny ok         required\n\
             \x20 create  jobs.batch                                     allow ok        -               required\n\
             \x20 get     pods/log                                       DENIED  FAIL    -               required\n\
             \x20 get     secrets/db                                     allow ok        -               required\n\
             \x20 list    secrets                                        -               ALLOWED  FAIL   sensitive\n\
             \x20 cluster-scoped\n\
             \x20 delete  namespaces                                     deny ok         sensitive\n\
             \x20 create  clusterrolebindings.rbac.authorization.k8s.io  ALLOWED  FAIL   sensitive\n\
             \x20 unexpected answers:\n\
             \x20   FAIL get pods/log in codex-dev-1: denied (expected allowed); no reason given\n\
             \x20   FAIL list secrets in all namespaces: allowed (expected denied); RBAC: allowed by RoleBinding codex-agent\n\
             \x20   FAIL create clusterrolebindings.rbac.authorization.k8s.io in cluster: allowed (expected denied); RBAC: allowed by RoleBinding codex-agent\n"
        );
        assert_eq!(
            access_report("codex-dev-1", "agent", &[]),
            "check of codex-dev-1: what agent may do (SubjectAccessReview)\n  verb  resource  expected because\n  cluster-scoped\n"
        );
    }

    #[test]
    fn grants_and_workspace_mounts_have_a_verdict_per_line_and_every_problem_below() {
        let (bindings, workloads) = findings();
        assert_eq!(
            grants_report(&bindings),
            "grants\n\
             \x20 ok   Role codex-agent      grants what agent.permissions declares\n\
             \x20 FAIL ClusterRoleBinding x  binds the agent cluster-wide\n"
        );
        let identity = Identity { uid: 1000, gid: 1000, fs_group: 1000 };
        let refs: Vec<&Finding> = workloads.iter().collect();
        assert_eq!(
            workspace_report("codex-workspace", identity, &refs),
            "workspace (claim codex-workspace; uid 1000 gid 1000 fsGroup 1000)\n\
             \x20 ok   Deployment web (web)  uid 1000, read-only\n\
             \x20 FAIL Job agent-r1 (agent)  uid 0, read-write\n\
             \x20      - runs as uid 0, not 1000\n\
             \x20      - mounts read-write\n"
        );
        assert_eq!(
            workspace_report("codex-workspace", identity, &[]),
            "workspace (claim codex-workspace; uid 1000 gid 1000 fsGroup 1000)\n  no workload mounts the workspace\n"
        );
    }

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
