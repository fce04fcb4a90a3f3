//! Go-style durations (`8h`, `90m`, `1h30m`, `45s`): the syntax kubectl and Helm users know.

use std::time::Duration;

/// Parses a Go-style duration. Units: `ms`, `s`, `m`, `h`, `d` (24h, a convenience).
pub fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "\"{}\" is not a duration; use Go syntax such as 8h, 30m, 1h30m, 45s",
            super::diagnostics::excerpt(text)
        )
    };
    if text.is_empty() || text.len() > 64 {
        return Err(invalid());
    }
    let mut total_ms: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let amount: u128 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor: u128 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total_ms = total_ms.checked_add(amount.checked_mul(factor).ok_or_else(invalid)?).ok_or_else(invalid)?;
    }
    let ms = u64::try_from(total_ms).map_err(|_| invalid())?;
    Ok(Duration::from_millis(ms))
}

/// Formats a duration the way `parse` reads it, largest units first (`1h30m`, `45s`).
pub fn format(duration: Duration) -> String {
    let mut ms = duration.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("h", 3_600_000u128), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2d").unwrap(), Duration::from_secs(172_800));
        for bad in ["", "8", "h", "8x", "-1h", "1.5h", "99999999999999999999999h"] {
            assert!(parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["8h", "1h30m", "45s", "1h0m5s"] {
            assert_eq!(parse(&format(parse(text).unwrap())).unwrap(), parse(text).unwrap());
        }
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
    }
}
