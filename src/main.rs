//! `kubectl-codex`: everything but the allocator is in the library ([`kubectl_codex::main`]).

use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: resolving and rendering a large stack is made of
/// millions of small allocations, and glibc's spent about a third of the time in malloc, free
/// and the page faults of growing its heap (see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    kubectl_codex::main()
}
