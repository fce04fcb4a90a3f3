//! What `check` reports: one typed value, serialized for `-o json` and displayed for text.

use super::text;
use crate::cluster::access_review::{Answer, BindingFinding};
use crate::cluster::posture::Posture;
use crate::cluster::workspace_audit::{Finding, Identity};
use serde::Serialize;
use std::fmt;

/// Every check of an environment and the totals; `passed` when no check found a violation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    pub namespace: String,
    pub subject: Subject,
    pub workspace: Workspace,
    pub access: Vec<AccessCheck>,
    pub bindings: Vec<BindingFinding>,
    pub workloads: Vec<WorkloadCheck>,
    pub posture: Posture,
    pub checks: usize,
    pub violations: usize,
    pub passed: bool,
}

/// Whom the SubjectAccessReviews asked about: the agent's ServiceAccount.
#[derive(Debug, Serialize)]
pub struct Subject {
    pub user: String,
    pub groups: Vec<String>,
}

/// The shared workspace and the identity every pod mounting it must run as.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub claim_name: String,
    pub identity: Identity,
}

/// One SubjectAccessReview and whether its answer was the expected one.
#[derive(Debug, Serialize)]
pub struct AccessCheck {
    pub ok: bool,
    pub answer: Answer,
}

/// One workload that mounts the workspace and whether it matches the declaration.
#[derive(Debug, Serialize)]
pub struct WorkloadCheck {
    pub ok: bool,
    pub finding: Finding,
}

impl Checked {
    /// Puts together what was found and counts the checks and the violations.
    pub fn new(
        namespace: String,
        subject: Subject,
        workspace: Workspace,
        answers: Vec<Answer>,
        bindings: Vec<BindingFinding>,
        workloads: Vec<Finding>,
        posture: Posture,
    ) -> Self {
        let checks = answers.len() + bindings.len() + workloads.len() + posture.checks;
        let violations = answers.iter().filter(|a| !a.ok()).count()
            + bindings.iter().filter(|b| !b.ok).count()
            + workloads.iter().filter(|f| !f.ok()).count()
            + posture.violations;
        Checked {
            namespace,
            subject,
            workspace,
            access: answers.into_iter().map(|answer| AccessCheck { ok: answer.ok(), answer }).collect(),
            bindings,
            workloads: workloads.into_iter().map(|finding| WorkloadCheck { ok: finding.ok(), finding }).collect(),
            posture,
            checks,
            violations,
            passed: violations == 0,
        }
    }
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let answers: Vec<&Answer> = self.access.iter().map(|c| &c.answer).collect();
        let workloads: Vec<&Finding> = self.workloads.iter().map(|c| &c.finding).collect();
        f.write_str(&text::access_report(&self.namespace, &self.subject.user, &answers))?;
        f.write_str(&text::grants_report(&self.bindings))?;
        f.write_str(&text::workspace_report(&self.workspace.claim_name, self.workspace.identity, &workloads))?;
        f.write_str(&text::posture_report(&self.namespace, &self.posture, self.checks, self.violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::posture::{judge_level, PresenceFinding, WorkloadsFinding};
    use crate::commands::output::{self, Layout};
    use crate::config::isolation::PodSecurityLevel;
    use std::collections::BTreeMap;

    fn checked() -> Checked {
        let (bindings, workloads) = text::tests::findings();
        let labels = BTreeMap::from([(crate::labels::POD_SECURITY_ENFORCE.to_string(), "restricted".to_string())]);
        let posture = Posture::new(
            judge_level(PodSecurityLevel::Restricted, &labels),
            PresenceFinding { kind: "NetworkPolicy", name: "codex-isolation", present: true, ok: true },
            None,
            None,
            WorkloadsFinding { checked: 0, refused: 0, results: vec![], limit: None },
        );
        Checked::new(
            "codex-dev-1".into(),
            Subject { user: "system:serviceaccount:codex-dev-1:codex-agent".into(), groups: vec!["g".into()] },
            Workspace { claim_name: "codex-workspace".into(), identity: Identity { uid: 1, gid: 2, fs_group: 3 } },
            text::tests::answers(),
            bindings,
            workloads,
            posture,
        )
    }

    #[test]
    fn json_keeps_the_keys_their_order_and_an_ok_beside_each_answer_and_finding() {
        let report = checked();
        let json: serde_json::Value = serde_json::from_str(&output::to_json(&report, Layout::Pretty).unwrap()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "namespace",
                "subject",
                "workspace",
                "access",
                "bindings",
                "workloads",
                "posture",
                "checks",
                "violations",
                "passed"
            ]
        );
        assert_eq!(
            json["subject"],
            serde_json::json!({"user": "system:serviceaccount:codex-dev-1:codex-agent", "groups": ["g"]})
        );
        assert_eq!(
            json["workspace"],
            serde_json::json!({"claimName": "codex-workspace", "identity": {"uid": 1, "gid": 2, "fsGroup": 3}})
        );
        assert_eq!(
            json["access"][0],
            serde_json::json!({"ok": true, "answer": {
                "verb": "get", "group": "", "resource": "pods", "name": "",
                "scope": {"kind": "namespace", "name": "codex-dev-1"},
                "expectAllowed": true, "because": "required",
                "allowed": true, "reason": "RBAC: allowed by RoleBinding codex-agent"}})
        );
        assert_eq!(json["workloads"][1]["ok"], false);
        assert_eq!(json["workloads"][1]["finding"]["name"], "agent-r1");
        assert_eq!(
            json["bindings"][1],
            serde_json::json!({"object": "ClusterRoleBinding x", "ok": false, "detail": "binds the agent cluster-wide"})
        );
        // 8 answers (3 wrong), 2 bindings (1 wrong), 2 workloads (1 wrong), and the posture's own.
        assert_eq!(json["checks"], 12 + report.posture.checks);
        assert_eq!(json["violations"], 5 + report.posture.violations);
        assert_eq!(json["passed"], false);
    }

    #[test]
    fn text_is_the_sections_in_order() {
        let text = checked().to_string();
        let order = ["check of codex-dev-1: what", "\ngrants\n", "\nworkspace (claim", "\nposture of codex-dev-1\n"];
        let found: Vec<usize> = order.iter().map(|s| text.find(s).unwrap_or_else(|| panic!("{s}: {text}"))).collect();
        assert!(found.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.ends_with(" violations\n"), "{text}");
    }
}
