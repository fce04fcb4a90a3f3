//! `kubectl codex import`: a codexctl services.yaml or a codex-k8s ServiceStack turned into a
//! kubectl-codex stack, with a report of every item and what became of it.

pub mod gotemplate;
