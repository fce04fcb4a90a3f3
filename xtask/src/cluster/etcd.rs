//! etcd: the API server's store, on loopback only, data under the state dir.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Result;

use super::layout::{Layout, ETCD_CLIENT_URL, ETCD_PEER_URL};
use super::process::Daemon;
use crate::tools;

pub const NAME: &str = "etcd";

pub fn daemon<'a>(layout: &Layout) -> Result<Daemon<'a>> {
    Ok(Daemon {
        name: NAME,
        program: tools::tool_path("etcd")?,
        args: vec![
            "--name=codex".into(),
            format!("--data-dir={}", layout.etcd_data().display()),
            format!("--listen-client-urls={ETCD_CLIENT_URL}"),
            format!("--advertise-client-urls={ETCD_CLIENT_URL}"),
            format!("--listen-peer-urls={ETCD_PEER_URL}"),
            format!("--initial-advertise-peer-urls={ETCD_PEER_URL}"),
            format!("--initial-cluster=codex={ETCD_PEER_URL}"),
            "--initial-cluster-state=new".into(),
            "--log-level=warn".into(),
        ],
        env: vec![],
        files: vec![],
    })
}

/// Whether etcd reports itself healthy on its client URL.
pub fn healthy() -> bool {
    let address = ETCD_CLIENT_URL.trim_start_matches("http://");
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /health HTTP/1.0\r\nHost: {address}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.contains("\"health\":\"true\"")
}
