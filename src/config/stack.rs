//! The resolved stack: services.yaml for one environment, slot and issue, with inheritance,
//! overlays, templates and `when` conditions applied. Everything downstream reads only this.
//!
//! Defaults are applied here, once: a field services.yaml may leave out is a plain value in
//! the resolved types (`ResolvedMount`, `ResolvedPort`, `ResolvedHook`, …), never an `Option`
//! for its consumers to default again. Those types serialise as services.yaml wrote them, so
//! the input digest hashes the declaration and not the tool's defaults.

use super::model::{
    AccessMode, Build, CodeUpdateStrategy, ContainerPort, EmptyDir, EnvFrom, EnvValue, Hook, HttpCheck, Ingress,
    JobCheck, PermissionRule, PodSecurityContext, Port, PortRef, Probes, Protocol, PullPolicy, Resources, Runtime,
    SecurityContext, TcpCheck, Toleration, Volume, VolumeMount, WorkloadKind, WorkspaceMount,
};
use crate::config::duration;
use crate::config::phase::Phase;
use crate::labels;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Which environment to resolve, and for which slot and issue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub env: String,
    pub slot: String,
    pub issue: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    pub project: String,
    pub env: String,
    pub slot: String,
    pub issue: String,
    pub runtime: Runtime,
    pub namespace: String,
    /// Go duration, as it will be stored on the namespace.
    #[serde(rename = "idleTTL")]
    pub idle_ttl: String,
    pub registry: String,
    pub image_pull_policy: PullPolicy,
    pub disable_kinds: Vec<String>,
    /// Cluster-scoped kinds the units' manifests may install (`*`: any).
    pub allow_cluster_scoped: Vec<String>,
    /// Pod Security level, egress and quota of the environment's namespace.
    pub isolation: super::isolation::Isolation,
    pub workspace: WorkspaceSpec,
    pub agent: Option<AgentSpec>,
    pub images: BTreeMap<String, ResolvedImage>,
    /// Units in file order (infrastructure first); the plan orders them.
    pub units: Vec<ResolvedUnit>,
    /// Every declared input with its value; secret ones hold their placeholder only (the
    /// input digest takes their salted digest).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, super::inputs::PublicInput>,
    /// The Secrets of `secrets`, created in the first phase (values serialise as placeholders).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<super::secrets::ResolvedSecret>,
    /// sha256 of the canonical resolved stack plus the contents of its extra manifest files.
    pub input_digest: String,
}

impl Stack {
    /// The phase the Secrets are created in: the first one with units.
    pub fn first_phase(&self) -> Option<Phase> {
        self.units.iter().map(|u| u.phase).min()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    pub claim_name: String,
    pub size: String,
    pub access_mode: AccessMode,
    pub storage_class_name: String,
    pub uid: u32,
    pub gid: u32,
    pub fs_group: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentSpec {
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub workspace: ResolvedMount,
    pub permissions: Vec<PermissionRule>,
}

/// Where and how a unit or the agent mounts the shared workspace, its defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMount {
    /// Absolute path in the container.
    pub mount_path: String,
    /// Directory of the workspace to mount; empty: all of it.
    pub sub_path: String,
    pub read_only: bool,
    /// The mount as services.yaml wrote it, which is what it serialises as: the input digest
    /// and the plan stay those of the mount as written, so a changed default in the tool
    /// does not by itself redeploy every environment.
    declared: WorkspaceMount,
}

impl ResolvedMount {
    pub fn new(declared: WorkspaceMount) -> Self {
        ResolvedMount {
            mount_path: declared.mount_path.clone().unwrap_or_else(|| labels::DEFAULT_WORKSPACE_MOUNT_PATH.into()),
            sub_path: declared.sub_path.clone().unwrap_or_default(),
            read_only: declared.read_only,
            declared,
        }
    }
}

/// A port of the main container, its defaults applied.
#[derive(Debug, Clone)]
pub struct ResolvedPort {
    pub name: String,
    /// Container port.
    pub port: u16,
    /// Port of the unit's Service.
    pub service_port: u16,
    pub protocol: Protocol,
    /// As written, for the serialised form (see [`ResolvedMount`]).
    declared: Port,
}

impl ResolvedPort {
    pub fn new(declared: Port) -> Self {
        ResolvedPort {
            name: declared.name.clone(),
            port: declared.port,
            service_port: declared.service_port.unwrap_or(declared.port),
            protocol: declared.protocol.unwrap_or(DEFAULT_PROTOCOL),
            declared,
        }
    }
}

/// A port of an init container or sidecar, its default applied.
#[derive(Debug, Clone)]
pub struct ResolvedContainerPort {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
    /// As written, for the serialised form (see [`ResolvedMount`]).
    declared: ContainerPort,
}

impl ResolvedContainerPort {
    pub fn new(declared: ContainerPort) -> Self {
        ResolvedContainerPort {
            name: declared.name.clone(),
            port: declared.port,
            protocol: declared.protocol.unwrap_or(DEFAULT_PROTOCOL),
            declared,
        }
    }
}

/// An owned volume's size when services.yaml states none.
const DEFAULT_VOLUME_SIZE: &str = "1Gi";
/// An owned volume's access mode when services.yaml states none.
const DEFAULT_VOLUME_ACCESS_MODE: AccessMode = AccessMode::ReadWriteOnce;

/// A unit volume, its defaults applied: an owned claim, or one of its sources.
#[derive(Debug, Clone)]
pub struct ResolvedVolume {
    pub name: String,
    pub mount_path: String,
    /// Empty: the whole volume.
    pub sub_path: String,
    /// Present when the volume is a claim the unit owns (it states no source).
    pub owned_claim: Option<OwnedClaim>,
    pub config_map: Option<String>,
    pub secret: Option<String>,
    pub empty_dir: Option<EmptyDir>,
    /// An existing PersistentVolumeClaim, neither created nor removed.
    pub claim_name: Option<String>,
    pub read_only: bool,
    /// As written, for the serialised form (see [`ResolvedMount`]).
    declared: Volume,
}

/// The claim of an owned volume.
#[derive(Debug, Clone)]
pub struct OwnedClaim {
    pub size: String,
    pub access_mode: AccessMode,
    /// Empty: the cluster's default StorageClass.
    pub storage_class_name: String,
}

impl ResolvedVolume {
    pub fn new(declared: Volume) -> Self {
        let owned_claim = declared.is_owned_claim().then(|| OwnedClaim {
            size: declared.size.clone().unwrap_or_else(|| DEFAULT_VOLUME_SIZE.into()),
            access_mode: declared.access_mode.unwrap_or(DEFAULT_VOLUME_ACCESS_MODE),
            storage_class_name: declared.storage_class_name.clone().unwrap_or_default(),
        });
        ResolvedVolume {
            name: declared.name.clone(),
            mount_path: declared.mount_path.clone(),
            sub_path: declared.sub_path.clone().unwrap_or_default(),
            owned_claim,
            config_map: declared.config_map.clone(),
            secret: declared.secret.clone(),
            empty_dir: declared.empty_dir.clone(),
            claim_name: declared.claim_name.clone(),
            read_only: declared.read_only == Some(true),
            declared,
        }
    }
}

/// The path an Ingress routes when services.yaml does not say.
const DEFAULT_INGRESS_PATH: &str = "/";

/// A unit's Ingress, its defaults applied.
#[derive(Debug, Clone)]
pub struct ResolvedIngress {
    pub host: String,
    pub path: String,
    /// Name of one of the unit's ports; empty: the first port (the chart picks it).
    pub port: String,
    /// Empty: the cluster's default IngressClass.
    pub class_name: String,
    /// As written, for the serialised form (see [`ResolvedMount`]).
    declared: Ingress,
}

impl ResolvedIngress {
    pub fn new(declared: Ingress) -> Self {
        ResolvedIngress {
            host: declared.host.clone(),
            path: declared.path.clone().unwrap_or_else(|| DEFAULT_INGRESS_PATH.into()),
            port: declared.port.clone().unwrap_or_default(),
            class_name: declared.class_name.clone().unwrap_or_default(),
            declared,
        }
    }
}

/// How long a readiness hook keeps trying when services.yaml does not say.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(120);
/// The status an HTTP hook expects when services.yaml does not say.
const DEFAULT_EXPECT_STATUS: u16 = 200;

/// A readiness hook, its defaults applied and its job's image resolved; exactly one of `http`,
/// `tcp`, `job`.
#[derive(Debug, Clone)]
pub struct ResolvedHook {
    pub http: Option<ResolvedHttpCheck>,
    pub tcp: Option<TcpCheck>,
    /// Its image is a full reference (building may pin it by digest).
    pub job: Option<JobCheck>,
    /// Give up after this long.
    pub timeout: Duration,
    /// As written, for the serialised form (see [`ResolvedMount`]).
    declared_timeout: Option<String>,
}

/// An HTTP GET through the unit's Service.
#[derive(Debug, Clone)]
pub struct ResolvedHttpCheck {
    pub path: String,
    pub port: PortRef,
    pub expect_status: u16,
    declared_status: Option<u16>,
}

impl ResolvedHook {
    /// `hook` with its defaults; a timeout that does not parse is reported by validate.
    pub fn new(hook: Hook) -> Self {
        let timeout = hook.timeout.as_deref().and_then(|t| duration::parse(t).ok()).unwrap_or(DEFAULT_HOOK_TIMEOUT);
        ResolvedHook {
            http: hook.http.map(|http| ResolvedHttpCheck {
                path: http.path,
                port: http.port,
                expect_status: http.expect_status.unwrap_or(DEFAULT_EXPECT_STATUS),
                declared_status: http.expect_status,
            }),
            tcp: hook.tcp,
            job: hook.job,
            timeout,
            declared_timeout: hook.timeout,
        }
    }
}

impl Serialize for ResolvedHook {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let http = self.http.as_ref().map(|http| HttpCheck {
            path: http.path.clone(),
            port: http.port.clone(),
            expect_status: http.declared_status,
        });
        let hook = Hook { http, tcp: self.tcp.clone(), job: self.job.clone(), timeout: self.declared_timeout.clone() };
        hook.serialize(serializer)
    }
}

/// The protocol of a port that names none.
const DEFAULT_PROTOCOL: Protocol = Protocol::Tcp;

/// Resolved values that serialise as they were written (see [`ResolvedMount`]).
macro_rules! serialize_as_declared {
    ($($resolved:ty),*) => {$(
        impl Serialize for $resolved {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.declared.serialize(serializer)
            }
        }
    )*};
}

serialize_as_declared!(ResolvedMount, ResolvedVolume, ResolvedIngress, ResolvedPort, ResolvedContainerPort);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedImage {
    /// The full reference units run.
    pub reference: String,
    /// Present when we build the image.
    pub build: Option<Build>,
    /// The Dockerfile target for this environment's runtime.
    pub target: Option<String>,
    /// Present when we copy the image from another registry: the source, normalised
    /// (`docker.io/library/redis:7`). `reference` is then where it is copied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedUnit {
    pub name: String,
    pub phase: Phase,
    pub depends_on: Vec<String>,
    /// The typed workload; `None` for a unit made of manifests alone.
    pub workload: Option<ResolvedWorkload>,
    pub workspace: Option<ResolvedMount>,
    pub code_update_strategy: CodeUpdateStrategy,
    pub ingress: Option<ResolvedIngress>,
    pub hooks: Vec<ResolvedHook>,
    /// The unit's manifests, rendered, parsed and edited (kinds dropped, patches applied,
    /// workspace and claims mounted, namespace set). The image edit is applied last, when
    /// values are written, since building may still pin the reference by digest.
    pub manifests: Vec<serde_json::Value>,
    /// The image edit of the manifests, checked against them already.
    pub image_edit: Option<ImageEdit>,
    /// Where the unit is declared, e.g. `services[3]`.
    pub source_path: String,
}

impl ResolvedUnit {
    /// Every image reference this unit deploys: its workload's main container first, then its
    /// init containers and sidecars, then its manifests' edit.
    pub fn images(&self) -> impl Iterator<Item = &String> {
        self.workload.iter().flat_map(ResolvedWorkload::images).chain(self.image_edit.iter().map(|e| &e.image))
    }

    /// The same, mutable: building points them at what it pushed.
    pub fn images_mut(&mut self) -> impl Iterator<Item = &mut String> {
        self.workload
            .iter_mut()
            .flat_map(ResolvedWorkload::images_mut)
            .chain(self.image_edit.iter_mut().map(|e| &mut e.image))
    }
}

/// A typed workload, with defaults applied and the runtime's dev changes merged in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedWorkload {
    pub kind: WorkloadKind,
    /// Full image reference.
    pub image: String,
    /// The `images` entry it came from, if any.
    pub image_name: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub working_dir: Option<String>,
    /// By name; a plain value serialises as the string it was before values could come from
    /// elsewhere, so stacks that use none keep their input digest.
    pub env: BTreeMap<String, EnvValue>,
    pub ports: Vec<ResolvedPort>,
    pub probes: Option<Probes>,
    pub resources: Option<Resources>,
    pub volumes: Vec<ResolvedVolume>,
    pub replicas: u32,
    pub schedule: Option<String>,
    pub backoff_limit: u32,
    // The pod fields below are left out of the serialised form while unset, for the same reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFrom>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_context: Option<SecurityContext>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<ResolvedContainer>,
    /// Sidecars.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<ResolvedContainer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<PodSecurityContext>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
}

impl ResolvedWorkload {
    /// The main container's image, then the init containers', then the sidecars'.
    pub fn images(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.image).chain(self.init_containers.iter().chain(&self.containers).map(|c| &c.image))
    }

    /// The same, mutable.
    pub fn images_mut(&mut self) -> impl Iterator<Item = &mut String> {
        std::iter::once(&mut self.image)
            .chain(self.init_containers.iter_mut().chain(self.containers.iter_mut()).map(|c| &mut c.image))
    }
}

/// An init container or sidecar with its image resolved.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedContainer {
    pub name: String,
    /// Full image reference.
    pub image: String,
    /// The `images` entry it came from, if any.
    pub image_name: Option<String>,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub working_dir: Option<String>,
    pub env: BTreeMap<String, EnvValue>,
    pub env_from: Vec<EnvFrom>,
    pub ports: Vec<ResolvedContainerPort>,
    pub resources: Option<Resources>,
    pub security_context: Option<SecurityContext>,
    pub volume_mounts: Vec<VolumeMount>,
}

/// Which containers of which manifest object run which image.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageEdit {
    /// Full image reference.
    pub image: String,
    /// The `images` entry it came from, if any.
    pub image_name: Option<String>,
    /// Index of the target object in the unit's `manifests`.
    pub object: usize,
    /// Container names; empty: the first container.
    pub containers: Vec<String>,
}
