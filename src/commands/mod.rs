//! One module per command; each returns the process exit code.

pub mod agent;
pub mod build;
pub mod check;
pub mod complete;
pub mod environment;
pub mod evidence_picture;
pub mod graph;
pub mod import;
pub mod lifecycle;
pub mod offline;
pub mod status_watch;

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
