//! `kubectl codex plan`: the ordered phases of one environment, as text or JSON.

use super::load::{keep_until_exit, resolve};
use crate::cli::{OutputFormat, PlanArgs};
use crate::exit::Failure;

pub fn run(args: &PlanArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, args.output.format)?;
    let plan = crate::plan::plan(&stack);
    match args.output.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        OutputFormat::Text => print!("{}", plan.to_text()),
    }
    keep_until_exit((stack, plan));
    Ok(())
}
