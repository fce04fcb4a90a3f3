//! Pushing a base image: `crane append` of its layer tarballs onto an empty base, then
//! `crane mutate` of its configuration, skipped when the registry already has the image with
//! the same inputs (the [`INPUTS_LABEL`] digest).

use super::{hex, BaseImage, INPUTS_LABEL, RECIPE};
use crate::exec;
use crate::images::oci::{self, crane_command};
use crate::tools;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Pushes the image unless the registry has it with the same inputs; returns the reference.
pub(super) fn push(base: &BaseImage) -> Result<String> {
    let reference = format!("{}/{}:{}", oci::registry_address(), base.repository, base.tag);
    let inputs = inputs_digest(base);
    if pushed_inputs(&reference)?.as_deref() == Some(inputs.as_str()) {
        return Ok(reference);
    }
    let started = Instant::now();
    let crane = tools::tool_path("crane")?;
    let mut append = crane_command(&crane);
    append.args(["append", "--oci-empty-base", "-t", &reference]);
    for layer in &base.layers {
        append.arg("-f").arg(&layer.tarball);
    }
    exec::stdout(&mut append)?;
    let mut mutate = crane_command(&crane);
    mutate.args(mutate_args(base, &reference, &inputs));
    exec::stdout(&mut mutate)?;
    crate::say!("[base-images] pushed {reference} in {:.1}s", started.elapsed().as_secs_f64());
    Ok(reference)
}

fn mutate_args(base: &BaseImage, reference: &str, inputs: &str) -> Vec<String> {
    let mut args = vec![
        "mutate".to_string(),
        reference.to_string(),
        "-t".to_string(),
        reference.to_string(),
        // The empty base has no platform; BuildKit and containerd match on it.
        "--set-platform=linux/amd64".to_string(),
        format!("--label={INPUTS_LABEL}={inputs}"),
    ];
    args.extend(base.env.iter().map(|(k, v)| format!("--env={k}={v}")));
    if !base.cmd.is_empty() {
        args.push(format!("--cmd={}", base.cmd.join(",")));
    }
    if let Some(workdir) = &base.workdir {
        args.push(format!("--workdir={workdir}"));
    }
    args
}

/// Digest of everything an image is made of: layer contents, configuration, recipe.
fn inputs_digest(base: &BaseImage) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("recipe {RECIPE}\n"));
    for layer in &base.layers {
        hasher.update(format!("layer {}\n", layer.sha256));
    }
    for (key, value) in &base.env {
        hasher.update(format!("env {key}={value}\n"));
    }
    hasher.update(format!("cmd {:?}\nworkdir {:?}\n", base.cmd, base.workdir));
    hex(&hasher.finalize()[..16])
}

/// The inputs label of the pushed image, if the registry has it.
fn pushed_inputs(reference: &str) -> Result<Option<String>> {
    let crane = tools::tool_path("crane")?;
    let output = crane_command(&crane).args(["config", reference]).output().context("running crane config")?;
    if !output.status.success() {
        return Ok(None);
    }
    let config: serde_json::Value = serde_json::from_slice(&output.stdout).context("parsing the image config")?;
    Ok(config["config"]["Labels"][INPUTS_LABEL].as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::base::Layer;

    fn base(env: &str) -> BaseImage {
        BaseImage {
            repository: "codex-base/golang".into(),
            tag: "1.26-bookworm".into(),
            layers: vec![Layer { tarball: "/c/debian.tar".into(), sha256: "aa".into() }],
            env: vec![("GOTOOLCHAIN".into(), env.into())],
            cmd: vec!["bash".into()],
            workdir: Some("/go".into()),
        }
    }

    #[test]
    fn a_changed_configuration_changes_the_inputs_digest() {
        assert_eq!(inputs_digest(&base("local")), inputs_digest(&base("local")));
        assert_ne!(inputs_digest(&base("local")), inputs_digest(&base("auto")));
    }

    #[test]
    fn the_pushed_config_carries_platform_label_env_cmd_and_workdir() {
        let args = mutate_args(&base("local"), "r/codex-base/golang:1.26-bookworm", "d1");
        assert_eq!(
            args,
            [
                "mutate",
                "r/codex-base/golang:1.26-bookworm",
                "-t",
                "r/codex-base/golang:1.26-bookworm",
                "--set-platform=linux/amd64",
                "--label=dev.kubectl-codex.base.inputs=d1",
                "--env=GOTOOLCHAIN=local",
                "--cmd=bash",
                "--workdir=/go",
            ]
        );
    }
}
