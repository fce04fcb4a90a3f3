//! The report of bench reload: the text table and the JSON document (docs/benchmarks.md says
//! how to read them).

use super::{Built, Hot, Rebuild, Report};
use crate::bench::stats::Summary;
use serde_json::{json, Value};

impl Report {
    pub(super) fn text(&self) -> String {
        let mut out = format!("edit-to-new-response, {} edit(s) each; seconds: median (min–max)\n\n", self.runs);
        let cell = |v: &[f64]| {
            let Summary { median, min, max } = Summary::of(v.iter().copied());
            format!("{median:.2} ({min:.2}–{max:.2})")
        };
        out.push_str(&format!(
            "  {:<24}{:<20}{:<26}{}\n",
            "edit", "hot reload (dev)", "BuildKit: codex up", "host build + assembled image"
        ));
        for (name, hot, built, rebuild) in [
            ("Go greeter message.go", &self.go_hot, &self.go_built, &self.go_rebuild),
            ("Vite web src/title.js", &self.vite_hot, &self.vite_built, &self.vite_rebuild),
        ] {
            let hot_values: Vec<f64> = hot.iter().map(|h| h.reload).collect();
            let built_values: Vec<f64> = built.iter().map(|b| b.total).collect();
            let rebuild_values: Vec<f64> = rebuild.iter().map(|r| r.total).collect();
            out.push_str(&format!(
                "  {name:<24}{:<20}{:<26}{}\n",
                cell(&hot_values),
                cell(&built_values),
                cell(&rebuild_values)
            ));
        }
        out.push('\n');
        for (name, built) in [("Go", &self.go_built), ("Vite", &self.vite_built)] {
            let part = |f: fn(&Built) -> f64| Summary::of(built.iter().map(f)).median;
            let mut images: Vec<&str> = built.iter().flat_map(|b| b.built.iter().map(String::as_str)).collect();
            images.sort_unstable();
            images.dedup();
            out.push_str(&format!(
                "  {name} BuildKit up, medians: build {:.2}s, deploy {:.2}s, after up {:.2}s; images rebuilt: {}\n",
                part(|b| b.build),
                part(|b| b.deploy),
                part(|b| b.total - b.build - b.deploy),
                images.join(", ")
            ));
        }
        for (name, rebuild) in [("Go", &self.go_rebuild), ("Vite", &self.vite_rebuild)] {
            let part = |f: fn(&Rebuild) -> f64| Summary::of(rebuild.iter().map(f)).median;
            out.push_str(&format!(
                "  {name} host build + assembled image, medians: build {:.2}s, image {:.2}s, kubectl-codex up {:.2}s\n",
                part(|r| r.build),
                part(|r| r.image),
                part(|r| r.up)
            ));
        }
        let agent: Vec<f64> = self.go_hot.iter().chain(&self.vite_hot).map(|h| h.agent_run).collect();
        out.push_str(&format!(
            "  kubectl-codex agent run (Job start, edit, end; not in the hot reload times): median {:.2}s\n",
            Summary::of(agent.iter().copied()).median
        ));
        out.push_str(&format!("  1-minute load average: {:.2} before, {:.2} after\n", self.load.0, self.load.1));
        out.push_str(&format!(
            "  greeter and web pods during hot reload: {}\n",
            if self.same_pods { "same pod uid, restartCount unchanged" } else { "REPLACED OR RESTARTED" }
        ));
        out
    }

    pub(super) fn json(&self) -> Value {
        let hot = |v: &[Hot]| {
            v.iter().map(|h| json!({"reloadSeconds": h.reload, "agentRunSeconds": h.agent_run})).collect::<Vec<_>>()
        };
        let rebuild = |v: &[Rebuild]| {
            v.iter().map(|r| json!({"totalSeconds": r.total, "buildSeconds": r.build, "imageSeconds": r.image, "upSeconds": r.up})).collect::<Vec<_>>()
        };
        let built = |v: &[Built]| {
            v.iter().map(|b| json!({"totalSeconds": b.total, "buildSeconds": b.build, "deploySeconds": b.deploy, "imagesBuilt": b.built})).collect::<Vec<_>>()
        };
        json!({
            "runs": self.runs,
            "go": {"hotReload": hot(&self.go_hot), "buildkitUp": built(&self.go_built), "rebuildRedeploy": rebuild(&self.go_rebuild)},
            "vite": {"hotReload": hot(&self.vite_hot), "buildkitUp": built(&self.vite_built), "rebuildRedeploy": rebuild(&self.vite_rebuild)},
            "loadAverage": {"before": self.load.0, "after": self.load.1},
            "samePods": self.same_pods,
        })
    }
}
