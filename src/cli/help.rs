//! The long help of every command: raw strings wrapped to the source's width, as clap shows
//! them after [`help_text`].

/// Help written as a raw string wrapped to the source's width, shown as clap shows it: the
/// lines of a paragraph joined with spaces (clap wraps them to the terminal), indented lines
/// (examples) and blank lines kept.
pub(super) fn help_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_is_prose = false;
    for (i, line) in text.split('\n').enumerate() {
        let prose = !line.is_empty() && !line.starts_with(' ');
        if i > 0 {
            out.push(if previous_is_prose && prose { ' ' } else { '\n' });
        }
        out.push_str(line);
        previous_is_prose = prose;
    }
    out
}

pub(super) const ABOUT: &str = r#"Bring up a complete, isolated environment of a multi-service project
on Kubernetes from one declarative services.yaml: stateful dependencies, then migrations, then internal
services, then edge services, then the frontend, each phase a Helm release gated on readiness."#;

pub(super) const EXAMPLES: &str = r#"Examples:
  kubectl codex validate
  kubectl codex plan --env ai --issue 19
  kubectl codex render --env prod --out build/
  kubectl codex schema > services.schema.json"#;

pub(super) const VALIDATE: &str = r#"Examples:
  kubectl codex validate
  kubectl codex validate -f path/to/services.yaml -o json

Every environment is resolved (with --slot/--issue, or slot 1 when neither is given), so template and
namespace errors show up too. Exit code 2 when anything is wrong."#;

pub(super) const PLAN: &str = r#"Examples:
  kubectl codex plan --env prod
  kubectl codex plan --env ai --issue 19 -o json | jq '.phases[].name'

The plan is byte-identical for identical input."#;

pub(super) const RENDER: &str = r#"Examples:
  kubectl codex render --env prod --out build/
  kubectl codex render --env dev --slot 2 --out /tmp/r --values-only

Writes OUT/<nn>-<phase>/values.yaml and OUT/<nn>-<phase>/manifests.yaml (the latter from `helm template`)."#;

pub(super) const BUILD: &str = r#"Examples:
  kubectl codex build --env prod
  kubectl codex build --env dev --slot 1 --dry-run -o json
  kubectl codex build --env prod --builder buildx
  BUILDKIT_HOST=tcp://127.0.0.1:1234 kubectl codex build --env staging

Builds every image with `build` in services.yaml that the environment's units, readiness jobs or agent run,
from its `targets.prod` or `targets.dev` by the environment's runtime. Each build pushes
registry/repository:tag and the content tag registry/repository:build-<16 hex of the input digest> (context
files after .dockerignore, Dockerfile, target, build args, platform). When the registry already has the
content tag nothing is built; the tag is pointed at it. Builder: buildctl on PATH, else docker buildx
(--builder to choose). Images with `mirror` are copied first into registry/repository:tag (manifest,
multi-arch index, blobs), unless the mirror tag registry/repository:mirror-<16 hex of the source> shows the
copy is there already. Exit code 3 when no builder is found, 9 when a build or a mirror fails."#;

pub(super) const UP: &str = r#"Examples:
  kubectl codex up --env prod
  kubectl codex up --env ai --issue 19 --timeout 10m -o json
  kubectl codex up --env dev --slot 1 --skip-build

Images declared with `mirror` are copied into the environment's registry and those with `build` are built
first (as `kubectl codex build`; --skip-build to deploy what the registry has), and units run them pinned by
manifest digest. Phases run in the fixed order stateful -> migrations -> internal -> edge -> frontend; a
phase whose values did not change and whose units are ready is skipped. Exit code 5 when a phase fails; its
units' pods, events and last log lines are printed."#;

pub(super) const STATUS: &str = r#"Examples:
  kubectl codex status --env prod
  kubectl codex status -n codex-ai-issue-19 -o json
  kubectl codex status --env prod --watch
  kubectl codex status -n codex-ai-issue-19 --watch --watch-timeout 10m -o json

--watch follows the units through watches on their workloads, pods and events. On a terminal it redraws a
table (phase, unit, kind, readiness, restarts, age, last event); piped, it prints the table once and then
one line per unit whose readiness, restarts or last event changed (-o json: one JSON object per line).
Ctrl-C or --watch-timeout ends it with exit code 0."#;

pub(super) const EVIDENCE: &str = r#"Examples:
  kubectl codex evidence --env prod
  kubectl codex evidence -n codex-prod --verify
  kubectl codex evidence -n codex-prod --run 20261127t101500z-1a2b -o json
  kubectl codex evidence -n codex-prod --html timeline.html
  kubectl codex evidence --from-file records.json --svg timeline.svg

--verify checks every record against Helm's release history and exits 6 on any violation."#;

pub(super) const DOWN: &str = r#"Examples:
  kubectl codex down --env dev --slot 2
  kubectl codex down -n codex-ai-issue-19"#;

pub(super) const REVISE: &str = r#"Examples:
  kubectl codex revise 19
  kubectl codex revise 19 --env ai --ttl 4h -o json

The environment is found by its labels (project, env, issue). Active and within its idle TTL: reused, only
changed phases deploy, the lease is extended. Missing, terminating or expired: a fresh environment. The path
taken and why is printed and recorded in the evidence. Like `up`, the images are built first (unchanged ones
are not rebuilt) unless --skip-build."#;

pub(super) const GC: &str = r#"Examples:
  kubectl codex gc --dry-run
  kubectl codex gc -o json

Only namespaces labelled app.kubernetes.io/managed-by=kubectl-codex whose last-activity is older than their
idle TTL are deleted; unreadable annotations or a run in progress keep a namespace."#;

pub(super) const AGENT: &str = r#"Examples:
  kubectl codex agent run --env dev --slot 1 -- sh -c 'ls /workspace'
  kubectl codex agent run --env ai --issue 19 -o json -- make test"#;

pub(super) const CHECK: &str = r#"Examples:
  kubectl codex check --env dev --slot 1
  kubectl codex check --env ai --issue 19 -o json

Asks the API server (SubjectAccessReview, as the caller) what system:serviceaccount:<ns>:codex-agent may do:
reading pods and logs and exec in its namespace plus agent.permissions must be allowed there; the same
anywhere else, Secrets (each Secret of services.yaml `secrets` asked about by name), workloads, RBAC, the
namespace, nodes and impersonation must be denied unless granted. No RoleBinding but its own may name the
agent. Every Deployment, StatefulSet, Job, CronJob and bare Pod that mounts the workspace must run as the
workspace uid, gid and fsGroup with the mount mode services.yaml declares. Posture: the namespace's
pod-security.kubernetes.io/enforce label must be the declared podSecurity level, the NetworkPolicy
codex-isolation must exist, a declared quota must stand as ResourceQuota codex-quota (with LimitRange
codex-defaults), and a pod of every workload, created as a server-side dry run, must pass Pod Security
admission at the declared level. Exit code 6 on any violation."#;

pub(super) const IMPORT: &str = r#"Examples:
  kubectl codex import services.yaml --out codex/
  kubectl codex import legacy/services.yaml --from codexctl --out codex/ --phase migrate=migrations -o json
  kubectl codex plan -f codex/services.yaml --env staging --values-file codex/inputs.example.yaml

The format is told from the file: a codexctl file has no apiVersion and a string `project`; a ServiceStack
has `metadata` and `spec` (apiVersion codex-k8s.dev/v1alpha1 or kodex.works/v1alpha1). Writes
OUT/services.yaml, every manifest it references (its Go templates translated to tera) at the same relative
path under OUT, and OUT/inputs.example.yaml: every value the stack reads from outside the file (envOr,
.Vars, env files, baseDomain, storage) as an input, ready for --values-file. The report lists every item as
mapped, converted, dropped (kubectl-codex does it itself) or not carried, with its source line and the
reason. Exit code 0 when the result validates; 2 when the file, a template or a referenced manifest is wrong
(file:line:column), when the result does not validate, or with --strict when anything was not carried."#;

pub(super) const SCHEMA: &str = r#"Example:
  kubectl codex schema > schema/services.schema.json"#;

pub(super) const VERSION: &str = r#"Example:
  kubectl codex version -o json"#;

pub(super) const COMPLETION: &str = r#"Examples:
  source <(kubectl codex completion bash)
  kubectl codex completion zsh > "${fpath[1]}/_kubectl-codex"
  kubectl codex completion fish > ~/.config/fish/completions/kubectl-codex.fish"#;

pub(super) const GRAPH: &str = r#"Examples:
  kubectl codex graph --env prod | dot -Tsvg > stack.svg
  kubectl codex graph --env ai --issue 19 -o mermaid
  kubectl codex graph --env prod -o svg > stack.svg

The stack is resolved as `plan` resolves it. Arrows point from a dependency to the unit that waits for it.
-o svg runs Graphviz's dot (--dot PATH, $CODEX_DOT, or dot on PATH); exit code 3 when it is missing or
fails."#;

pub(super) const AGENT_RUN: &str = r#"Examples:
  kubectl codex agent run --env dev --slot 1 -- sh -c 'sed -i s/v1/v2/ services/cmd/greeter/message.go'
  kubectl codex agent run --env ai --issue 19 --timeout 30m -o json -- make test

The command runs in the workspace (agent.workspace, default /workspace read-write) as the workspace
uid/gid/fsGroup, never retried. Exit code 0 when it succeeded, 8 when it failed or timed out (its exit code
is in the output)."#;
