//! Terminal output: progress while working, and the final report formats.

pub mod progress;
pub mod status_table;
