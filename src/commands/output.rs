//! Printing a command's report: one typed value per command, serialized for `-o json` and
//! displayed for text, so that the two cannot tell different stories.

use crate::cli::OutputFormat;
use serde::Serialize;
use std::fmt::Display;

/// How a report's JSON is laid out. Each command keeps the layout it has always printed:
/// scripts may read a one-line report line by line.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    OneLine,
    Pretty,
}

/// Prints `report` on stdout: as JSON in `layout`, or its text (which ends in a newline).
pub fn print<R: Serialize + Display>(report: &R, format: OutputFormat, layout: Layout) -> serde_json::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", to_json(report, layout)?),
        OutputFormat::Text => print!("{report}"),
    }
    Ok(())
}

/// `report` as the JSON `-o json` prints (without the final newline).
pub fn to_json<R: Serialize>(report: &R, layout: Layout) -> serde_json::Result<String> {
    match layout {
        Layout::OneLine => serde_json::to_string(report),
        Layout::Pretty => serde_json::to_string_pretty(report),
    }
}

/// "1 error", "2 errors": the count line after a list of problems.
pub fn errors_found(count: usize) -> String {
    format!("{count} error{} found", if count == 1 { "" } else { "s" })
}
