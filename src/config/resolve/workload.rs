//! The typed workload of a unit, resolved: the runtime's dev changes merged in, defaults
//! applied, images resolved, environment sources in their Kubernetes form, and the digest of
//! the Secrets its pods read.

use super::super::model::{Container, EnvFrom, EnvValue, Runtime, ScalarString, Workload};
use super::super::stack::{
    ResolvedContainer, ResolvedContainerPort, ResolvedImage, ResolvedPort, ResolvedVolume, ResolvedWorkload,
};
use super::digest::hex;
use super::image_set::image_reference;
use crate::labels;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Replicas of a Deployment or StatefulSet that sets none.
const DEFAULT_REPLICAS: u32 = 1;
/// Retries of a Job or CronJob that sets none.
const DEFAULT_BACKOFF_LIMIT: u32 = 2;

/// A typed workload with its defaults and, in the dev runtime, its dev changes. Init
/// containers' and sidecars' images are resolved like the main one.
pub(super) fn resolve_workload(
    mut workload: Workload,
    runtime: Runtime,
    images: &BTreeMap<String, ResolvedImage>,
    secret_digests: &BTreeMap<String, String>,
) -> ResolvedWorkload {
    let (command, args, working_dir, env) = main_process(&mut workload, runtime);
    let container = |c: Container| resolved_container(c, images);
    let mut resolved = ResolvedWorkload {
        kind: workload.kind,
        image: image_reference(&workload.image, images),
        image_name: images.contains_key(&workload.image).then(|| workload.image.clone()),
        command,
        args,
        working_dir,
        env: normalized_env(env),
        ports: workload.ports.into_iter().map(ResolvedPort::new).collect(),
        probes: workload.probes,
        resources: workload.resources,
        volumes: workload.volumes.into_iter().map(ResolvedVolume::new).collect(),
        replicas: workload.replicas.unwrap_or(DEFAULT_REPLICAS),
        schedule: workload.schedule,
        backoff_limit: workload.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT),
        env_from: normalized_from(workload.env_from),
        security_context: workload.security_context,
        init_containers: workload.init_containers.into_iter().map(container).collect(),
        containers: workload.containers.into_iter().map(container).collect(),
        service_account_name: workload.service_account_name,
        pod_security_context: workload.pod_security_context,
        node_selector: text(workload.node_selector),
        tolerations: workload.tolerations,
        affinity: workload.affinity,
        pod_labels: text(workload.pod_labels),
        pod_annotations: text(workload.pod_annotations),
    };
    add_secrets_digest(&mut resolved, secret_digests);
    resolved
}

/// Command, args, working directory and env of the main container: in the dev runtime, the
/// workload's `dev` block replaces or extends them.
fn main_process(
    workload: &mut Workload,
    runtime: Runtime,
) -> (Vec<String>, Vec<String>, Option<String>, BTreeMap<String, EnvValue>) {
    let mut command = std::mem::take(&mut workload.command);
    let mut args = std::mem::take(&mut workload.args);
    let mut working_dir = workload.working_dir.take();
    let mut env = std::mem::take(&mut workload.env);
    if runtime == Runtime::Dev {
        if let Some(dev) = workload.dev.take() {
            command = dev.command.unwrap_or(command);
            args = dev.args.unwrap_or(args);
            working_dir = dev.working_dir.or(working_dir);
            env.extend(dev.env.into_iter().map(|(k, v)| (k, EnvValue::Value(v))));
        }
    }
    (command, args, working_dir, env)
}

fn resolved_container(c: Container, images: &BTreeMap<String, ResolvedImage>) -> ResolvedContainer {
    ResolvedContainer {
        image: image_reference(&c.image, images),
        image_name: images.contains_key(&c.image).then(|| c.image.clone()),
        name: c.name,
        command: c.command,
        args: c.args,
        working_dir: c.working_dir,
        env: normalized_env(c.env),
        env_from: normalized_from(c.env_from),
        ports: c.ports.into_iter().map(ResolvedContainerPort::new).collect(),
        resources: c.resources,
        security_context: c.security_context,
        volume_mounts: c.volume_mounts,
    }
}

/// One form for both ways of writing a source: values and digests see the Kubernetes one.
fn normalized_env(env: BTreeMap<String, EnvValue>) -> BTreeMap<String, EnvValue> {
    env.into_iter()
        .map(|(k, v)| match v {
            EnvValue::From(source) => (k, EnvValue::From(Box::new(source.normalized()))),
            plain => (k, plain),
        })
        .collect()
}

fn normalized_from(list: Vec<EnvFrom>) -> Vec<EnvFrom> {
    list.into_iter().map(EnvFrom::normalized).collect()
}

fn text(map: BTreeMap<String, ScalarString>) -> BTreeMap<String, String> {
    map.into_iter().map(|(k, v)| (k, v.0)).collect()
}

/// Pods roll when a Secret of `secrets` they read changes: the pod template carries a digest
/// of those secrets' digests (salted digests, never values).
fn add_secrets_digest(workload: &mut ResolvedWorkload, secret_digests: &BTreeMap<String, String>) {
    let used = secrets_used(workload);
    let digests: Vec<String> =
        used.iter().filter_map(|name| Some(format!("{name}={}", secret_digests.get(*name)?))).collect();
    if !digests.is_empty() {
        let combined = hex(&Sha256::digest(digests.join("\n").as_bytes()));
        workload.pod_annotations.insert(labels::SECRETS_DIGEST.into(), combined[..32].to_string());
    }
}

/// Names of the Secrets a typed workload's pods read: env, envFrom and volumes of every
/// container.
fn secrets_used(workload: &ResolvedWorkload) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let containers = workload.init_containers.iter().chain(&workload.containers);
    let envs = std::iter::once(&workload.env).chain(containers.clone().map(|c| &c.env));
    for env in envs {
        for value in env.values() {
            if let EnvValue::From(source) = value {
                if let Some(selector) = &source.secret_key_ref {
                    out.insert(selector.name.as_str());
                }
            }
        }
    }
    for from in workload.env_from.iter().chain(containers.flat_map(|c| &c.env_from)) {
        if let Some(name) = &from.secret_ref {
            out.insert(name.as_str());
        }
    }
    for volume in &workload.volumes {
        if let Some(name) = &volume.secret {
            out.insert(name.as_str());
        }
    }
    out
}
