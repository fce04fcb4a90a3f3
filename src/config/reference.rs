//! The image reference grammar of Docker and the OCI distribution spec, for the fields that
//! must name a pullable image (`images.*.mirror`): `[registry[:port]/]repository[:tag][@digest]`.
//! Docker's normalisation applies: a first component without `.` or `:` that is not
//! `localhost` is a path on Docker Hub (`docker.io`), and a single-component name there is in
//! `library/`.

use std::fmt;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// `docker.io` for Docker Hub.
    pub host: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub digest: Option<String>,
}

impl ImageReference {
    /// What the registry API names the manifest by: the digest when there is one, else the
    /// tag (`latest` when neither is given, as in Docker).
    pub fn manifest_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }
}

impl fmt::Display for ImageReference {
    /// The normalised form: `docker.io/library/redis:7`, so different spellings of one image
    /// print (and hash) the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.host, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The longest name (registry and repository) the distribution spec allows.
const MAX_NAME: usize = 255;

/// Parses `text`; the error says what is wrong, in words fit for a diagnostic.
pub fn parse(text: &str) -> Result<ImageReference, String> {
    if text.is_empty() {
        return Err("an empty string is not an image reference".into());
    }
    if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("an image reference has no {c:?}"));
    }
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => {
            check_digest(digest)?;
            (rest, Some(digest.to_string()))
        }
        None => (text, None),
    };
    // A tag follows the last ':' after the last '/' (a ':' before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            let tag = &rest[at + 1..];
            check_tag(tag)?;
            (&rest[..at], Some(tag.to_string()))
        }
        None => (rest, None),
    };
    if name.len() > MAX_NAME {
        return Err(format!("the name is {} characters; at most {MAX_NAME} are allowed", name.len()));
    }
    let (host, repository) = match name.split_once('/') {
        Some((first, path)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            check_host(first)?;
            (first.to_string(), path.to_string())
        }
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    let host =
        if matches!(host.as_str(), "index.docker.io" | "registry-1.docker.io") { "docker.io".into() } else { host };
    check_repository(&repository)?;
    Ok(ImageReference { host, repository, tag, digest })
}

/// A repository path: lowercase components joined by `/`, each `[a-z0-9]+` runs separated by
/// `.`, `_`, `__` or dashes.
pub fn check_repository(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the repository is empty".into());
    }
    for component in path.split('/') {
        if !is_path_component(component) {
            return Err(format!(
                "\"{component}\" is not a repository path component (lowercase letters and digits, \
                 separated by '.', '_', '__' or '-')"
            ));
        }
    }
    Ok(())
}

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{tag}\" is not a tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')"
        ))
    }
}

fn check_digest(digest: &str) -> Result<(), String> {
    match digest.split_once(':') {
        Some(("sha256", hex))
            if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(())
        }
        _ => Err(format!("\"{digest}\" is not a digest (expected sha256: and 64 lowercase hex digits)")),
    }
}

/// `host`, `host:port`, an IPv4 address or `[IPv6]`, with an optional port.
fn check_host(host: &str) -> Result<(), String> {
    let bad = || Err(format!("\"{host}\" is not a registry host"));
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else { return bad() };
        if address.is_empty() || !address.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return bad();
        }
        match after {
            "" => return Ok(()),
            port => match port.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return bad(),
            },
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return bad();
        }
    }
    if name.is_empty() && host.starts_with('[') {
        return Ok(());
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !c.starts_with('-')
            && !c.ends_with('-')
    };
    if name.split('.').all(component_ok) {
        Ok(())
    } else {
        bad()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, String, Option<String>, Option<String>) {
        let r = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (r.host, r.repository, r.tag, r.digest)
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn docker_hub_names_are_normalised() {
        assert_eq!(parsed("redis"), ("docker.io".into(), "library/redis".into(), None, None));
        assert_eq!(
            parsed("redis:7-bookworm"),
            ("docker.io".into(), "library/redis".into(), Some("7-bookworm".into()), None)
        );
        assert_eq!(parsed("bitnami/redis:7"), ("docker.io".into(), "bitnami/redis".into(), Some("7".into()), None));
        assert_eq!(
            parse("docker.io/library/redis:7-bookworm").unwrap().to_string(),
            parse("redis:7-bookworm").unwrap().to_string()
        );
        assert_eq!(parse("index.docker.io/library/redis").unwrap().host, "docker.io");
    }

    #[test]
    fn registries_ports_tags_and_digests() {
        assert_eq!(
            parsed("127.0.0.1:5000/team/app:1.2"),
            ("127.0.0.1:5000".into(), "team/app".into(), Some("1.2".into()), None)
        );
        assert_eq!(parsed("localhost/app"), ("localhost".into(), "app".into(), None, None));
        let pinned = parse(&format!("ghcr.io/o/r:v1@{DIGEST}")).unwrap();
        assert_eq!((pinned.tag.as_deref(), pinned.digest.as_deref()), (Some("v1"), Some(DIGEST)));
        assert_eq!(pinned.manifest_reference(), DIGEST);
        assert_eq!(parse(&format!("r.example:443/a/b@{DIGEST}")).unwrap().tag, None);
        assert_eq!(parse("[::1]:5000/a:1").unwrap().host, "[::1]:5000");
        assert_eq!(parse("redis").unwrap().manifest_reference(), "latest");
    }

    #[test]
    fn what_is_not_a_reference_says_why() {
        for (bad, why) in [
            ("", "empty"),
            ("Redis:7", "not a repository path component"),
            ("redis:7 bookworm", "has no ' '"),
            ("redis:", "is not a tag"),
            ("redis:-7", "is not a tag"),
            ("redis@sha256:abc", "is not a digest"),
            ("redis@md5:0123", "is not a digest"),
            ("docker.io/", "repository is empty"),
            ("docker.io//redis", "not a repository path component"),
            ("a..b/redis", "not a registry host"),
            ("host:port/redis", "not a registry host"),
            ("redis/", "not a repository path component"),
            ("re--dis__x..y", "not a repository path component"),
            ("https://docker.io/redis", "not a registry host"),
        ] {
            let message = parse(bad).expect_err(bad);
            assert!(message.contains(why), "{bad}: {message}");
        }
        assert!(parse("re--dis__x.y_z").is_ok(), "dashes, double underscores, dots and underscores separate");
        assert!(parse(&format!("a/{}", "b".repeat(300))).unwrap_err().contains("at most 255"));
    }
}
