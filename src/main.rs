//! `kubectl-codex`: parse the command line, dispatch, turn the outcome into an exit code.

use clap::Parser;
use kubectl_codex::{cli::Cli, commands, exit};

/// mimalloc instead of glibc's allocator: resolving and rendering a large stack is made of
/// millions of small allocations, and glibc's spent about a third of the time in malloc, free
/// and the page faults of growing its heap (see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Die quietly on a closed pipe (`kubectl codex plan -o json | head`), like other CLI tools,
    // instead of panicking in println!.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => exit::OK,
                _ => exit::USAGE,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", exit::scrubbed(&error));
            exit::code_of(&error)
        }
    };
    std::process::exit(code);
}
