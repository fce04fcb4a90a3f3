//! The cluster's certificates and keys: one CA, the apiserver's serving cert, a
//! client cert per component (its CN/O is its Kubernetes identity), and the
//! service-account signing key pair.
//!
//! Generated all at once into a fresh directory that is renamed into place, so a
//! half-written PKI never exists; an existing one is kept as it is.
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use super::layout::{Layout, BRIDGE_IP, CLUSTER_DOMAIN, KUBERNETES_SERVICE_IP, NODE_NAME};

/// A client identity: file stem, common name (user) and organisation (group).
pub struct Identity {
    pub file: &'static str,
    pub user: &'static str,
    pub group: Option<&'static str>,
}

pub const ADMIN: Identity = Identity { file: "admin", user: "kubernetes-admin", group: Some("system:masters") };
pub const CONTROLLER_MANAGER: Identity =
    Identity { file: "controller-manager", user: "system:kube-controller-manager", group: None };
pub const SCHEDULER: Identity = Identity { file: "scheduler", user: "system:kube-scheduler", group: None };
/// The Node authorizer recognises kubelets by this exact user and group.
pub const KUBELET: Identity =
    Identity { file: "kubelet", user: concat!("system:node:", "codex-node"), group: Some("system:nodes") };
pub const KUBE_PROXY: Identity = Identity { file: "kube-proxy", user: "system:kube-proxy", group: None };
/// The apiserver's identity towards kubelets (logs, exec, port-forward).
pub const APISERVER_KUBELET_CLIENT: Identity =
    Identity { file: "apiserver-kubelet-client", user: "kube-apiserver-kubelet-client", group: Some("system:masters") };

/// The apiserver's identity towards aggregated (extension) apiservers.
pub const FRONT_PROXY_CLIENT: &str = "front-proxy-client";

const CLIENTS: [&Identity; 6] =
    [&ADMIN, &CONTROLLER_MANAGER, &SCHEDULER, &KUBELET, &KUBE_PROXY, &APISERVER_KUBELET_CLIENT];

/// Creates the PKI unless a complete one exists (an older, incomplete one is
/// replaced as a whole: its CA would not have signed the new files).
pub fn ensure(layout: &Layout) -> Result<()> {
    let dir = layout.pki();
    let stems =
        ["ca", "apiserver", "front-proxy-ca", "front-proxy-client"].into_iter().chain(CLIENTS.iter().map(|c| c.file));
    let complete = stems
        .flat_map(|stem| [format!("{stem}.crt"), format!("{stem}.key")])
        .chain(["sa.key".to_string(), "sa.pub".to_string()])
        .all(|file| dir.join(file).exists());
    if complete {
        return Ok(());
    }
    let staging = dir.with_extension("new");
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    generate(&staging).context("generating the cluster PKI")?;
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::rename(&staging, &dir)?;
    Ok(())
}

fn generate(dir: &Path) -> Result<()> {
    let ca = new_ca(dir, "ca", "kubectl-codex-local-ca")?;

    let mut sans = vec![
        "127.0.0.1".to_string(),
        KUBERNETES_SERVICE_IP.to_string(),
        BRIDGE_IP.to_string(),
        "localhost".to_string(),
        NODE_NAME.to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
    ];
    sans.push(format!("kubernetes.default.svc.{CLUSTER_DOMAIN}"));
    let mut server = CertificateParams::new(sans)?;
    server.distinguished_name.push(DnType::CommonName, "kube-apiserver");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    issue(dir, "apiserver", server, &ca)?;

    for identity in CLIENTS {
        issue(dir, identity.file, client_params(identity.user, identity.group)?, &ca)?;
    }

    // The aggregation layer's CA: the apiserver authenticates itself to extension
    // apiservers with it, and every component reads it from
    // extension-apiserver-authentication (they log errors while it is missing).
    let front_proxy = new_ca(dir, "front-proxy-ca", "kubectl-codex-front-proxy-ca")?;
    issue(dir, "front-proxy-client", client_params(FRONT_PROXY_CLIENT, None)?, &front_proxy)?;

    let service_accounts = KeyPair::generate()?;
    write(dir, "sa.key", &service_accounts.serialize_pem())?;
    write(dir, "sa.pub", &service_accounts.public_key_pem())?;
    Ok(())
}

fn new_ca(dir: &Path, stem: &str, common_name: &str) -> Result<Issuer<'static, KeyPair>> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key)?;
    write(dir, &format!("{stem}.crt"), &cert.pem())?;
    write(dir, &format!("{stem}.key"), &key.serialize_pem())?;
    Ok(Issuer::new(params, key))
}

fn client_params(user: &str, group: Option<&str>) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, user);
    if let Some(group) = group {
        params.distinguished_name.push(DnType::OrganizationName, group);
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    Ok(params)
}

fn issue(dir: &Path, stem: &str, params: CertificateParams, ca: &Issuer<'_, KeyPair>) -> Result<()> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    write(dir, &format!("{stem}.crt"), &cert.pem())?;
    write(dir, &format!("{stem}.key"), &key.serialize_pem())
}

fn write(dir: &Path, name: &str, pem: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    let mode = if name.ends_with(".key") { 0o600 } else { 0o644 };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, pem.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_identity_names_our_node() {
        assert_eq!(KUBELET.user, format!("system:node:{NODE_NAME}"));
    }
}
