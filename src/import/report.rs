//! What became of every item of the imported file: the import's typed report.

use serde::Serialize;

/// What the importer did with one item of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Carried over with the same meaning, field for field.
    Mapped,
    /// Carried over in another form (a template translated, a hook replaced by readiness…).
    Converted,
    /// Left out on purpose: kubectl-codex does the same thing by itself.
    Dropped,
    /// Left out: kubectl-codex has no equivalent; the reason says what to do instead.
    NotCarried,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Mapped => "mapped",
            Action::Converted => "converted",
            Action::Dropped => "dropped",
            Action::NotCarried => "not-carried",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `file:line` of the item in the source.
    pub source: String,
    /// Where it went in the result (`services[2].manifests`, `inputs.DB_HOST`), or "" when
    /// it went nowhere.
    pub target: String,
    pub action: Action,
    pub reason: String,
}

/// The source format, as detected (or as `--from` said).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    Codexctl,
    Servicestack,
}

impl SourceFormat {
    pub fn describe(self) -> &'static str {
        match self {
            SourceFormat::Codexctl => "a codexctl services.yaml",
            SourceFormat::Servicestack => "a codex-k8s ServiceStack",
        }
    }
}

/// The whole report of one import.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub source: String,
    pub format: SourceFormat,
    /// `apiVersion` of a ServiceStack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    pub out: String,
    /// Files written under `out`, relative to it, in the order written.
    pub written: Vec<String>,
    /// Whether the written services.yaml passed `validate` with the example inputs.
    pub valid: bool,
    /// The validation errors when it did not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub entries: Vec<Entry>,
}

impl Report {
    /// How many entries were not carried over (what `--strict` refuses).
    pub fn not_carried(&self) -> usize {
        self.entries.iter().filter(|e| e.action == Action::NotCarried).count()
    }

    pub fn count(&self, action: Action) -> usize {
        self.entries.iter().filter(|e| e.action == action).count()
    }

    /// The text form: a summary line, then one line per entry grouped by action.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "imported {} ({}) into {}: {} mapped, {} converted, {} dropped, {} not carried\n",
            self.source,
            self.format.describe(),
            self.out,
            self.count(Action::Mapped),
            self.count(Action::Converted),
            self.count(Action::Dropped),
            self.not_carried(),
        );
        for action in [Action::NotCarried, Action::Dropped, Action::Converted, Action::Mapped] {
            let entries: Vec<&Entry> = self.entries.iter().filter(|e| e.action == action).collect();
            if entries.is_empty() {
                continue;
            }
            text.push_str(&format!("\n{}:\n", action.as_str()));
            for entry in entries {
                let target = if entry.target.is_empty() { String::new() } else { format!(" → {}", entry.target) };
                text.push_str(&format!("  {}{target}: {}\n", entry.source, entry.reason));
            }
        }
        text.push_str(&format!("\nwrote {}\n", self.written.join(", ")));
        if self.valid {
            text.push_str(&format!(
                "the result validates; next: kubectl codex plan -f {}/services.yaml --env ENV --values-file {}/inputs.example.yaml\n",
                self.out, self.out
            ));
        } else {
            text.push_str("the result does not validate yet:\n");
            for error in &self.errors {
                text.push_str(&format!("  {error}\n"));
            }
        }
        text
    }
}
