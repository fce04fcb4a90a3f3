//! The generator: a services.yaml shaped like a large real project, deterministic for a given
//! N (the bench core workload; docs/benchmarks.md).

use super::yaml::{emit, map, seq, Node};
use super::{components, inputs_secrets, manifest_units};

/// Deterministic xorshift: the same N always yields the same file, so runs compare.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

pub(super) struct Generated {
    pub(super) yaml: String,
    /// Manifest files of manifest-only units, (path relative to services.yaml, content).
    pub(super) manifests: Vec<(String, String)>,
    pub(super) per_phase: [usize; 5],
    pub(super) dependencies: usize,
}

/// Unit names of each phase: `db-001`, `migrate-001`, `svc-001`, `gw-001`, `web-001`.
fn unit_name(phase: usize, i: usize) -> String {
    let prefix = ["db", "migrate", "svc", "gw", "web"][phase];
    format!("{prefix}-{i:03}")
}

/// `units` split like a real system: a few stores and migrations, many internal services.
fn split(units: usize) -> [usize; 5] {
    let share = |percent: usize| (units * percent / 100).max(1);
    let (stateful, migrations, edge, frontend) = (share(8), share(8), share(15), share(15));
    [stateful, migrations, units - stateful - migrations - edge - frontend, edge, frontend]
}

pub(super) fn generate(
    units: usize,
    manifest_units: bool,
    components: usize,
    inputs: usize,
    secrets: usize,
) -> Generated {
    let per_phase = split(units);
    let [n_db, n_migrate, n_svc, n_gw, n_web] = per_phase;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut dependencies = 0;
    let mut images: Vec<(String, Node)> = vec![
        ("postgres".into(), map([("ref", "docker.io/library/postgres:16.4".into())])),
        ("redis".into(), map([("ref", "docker.io/library/redis:7.4".into())])),
    ];
    let mut infrastructure = Vec::new();
    let mut services = Vec::new();

    for i in 0..n_db {
        let name = unit_name(0, i);
        // Every third store starts a group; the others (replicas) wait for the one before.
        let depends: Vec<String> = if i % 3 != 0 { vec![unit_name(0, i - 1)] } else { vec![] };
        dependencies += depends.len();
        let postgres = i % 2 == 0;
        let (image, port_name, port) = if postgres { ("postgres", "pg", 5432) } else { ("redis", "redis", 6379) };
        let mut env = map([]);
        if postgres {
            env.push("POSTGRES_USER", "app");
            env.push("POSTGRES_PASSWORD", "app");
            env.push("POSTGRES_DB", "app");
            env.push("PGDATA", "/var/lib/postgresql/data/pgdata");
        }
        env.push("INSTANCE", format!("{name}.{{{{ namespace }}}}"));
        let mut unit = map([("name", name.clone().into())]);
        if !depends.is_empty() {
            unit.push("dependsOn", seq(depends));
        }
        unit.push(
            "workload",
            map([
                ("kind", "StatefulSet".into()),
                ("image", image.into()),
                ("env", env),
                ("ports", seq([map([("name", port_name.into()), ("port", i64::from(port).into())])])),
                (
                    "probes",
                    map([(
                        "readiness",
                        map([("tcp", map([("port", port_name.into())])), ("periodSeconds", 2.into())]),
                    )]),
                ),
                ("resources", resources()),
                (
                    "volumes",
                    seq([map([
                        ("name", "data".into()),
                        ("mountPath", "/var/lib/data".into()),
                        ("size", "5Gi".into()),
                    ])]),
                ),
            ]),
        );
        unit.push("hooks", map([("readiness", seq([map([("tcp", map([("port", port_name.into())]))])]))]));
        unit.push("overlays", map([("prod", map([("workload", map([("replicas", 3.into())]))]))]));
        infrastructure.push(unit);
    }

    for i in 0..n_migrate {
        let name = unit_name(1, i);
        let mut depends = vec![unit_name(0, (i * 2) % n_db)];
        if i % 2 == 1 {
            depends.push(unit_name(1, i - 1));
        }
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let db = unit_name(0, (i * 2) % n_db);
        let mut unit = map([
            ("name", name.clone().into()),
            ("phase", "migrations".into()),
            ("dependsOn", seq(depends)),
            (
                "workload",
                map([
                    ("kind", "Job".into()),
                    ("image", name.clone().into()),
                    ("args", seq(["up", "--dir", "/migrations"])),
                    (
                        "env",
                        map([(
                            "DATABASE_URL",
                            format!("postgres://app:app@{db}:5432/app?application_name={{{{ env }}}}").into(),
                        )]),
                    ),
                    ("backoffLimit", 4.into()),
                ]),
            ),
        ]);
        if i % 4 == 0 {
            let check =
                map([("image", name.clone().into()), ("command", seq(["/app/check"])), ("args", seq(["--schema"]))]);
            unit.push("hooks", map([("readiness", seq([map([("job", check), ("timeout", "5m".into())])]))]));
        }
        services.push(unit);
    }

    for i in 0..n_svc {
        let name = unit_name(2, i);
        let mut depends = vec![unit_name(1, i % n_migrate), unit_name(0, i % n_db)];
        // Chains of five services, plus an occasional call to an older service.
        if i % 5 != 0 {
            depends.push(unit_name(2, i - 1));
        }
        if i >= 2 && i % 3 == 0 {
            depends.push(unit_name(2, rng.below(i - 1)));
        }
        depends.dedup();
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let cron = i % 10 == 9;
        let mut unit =
            map([("name", name.clone().into()), ("phase", "internal".into()), ("dependsOn", seq(depends.clone()))]);
        let mut workload =
            map([("kind", if cron { "CronJob" } else { "Deployment" }.into()), ("image", name.clone().into())]);
        workload.push("env", service_env(&name, &depends));
        if cron {
            workload.push("schedule", "*/15 * * * *");
        } else {
            workload.push("ports", service_ports());
            workload.push("probes", probes());
            workload.push("resources", resources());
            workload.push("replicas", 2);
        }
        let hot = !cron && i % 2 == 0;
        if hot {
            workload.push("dev", dev_override(&name));
        }
        unit.push("workload", workload);
        add_code_update(&mut unit, &format!("services/{name}"), hot, cron);
        if !cron && i % 3 == 0 {
            unit.push(
                "hooks",
                map([(
                    "readiness",
                    seq([map([("http", map([("path", "/healthz".into()), ("port", "http".into())]))])]),
                )]),
            );
        }
        if i % 10 == 0 {
            unit.push(
                "overlays",
                map([
                    ("prod", map([("workload", map([("replicas", 4.into())]))])),
                    ("dev", map([("workload", map([("env", map([("LOG_LEVEL", "debug".into())]))]))])),
                ]),
            );
        }
        services.push(unit);
    }

    for i in 0..n_gw {
        let name = unit_name(3, i);
        let mut depends: Vec<String> = (0..3).map(|_| unit_name(2, rng.below(n_svc))).collect();
        if i % 4 != 0 {
            depends.push(unit_name(3, i - 1));
        }
        depends.sort();
        depends.dedup();
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let hot = i % 2 == 0;
        let mut workload = map([
            ("kind", "Deployment".into()),
            ("image", name.clone().into()),
            ("env", service_env(&name, &depends)),
            ("ports", service_ports()),
            ("probes", probes()),
            ("resources", resources()),
        ]);
        if hot {
            workload.push("dev", dev_override(&name));
        }
        let mut unit = map([
            ("name", name.clone().into()),
            ("phase", "edge".into()),
            ("dependsOn", seq(depends)),
            ("workload", workload),
        ]);
        add_code_update(&mut unit, &format!("services/{name}"), hot, false);
        unit.push(
            "hooks",
            map([(
                "readiness",
                seq([map([(
                    "http",
                    map([("path", "/api/status".into()), ("port", "http".into()), ("expectStatus", 200.into())]),
                )])]),
            )]),
        );
        services.push(unit);
    }

    for i in 0..n_web {
        let name = unit_name(4, i);
        let mut depends = vec![unit_name(3, i % n_gw), unit_name(2, rng.below(n_svc))];
        if i % 3 != 0 {
            depends.push(unit_name(4, i - 1));
        }
        depends.dedup();
        dependencies += depends.len();
        images.push((name.clone(), built_image(&name)));
        let mut unit = map([
            ("name", name.clone().into()),
            ("phase", "frontend".into()),
            ("dependsOn", seq(depends.clone())),
            (
                "workload",
                map([
                    ("kind", "Deployment".into()),
                    ("image", name.clone().into()),
                    ("env", service_env(&name, &depends)),
                    ("ports", service_ports()),
                    ("probes", probes()),
                    (
                        "dev",
                        map([
                            ("command", seq(["node"])),
                            ("args", seq(["node_modules/vite/bin/vite.js", "--host", "0.0.0.0", "--port", "8080"])),
                            ("workingDir", "/workspace".into()),
                        ]),
                    ),
                ]),
            ),
        ]);
        add_code_update(&mut unit, &format!("web/{name}"), true, false);
        unit.push(
            "ingress",
            map([("host", format!("{{{{ namespace }}}}-{name}.localtest.me").into()), ("path", "/".into())]),
        );
        // A debug toolbar only outside prod: only on units nobody depends on (the last of
        // each chain of three), since `dependsOn` may not point at an excluded unit.
        if i % 3 == 2 || i + 1 == n_web {
            unit.push("when", "{{ runtime == 'dev' or env == 'staging' }}");
        }
        services.push(unit);
    }

    let mut document = map([
        ("apiVersion", "codex-k8s.dev/v1alpha1".into()),
        ("kind", "ServiceStack".into()),
        (
            "project",
            map([
                ("name", "acme".into()),
                ("description", format!("Generated by cargo xtask bench core: {units} units.").into()),
            ]),
        ),
        ("versions", map([("app", "2.14.0".into()), ("schema", "2024.06".into())])),
        (
            "environments",
            map([
                (
                    "prod",
                    map([
                        ("namespace", "{{ project }}-prod".into()),
                        ("runtime", "prod".into()),
                        ("registry", "registry.example.test/acme".into()),
                        ("idleTTL", "720h".into()),
                    ]),
                ),
                (
                    "staging",
                    map([
                        ("from", "prod".into()),
                        ("namespace", "{{ project }}-staging".into()),
                        ("idleTTL", "24h".into()),
                    ]),
                ),
                (
                    "dev",
                    map([
                        ("from", "prod".into()),
                        ("runtime", "dev".into()),
                        ("imagePullPolicy", "Always".into()),
                        ("namespace", "{{ project }}-dev{% if slot %}-{{ slot }}{% endif %}".into()),
                        ("idleTTL", "8h".into()),
                    ]),
                ),
                (
                    "ai",
                    map([
                        ("from", "dev".into()),
                        (
                            "namespace",
                            "{{ project }}-ai-{% if issue %}issue-{{ issue }}{% else %}slot-{{ slot }}{% endif %}"
                                .into(),
                        ),
                        ("disableKinds", seq(["Ingress"])),
                    ]),
                ),
            ]),
        ),
        ("images", Node::Map(images)),
        (
            "workspace",
            map([
                ("claimName", "acme-workspace".into()),
                ("size", "20Gi".into()),
                ("accessMode", "ReadWriteMany".into()),
                ("uid", 10001.into()),
                ("gid", 10001.into()),
                ("fsGroup", 10001.into()),
            ]),
        ),
        (
            "agent",
            map([
                ("image", unit_name(2, 0).into()),
                ("workspace", map([("mountPath", "/workspace".into()), ("readOnly", false.into())])),
                (
                    "permissions",
                    seq([map([
                        ("apiGroups", seq([""])),
                        ("resources", seq(["pods", "pods/log", "services"])),
                        ("verbs", seq(["get", "list", "watch"])),
                    ])]),
                ),
            ]),
        ),
        ("infrastructure", Node::Seq(infrastructure)),
        ("services", Node::Seq(services)),
    ]);
    let mut manifests = Vec::new();
    if manifest_units {
        if let Node::Map(entries) = &mut document {
            for (key, value) in entries.iter_mut() {
                if let (true, Node::Seq(units)) = (key == "infrastructure" || key == "services", value) {
                    manifests.extend(manifest_units::convert(units));
                }
            }
        }
    }
    if inputs > 0 || secrets > 0 {
        inputs_secrets::convert(&mut document, inputs, secrets);
    }
    if components > 0 {
        components::convert(&mut document, components);
    }
    let mut yaml = String::from("# Generated by `cargo xtask bench core`; see xtask/src/bench/core/generate.rs.\n");
    emit(&document, 0, &mut yaml);
    Generated { yaml, manifests, per_phase, dependencies }
}

fn built_image(name: &str) -> Node {
    map([
        (
            "build",
            map([
                ("context", "services".into()),
                ("dockerfile", "Dockerfile".into()),
                ("targets", map([("prod", "prod".into()), ("dev", "dev".into())])),
                ("args", map([("SERVICE", name.into()), ("VERSION", "{{ versions.app }}".into())])),
            ]),
        ),
        ("repository", format!("acme/{name}").into()),
        ("tag", "{{ versions.app }}-{{ runtime }}".into()),
    ])
}

fn service_env(name: &str, depends: &[String]) -> Node {
    let mut env = map([
        ("SERVICE_NAME", name.into()),
        ("LOG_LEVEL", "info".into()),
        ("PORT", 8080.into()),
        ("NAMESPACE", "{{ namespace }}".into()),
        ("VERSION", "{{ versions.app }}".into()),
        ("TRACING_ENABLED", true.into()),
    ]);
    // Jobs have no Service to call; every other dependency is reached by its Service name.
    for dependency in depends.iter().filter(|d| !d.starts_with("migrate-")) {
        let key = format!("{}_URL", dependency.to_uppercase().replace('-', "_"));
        let url = if dependency.starts_with("db-") {
            format!("postgres://app:app@{dependency}:5432/app")
        } else {
            format!("http://{dependency}.{{{{ namespace }}}}.svc:80")
        };
        env.push(&key, url);
    }
    env
}

fn service_ports() -> Node {
    seq([
        map([("name", "http".into()), ("port", 8080.into()), ("servicePort", 80.into())]),
        map([("name", "metrics".into()), ("port", 9090.into())]),
    ])
}

fn probes() -> Node {
    map([
        (
            "readiness",
            map([("http", map([("path", "/readyz".into()), ("port", "http".into())])), ("periodSeconds", 2.into())]),
        ),
        ("liveness", map([("tcp", map([("port", "http".into())])), ("initialDelaySeconds", 5.into())])),
    ])
}

pub(super) fn resources() -> Node {
    map([
        ("requests", map([("cpu", "50m".into()), ("memory", "64Mi".into())])),
        ("limits", map([("memory", "256Mi".into())])),
    ])
}

fn dev_override(name: &str) -> Node {
    map([
        ("command", seq(["/app/devwatch"])),
        (
            "args",
            seq([
                "-dir".to_string(),
                format!("/workspace/services/{name}"),
                "-run".to_string(),
                format!("/tmp/devwatch/{name}"),
            ]),
        ),
        ("env", map([("GOFLAGS", "-mod=vendor".into())])),
    ])
}

/// Hot reload needs the workspace mounted; the others rebuild their image (CronJobs restart).
fn add_code_update(unit: &mut Node, sub_path: &str, hot: bool, cron: bool) {
    if hot {
        unit.push(
            "workspace",
            map([("mountPath", "/workspace".into()), ("subPath", sub_path.into()), ("readOnly", true.into())]),
        );
        unit.push("codeUpdateStrategy", "hot-reload");
    } else {
        unit.push("codeUpdateStrategy", if cron { "restart" } else { "rebuild" });
    }
}
