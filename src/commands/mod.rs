//! One module per command; each returns the process exit code.

pub mod offline;

use crate::cli::{Cli, Command};
use anyhow::Result;

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Validate(args) => offline::validate(&args),
        Command::Plan(args) => offline::plan(&args),
        Command::Render(args) => offline::render(&args),
        Command::Schema => offline::schema(),
        Command::Version(args) => offline::version(&args),
        Command::Completion(args) => offline::completion(&args),
    }
}
