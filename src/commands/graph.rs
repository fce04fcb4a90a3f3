//! `kubectl codex graph`: the resolved stack's units as DOT, Mermaid, or SVG through `dot`.

use super::load::resolve;
use crate::cli::{GraphArgs, GraphFormat, OutputFormat};
use crate::exit::{self, coded, Failure};
use crate::{graph, plan};
use anyhow::{anyhow, Context, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn run(args: &GraphArgs) -> Result<(), Failure> {
    let stack = resolve(&args.file.file, &args.selection, OutputFormat::Text)?;
    let plan = plan::plan(&stack);
    let text = match args.output {
        GraphFormat::Dot => graph::dot(&plan),
        GraphFormat::Mermaid => graph::mermaid(&plan),
        GraphFormat::Svg => {
            let dot = locate_dot(args.dot.as_deref())?;
            run_dot(&dot, &graph::dot(&plan))?
        }
    };
    print!("{text}");
    Ok(())
}

/// `--dot`/`$CODEX_DOT` (which must exist), else `dot` on PATH; exit 3 naming the tool otherwise.
fn locate_dot(explicit: Option<&Path>) -> Result<PathBuf> {
    match explicit {
        Some(path) if path.is_file() => Ok(path.to_path_buf()),
        Some(path) => {
            Err(coded(exit::TOOL_MISSING, anyhow!("--dot {}: no such file (Graphviz's dot)", path.display())))
        }
        None => which::which("dot").map_err(|_| {
            coded(
                exit::TOOL_MISSING,
                anyhow!("-o svg needs Graphviz's dot, which is not on PATH; install graphviz or give --dot PATH"),
            )
        }),
    }
}

/// Pipes DOT text through `dot -Tsvg`.
fn run_dot(dot: &Path, text: &str) -> Result<String> {
    let tool_failed = |e: anyhow::Error| coded(exit::TOOL_MISSING, e);
    let mut child = Command::new(dot)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", dot.display()))
        .map_err(tool_failed)?;
    // dot reads all of its input before it writes, so writing first cannot deadlock.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .with_context(|| format!("writing to {}", dot.display()))
            .map_err(tool_failed)?;
    }
    let output = child.wait_with_output().with_context(|| format!("running {}", dot.display())).map_err(tool_failed)?;
    if !output.status.success() {
        return Err(tool_failed(anyhow!(
            "{} -Tsvg failed ({}): {}",
            dot.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    String::from_utf8(output.stdout).map_err(|_| tool_failed(anyhow!("{} -Tsvg wrote invalid UTF-8", dot.display())))
}
