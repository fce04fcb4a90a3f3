//! Cluster DNS: CoreDNS (built from source) as a Deployment behind the
//! `kube-dns` Service at the kubelet's `clusterDNS` address.
//!
//! It answers `cluster.local` (and the matching reverse zones) from the
//! Kubernetes API and NXDOMAIN for every other name: nothing is forwarded, so no
//! query ever leaves the machine.
use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::kubectl;
use super::layout::{Layout, CLUSTER_DOMAIN, DNS_SERVICE_IP};
use super::registry;

const COREFILE: &str = r#"CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        pods insecure
        ttl 30
    }
    cache 30
    loadbalance
}
. {
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
"#;

/// Pushes the CoreDNS image if needed and applies its objects.
pub fn deploy(layout: &Layout) -> Result<()> {
    let image = registry::ensure_binary_image(
        "codex/coredns",
        "coredns",
        vec!["/coredns".into(), "-conf".into(), "/etc/coredns/Corefile".into()],
    )?;
    kubectl::apply(layout, &manifest(&image))
}

/// CoreDNS's objects in kube-system; `{corefile}`, `{image}` and `{dns_service_ip}` are filled
/// in by [`manifest`].
const MANIFEST: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: coredns
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:coredns
subjects:
- kind: ServiceAccount
  name: coredns
  namespace: kube-system
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
{corefile}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: 1
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      # CoreDNS itself must not resolve through the cluster DNS it provides.
      dnsPolicy: Default
      tolerations:
      - operator: Exists
      containers:
      - name: coredns
        image: {image}
        resources:
          requests:
            cpu: 10m
            memory: 32Mi
          limits:
            memory: 128Mi
        volumeMounts:
        - name: config
          mountPath: /etc/coredns
          readOnly: true
        ports:
        - name: dns
          containerPort: 53
          protocol: UDP
        - name: dns-tcp
          containerPort: 53
          protocol: TCP
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
            add: [NET_BIND_SERVICE]
        livenessProbe:
          httpGet:
            path: /health
            port: 8080
          periodSeconds: 10
        readinessProbe:
          httpGet:
            path: /ready
            port: 8181
          periodSeconds: 2
      volumes:
      - name: config
        configMap:
          name: coredns
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  clusterIP: {dns_service_ip}
  selector:
    k8s-app: kube-dns
  ports:
  - name: dns
    port: 53
    protocol: UDP
  - name: dns-tcp
    port: 53
    protocol: TCP
"#;

fn manifest(image: &str) -> String {
    let corefile = COREFILE.replace("CLUSTER_DOMAIN", CLUSTER_DOMAIN);
    let corefile_yaml: String = corefile.lines().map(|l| format!("    {l}\n")).collect();
    MANIFEST.replace("{corefile}", &corefile_yaml).replace("{image}", image).replace("{dns_service_ip}", DNS_SERVICE_IP)
}

/// Whether CoreDNS's pod is ready, which also proves that pods reach the API
/// server through the `kubernetes` Service (its `ready` plugin waits for that).
pub fn deployment_available(layout: &Layout) -> bool {
    kubectl::output(
        layout,
        &[
            "-n",
            "kube-system",
            "get",
            "deployment",
            "coredns",
            "-o",
            r#"jsonpath={.status.conditions[?(@.type=="Available")].status}"#,
        ],
    )
    .map(|s| s.trim() == "True")
    .unwrap_or(false)
}

/// Resolves `name` (A record) through the `kube-dns` Service from the host.
pub fn resolve(name: &str) -> Result<Option<Ipv4Addr>> {
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    socket.set_read_timeout(Some(Duration::from_secs(2)))?;
    socket.connect((DNS_SERVICE_IP, 53))?;
    socket.send(&query(0x4344, name))?;
    let mut buf = [0u8; 512];
    let len = socket.recv(&mut buf).context("no answer from the cluster DNS")?;
    parse_first_a(&buf[..len])
}

/// A standard recursive query for one A record.
fn query(id: u16, name: &str) -> Vec<u8> {
    let mut packet = Vec::with_capacity(64);
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.extend_from_slice(&[0, 0, 1, 0, 1]);
    packet
}

/// The first A record of a response, `None` for NXDOMAIN or no A answer.
fn parse_first_a(packet: &[u8]) -> Result<Option<Ipv4Addr>> {
    if packet.len() < 12 {
        bail!("DNS response too short");
    }
    let rcode = packet[3] & 0x0f;
    if rcode == 3 {
        return Ok(None);
    }
    if rcode != 0 {
        bail!("DNS response code {rcode}");
    }
    let questions = u16::from_be_bytes([packet[4], packet[5]]);
    let answers = u16::from_be_bytes([packet[6], packet[7]]);
    let mut pos = 12;
    for _ in 0..questions {
        pos = skip_name(packet, pos)? + 4;
    }
    for _ in 0..answers {
        pos = skip_name(packet, pos)?;
        let field = |at: usize| packet.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let (Some(kind), Some(len)) = (field(pos), field(pos + 8)) else { bail!("truncated DNS answer") };
        let data = pos + 10;
        if kind == 1 && len == 4 {
            let b = packet.get(data..data + 4).context("truncated A record")?;
            return Ok(Some(Ipv4Addr::new(b[0], b[1], b[2], b[3])));
        }
        pos = data + len as usize;
    }
    Ok(None)
}

fn skip_name(packet: &[u8], mut pos: usize) -> Result<usize> {
    loop {
        let len = *packet.get(pos).context("truncated DNS name")?;
        if len & 0xc0 == 0xc0 {
            return Ok(pos + 2);
        }
        if len == 0 {
            return Ok(pos + 1);
        }
        pos += 1 + len as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_with_compressed_name_yields_its_address() {
        let mut response = query(7, "kubernetes.default.svc.cluster.local");
        response[2] = 0x81;
        response[3] = 0x80;
        response[7] = 1; // one answer
        response.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 1]);
        assert_eq!(parse_first_a(&response).unwrap(), Some(Ipv4Addr::new(10, 96, 0, 1)));
    }

    #[test]
    fn nxdomain_is_no_address() {
        let mut response = query(7, "example.com");
        response[3] = 0x83;
        assert_eq!(parse_first_a(&response).unwrap(), None);
    }

    #[test]
    fn corefile_has_no_forwarding() {
        assert!(!COREFILE.contains("forward"));
    }
}
