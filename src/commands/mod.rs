//! One module per command; each returns the process exit code.

mod agent;
mod build;
mod check;
mod complete;
mod environment;
mod evidence_picture;
mod graph;
mod import;
mod lifecycle;
mod offline;
mod status_watch;

use crate::cli::{AgentCommand, Cli, Command};
use anyhow::Result;

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Validate(args) => offline::validate(&args),
        Command::Plan(args) => offline::plan(&args),
        Command::Render(args) => offline::render(&args),
        Command::Build(args) => build::build(&args),
        Command::Up(args) => environment::up(&args),
        Command::Status(args) => environment::status(&args),
        Command::Evidence(args) => environment::evidence(&args),
        Command::Down(args) => environment::down(&args),
        Command::Revise(args) => lifecycle::revise(&args),
        Command::Gc(args) => lifecycle::gc(&args),
        Command::Agent(AgentCommand::Run(args)) => agent::run(&args),
        Command::Check(args) => check::check(&args),
        Command::Import(args) => import::import(&args),
        Command::Schema => offline::schema(),
        Command::Version(args) => offline::version(&args),
        Command::Completion(args) => offline::completion(&args),
        Command::Graph(args) => graph::graph(&args),
        Command::Complete(args) => complete::complete(&args),
    }
}
