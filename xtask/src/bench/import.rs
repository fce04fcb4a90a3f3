//! `cargo xtask bench import`: `kubectl codex import` of a generated codexctl file of N units,
//! against `validate` of the stack it writes. Method and how to read the output:
//! docs/benchmarks.md.

use super::harness::measure;
use super::stats::{round2, ProcessStats};
use anyhow::{ensure, Context, Result};
use clap::Args;
use serde_json::json;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

/// The goal from the issue.
const GOAL_MS: f64 = 1000.0;
const GOAL_MB: f64 = 200.0;
/// Manifests per generated unit.
const MANIFESTS_PER_UNIT: usize = 5;

#[derive(Args)]
pub struct ImportArgs {
    /// Units in the generated codexctl file (a tenth of them infrastructure).
    #[arg(long, default_value_t = 500)]
    units: usize,
    /// Timed runs of each command (after one untimed warm-up run).
    #[arg(long, default_value_t = 10)]
    runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Keep the generated project and the imported stack in this directory.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

pub fn run(args: &ImportArgs) -> Result<()> {
    ensure!(args.units >= 1 && args.runs >= 1, "--units and --runs must be at least 1");
    let temp = tempfile::tempdir()?;
    let dir = args.keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let source = dir.join("source");
    let out = dir.join("out");
    generate(&source, args.units)?;
    let binary = crate::repo::release_binary("")?;
    let file = source.join("services.yaml");
    let import: Vec<OsString> =
        vec!["import".into(), file.clone().into(), "--out".into(), out.clone().into(), "-o".into(), "json".into()];
    let validate: Vec<OsString> = vec![
        "validate".into(),
        "-f".into(),
        out.join("services.yaml").into(),
        "--values-file".into(),
        out.join("inputs.example.yaml").into(),
    ];
    // Warm-up, which also proves the import validates.
    measure(&binary, &import).context("import of the generated file")?;
    measure(&binary, &validate).context("validate of the imported stack")?;
    let (mut import_samples, mut validate_samples) = (Vec::new(), Vec::new());
    for run in 1..=args.runs {
        eprint!("\rrun {run}/{}", args.runs);
        import_samples.push(measure(&binary, &import)?);
        validate_samples.push(measure(&binary, &validate)?);
    }
    eprintln!();
    let (imported, baseline) = (ProcessStats::of(&import_samples), ProcessStats::of(&validate_samples));
    let met = imported.median_ms < GOAL_MS && imported.peak_mb < GOAL_MB;
    if args.json {
        let row = |s: &ProcessStats| json!({"medianMs": round2(s.median_ms), "minMs": round2(s.min_ms), "peakRssMb": round2(s.peak_mb)});
        let report = json!({
            "units": args.units, "manifestsPerUnit": MANIFESTS_PER_UNIT, "runs": args.runs,
            "import": row(&imported), "validateOfResult": row(&baseline),
            "timeRatio": round2(imported.median_ms / baseline.median_ms),
            "goal": {"ms": GOAL_MS, "mb": GOAL_MB, "met": met},
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "codexctl file: {} units, {} Go-templated manifests each; {} runs",
            args.units, MANIFESTS_PER_UNIT, args.runs
        );
        println!("{:<10} {:>10} {:>10} {:>12} {:>16}", "", "median ms", "min ms", "peak RSS MB", "time vs validate");
        for (name, s) in [("import", &imported), ("validate", &baseline)] {
            println!(
                "{:<10} {:>10.1} {:>10.1} {:>12.1} {:>15.2}x",
                name,
                s.median_ms,
                s.min_ms,
                s.peak_mb,
                s.median_ms / baseline.median_ms
            );
        }
        println!("import   = kubectl-codex import services.yaml --out DIR -o json");
        println!("validate = kubectl-codex validate -f DIR/services.yaml --values-file DIR/inputs.example.yaml");
        println!("goal (median < {GOAL_MS} ms and peak < {GOAL_MB} MB): {}", if met { "met" } else { "MISSED" });
    }
    Ok(())
}

/// A codexctl project of `units` units, deterministic: file-level variables in comments,
/// envOr inputs, per-unit manifests with conditionals, ranges and pipelines.
fn generate(dir: &Path, units: usize) -> Result<()> {
    std::fs::create_dir_all(dir.join("deploy"))?;
    let mut yaml = String::from(
        "# {{- $registry := envOr \"REGISTRY_HOST\" \"127.0.0.1:5000\" -}}\n\
         project: big\nversions:\n  app: \"1.0.0\"\nnamespace:\n  patterns:\n    staging: \"{{ .Project }}-staging\"\n    ai: \"{{ .Project }}-dev-{{ .Slot }}\"\n\
         environments:\n  staging: {}\n  ai: { from: staging }\n",
    );
    let infrastructure = (units / 10).max(1);
    for (section, range) in [("infrastructure", 0..infrastructure), ("services", infrastructure..units)] {
        writeln!(yaml, "{section}:")?;
        for unit in range {
            writeln!(yaml, "  - name: unit-{unit:04}")?;
            if unit % 7 == 3 {
                writeln!(yaml, "    when: '{{{{ ne .Env \"ai\" }}}}'")?;
            }
            writeln!(yaml, "    manifests:")?;
            for part in 0..MANIFESTS_PER_UNIT {
                let relative = format!("deploy/unit-{unit:04}-{part}.yaml");
                writeln!(yaml, "      - path: {relative}")?;
                std::fs::write(dir.join(&relative), manifest(unit, part))?;
            }
        }
    }
    std::fs::write(dir.join("services.yaml"), yaml)?;
    Ok(())
}

fn manifest(unit: usize, part: usize) -> String {
    let name = format!("unit-{unit:04}-{part}");
    match part {
        0 => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app.kubernetes.io/version: \"{{{{ .Versions.app }}}}\"\nspec:\n  replicas: {{{{ envOr \"REPLICAS\" \"1\" }}}}\n  selector:\n    matchLabels: {{ app: {name} }}\n  template:\n    metadata:\n      labels: {{ app: {name} }}\n    spec:\n      containers:\n        - name: main\n          image: {{{{ envOr \"APP_IMAGE\" \"registry.test/app:1\" }}}}\n          env:\n            - name: MODE\n              value: {{{{ if eq .Env \"ai\" }}}}dev{{{{ else }}}}release{{{{ end }}}}\n            - name: SELF\n              value: {{{{ printf \"%s.%s.svc\" \"{name}\" .Namespace }}}}\n"
        ),
        1 => format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{ app: unit-{unit:04}-0 }}\n  ports:\n    - {{ name: http, port: 80, targetPort: 8080 }}\n"
        ),
        2 => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  project: {{{{ .Project | toLower }}}}\n  slug: {{{{ slug .Env }}}}\n  {{{{- with .Vars.EXTRA }}}}\n  extra: {{{{ . }}}}\n  {{{{- end }}}}\n"
        ),
        3 => format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  annotations:\n    owner: {{{{ default \"team\" .Vars.OWNER }}}}\n"
        ),
        _ => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {{{{- range $k, $v := .Versions }}}}\n  {{{{ $k }}}}: {{{{ $v | printf \"%q\" }}}}\n  {{{{- end }}}}\n"
        ),
    }
}
