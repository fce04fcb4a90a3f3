//! Init containers and sidecars: names, images, env, mounts and ports unique in the pod.

use super::env::check_env;
use super::names::{check_absolute, is_dns_label};
use super::{check_image_reference, unknown};
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::model::{Container, ContainerPort, Document, Port, Workload};
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use std::collections::{BTreeSet, HashMap};

/// What init containers and sidecars are checked against.
pub(super) struct Containers<'a> {
    pub(super) unit_name: &'a str,
    pub(super) volumes: &'a BTreeSet<&'a str>,
    pub(super) main_ports: &'a [Port],
}

impl Containers<'_> {
    /// Names unique in the pod and not the main container's, images, env, mounts; sidecar
    /// ports unique in the pod (its containers share one network namespace).
    pub(super) fn check(
        &self,
        document: &Document,
        workload: &Workload,
        path: &str,
        source: &SourceDocument,
        errors: &mut Diagnostics,
    ) {
        let mut names: HashMap<&str, String> = HashMap::new();
        let mut pod_ports: BTreeSet<&str> = self.main_ports.iter().map(|p| p.name.as_str()).collect();
        let mut pod_numbers: BTreeSet<u16> = self.main_ports.iter().map(|p| p.port).collect();
        for (list, field) in [(&workload.init_containers, "initContainers"), (&workload.containers, "containers")] {
            for (i, container) in list.iter().enumerate() {
                let container_path = FieldPath::index(&FieldPath::key(path, field), i);
                let name_path = FieldPath::key(&container_path, "name");
                if !is_dns_label(&container.name, 63) {
                    errors.push(
                        source
                            .error_at(&name_path, format!("\"{}\" is not a DNS-1123 label", excerpt(&container.name))),
                    );
                } else if container.name == self.unit_name {
                    errors.push(source.error_at(
                        &name_path,
                        format!("\"{}\" is the main container's name (the unit's); choose another", container.name),
                    ));
                } else if let Some(previous) = names.insert(&container.name, container_path.clone()) {
                    errors.push(source.error_at(
                        &name_path,
                        format!("duplicate container name \"{}\" (first declared at {previous})", container.name),
                    ));
                }
                check_image_reference(
                    document,
                    &container.image,
                    &FieldPath::key(&container_path, "image"),
                    source,
                    errors,
                );
                check_env(document, &container.env, &container.env_from, &container_path, source, errors);
                self.check_mounts(container, &container_path, source, errors);
                let sidecar = field == "containers";
                let (mut own_names, mut own_numbers) = (BTreeSet::new(), BTreeSet::new());
                let (port_names, port_numbers) =
                    if sidecar { (&mut pod_ports, &mut pod_numbers) } else { (&mut own_names, &mut own_numbers) };
                for (j, port) in container.ports.iter().enumerate() {
                    let port_path = FieldPath::index(&FieldPath::key(&container_path, "ports"), j);
                    check_container_port(port, &port_path, port_names, port_numbers, source, errors);
                }
            }
        }
    }

    fn check_mounts(&self, container: &Container, path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
        let mut paths = BTreeSet::new();
        for (i, mount) in container.volume_mounts.iter().enumerate() {
            let mount_path = FieldPath::index(&FieldPath::key(path, "volumeMounts"), i);
            if !self.volumes.contains(mount.name.as_str()) {
                let known: Vec<String> = self.volumes.iter().map(|s| s.to_string()).collect();
                errors.push(
                    source.error_at(&FieldPath::key(&mount_path, "name"), unknown("volume", &mount.name, &known)),
                );
            }
            check_absolute(&mount.mount_path, &FieldPath::key(&mount_path, "mountPath"), source, errors);
            if !paths.insert(mount.mount_path.as_str()) {
                errors.push(source.error_at(
                    &FieldPath::key(&mount_path, "mountPath"),
                    format!("\"{}\" is mounted twice in this container", excerpt(&mount.mount_path)),
                ));
            }
        }
    }
}

fn check_container_port<'a>(
    port: &'a ContainerPort,
    path: &str,
    names: &mut BTreeSet<&'a str>,
    numbers: &mut BTreeSet<u16>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    if !is_dns_label(&port.name, 15) {
        errors.push(source.error_at(
            &FieldPath::key(path, "name"),
            format!("port name \"{}\" must be a DNS-1123 label of at most 15 characters", excerpt(&port.name)),
        ));
    }
    if !names.insert(port.name.as_str()) {
        errors.push(
            source.error_at(
                &FieldPath::key(path, "name"),
                format!("port name \"{}\" is used twice in the pod", port.name),
            ),
        );
    }
    if port.port == 0 {
        errors.push(source.error_at(&FieldPath::key(path, "port"), "port 0 is not a valid port"));
    } else if !numbers.insert(port.port) {
        errors.push(
            source.error_at(&FieldPath::key(path, "port"), format!("port {} is used twice in the pod", port.port)),
        );
    }
}
