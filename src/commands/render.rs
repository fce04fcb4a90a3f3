//! `kubectl codex render`: each phase's values and `helm template` output, written to a directory.

use super::load::{keep_until_exit, resolve};
use crate::cli::{OutputFormat, RenderArgs};
use crate::config::phase::Phase;
use crate::exit::Failure;
use crate::{chart, helm, plan, values};
use anyhow::Context;

pub fn run(args: &RenderArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, OutputFormat::Text)?;
    let plan = plan::plan(&stack);
    let phases = values::phase_values(&stack, &plan);
    let tools = if args.values_only {
        None
    } else {
        Some((helm::locate(args.helm.helm.as_deref())?, chart::chart_dir(args.helm.chart.as_deref())?))
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    // A phase that has no units any more must not leave an old rendering behind.
    for phase in Phase::ORDER {
        let stale = args.out.join(phase.directory_name());
        if stale.is_dir() {
            std::fs::remove_dir_all(&stale).with_context(|| format!("removing {}", stale.display()))?;
        }
    }
    for phase in &phases {
        let dir = args.out.join(phase.phase.directory_name());
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let values_file = dir.join("values.yaml");
        std::fs::write(&values_file, &phase.yaml).with_context(|| format!("writing {}", values_file.display()))?;
        if let Some((helm_bin, chart_dir)) = &tools {
            let manifests = helm::template(helm_bin, &phase.release, chart_dir, &stack.namespace, &values_file)?;
            std::fs::write(dir.join("manifests.yaml"), manifests)?;
        }
        println!("{}", dir.display());
    }
    keep_until_exit((stack, plan, phases));
    Ok(())
}
