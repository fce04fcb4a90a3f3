//! The baseline of bench up: the stack's rendered manifests applied one unit at a time in
//! plan order with `kubectl apply`, each followed by `kubectl rollout status` (or `kubectl
//! wait --for=condition=complete` for a Job), after the namespace and the workspace PVC.

use super::{verify, Bench, KubectlRound, UnitTiming, ENV};
use crate::bench::harness::path_str;
use crate::exec;
use anyhow::{anyhow, ensure, Context, Result};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

impl Bench {
    pub(super) fn kubectl_round(&self, dir: &Path, namespace: &str) -> Result<KubectlRound> {
        // Preparation, untimed: what a pipeline has before it deploys (rendered manifests).
        let file = self.variant(dir, namespace)?;
        let rendered = dir.join("rendered");
        exec::output(
            self.codex_command().arg("render").arg("-f").arg(&file).args(["--env", ENV, "--out"]).arg(&rendered),
        )?;
        let plan =
            exec::output(self.codex_command().arg("plan").arg("-f").arg(&file).args(["--env", ENV, "-o", "json"]))?;
        let plan: Value = serde_json::from_slice(&plan.stdout).context("reading plan -o json")?;
        let steps = steps(&plan, &rendered)?;
        let pvc = dir.join("workspace-pvc.yaml");
        self.workspace_pvc(&plan, &rendered, namespace, &pvc)?;
        let timeout = format!("--timeout={}s", self.timeout);

        let started = Instant::now();
        exec::output(&mut self.kubectl(&["create", "namespace", namespace]))?;
        exec::output(&mut self.kubectl(&["apply", "-n", namespace, "-f", path_str(&pvc)?]))?;
        let setup = started.elapsed().as_secs_f64();
        let mut units = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let unit_started = Instant::now();
            let file = dir.join(format!("unit-{:02}-{}.yaml", i + 1, step.unit));
            std::fs::write(&file, &step.manifests)?;
            exec::output(&mut self.kubectl(&["apply", "-n", namespace, "-f", path_str(&file)?]))?;
            match step.kind.as_str() {
                "Deployment" | "StatefulSet" => {
                    let object = format!("{}/{}", step.kind.to_lowercase(), step.resource);
                    exec::output(&mut self.kubectl(&["rollout", "status", "-n", namespace, &object, &timeout]))?;
                }
                "Job" => {
                    let object = format!("job/{}", step.resource);
                    exec::output(&mut self.kubectl(&[
                        "wait",
                        "-n",
                        namespace,
                        "--for=condition=complete",
                        &object,
                        &timeout,
                    ]))?;
                }
                // A CronJob has nothing to become ready until its schedule fires.
                _ => {}
            }
            units.push(UnitTiming {
                phase: step.phase.clone(),
                unit: step.unit.clone(),
                seconds: unit_started.elapsed().as_secs_f64(),
            });
        }
        let total = started.elapsed().as_secs_f64();
        verify(self, namespace)?;
        Ok(KubectlRound { total, setup, units })
    }

    /// The workspace PVC exactly as the chart renders it for plain Helm use
    /// (`global.workspace.create`): the spec `up` gives the claim it creates itself.
    fn workspace_pvc(&self, plan: &Value, rendered: &Path, namespace: &str, out: &Path) -> Result<()> {
        let phase = plan["phases"].as_array().and_then(|p| p.first()).context("the plan has no phases")?;
        let values = rendered.join(phase_dir(phase)?).join("values.yaml");
        let release = phase["release"].as_str().context("plan phase without release")?;
        let chart = self.root.join("charts/codex-env");
        let output = exec::output(
            Command::new(&self.helm)
                .args(["template", release])
                .arg(&chart)
                .args(["--namespace", namespace, "-f"])
                .arg(&values)
                .args(["--set", "global.workspace.create=true", "--show-only", "templates/workspace-pvc.yaml"]),
        )?;
        std::fs::write(out, &output.stdout)?;
        Ok(())
    }
}

/// Each phase's `manifests.yaml`, split per unit in plan order.
struct Step {
    phase: String,
    unit: String,
    kind: String,
    resource: String,
    manifests: String,
    objects: usize,
}

fn phase_dir(phase: &Value) -> Result<String> {
    let number = phase["number"].as_u64().context("plan phase without number")?;
    let name = phase["name"].as_str().context("plan phase without name")?;
    Ok(format!("{number:02}-{name}"))
}

fn steps(plan: &Value, rendered: &Path) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for phase in plan["phases"].as_array().context("plan -o json has no phases")? {
        let phase_name = phase["name"].as_str().context("plan phase without name")?;
        let path = rendered.join(phase_dir(phase)?).join("manifests.yaml");
        let yaml = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let units: Vec<(&str, &str)> = phase["units"]
            .as_array()
            .context("plan phase without units")?
            .iter()
            .map(|u| {
                Ok((u["name"].as_str().context("unit without name")?, u["kind"].as_str().context("unit without kind")?))
            })
            .collect::<Result<_>>()?;
        let objects = split_manifests(&yaml);
        let mut phase_steps = Vec::new();
        for (i, (unit, kind)) in units.iter().enumerate() {
            // Objects of no unit (ConfigMaps, extra manifests) go with the phase's first unit.
            let mine: Vec<&Object> = objects
                .iter()
                .filter(|o| {
                    o.unit.as_deref() == Some(*unit)
                        || (i == 0 && !units.iter().any(|(u, _)| o.unit.as_deref() == Some(*u)))
                })
                .collect();
            let workload = mine
                .iter()
                .find(|o| o.kind == *kind && o.unit.as_deref() == Some(*unit))
                .ok_or_else(|| anyhow!("{}: no {kind} labelled app.kubernetes.io/name={unit}", path.display()))?;
            phase_steps.push(Step {
                phase: phase_name.to_string(),
                unit: unit.to_string(),
                kind: kind.to_string(),
                resource: workload.name.clone(),
                manifests: mine.iter().map(|o| format!("---\n{}", o.text)).collect(),
                objects: mine.len(),
            });
        }
        let placed: usize = phase_steps.iter().map(|s| s.objects).sum();
        ensure!(
            placed == objects.len(),
            "{}: {} objects, but {placed} placed with a unit",
            path.display(),
            objects.len()
        );
        steps.extend(phase_steps);
    }
    Ok(steps)
}

/// One object of `helm template` output: its kind, `metadata.name`, the
/// `app.kubernetes.io/name` label of its metadata, and its text.
#[derive(Debug, PartialEq)]
struct Object {
    kind: String,
    name: String,
    unit: Option<String>,
    text: String,
}

/// Splits `helm template` output into objects. Helm writes block YAML with two-space indents,
/// top-level keys at column 0, so `metadata.name` and `metadata.labels.*` are found by their
/// indent alone (without a YAML parser in xtask); the text of each object is kept verbatim.
fn split_manifests(yaml: &str) -> Vec<Object> {
    let mut docs = vec![String::new()];
    for line in yaml.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().expect("never empty");
            doc.push_str(line);
            doc.push('\n');
        }
    }
    let mut objects = Vec::new();
    for doc in docs {
        if doc.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            continue;
        }
        let (mut kind, mut name, mut unit) = (String::new(), String::new(), None);
        let mut top = "";
        let mut in_labels = false;
        for line in doc.lines() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if !line.starts_with(' ') {
                top = line.split(':').next().unwrap_or_default();
                if let Some(value) = line.strip_prefix("kind:") {
                    kind = unquote(value);
                }
                continue;
            }
            if top != "metadata" {
                continue;
            }
            if let Some(rest) = line.strip_prefix("  ").filter(|r| !r.starts_with(' ')) {
                in_labels = rest.trim_end() == "labels:";
                if let Some(value) = rest.strip_prefix("name:") {
                    name = unquote(value);
                }
            } else if let Some(rest) = line.strip_prefix("    ").filter(|r| in_labels && !r.starts_with(' ')) {
                if let Some(value) = rest.strip_prefix("app.kubernetes.io/name:") {
                    unit = Some(unquote(value));
                }
            }
        }
        objects.push(Object { kind, name, unit, text: doc });
    }
    objects
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    let quoted =
        v.len() >= 2 && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    if quoted { &v[1..v.len() - 1] } else { v }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_split_by_the_metadata_name_label() {
        let yaml = "---\n# Source: x/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  selector:\n    app.kubernetes.io/name: \"other\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/name: codex-env\n  name: \"settings\"\n";
        let objects = split_manifests(yaml);
        assert_eq!(objects.len(), 2);
        assert_eq!(
            (objects[0].kind.as_str(), objects[0].name.as_str(), objects[0].unit.as_deref()),
            ("Service", "web", Some("web"))
        );
        assert_eq!(
            (objects[1].kind.as_str(), objects[1].name.as_str(), objects[1].unit.as_deref()),
            ("ConfigMap", "settings", Some("codex-env"))
        );
        assert!(objects[0].text.starts_with("# Source") && objects[0].text.contains("selector"));
    }
}
