//! What `build` reports of an environment's images, and the `images` list of `up` and `revise`.

use crate::build::{BuildStatus, ImageOutcome};
use crate::config::stack::Stack;
use serde::Serialize;
use std::fmt;

/// Every image of the environment, in plan order: mirrors first, then builds.
#[derive(Debug, Serialize)]
pub struct Built<'a> {
    pub env: &'a str,
    pub runtime: &'static str,
    pub registry: &'a str,
    pub images: &'a [ImageOutcome],
}

impl<'a> Built<'a> {
    pub fn new(stack: &'a Stack, images: &'a [ImageOutcome]) -> Self {
        Built { env: &stack.env, runtime: stack.runtime.as_str(), registry: &stack.registry, images }
    }
}

impl fmt::Display for Built<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.images.is_empty() {
            writeln!(f, "no images to build or mirror in environment {}", self.env)?;
        }
        for image in self.images {
            write_image(f, image)?;
        }
        Ok(())
    }
}

/// One image's line: a plan says what would run, an outcome what came of it and how long it took.
fn write_image(f: &mut fmt::Formatter<'_>, o: &ImageOutcome) -> fmt::Result {
    let digest = o.manifest_digest.as_deref().unwrap_or("-");
    match (o.status, &o.mirror) {
        (BuildStatus::Planned, Some(source)) => {
            writeln!(f, "{:<16} {} (mirror of {source}, mirror tag {})", o.name, o.reference, o.content_tag)
        }
        (status, Some(source)) => writeln!(
            f,
            "{:<16} {:<9} {} {} ({:.1}s) from {source}",
            o.name,
            status.as_str(),
            o.reference,
            digest,
            o.seconds
        ),
        (BuildStatus::Planned, None) => {
            writeln!(
                f,
                "{:<16} {} (content tag {}, inputs {})",
                o.name,
                o.reference,
                o.content_tag,
                &o.input_digest[..16]
            )?;
            writeln!(f, "  {}", o.command.as_deref().unwrap_or(""))
        }
        (status, None) => {
            writeln!(f, "{:<16} {:<9} {} {} ({:.1}s)", o.name, status.as_str(), o.reference, digest, o.seconds)
        }
    }
}

/// One entry of the `images` list `up` and `revise` report: what was built, mirrored or found
/// unchanged or present, and the digest-pinned reference that was deployed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSummary {
    pub name: String,
    pub status: BuildStatus,
    pub reference: String,
    pub manifest_digest: Option<String>,
    /// A mirror's source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

impl ImageSummary {
    pub fn of(outcomes: &[ImageOutcome]) -> Vec<ImageSummary> {
        outcomes
            .iter()
            .map(|o| ImageSummary {
                name: o.name.clone(),
                status: o.status,
                reference: o.pinned_reference().unwrap_or_else(|| o.reference.clone()),
                manifest_digest: o.manifest_digest.clone(),
                mirror: o.mirror.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::output::{self, Layout};

    fn outcome(name: &str, status: BuildStatus, mirror: Option<&str>) -> ImageOutcome {
        ImageOutcome {
            name: name.into(),
            reference: format!("registry.local/{name}:c0ffee"),
            content_tag: "c0ffee".into(),
            input_digest: "0123456789abcdef0123".into(),
            manifest_digest: (status != BuildStatus::Planned).then(|| "sha256:aa".to_string()),
            status,
            seconds: 1.25,
            builder: None,
            command: (status == BuildStatus::Planned).then(|| "buildctl build".to_string()),
            error: None,
            mirror: mirror.map(str::to_string),
        }
    }

    fn built<'a>(images: &'a [ImageOutcome]) -> Built<'a> {
        Built { env: "dev", runtime: "containerd", registry: "registry.local", images }
    }

    #[test]
    fn json_is_the_environment_then_every_image_outcome() {
        let images = [outcome("api", BuildStatus::Built, None)];
        let json: serde_json::Value =
            serde_json::from_str(&output::to_json(&built(&images), Layout::Pretty).unwrap()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["env", "runtime", "registry", "images"]);
        assert_eq!(json["images"], serde_json::to_value(&images).unwrap());
    }

    #[test]
    fn text_has_a_line_per_image_and_says_when_there_is_none() {
        assert_eq!(built(&[]).to_string(), "no images to build or mirror in environment dev\n");
        let images = [
            outcome("postgres", BuildStatus::Planned, Some("docker.io/postgres:16")),
            outcome("cache", BuildStatus::Present, Some("docker.io/redis:7")),
            outcome("api", BuildStatus::Planned, None),
            outcome("web", BuildStatus::Unchanged, None),
        ];
        assert_eq!(
            built(&images).to_string(),
            "postgres         registry.local/postgres:c0ffee (mirror of docker.io/postgres:16, mirror tag c0ffee)\n\
             cache            present   registry.local/cache:c0ffee sha256:aa (1.2s) from docker.io/redis:7\n\
             api              registry.local/api:c0ffee (content tag c0ffee, inputs 0123456789abcdef)\n  \
             buildctl build\n\
             web              unchanged registry.local/web:c0ffee sha256:aa (1.2s)\n"
        );
    }

    #[test]
    fn an_image_summary_pins_the_reference_and_names_a_mirror_only_when_there_is_one() {
        let summary = ImageSummary::of(&[
            outcome("api", BuildStatus::Built, None),
            outcome("cache", BuildStatus::Mirrored, Some("docker.io/redis:7")),
        ]);
        assert_eq!(
            output::to_json(&summary, Layout::OneLine).unwrap(),
            r#"[{"name":"api","status":"built","reference":"registry.local/api:c0ffee@sha256:aa","manifestDigest":"sha256:aa"},{"name":"cache","status":"mirrored","reference":"registry.local/cache:c0ffee@sha256:aa","manifestDigest":"sha256:aa","mirror":"docker.io/redis:7"}]"#
        );
    }
}
