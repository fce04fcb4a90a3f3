//! The node's network: our bridge, the CNI configuration for it, forwarding
//! sysctls, and a guard that keeps pod traffic on the bridge.
//!
//! Pods and services may only talk to each other and to the host. The bridge
//! plugin runs without masquerading, the service CIDR is routed onto the bridge
//! (so an unproxied service address never follows the host's default route), and
//! the `CODEX-GUARD` chain drops forwarded pod traffic that would leave through
//! any other interface.
use std::fs;
use std::process::Command;

use anyhow::{Context, Result};

use super::layout::{Layout, BRIDGE, BRIDGE_IP, POD_CIDR, SERVICE_CIDR};

const GUARD_CHAIN: &str = "CODEX-GUARD";
const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

/// Brings the host network into shape for the node; idempotent.
pub fn setup(layout: &Layout) -> Result<()> {
    enable_forwarding(layout)?;
    // Without it, service traffic between two pods on one bridge skips kube-proxy's rules.
    write_sysctl("/proc/sys/net/bridge/bridge-nf-call-iptables", "1")?;
    ensure_bridge()?;
    ip(&["route", "replace", SERVICE_CIDR, "dev", BRIDGE, "src", BRIDGE_IP])?;
    ensure_guard()?;
    write_cni_config(layout)?;
    fs::write(
        layout.resolv_conf(),
        "# kubectl-codex local cluster: no upstream nameserver on purpose;\n\
         # pods resolve cluster.local names through the cluster DNS only.\n",
    )?;
    Ok(())
}

/// Unplugs every pod interface from the bridge. For a start without a running
/// containerd: pods of a cluster that died without `down` (a killed session, a
/// CI run in another checkout) may still hold network namespaces with addresses
/// that the fresh IPAM state would hand out again.
pub fn detach_stale_pods() -> Result<()> {
    if !link_exists(BRIDGE) {
        return Ok(());
    }
    let ports = ip_output(&["-o", "link", "show", "master", BRIDGE])?;
    for line in ports.lines() {
        // "7: veth1234abcd@if2: <BROADCAST,…> … link-netns cni-…"
        let Some(name) = line.split(": ").nth(1).and_then(|n| n.split('@').next()) else {
            continue;
        };
        // Deleting one end of a veth pair deletes both.
        ip(&["link", "delete", name])?;
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(pair) = words.windows(2).find(|w| w[0] == "link-netns") {
            // The namespace was the pod's, as its interface was on our bridge.
            let path = std::path::Path::new("/var/run/netns").join(pair[1]);
            super::mounts::unmount(&path)?;
            let _ = fs::remove_file(&path);
        }
    }
    Ok(())
}

/// Removes what [`setup`] and the CNI plugins added (call after every pod is gone).
pub fn teardown(layout: &Layout) -> Result<()> {
    if link_exists(BRIDGE) {
        ip(&["link", "delete", BRIDGE])?;
    }
    for iptables in ["iptables", "ip6tables"] {
        remove_chains(iptables)?;
    }
    restore_forwarding(layout)?;
    Ok(())
}

fn enable_forwarding(layout: &Layout) -> Result<()> {
    let saved = layout.run_file("ip_forward.original");
    let current = fs::read_to_string(IP_FORWARD)?.trim().to_string();
    if current != "1" {
        // Remembered so `down` leaves the host as it found it.
        if let Some(dir) = saved.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&saved, &current)?;
        write_sysctl(IP_FORWARD, "1")?;
    }
    Ok(())
}

fn restore_forwarding(layout: &Layout) -> Result<()> {
    let saved = layout.run_file("ip_forward.original");
    if let Ok(original) = fs::read_to_string(&saved) {
        write_sysctl(IP_FORWARD, original.trim())?;
        fs::remove_file(saved)?;
    }
    Ok(())
}

fn write_sysctl(path: &str, value: &str) -> Result<()> {
    fs::write(path, value).with_context(|| format!("setting {path} to {value} (needs root)"))
}

/// The bridge exists before the first pod because kubelet's `--node-ip` and the
/// apiserver's advertise address live on it.
fn ensure_bridge() -> Result<()> {
    if !link_exists(BRIDGE) {
        ip(&["link", "add", BRIDGE, "type", "bridge"])?;
    }
    let cidr = format!("{BRIDGE_IP}/{}", POD_CIDR.rsplit('/').next().unwrap_or("24"));
    let addresses = ip_output(&["-o", "-4", "addr", "show", "dev", BRIDGE])?;
    if !addresses.contains(&format!("inet {cidr}")) {
        ip(&["addr", "add", &cidr, "dev", BRIDGE])?;
    }
    ip(&["link", "set", BRIDGE, "up"])
}

/// The guard sits in the mangle table's FORWARD chain, which every forwarded
/// packet passes before the filter table: there kube-proxy prepends ACCEPT rules
/// (for masquerade-marked traffic) that would otherwise come first.
fn ensure_guard() -> Result<()> {
    if !iptables_ok(&["-t", "mangle", "-n", "-L", GUARD_CHAIN])? {
        iptables(&["-t", "mangle", "-N", GUARD_CHAIN])?;
    }
    iptables(&["-t", "mangle", "-F", GUARD_CHAIN])?;
    iptables(&["-t", "mangle", "-A", GUARD_CHAIN, "-s", POD_CIDR, "!", "-o", BRIDGE, "-j", "DROP"])?;
    iptables(&["-t", "mangle", "-A", GUARD_CHAIN, "-d", POD_CIDR, "!", "-i", BRIDGE, "-j", "DROP"])?;
    if !iptables_ok(&["-t", "mangle", "-C", "FORWARD", "-j", GUARD_CHAIN])? {
        iptables(&["-t", "mangle", "-I", "FORWARD", "1", "-j", GUARD_CHAIN])?;
    }
    Ok(())
}

fn write_cni_config(layout: &Layout) -> Result<()> {
    let dir = layout.cni_conf_dir();
    fs::create_dir_all(&dir)?;
    fs::create_dir_all(layout.cni_ipam_dir())?;
    let config = serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "codex",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": POD_CIDR, "gateway": BRIDGE_IP }]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": layout.cni_ipam_dir(),
                }
            },
            { "type": "portmap", "capabilities": { "portMappings": true } }
        ]
    });
    fs::write(dir.join("10-codex.conflist"), serde_json::to_string_pretty(&config)?)?;
    Ok(())
}

fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

fn ip(args: &[&str]) -> Result<()> {
    ip_output(args).map(drop)
}

fn ip_output(args: &[&str]) -> Result<String> {
    Ok(crate::exec::stdout(Command::new("ip").args(args))?)
}

fn iptables(args: &[&str]) -> Result<()> {
    run_iptables("iptables", args)
}

fn run_iptables(binary: &str, args: &[&str]) -> Result<()> {
    crate::exec::output(Command::new(binary).arg("-w").args(args))?;
    Ok(())
}

fn iptables_ok(args: &[&str]) -> Result<bool> {
    let status = Command::new("iptables")
        .arg("-w")
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .context("running iptables")?;
    Ok(status.success())
}

/// Chains created by our guard, kube-proxy, kube-router, kubelet and the CNI portmap plugin.
fn is_cluster_chain(chain: &str) -> bool {
    ["CODEX-", "KUBE-", "CNI-"].iter().any(|prefix| chain.starts_with(prefix))
}

/// Deletes the jumps into cluster chains, then the chains themselves, in every table.
fn remove_chains(binary: &str) -> Result<()> {
    for table in ["filter", "nat", "mangle", "raw"] {
        let Ok(output) = Command::new(binary).args(["-w", "-t", table, "-S"]).output() else {
            return Ok(()); // this flavour of iptables is not installed
        };
        if !output.status.success() {
            continue; // the table does not exist for this family
        }
        let rules = String::from_utf8_lossy(&output.stdout);
        let mut chains = Vec::new();
        for line in rules.lines() {
            let words = split_rule(line);
            match words.first().map(String::as_str) {
                Some("-N") if words.len() == 2 && is_cluster_chain(&words[1]) => chains.push(words[1].clone()),
                Some("-A") if words.len() > 2 && !is_cluster_chain(&words[1]) => {
                    let jumps_to_ours =
                        words.windows(2).any(|w| (w[0] == "-j" || w[0] == "-g") && is_cluster_chain(&w[1]));
                    if jumps_to_ours {
                        let mut delete: Vec<&str> = vec!["-t", table, "-D"];
                        delete.extend(words[1..].iter().map(String::as_str));
                        run_iptables(binary, &delete)?;
                    }
                }
                _ => {}
            }
        }
        for chain in &chains {
            run_iptables(binary, &["-t", table, "-F", chain])?;
        }
        for chain in &chains {
            run_iptables(binary, &["-t", table, "-X", chain])?;
        }
    }
    Ok(())
}

/// Splits one line of `iptables -S` into words; comments come double-quoted.
fn split_rule(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars();
    let mut pending = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_quotes => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '"' => {
                in_quotes = !in_quotes;
                pending = true;
            }
            ' ' if !in_quotes => {
                if pending || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                pending = false;
            }
            _ => {
                word.push(c);
                pending = true;
            }
        }
    }
    if pending || !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_words_keep_quoted_comments_whole() {
        let words = split_rule(r#"-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD"#);
        assert_eq!(
            words,
            ["-A", "FORWARD", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD"]
        );
    }

    #[test]
    fn only_cluster_chains_are_ours() {
        assert!(is_cluster_chain("KUBE-SERVICES"));
        assert!(is_cluster_chain("CNI-HOSTPORT-DNAT"));
        assert!(is_cluster_chain("CODEX-GUARD"));
        assert!(!is_cluster_chain("DOCKER"));
        assert!(!is_cluster_chain("FORWARD"));
    }
}
