//! Kubeconfig files: the admin one users export, and one per component.
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;

use super::layout::{apiserver_url, Layout};
use super::pki::{self, Identity};

/// Writes every kubeconfig (cheap, and keeps them in step with the PKI).
pub fn write_all(layout: &Layout) -> Result<()> {
    // The admin kubeconfig embeds its credentials so it can be copied anywhere on
    // this machine (or handed to a test process) on its own.
    write(layout, &pki::ADMIN, &layout.kubeconfig(), true)?;
    for identity in [&pki::CONTROLLER_MANAGER, &pki::SCHEDULER, &pki::KUBELET, &pki::KUBE_PROXY] {
        write(layout, identity, &layout.component_kubeconfig(identity.file), false)?;
    }
    Ok(())
}

fn write(layout: &Layout, identity: &Identity, path: &Path, embed: bool) -> Result<()> {
    let ca = layout.pki_file("ca.crt");
    let cert = layout.pki_file(&format!("{}.crt", identity.file));
    let key = layout.pki_file(&format!("{}.key", identity.file));
    let (ca_line, cert_line, key_line) = if embed {
        (
            format!("certificate-authority-data: {}", encode(&ca)?),
            format!("client-certificate-data: {}", encode(&cert)?),
            format!("client-key-data: {}", encode(&key)?),
        )
    } else {
        (
            format!("certificate-authority: {}", ca.display()),
            format!("client-certificate: {}", cert.display()),
            format!("client-key: {}", key.display()),
        )
    };
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: codex-local
  cluster:
    server: {server}
    {ca_line}
users:
- name: {user}
  user:
    {cert_line}
    {key_line}
contexts:
- name: codex-local
  context:
    cluster: codex-local
    user: {user}
current-context: codex-local
",
        server = apiserver_url(),
        user = identity.user,
    );
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    Ok(())
}

fn encode(path: &Path) -> Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
