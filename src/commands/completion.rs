//! `kubectl codex completion SHELL`: a completion script generated from the clap definition.

use crate::cli::CompletionArgs;
use crate::exit::Failure;
use clap::CommandFactory;

pub fn run(args: &CompletionArgs) -> Result<(), Failure> {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut command, "kubectl-codex", &mut std::io::stdout());
    Ok(())
}
