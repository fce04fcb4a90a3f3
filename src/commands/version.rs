//! `kubectl codex version`: the version and the commit it was built from.

use crate::cli::{OutputFormat, VersionArgs};
use crate::exit::Failure;
use serde_json::json;

pub fn run(args: &VersionArgs) -> Result<(), Failure> {
    match args.output.format {
        OutputFormat::Json => {
            println!("{}", json!({"version": crate::version::VERSION, "commit": crate::version::COMMIT}))
        }
        OutputFormat::Text => println!("kubectl-codex {}", crate::version::LONG),
    }
    Ok(())
}
