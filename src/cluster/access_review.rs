//! What the agent's ServiceAccount may do, proven by the API server itself: one
//! SubjectAccessReview per question, asked as the caller on the agent's behalf.
//!
//! The questions form a matrix: rows are (verb, resource), columns are the agent's own
//! namespace, two others and the whole cluster. What the agent must be able to do (read its
//! pods and their logs, exec into them) and what services.yaml grants is expected to be
//! allowed in its own namespace and nowhere else; a set of sensitive actions (Secrets,
//! workloads, RBAC, the namespace itself, nodes, impersonation) is expected to be denied
//! everywhere unless services.yaml grants it.

use super::api;
use crate::config::model::PermissionRule;
use anyhow::Result;
use futures::{stream, StreamExt};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding, Subject};
use kube::api::{Api, ListParams, PostParams};
use kube::Client;
use serde::Serialize;

/// Namespaces (besides its own) the agent must have no access to.
pub const OTHER_NAMESPACES: [&str; 2] = ["default", "kube-system"];

/// What the agent always needs: see its pods, read their logs, exec into them.
pub const REQUIRED: [(&str, &str, &str); 5] = [
    ("get", "", "pods"),
    ("list", "", "pods"),
    ("watch", "", "pods"),
    ("get", "", "pods/log"),
    ("create", "", "pods/exec"),
];

/// Namespaced actions that are denied unless services.yaml grants them.
const SENSITIVE: [(&str, &str, &str); 12] = [
    ("get", "", "secrets"),
    ("list", "", "secrets"),
    ("watch", "", "secrets"),
    ("create", "", "pods"),
    ("delete", "", "pods"),
    ("create", "apps", "deployments"),
    ("patch", "apps", "deployments"),
    ("delete", "apps", "deployments"),
    ("create", "batch", "jobs"),
    ("create", "rbac.authorization.k8s.io", "roles"),
    ("create", "rbac.authorization.k8s.io", "rolebindings"),
    ("create", "", "serviceaccounts/token"),
];

/// Cluster-scoped actions that are always denied.
const CLUSTER_DENIED: [(&str, &str, &str); 6] = [
    ("list", "", "nodes"),
    ("list", "", "namespaces"),
    ("create", "", "persistentvolumes"),
    ("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
    ("impersonate", "", "users"),
    ("impersonate", "", "serviceaccounts"),
];

/// Where a question is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "name")]
pub enum Scope {
    /// In one namespace.
    Namespace(String),
    /// Across every namespace (a namespaced resource asked without a namespace).
    AllNamespaces,
    /// A cluster-scoped resource.
    Cluster,
}

/// One question and its expected answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    pub verb: String,
    /// API group; empty for the core group.
    pub group: String,
    /// `pods`, or `pods/log` for a subresource.
    pub resource: String,
    /// An object name, when the question is about one object.
    pub name: String,
    pub scope: Scope,
    pub expect_allowed: bool,
    /// Why that is expected: `required`, `granted by agent.permissions`, `sensitive`, …
    pub because: String,
}

/// A question with the API server's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    #[serde(flatten)]
    pub question: Question,
    pub allowed: bool,
    /// The authorizer's reason (names the granting binding when allowed by RBAC).
    pub reason: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.allowed == self.question.expect_allowed
    }
}

/// Whether one RBAC rule grants `verb` on `group`/`resource` (wildcards as RBAC reads them).
pub fn rule_grants(rule: &PermissionRule, verb: &str, group: &str, resource: &str) -> bool {
    let any = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
    let resource_matches = rule.resources.iter().any(|r| {
        r == "*" || r == resource || resource.split_once('/').is_some_and(|(base, _)| r == &format!("{base}/*"))
    });
    any(&rule.verbs, verb) && any(&rule.api_groups, group) && resource_matches
}

pub fn granted(rules: &[PermissionRule], verb: &str, group: &str, resource: &str) -> bool {
    rules.iter().any(|r| rule_grants(r, verb, group, resource))
}

/// The whole matrix for an agent in `namespace` with `rules` (pure, deterministic order).
/// `secrets` are the Secrets services.yaml creates there: each gets a question of its own,
/// `get` by name, denied unless `agent.permissions` grants reading Secrets.
pub fn questions(namespace: &str, rules: &[PermissionRule], secrets: &[String]) -> Vec<Question> {
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    let mut push = |verb: &str, group: &str, resource: &str, because: &str| {
        if !rows.iter().any(|(v, g, r, _)| v == verb && g == group && r == resource) {
            rows.push((verb.into(), group.into(), resource.into(), because.into()));
        }
    };
    for (verb, group, resource) in REQUIRED {
        push(verb, group, resource, "required");
    }
    for rule in rules {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                for verb in &rule.verbs {
                    push(verb, group, resource, "granted by agent.permissions");
                }
            }
        }
    }
    for (verb, group, resource) in SENSITIVE {
        push(verb, group, resource, "sensitive");
    }
    let others: Vec<&str> = OTHER_NAMESPACES.iter().copied().filter(|n| *n != namespace).collect();
    let mut out = Vec::new();
    for (verb, group, resource, because) in rows {
        let own_allowed = because == "required" || granted(rules, &verb, &group, &resource);
        let own_because =
            if because == "sensitive" && own_allowed { "granted by agent.permissions".to_string() } else { because };
        let question = |scope: Scope, expect_allowed: bool, because: String| Question {
            verb: verb.clone(),
            group: group.clone(),
            resource: resource.clone(),
            name: String::new(),
            scope,
            expect_allowed,
            because,
        };
        out.push(question(Scope::Namespace(namespace.to_string()), own_allowed, own_because));
        for other in &others {
            out.push(question(Scope::Namespace(other.to_string()), false, "another namespace".into()));
        }
        out.push(question(Scope::AllNamespaces, false, "beyond its namespace".into()));
    }
    for secret in secrets {
        let allowed = granted(rules, "get", "", "secrets");
        out.push(Question {
            verb: "get".into(),
            group: String::new(),
            resource: "secrets".into(),
            name: secret.clone(),
            scope: Scope::Namespace(namespace.to_string()),
            expect_allowed: allowed,
            because: if allowed { "granted by agent.permissions" } else { "a Secret of services.yaml" }.into(),
        });
    }
    let mut cluster = |verb: &str, group: &str, resource: &str, name: &str, because: &str| {
        out.push(Question {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            name: name.into(),
            scope: Scope::Cluster,
            expect_allowed: false,
            because: because.into(),
        })
    };
    cluster("delete", "", "namespaces", namespace, "its own namespace");
    for (verb, group, resource) in CLUSTER_DENIED {
        cluster(verb, group, resource, "", "cluster-scoped");
    }
    out
}

/// The identity a pod with the ServiceAccount authenticates as.
pub fn service_account_subject(namespace: &str, account: &str) -> (String, Vec<String>) {
    (
        format!("system:serviceaccount:{namespace}:{account}"),
        vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{namespace}"),
            "system:authenticated".into(),
        ],
    )
}

fn attributes(question: &Question) -> ResourceAttributes {
    let (resource, subresource) = match question.resource.split_once('/') {
        Some((resource, sub)) => (resource.to_string(), Some(sub.to_string())),
        None => (question.resource.clone(), None),
    };
    ResourceAttributes {
        verb: Some(question.verb.clone()),
        group: Some(question.group.clone()),
        resource: Some(resource),
        subresource,
        name: (!question.name.is_empty()).then(|| question.name.clone()),
        namespace: match &question.scope {
            Scope::Namespace(ns) => Some(ns.clone()),
            Scope::AllNamespaces | Scope::Cluster => None,
        },
        ..Default::default()
    }
}

/// Asks every question as `user` in `groups`; answers come back in question order.
pub async fn review(client: &Client, user: &str, groups: &[String], questions: Vec<Question>) -> Result<Vec<Answer>> {
    let reviews: Api<SubjectAccessReview> = Api::all(client.clone());
    let asked = stream::iter(questions.into_iter().map(|question| {
        let reviews = reviews.clone();
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(user.to_string()),
                groups: Some(groups.to_vec()),
                resource_attributes: Some(attributes(&question)),
                ..Default::default()
            },
            ..Default::default()
        };
        async move {
            let created = api(reviews.create(&PostParams::default(), &review).await, || {
                format!(
                    "SubjectAccessReview of {} {} (may the caller create subjectaccessreviews?)",
                    question.verb, question.resource
                )
            })?;
            let status = created.status.unwrap_or_default();
            let reason = status.reason.or(status.evaluation_error).unwrap_or_default();
            Ok::<Answer, anyhow::Error>(Answer { question, allowed: status.allowed, reason })
        }
    }))
    // A handful at a time: quick, without flooding a small API server.
    .buffered(8);
    asked.collect::<Vec<_>>().await.into_iter().collect()
}

/// One finding about the objects that give the agent its rights.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingFinding {
    pub object: String,
    pub ok: bool,
    pub detail: String,
}

fn normalized(rules: impl Iterator<Item = (Vec<String>, Vec<String>, Vec<String>)>) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = rules
        .flat_map(|(groups, resources, verbs)| {
            groups
                .iter()
                .flat_map(|g| resources.iter().flat_map(|r| verbs.iter().map(|v| (g.clone(), r.clone(), v.clone()))))
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a binding subject is the agent (directly, by user name, or by its namespace's
/// ServiceAccount group). `binding_namespace` is where a RoleBinding lives (None: cluster).
fn names_agent(subject: &Subject, namespace: &str, account: &str, binding_namespace: Option<&str>) -> bool {
    match subject.kind.as_str() {
        "ServiceAccount" => {
            subject.name == account && subject.namespace.as_deref().or(binding_namespace) == Some(namespace)
        }
        "User" => subject.name == format!("system:serviceaccount:{namespace}:{account}"),
        "Group" => {
            subject.name == format!("system:serviceaccounts:{namespace}")
                || (binding_namespace.is_some() && subject.name == "system:serviceaccounts")
        }
        _ => false,
    }
}

/// The agent's own Role must say exactly what services.yaml grants, and no other binding
/// in its namespace or the cluster may name it: access granted anywhere else is access the
/// declaration does not show.
pub fn judge_bindings(
    namespace: &str,
    account: &str,
    account_exists: bool,
    role: Option<&Role>,
    role_bindings: &[RoleBinding],
    cluster_role_bindings: &[ClusterRoleBinding],
    rules: &[PermissionRule],
) -> Vec<BindingFinding> {
    let mut out = vec![BindingFinding {
        object: format!("ServiceAccount {account}"),
        ok: account_exists,
        detail: if account_exists {
            "exists".into()
        } else {
            "missing: run `kubectl codex up` for this environment".into()
        },
    }];
    let declared = normalized(rules.iter().map(|r| (r.api_groups.clone(), r.resources.clone(), r.verbs.clone())));
    out.push(match role {
        None => BindingFinding { object: format!("Role {account}"), ok: false, detail: "missing".into() },
        Some(role) => {
            let actual = normalized(role.rules.iter().flatten().map(|r| {
                (r.api_groups.clone().unwrap_or_default(), r.resources.clone().unwrap_or_default(), r.verbs.clone())
            }));
            let extra: Vec<String> = actual
                .iter()
                .filter(|a| !declared.contains(a))
                .map(|(g, r, v)| format!("{v} {}", qualified(g, r)))
                .collect();
            let missing: Vec<String> = declared
                .iter()
                .filter(|d| !actual.contains(d))
                .map(|(g, r, v)| format!("{v} {}", qualified(g, r)))
                .collect();
            let ok = extra.is_empty() && missing.is_empty();
            let detail = if ok {
                format!("grants exactly agent.permissions ({} rule(s))", rules.len())
            } else {
                format!(
                    "differs from agent.permissions: extra [{}], missing [{}]",
                    extra.join(", "),
                    missing.join(", ")
                )
            };
            BindingFinding { object: format!("Role {account}"), ok, detail }
        }
    });
    for binding in role_bindings {
        let name = binding.metadata.name.clone().unwrap_or_default();
        let binding_namespace = binding.metadata.namespace.as_deref().unwrap_or(namespace);
        if !binding.subjects.iter().flatten().any(|s| names_agent(s, namespace, account, Some(binding_namespace))) {
            continue;
        }
        let own = name == account && binding.role_ref.kind == "Role" && binding.role_ref.name == account;
        out.push(BindingFinding {
            object: format!("RoleBinding {name}"),
            ok: own,
            detail: if own {
                format!("binds Role {account} to the agent")
            } else {
                format!(
                    "binds {} {} to the agent: not declared in agent.permissions",
                    binding.role_ref.kind, binding.role_ref.name
                )
            },
        });
    }
    for binding in cluster_role_bindings {
        let name = binding.metadata.name.clone().unwrap_or_default();
        if binding.subjects.iter().flatten().any(|s| names_agent(s, namespace, account, None)) {
            out.push(BindingFinding {
                object: format!("ClusterRoleBinding {name}"),
                ok: false,
                detail: format!("binds ClusterRole {} to the agent cluster-wide", binding.role_ref.name),
            });
        }
    }
    out
}

/// `deployments.apps`, or `pods` for the core group: kubectl's way of naming a resource.
pub fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        let (base, sub) = resource.split_once('/').map_or((resource, None), |(b, s)| (b, Some(s)));
        match sub {
            Some(sub) => format!("{base}.{group}/{sub}"),
            None => format!("{base}.{group}"),
        }
    }
}

/// Reads the agent's account, Role and every binding that could name it, and judges them.
pub async fn bindings(
    client: &Client,
    namespace: &str,
    account: &str,
    rules: &[PermissionRule],
) -> Result<Vec<BindingFinding>> {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let exists = api(accounts.get_opt(account).await, || format!("reading ServiceAccount {account}"))?.is_some();
    let roles: Api<Role> = Api::namespaced(client.clone(), namespace);
    let role = api(roles.get_opt(account).await, || format!("reading Role {account}"))?;
    let role_bindings =
        api(Api::<RoleBinding>::namespaced(client.clone(), namespace).list(&ListParams::default()).await, || {
            format!("listing RoleBindings in {namespace}")
        })?;
    let cluster_role_bindings =
        api(Api::<ClusterRoleBinding>::all(client.clone()).list(&ListParams::default()).await, || {
            "listing ClusterRoleBindings".into()
        })?;
    Ok(judge_bindings(
        namespace,
        account,
        exists,
        role.as_ref(),
        &role_bindings.items,
        &cluster_role_bindings.items,
        rules,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PermissionRule {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        PermissionRule { api_groups: strings(groups), resources: strings(resources), verbs: strings(verbs) }
    }

    #[test]
    fn rules_match_like_rbac() {
        let r = rule(&[""], &["pods", "pods/log"], &["get"]);
        assert!(rule_grants(&r, "get", "", "pods/log"));
        assert!(!rule_grants(&r, "list", "", "pods"));
        assert!(!rule_grants(&r, "get", "apps", "pods"));
        assert!(!rule_grants(&r, "create", "", "pods/exec"));
        assert!(rule_grants(&rule(&["*"], &["*"], &["*"]), "delete", "apps", "deployments"));
        assert!(rule_grants(&rule(&[""], &["pods/*"], &["create"]), "create", "", "pods/exec"));
        // An empty group list grants nothing, as in RBAC.
        assert!(!rule_grants(&rule(&[], &["pods"], &["get"]), "get", "", "pods"));
    }

    #[test]
    fn required_and_granted_are_allowed_at_home_only_and_secrets_stay_denied() {
        let rules =
            vec![rule(&[""], &["pods", "configmaps"], &["get", "list"]), rule(&[""], &["pods/exec"], &["create"])];
        let qs = questions("codex-dev-1", &rules, &[]);
        let find = |verb: &str, resource: &str, scope: Scope| {
            qs.iter()
                .find(|q| q.verb == verb && q.resource == resource && q.scope == scope)
                .unwrap_or_else(|| panic!("{verb} {resource} {scope:?}"))
        };
        let home = || Scope::Namespace("codex-dev-1".into());
        assert!(find("get", "pods/log", home()).expect_allowed, "required even if not granted");
        assert!(find("list", "configmaps", home()).expect_allowed);
        assert!(!find("list", "configmaps", Scope::Namespace("default".into())).expect_allowed);
        assert!(!find("list", "configmaps", Scope::AllNamespaces).expect_allowed);
        assert!(!find("get", "secrets", home()).expect_allowed);
        assert!(!find("create", "pods/exec", Scope::Namespace("kube-system".into())).expect_allowed);
        assert!(!find("delete", "namespaces", Scope::Cluster).expect_allowed);
        assert_eq!(find("delete", "namespaces", Scope::Cluster).name, "codex-dev-1");
        // Every row once per scope: no duplicates from overlapping rules.
        let mut keys: Vec<String> =
            qs.iter().map(|q| format!("{} {} {} {:?}", q.verb, q.group, q.resource, q.scope)).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn a_granted_secret_is_expected_allowed_at_home() {
        let rules = vec![rule(&[""], &["secrets"], &["get"])];
        let qs = questions("ns", &rules, &[]);
        let get_secret = qs
            .iter()
            .find(|q| q.verb == "get" && q.resource == "secrets" && q.scope == Scope::Namespace("ns".into()))
            .unwrap();
        assert!(get_secret.expect_allowed);
        assert_eq!(get_secret.because, "granted by agent.permissions");
        let list_secret = qs
            .iter()
            .find(|q| q.verb == "list" && q.resource == "secrets" && q.scope == Scope::Namespace("ns".into()))
            .unwrap();
        assert!(!list_secret.expect_allowed);
    }

    #[test]
    fn each_secret_of_services_yaml_is_asked_about_by_name() {
        let named = |rules: &[PermissionRule]| {
            questions("ns", rules, &["db".to_string(), "session".to_string()])
                .into_iter()
                .filter(|q| !q.name.is_empty() && q.resource == "secrets")
                .collect::<Vec<_>>()
        };
        let denied = named(&[rule(&[""], &["pods"], &["get"])]);
        assert_eq!(denied.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(), ["db", "session"]);
        assert!(denied
            .iter()
            .all(|q| q.verb == "get" && !q.expect_allowed && q.scope == Scope::Namespace("ns".into())));
        assert_eq!(denied[0].because, "a Secret of services.yaml");
        let granted = named(&[rule(&[""], &["secrets"], &["get"])]);
        assert!(granted.iter().all(|q| q.expect_allowed && q.because == "granted by agent.permissions"));
    }

    #[test]
    fn only_the_agents_own_binding_may_name_it() {
        let rules = vec![rule(&[""], &["pods"], &["get", "list"])];
        let role: Role = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "codex-agent", "namespace": "ns"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "get"]}],
        }))
        .unwrap();
        let binding = |name: &str, role: &str, subject: serde_json::Value| -> RoleBinding {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "namespace": "ns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                "subjects": [subject],
            }))
            .unwrap()
        };
        let own =
            binding("codex-agent", "codex-agent", serde_json::json!({"kind": "ServiceAccount", "name": "codex-agent"}));
        let unrelated = binding("other", "reader", serde_json::json!({"kind": "ServiceAccount", "name": "default"}));
        let found = judge_bindings("ns", "codex-agent", true, Some(&role), &[own.clone(), unrelated], &[], &rules);
        assert!(found.iter().all(|f| f.ok), "{found:?}");
        assert_eq!(found.len(), 3, "account, role, own binding: {found:?}");

        let sneaky = binding(
            "secret-reader",
            "secrets",
            serde_json::json!({"kind": "User", "name": "system:serviceaccount:ns:codex-agent"}),
        );
        let found = judge_bindings("ns", "codex-agent", true, Some(&role), &[own, sneaky], &[], &rules);
        let bad: Vec<_> = found.iter().filter(|f| !f.ok).collect();
        assert_eq!(bad.len(), 1, "{found:?}");
        assert_eq!(bad[0].object, "RoleBinding secret-reader");

        let wider = vec![rule(&[""], &["pods", "secrets"], &["get", "list"])];
        let found = judge_bindings("ns", "codex-agent", true, Some(&role), &[], &[], &wider);
        assert!(found[1].detail.contains("missing [get secrets, list secrets]"), "{found:?}");
    }

    #[test]
    fn resources_are_named_like_kubectl_names_them() {
        assert_eq!(qualified("", "pods/log"), "pods/log");
        assert_eq!(qualified("apps", "deployments"), "deployments.apps");
        assert_eq!(qualified("apps", "deployments/scale"), "deployments.apps/scale");
    }

    #[test]
    fn subresources_become_resource_attributes() {
        let q = Question {
            verb: "create".into(),
            group: String::new(),
            resource: "pods/exec".into(),
            name: String::new(),
            scope: Scope::Namespace("ns".into()),
            expect_allowed: true,
            because: String::new(),
        };
        let a = attributes(&q);
        assert_eq!(a.resource.as_deref(), Some("pods"));
        assert_eq!(a.subresource.as_deref(), Some("exec"));
        assert_eq!(a.namespace.as_deref(), Some("ns"));
    }
}
