//! Helpers shared by the integration tests: run the binary and kubectl, read their output.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::Path;
use std::process::{Command, Output};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example's database password (its secret input `dbPassword`) in every test that
/// resolves it. Fixed, since a namespace kept between runs keeps PostgreSQL's data directory
/// and with it the password of its first start.
pub const DB_PASSWORD: &str = "e2e-example-db-Pw-4f7c2a";

/// Runs kubectl-codex from the repository root.
pub fn codex(args: &[&str]) -> Output {
    let mut args = args.to_vec();
    // The cluster's images are assembled by xtask without a builder: `up` and `revise`
    // deploy them as the registry has them.
    if matches!(args.first(), Some(&"up") | Some(&"revise")) {
        args.insert(1, "--skip-build");
    }
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .current_dir(root())
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .output()
        .expect("kubectl-codex runs")
}

pub fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl").args(args).output().expect("kubectl runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs kubectl-codex with the real BuildKit builder (`cargo xtask test` passes BUILDKIT_HOST
/// and CODEX_E2E_BUILDCTL): `up` builds the images from their Dockerfiles before deploying.
pub fn codex_building(args: &[&str]) -> Output {
    let buildctl = std::env::var("CODEX_E2E_BUILDCTL")
        .expect("CODEX_E2E_BUILDCTL names the buildctl binary (cargo xtask test sets it)");
    assert!(
        std::env::var_os("BUILDKIT_HOST").is_some(),
        "BUILDKIT_HOST must name the buildkitd socket (cargo xtask test sets it)"
    );
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .args(["--builder", "buildctl", "--buildctl", &buildctl])
        .current_dir(root())
        .env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD)
        .output()
        .expect("kubectl-codex runs")
}

/// The HTTP status of a registry's `GET /v2/` at `address` (200 open, 401 asking for a login),
/// or None while it does not answer.
pub fn registry_v2_status(address: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.write_all(format!("GET /v2/ HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}
