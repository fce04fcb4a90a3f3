//! Logging in to a registry the way Docker clients do, so the skip rule of `build` works on
//! private registries too: credentials from Docker's `config.json` (inline `auths`, or a
//! `docker-credential-*` helper named by `credHelpers` / `credsStore`), then the answer to the
//! registry's `WWW-Authenticate` challenge — HTTP Basic, or the bearer-token flow in which
//! the realm trades those credentials (or none, for public repositories) for a token.
//! BuildKit's `buildctl` and `docker buildx` read the same file, so one `docker login` (or a
//! hand-written config) serves the builder's pushes and these look-ups alike.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The variable Docker reads for the directory of `config.json`.
pub const DOCKER_CONFIG_ENV: &str = "DOCKER_CONFIG";

/// The key Docker files Docker Hub's credentials under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name and its password or token. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials {{ username: {:?}, password: <hidden> }}", self.username)
    }
}

impl Credentials {
    /// The `Authorization` header value of HTTP Basic.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

/// The parts of Docker's `config.json` that hold credentials.
#[derive(Debug, Default, Deserialize)]
pub struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os(DOCKER_CONFIG_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json")),
    }
}

impl DockerConfig {
    /// The user's configuration; none at all is an empty one (anonymous access).
    pub fn load() -> Result<Self> {
        match docker_config_path() {
            Some(path) if path.exists() => Self::read(&path),
            _ => Ok(DockerConfig::default()),
        }
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config: DockerConfig =
            serde_json::from_str(&text).with_context(|| format!("{} is not a Docker config.json", path.display()))?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Credentials for a registry host (`docker.io` for Docker Hub), if the file has any.
    pub fn credentials(&self, host: &str) -> Result<Option<Credentials>> {
        let host = canonical_host(host);
        if let Some((key, helper)) = self.cred_helpers.iter().find(|(key, _)| canonical_host(key) == host) {
            return from_helper(helper, key);
        }
        if let Some((key, entry)) = self.auths.iter().find(|(key, _)| canonical_host(key) == host) {
            if let Some(credentials) =
                entry.credentials().with_context(|| format!("auths.\"{key}\" in {}", self.source_name()))?
            {
                return Ok(Some(credentials));
            }
        }
        match &self.creds_store {
            Some(store) => from_helper(store, if host == "docker.io" { DOCKER_HUB_KEY } else { &host }),
            None => Ok(None),
        }
    }

    fn source_name(&self) -> String {
        self.source.as_ref().map_or_else(|| "config.json".to_string(), |p| p.display().to_string())
    }
}

impl AuthEntry {
    fn credentials(&self) -> Result<Option<Credentials>> {
        if let Some(encoded) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded =
                base64::engine::general_purpose::STANDARD.decode(encoded.trim()).context("\"auth\" is not base64")?;
            let pair = String::from_utf8(decoded).context("\"auth\" is not UTF-8")?;
            let (username, password) = pair.split_once(':').ok_or_else(|| anyhow!("\"auth\" is not USER:PASSWORD"))?;
            return Ok(Some(Credentials { username: username.into(), password: password.into() }));
        }
        match (&self.username, &self.password) {
            (Some(username), Some(password)) => {
                Ok(Some(Credentials { username: username.clone(), password: password.clone() }))
            }
            _ => Ok(None),
        }
    }
}

/// `https://host[/path]`, `host`, Docker Hub's several names → one host name.
fn canonical_host(key: &str) -> String {
    let bare = key.trim_start_matches("https://").trim_start_matches("http://");
    let host = bare.split('/').next().unwrap_or(bare).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io".into(),
        _ => host,
    }
}

/// The Docker credential-helper protocol: `docker-credential-<name> get`, the server on
/// stdin, `{"Username": …, "Secret": …}` on stdout; "not found" is no credentials.
fn from_helper(helper: &str, server: &str) -> Result<Option<Credentials>> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {program} (named in Docker's config.json)"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(server.as_bytes()).with_context(|| format!("writing to {program}"))?;
    }
    let output = child.wait_with_output().with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if said.to_ascii_lowercase().contains("not found") {
            return Ok(None);
        }
        bail!("{program} get failed ({}): {}", output.status, said.trim());
    }
    let answer: Answer = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("{program} get answered something else than JSON credentials"))?;
    Ok(Some(Credentials { username: answer.username, password: answer.secret }))
}

/// What a registry's `WWW-Authenticate` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Parses `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"` (quoted values may
/// hold commas: `scope="repository:a/b:pull,push"`).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    let get = |name: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    Some(Challenge::Bearer { realm: get("realm")?, service: get("service"), scope: get("scope") })
}

/// `key="value", key2=value2` → pairs.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() || chars.next() != Some('=') {
            return params;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect::<String>().trim().to_string();
        }
        params.push((key.trim().to_string(), value));
    }
}

/// The token-endpoint URL for a Bearer challenge: the realm with `service` and `scope` (the
/// challenge's scope, else one built from the repository and the actions the request needs).
pub fn token_url(realm: &str, service: Option<&str>, scope: Option<&str>, repository: &str, actions: &str) -> String {
    let scope = scope.map_or_else(|| format!("repository:{repository}:{actions}"), str::to_string);
    let mut url = realm.to_string();
    let mut separator = if realm.contains('?') { '&' } else { '?' };
    for (name, value) in service.map(|s| ("service", s)).into_iter().chain([("scope", scope.as_str())]) {
        url.push(separator);
        url.push_str(name);
        url.push('=');
        url.push_str(&query_escape(value));
        separator = '&';
    }
    url
}

fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The token out of a token endpoint's answer (`token`, or OAuth2's `access_token`).
pub fn token_from(body: &[u8]) -> Result<String> {
    #[derive(Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
    }
    let answer: Answer =
        serde_json::from_slice(body).context("the token endpoint answered something else than JSON")?;
    answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow!("the token endpoint's answer has no token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn inline_auths_are_found_under_any_spelling_of_the_host() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("ci:s3cret:with-colon");
        let c = config(&format!(
            r#"{{"auths": {{"https://registry.example:5000/v1/": {{"auth": "{encoded}"}}, "https://index.docker.io/v1/": {{"username": "hub", "password": "pw"}}}}}}"#
        ));
        let found = c.credentials("registry.example:5000").unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.password.as_str()), ("ci", "s3cret:with-colon"));
        assert_eq!(c.credentials("docker.io").unwrap().unwrap().username, "hub");
        assert_eq!(c.credentials("other.example").unwrap(), None);
        assert!(!format!("{found:?}").contains("s3cret"), "Debug must not show the password");
    }

    #[test]
    fn a_broken_auth_entry_is_an_error_that_names_it() {
        let c = config(r#"{"auths": {"r.example": {"auth": "not base64!"}}}"#);
        let error = format!("{:#}", c.credentials("r.example").unwrap_err());
        assert!(error.contains("auths.\"r.example\"") && error.contains("base64"), "{error}");
    }

    #[test]
    fn a_missing_credential_helper_is_a_clear_error() {
        let c = config(r#"{"credHelpers": {"r.example": "codex-test-no-such-helper"}}"#);
        let error = format!("{:#}", c.credentials("r.example").unwrap_err());
        assert!(error.contains("docker-credential-codex-test-no-such-helper"), "{error}");
    }

    #[test]
    fn challenges_parse_with_commas_inside_quotes() {
        assert_eq!(parse_challenge(r#"Basic realm="registry""#), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:team/app:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None, "a Bearer challenge without realm is unusable");
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn token_urls_carry_service_and_scope() {
        assert_eq!(
            token_url("http://127.0.0.1:5002/token", Some("codex registry"), None, "team/app", "pull,push"),
            "http://127.0.0.1:5002/token?service=codex%20registry&scope=repository:team/app:pull%2Cpush"
        );
        assert_eq!(
            token_url("https://a/t?x=1", None, Some("repository:r:pull"), "ignored", "pull"),
            "https://a/t?x=1&scope=repository:r:pull"
        );
    }

    #[test]
    fn tokens_come_from_either_field() {
        assert_eq!(token_from(br#"{"token": "a"}"#).unwrap(), "a");
        assert_eq!(token_from(br#"{"access_token": "b"}"#).unwrap(), "b");
        assert!(token_from(br#"{"token": ""}"#).is_err());
        assert!(token_from(b"<html>").is_err());
    }
}
