//! The local OCI registry ([`REGISTRY`]) and the images the cluster itself
//! needs from it (the pod sandbox "pause" image).
//!
//! go-containerregistry's own `registry` command (and `crane registry serve`)
//! keeps manifests in memory only, so images would vanish with the process; ours
//! (`tools/go/registry`) wraps the same handler and journals manifests to disk.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Result;

use super::layout::{registry_storage, REGISTRY};
use super::process::Daemon;
use crate::images::oci::{self, ImageSpec};
use crate::tools;

pub const NAME: &str = "registry";

pub fn address() -> String {
    REGISTRY.to_string()
}

pub fn daemon<'a>() -> Result<Daemon<'a>> {
    Ok(Daemon {
        name: NAME,
        program: tools::tool_path(NAME)?,
        args: vec![format!("--address={}", address()), format!("--dir={}", registry_storage()?.display())],
        env: vec![],
        files: vec![],
    })
}

/// Whether the registry answers the API version check.
pub fn responds() -> bool {
    let address = address();
    let Ok(mut stream) = TcpStream::connect(&address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200")
}

/// Pushes a single-binary image unless the registry already has it.
pub fn ensure_binary_image(repository: &str, tool: &str, entrypoint: Vec<String>) -> Result<String> {
    let tag = tools::version_of(tool)?;
    let reference = format!("{}/{repository}:{tag}", address());
    if oci::exists(&reference)? {
        return Ok(reference);
    }
    let binary = tools::tool_path(tool)?;
    oci::assemble_and_push(&ImageSpec {
        repository: repository.to_string(),
        tag,
        files: vec![(binary, format!("/{tool}"))],
        entrypoint,
        ..ImageSpec::default()
    })
}

/// The sandbox image containerd starts for every pod.
pub fn ensure_pause_image() -> Result<String> {
    ensure_binary_image("codex/pause", "pause", vec!["/pause".into()])
}
