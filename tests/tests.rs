//! The integration tests, one binary: every file of tests/ is a module of it (each test binary
//! links kube and tokio again, which on two cores cost minutes), so that a test's path is
//! `FILE::name` (`cargo test --test tests -- golden::`); cli.rs and bad_input.rs have one
//! submodule per subject (`cli::build::…`, `bad_input::imports::…`). tests/e2e_faults.rs is a
//! binary of its own (`cargo xtask faults`). A new file needs its `mod` line here: xtask's unit
//! test `every_test_file_is_a_module_of_the_test_binary` fails without it.

mod support;

mod bad_input;
mod cli;
mod completion;
mod golden;
mod graph;
mod import;
mod plan_properties;
mod registry_login;
mod registry_mirror;
mod split_stack;
mod timeline;

// The real helm binary (`CODEX_HELM`); `cargo xtask test` builds it and turns the feature on.
#[cfg(feature = "helm-tests")]
mod helm_render;

// Against the local cluster (`cargo xtask test`, or `cargo xtask e2e-env` and its exports):
// each module only with the feature `e2e`, one name a line.
macro_rules! e2e_modules {
    ($($module:ident)*) => { $(#[cfg(feature = "e2e")] mod $module;)* };
}
e2e_modules! {
    e2e_build
    e2e_cluster
    e2e_dev
    e2e_gc
    e2e_import
    e2e_inputs
    e2e_isolation
    e2e_manifests
    e2e_mirror
    e2e_posture
    e2e_revise
    e2e_up
}
