//! `.env` files as codexctl reads them (godotenv): `KEY=VALUE` lines, `#` comments, an optional
//! `export `, values in single or double quotes.

/// The pairs of a `.env` text, in order; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else { continue };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let value = value.trim();
        let value = if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            inner.replace("\\n", "\n").replace("\\\"", "\"")
        } else if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            inner.to_string()
        } else {
            // An unquoted value ends at ` #` (a comment).
            value.split(" #").next().unwrap_or("").trim().to_string()
        };
        pairs.push((key.to_string(), value));
    }
    pairs
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_forms_godotenv_reads() {
        let pairs = super::parse("# c\nA=1\nexport B=\"two words\"\nC='x y' \nD=plain # note\nbad line\n");
        let expected: Vec<(String, String)> = [("A", "1"), ("B", "two words"), ("C", "x y"), ("D", "plain")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, expected);
    }
}
