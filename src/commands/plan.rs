//! `kubectl codex plan`: the ordered phases of one environment, as text or JSON.

use super::load::{keep_until_exit, resolve};
use super::output::{self, Layout};
use crate::cli::PlanArgs;
use crate::exit::Failure;
use crate::plan::Plan;
use serde::Serialize;
use std::fmt;

pub fn run(args: &PlanArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, args.output.format)?;
    let plan = crate::plan::plan(&stack);
    output::print(&Planned(&plan), args.output.format, Layout::Pretty)?;
    keep_until_exit((stack, plan));
    Ok(())
}

/// The plan as `plan` prints it: its JSON is the plan's own, its text [`Plan::to_text`].
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Planned<'a>(&'a Plan);

impl fmt::Display for Planned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_text())
    }
}
