//! Checks that need the whole document: names, references, phases, cycles, exclusive choices.
//! These hold for every environment, so they run once, before any environment is resolved.

mod containers;
mod dependencies;
mod env;
mod environments;
mod images;
mod names;
mod unit;
mod volumes;
mod workload;

pub use images::not_a_mirror_source;
pub use names::{is_dns_label, is_dns_subdomain, is_quantity};
pub use unit::check_unit;

use super::diagnostics::{excerpt, Diagnostics};
use super::model::{Document, Unit, API_VERSION, KIND};
use super::path::FieldPath;
use super::phase::Phase;
use super::schema::closest;
use super::source::SourceDocument;
use dependencies::check_dependencies;
use environments::check_environments;
use images::check_images;
use unit::check_units;

/// Longest unit name: Jobs get a `-<8 hex>` digest suffix and must stay within 63 characters.
pub const MAX_UNIT_NAME: usize = 54;

/// A unit together with where it sits in the document.
pub struct UnitRef<'a> {
    pub unit: &'a Unit,
    /// `infrastructure[2]` or `services[0]`.
    pub path: String,
    pub phase: Option<Phase>,
}

/// Infrastructure first, then services, each in file order; phase defaults applied.
pub fn units(document: &Document) -> Vec<UnitRef<'_>> {
    let infrastructure = document.infrastructure.iter().enumerate().map(|(i, unit)| UnitRef {
        unit,
        path: FieldPath::index("infrastructure", i),
        phase: Some(unit.phase.unwrap_or(Phase::Stateful)),
    });
    let services = document.services.iter().enumerate().map(|(i, unit)| UnitRef {
        unit,
        path: FieldPath::index("services", i),
        phase: unit.phase,
    });
    infrastructure.chain(services).collect()
}

pub fn check(document: &Document, source: &SourceDocument) -> Diagnostics {
    let mut errors = Diagnostics::default();
    if document.api_version != API_VERSION {
        errors.push(source.error_at(
            "apiVersion",
            format!(
                "unsupported apiVersion \"{}\"; this release reads \"{API_VERSION}\"",
                excerpt(&document.api_version)
            ),
        ));
    }
    if document.kind != KIND {
        errors.push(source.error_at("kind", format!("kind must be \"{KIND}\", not \"{}\"", excerpt(&document.kind))));
    }
    if !is_dns_label(&document.project.name, 40) {
        errors.push(source.error_at(
            "project.name",
            format!(
                "\"{}\" is not a DNS-1123 label of at most 40 characters (lowercase letters, digits, '-')",
                excerpt(&document.project.name)
            ),
        ));
    }
    check_environments(document, source, &mut errors);
    super::inputs::check(document, source, &mut errors);
    super::secrets::check(document, source, &mut errors);
    check_images(document, source, &mut errors);
    let units = units(document);
    check_units(document, &units, source, &mut errors);
    if let Some(size) = document.workspace.as_ref().and_then(|w| w.size.as_ref()) {
        if !is_quantity(size) {
            errors.push(source.error_at(
                "workspace.size",
                format!("\"{}\" is not a Kubernetes quantity such as 1Gi or 500Mi", excerpt(size)),
            ));
        }
    }
    check_dependencies(document, &units, source, &mut errors);
    if let Some(agent) = &document.agent {
        check_image_reference(document, &agent.image, "agent.image", source, &mut errors);
    }
    errors
}

fn check_image_reference(
    document: &Document,
    image: &str,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let literal = image.contains('/') || image.contains(':') || super::template::is_template(image);
    if !document.images.contains_key(image) && !literal {
        let names: Vec<String> = document.images.keys().cloned().collect();
        errors.push(source.error_at(path, unknown("image", image, &names)));
    }
}

fn unknown(what: &str, name: &str, known: &[String]) -> String {
    let mut message = format!("unknown {what} \"{}\"", excerpt(name));
    match closest(name, known) {
        Some(near) => message.push_str(&format!("; did you mean \"{near}\"?")),
        None if known.is_empty() => message.push_str(&format!("; no {what}s are declared")),
        None => message.push_str(&format!("; known: {}", known.join(", "))),
    }
    message
}
