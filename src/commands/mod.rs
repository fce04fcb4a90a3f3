//! One module per command, named after it; each `run` succeeds or says why not ([`Failure`]).
//! Shared by several: `load` (services.yaml and the environment it selects), `connect` (the
//! runtime and the cluster client) and `report` (a deploy run's outcome).

mod agent;
mod build;
mod check;
mod complete;
mod completion;
mod connect;
mod down;
mod evidence;
mod gc;
mod graph;
mod import;
mod load;
mod output;
mod plan;
mod render;
mod report;
mod revise;
mod schema;
mod status;
mod up;
mod validate;
mod version;

use crate::cli::{AgentCommand, Cli, Command};
use crate::exit::Failure;

pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Up(args) => up::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Evidence(args) => evidence::run(&args),
        Command::Down(args) => down::run(&args),
        Command::Revise(args) => revise::run(&args),
        Command::Gc(args) => gc::run(&args),
        Command::Agent(AgentCommand::Run(args)) => agent::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Schema => schema::run(),
        Command::Version(args) => version::run(&args),
        Command::Completion(args) => completion::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Complete(args) => complete::run(&args),
    }
}
