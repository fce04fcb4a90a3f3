//! `kubectl-codex __complete WORD…`: completion candidates in cobra's protocol, which kubectl
//! (1.26 and later) asks `kubectl_complete-codex` for when completing `kubectl codex …`.
//!
//! kubectl runs the helper with the words after `codex`, the last one the word being
//! completed (empty for a fresh word), and reads one candidate per line (`value<TAB>help`)
//! then `:<directive>`. The candidates come from the same clap definition as the parser, so
//! they cannot drift from it; `--env` offers the environments of services.yaml.

use crate::cli::Cli;
use crate::exit::Failure;
use clap::{Arg, ArgAction, CommandFactory, ValueHint};

/// cobra's ShellCompDirective values this module uses.
pub mod directive {
    /// Let the shell complete file names.
    pub const FILES: u32 = 0;
    /// Offer only the candidates given.
    pub const NO_FILES: u32 = 4;
}

/// What to offer for the word being completed.
#[derive(Debug, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<(String, String)>,
    pub directive: u32,
}

impl Completion {
    /// cobra's wire format: a line per candidate, then the directive.
    pub fn to_protocol(&self) -> String {
        let mut out = String::new();
        for (value, help) in &self.candidates {
            // A tab or newline inside would break the line protocol.
            let help = help.replace(['\t', '\n'], " ");
            if help.is_empty() {
                out.push_str(&format!("{value}\n"));
            } else {
                out.push_str(&format!("{value}\t{help}\n"));
            }
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

pub fn run(args: &crate::cli::CompleteArgs) -> Result<(), Failure> {
    print!("{}", candidates(&args.words, &environments_of).to_protocol());
    Ok(())
}

/// The environments of the services.yaml the command line names (`-f`, else `$CODEX_FILE`,
/// else ./services.yaml); none when it cannot be read: completion must never fail loudly.
fn environments_of(file: &str) -> Vec<String> {
    crate::config::load_path(std::path::Path::new(file)).map(|loaded| loaded.environment_names()).unwrap_or_default()
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

fn find_flag<'a>(command: &'a clap::Command, word: &str) -> Option<&'a Arg> {
    let name = word.split_once('=').map_or(word, |(name, _)| name);
    command.get_arguments().find(|arg| {
        if let Some(long) = name.strip_prefix("--") {
            arg.get_long() == Some(long) || arg.get_all_aliases().is_some_and(|a| a.contains(&long))
        } else if let Some(short) = name.strip_prefix('-') {
            let mut chars = short.chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if arg.get_short() == Some(c))
        } else {
            false
        }
    })
}

fn help_of(text: Option<&clap::builder::StyledStr>) -> String {
    text.map(|t| t.to_string().lines().next().unwrap_or_default().to_string()).unwrap_or_default()
}

/// Candidates for `words` (the last being completed); `environments` reads a services.yaml.
pub fn candidates(words: &[String], environments: &dyn Fn(&str) -> Vec<String>) -> Completion {
    let mut root = Cli::command();
    root.build();
    let (current, before) = match words.split_last() {
        Some((last, rest)) => (last.as_str(), rest),
        None => ("", &[][..]),
    };
    let mut command = &root;
    let mut file = std::env::var("CODEX_FILE").unwrap_or_else(|_| "services.yaml".to_string());
    let mut pending: Option<&Arg> = None;
    let mut options_ended = false;
    for word in before {
        if let Some(arg) = pending.take() {
            if arg.get_id() == "file" {
                file = word.clone();
            }
            continue;
        }
        if !options_ended && word == "--" {
            options_ended = true;
        } else if !options_ended && word.starts_with('-') {
            if let Some(arg) = find_flag(command, word) {
                if let Some((_, value)) = word.split_once('=') {
                    if arg.get_id() == "file" {
                        file = value.to_string();
                    }
                } else if takes_value(arg) {
                    pending = Some(arg);
                }
            }
        } else if let Some(sub) = command.find_subcommand(word) {
            command = sub;
        }
    }
    if let Some(arg) = pending {
        return values_of(arg, current, &file, environments);
    }
    if !options_ended && current.starts_with('-') {
        if let Some((flag, value)) = current.split_once('=') {
            if let Some(arg) = find_flag(command, flag).filter(|a| takes_value(a)) {
                let mut completion = values_of(arg, value, &file, environments);
                for candidate in &mut completion.candidates {
                    candidate.0 = format!("{flag}={}", candidate.0);
                }
                return completion;
            }
        }
        let flags = command
            .get_arguments()
            .filter(|arg| !arg.is_hide_set())
            .filter_map(|arg| arg.get_long().map(|long| (format!("--{long}"), help_of(arg.get_help()))))
            .filter(|(flag, _)| flag.starts_with(current));
        return Completion { candidates: sorted(flags), directive: directive::NO_FILES };
    }
    if command.has_subcommands() {
        let subcommands = command
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
            .map(|sub| (sub.get_name().to_string(), help_of(sub.get_about())))
            .filter(|(name, _)| name.starts_with(current));
        return Completion { candidates: sorted(subcommands), directive: directive::NO_FILES };
    }
    // A positional: its listed values, else file names when it is a path.
    let positional = command.get_positionals().find(|arg| !arg.is_hide_set());
    match positional {
        Some(arg) => values_of(arg, current, &file, environments),
        None => Completion { candidates: Vec::new(), directive: directive::NO_FILES },
    }
}

fn sorted(candidates: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    let mut list: Vec<_> = candidates.collect();
    list.sort();
    list.dedup_by(|a, b| a.0 == b.0);
    list
}

/// Values of an option or positional: its possible values, the environments for `--env`,
/// file names for a path, nothing otherwise.
fn values_of(arg: &Arg, current: &str, file: &str, environments: &dyn Fn(&str) -> Vec<String>) -> Completion {
    let listed: Vec<(String, String)> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| (v.get_name().to_string(), help_of(v.get_help())))
        .collect();
    if !listed.is_empty() {
        let matching = listed.into_iter().filter(|(name, _)| name.starts_with(current));
        return Completion { candidates: sorted(matching), directive: directive::NO_FILES };
    }
    if arg.get_id() == "env" {
        let names = environments(file).into_iter().map(|name| (name, String::new()));
        return Completion {
            candidates: sorted(names.filter(|(name, _)| name.starts_with(current))),
            directive: directive::NO_FILES,
        };
    }
    let is_path = matches!(arg.get_value_hint(), ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath);
    Completion { candidates: Vec::new(), directive: if is_path { directive::FILES } else { directive::NO_FILES } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(words: &[&str]) -> Completion {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        candidates(&words, &|file| if file == "x.yaml" { vec!["dev".into(), "prod".into()] } else { Vec::new() })
    }

    fn names(completion: &Completion) -> Vec<&str> {
        completion.candidates.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn a_fresh_word_lists_the_visible_subcommands() {
        let completion = complete(&[""]);
        let listed = names(&completion);
        for expected in ["up", "plan", "validate", "evidence", "graph", "completion"] {
            assert!(listed.contains(&expected), "{expected} missing from {listed:?}");
        }
        assert!(!listed.contains(&"__complete") && !listed.contains(&"help"), "{listed:?}");
        assert_eq!(completion.directive, directive::NO_FILES);
        assert_eq!(names(&complete(&["pl"])), ["plan"]);
        // No words at all (kubectl always sends one, but never panic).
        assert!(!names(&complete(&[])).is_empty());
    }

    #[test]
    fn flags_values_and_paths() {
        let flags = complete(&["plan", "--o"]);
        assert_eq!(names(&flags), ["--output"]);
        assert_eq!(names(&complete(&["plan", "-o", ""])), ["json", "text"]);
        assert_eq!(names(&complete(&["graph", "--output="])), ["--output=dot", "--output=mermaid", "--output=svg"]);
        assert_eq!(complete(&["plan", "-f", ""]).directive, directive::FILES);
        assert_eq!(names(&complete(&["plan", "-f", "x.yaml", "--env", "p"])), ["prod"]);
        assert_eq!(names(&complete(&["agent", ""])), ["run"]);
        assert_eq!(names(&complete(&["completion", "z"])), ["zsh"]);
    }

    #[test]
    fn the_protocol_ends_with_the_directive() {
        let completion = Completion {
            candidates: vec![("up".into(), "Deploy\tit".into()), ("x".into(), String::new())],
            directive: 4,
        };
        assert_eq!(completion.to_protocol(), "up\tDeploy it\nx\n:4\n");
    }
}
