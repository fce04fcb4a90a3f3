//! kubectl-codex: a whole environment of a multi-service project on Kubernetes, from one
//! services.yaml, phase by phase through Helm. The binary (`main.rs`) only parses and dispatches.

pub mod build;
pub mod chart;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod deploy;
pub mod evidence;
pub mod exit;
pub mod graph;
pub mod helm;
pub mod import;
pub mod labels;
pub mod lifecycle;
pub mod plan;
pub mod redact;
pub mod tool_cache;
pub mod ui;
pub mod values;
pub mod version;
