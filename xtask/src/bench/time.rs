//! Timestamps for the benchmarks: the RFC 3339 times kubectl-codex writes into its evidence
//! and `-o json` reports, read as nanoseconds since the Unix epoch (xtask has no date crate,
//! and this is all the benchmarks need), and this machine's clock on the same scale.

use anyhow::{anyhow, bail, ensure, Result};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch, now.
pub fn now_ns() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos() as i128
}

/// Seconds of a nanosecond count.
pub fn seconds(ns: i128) -> f64 {
    ns as f64 / 1e9
}

/// Now as an RFC 3339 UTC time to the second (`2025-01-02T03:04:05Z`), as Kubernetes
/// annotations hold them.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() as i64;
    format_rfc3339(secs)
}

fn format_rfc3339(secs: i64) -> String {
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (day_secs / 3600, day_secs % 3600 / 60, day_secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Nanoseconds since the epoch of an RFC 3339 time (`2025-01-02T03:04:05.123456789Z`, or
/// with a `±hh:mm` offset); xtask has no date crate, and this is all the evidence needs.
pub fn rfc3339_ns(s: &str) -> Result<i128> {
    let bad = || anyhow!("not an RFC 3339 time: {s:?}");
    let b = s.as_bytes();
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    ensure!(shape, bad());
    let num = |from: usize, to: usize| -> Result<i64> {
        s.get(from..to).filter(|t| t.bytes().all(|c| c.is_ascii_digit())).and_then(|t| t.parse().ok()).ok_or_else(bad)
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    ensure!((1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && minute < 60 && second <= 60, bad());
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        ensure!((1..=9).contains(&digits), bad());
        nanos = num(start, i)? * 10_i64.pow(9 - digits as u32);
    }
    let offset = match &s[i..] {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && matches!(zone.as_bytes()[0], b'+' | b'-') && zone.as_bytes()[3] == b':' => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            sign * (num(i + 1, i + 3)? * 3600 + num(i + 4, i + 6)? * 60)
        }
        _ => bail!(bad()),
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(i128::from(seconds) * 1_000_000_000 + i128::from(nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the inverse of
/// [`days_from_civil`], by the same algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (if month <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_nanoseconds() {
        assert_eq!(rfc3339_ns("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(rfc3339_ns("2000-03-01T00:00:00Z").unwrap(), 951_868_800 * 1_000_000_000);
        assert_eq!(
            rfc3339_ns("2025-11-27T14:10:00.5Z").unwrap() - rfc3339_ns("2025-11-27T14:09:59.25Z").unwrap(),
            1_250_000_000
        );
        assert_eq!(rfc3339_ns("2025-11-27T14:10:00.000000001Z").unwrap() % 1_000_000_000, 1);
        assert_eq!(rfc3339_ns("2025-11-27T15:10:00+01:00").unwrap(), rfc3339_ns("2025-11-27T14:10:00Z").unwrap());
        assert!(rfc3339_ns("2025-11-27 14:10").is_err());
        assert!(rfc3339_ns("2025-11-27T14:10:00.Z").is_err());
    }

    #[test]
    fn rfc3339_times_are_read_as_epoch_seconds() {
        assert_eq!(seconds(rfc3339_ns("1970-01-01T00:00:00Z").unwrap()), 0.0);
        assert_eq!(seconds(rfc3339_ns("2000-03-01T00:00:01Z").unwrap()), 951_868_801.0);
        let t = seconds(rfc3339_ns("2024-06-19T15:22:45.25Z").unwrap());
        assert!((t - 1_718_810_565.25).abs() < 1e-6, "{t}");
        // An offset is applied (the evidence writes UTC, but an offset is still one instant).
        assert_eq!(seconds(rfc3339_ns("2024-06-19T15:22:45+02:00").unwrap()), 1_718_803_365.0);
        assert!(rfc3339_ns("2024-13-19T15:22:45Z").is_err());
    }

    #[test]
    fn times_format_back_to_what_they_parse_from() {
        for text in ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-12-07T08:02:37Z", "1969-12-31T23:59:59Z"] {
            let secs = (rfc3339_ns(text).unwrap() / 1_000_000_000) as i64;
            assert_eq!(format_rfc3339(secs), text);
        }
        assert_eq!(now_rfc3339().len(), "2026-12-07T08:02:37Z".len());
    }
}
