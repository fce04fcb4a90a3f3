//! kubectl-codex: a whole environment of a multi-service project on Kubernetes, from one
//! services.yaml, phase by phase through Helm. The binary (`main.rs`) only parses and dispatches.
//!
//! Only what the binary and the integration tests use is `pub`; every other module is private
//! to the crate, so rustc reports code that nothing calls.

pub mod build;
mod chart;
pub mod cli;
mod clock;
mod cluster;
pub mod commands;
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
