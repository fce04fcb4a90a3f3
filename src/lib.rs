//! kubectl-codex: a whole environment of a multi-service project on Kubernetes, from one
//! services.yaml, phase by phase through Helm. The binary (`main.rs`) only calls [`main`].
//!
//! Only what the binary and the integration tests use is `pub`; every other module is private
//! to the crate, so rustc reports code that nothing calls.

pub mod build;
mod chart;
mod cli;
mod clock;
mod cluster;
mod commands;
pub mod config;
mod deploy;
pub mod evidence;
pub mod exit;
mod graph;
mod helm;
mod import;
mod labels;
mod lifecycle;
pub mod plan;
mod redact;
mod tool_cache;
mod ui;
pub mod values;
mod version;

use clap::Parser;
use std::process::ExitCode;

/// The whole program: parse the command line, run the command, and turn the outcome into the
/// exit code, deciding it in this one place.
pub fn main() -> ExitCode {
    // Die quietly on a closed pipe (`kubectl codex plan -o json | head`), like other CLI tools,
    // instead of panicking in println!.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            return exit::exit_code(code);
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = failure.unreported() {
                eprintln!("error: {message}");
            }
            exit::exit_code(failure.exit_code())
        }
    }
}
