//! How `status --watch` shows unit rows: a table for a terminal, and for pipes one line per
//! unit whose readiness, restarts or last event changed; and the quota line of `status`.
//! Pure text, so it is tested as such.

use crate::cluster::posture::QuotaUse;
use crate::cluster::unit_rows::UnitRow;
use k8s_openapi::jiff::Timestamp;
use std::fmt::Write;

/// Longest state or event text a table cell shows; the full text is in `-o json`.
const CELL_MAX: usize = 60;

/// The table: a header and one line per row, columns padded to their widest cell.
pub fn table(rows: &[UnitRow], now: Timestamp) -> String {
    let header = ["PHASE", "UNIT", "KIND", "STATE", "RESTARTS", "AGE", "LAST EVENT"].map(String::from);
    let mut cells: Vec<[String; 7]> = vec![header];
    for row in rows {
        cells.push([
            row.phase.to_string(),
            row.name.clone(),
            row.kind.to_string(),
            clip(&row.state),
            row.restarts.to_string(),
            age(row.created_at.as_deref(), now),
            clip(row.last_event.as_deref().unwrap_or("-")),
        ]);
    }
    let mut widths = [0usize; 7];
    for line in &cells {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &cells {
        let mut text = String::new();
        for (i, (cell, w)) in line.iter().zip(widths).enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no units installed yet)\n");
    }
    out
}

/// What changed between two snapshots, in the order of the new one; units gone are last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    /// New, or its readiness, restarts or last event differ.
    Now(&'a UnitRow),
    Gone(&'a UnitRow),
}

pub fn changes<'a>(before: &'a [UnitRow], after: &'a [UnitRow]) -> Vec<Change<'a>> {
    let key = |r: &UnitRow| (r.phase, r.name.clone(), r.kind);
    let mut out: Vec<Change<'a>> = after
        .iter()
        .filter(|row| !before.iter().any(|b| key(b) == key(row) && b.watched_parts() == row.watched_parts()))
        .map(Change::Now)
        .collect();
    out.extend(before.iter().filter(|b| !after.iter().any(|a| key(a) == key(b))).map(Change::Gone));
    out
}

/// The plain line of one change, stamped with the time it was seen.
pub fn change_line(change: &Change, at: Timestamp) -> String {
    let at = at.strftime("%H:%M:%SZ");
    match change {
        Change::Now(row) => format!(
            "{at} {}/{} {}: {} · restarts {} · last event: {}",
            row.phase,
            row.name,
            row.kind,
            row.state,
            row.restarts,
            row.last_event.as_deref().unwrap_or("-")
        ),
        Change::Gone(row) => format!("{at} {}/{} {}: gone", row.phase, row.name, row.kind),
    }
}

/// The JSON line of one change (`-o json --watch`).
pub fn change_json(change: &Change, at: Timestamp) -> serde_json::Value {
    let (row, gone) = match change {
        Change::Now(row) => (*row, false),
        Change::Gone(row) => (*row, true),
    };
    let mut value = serde_json::to_value(row).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.insert("time".into(), at.to_string().into());
        object.insert("gone".into(), gone.into());
    }
    value
}

/// Age as kubectl prints it: 45s, 12m, 3h, 5d.
pub fn age(created: Option<&str>, now: Timestamp) -> String {
    let Some(created) = created.and_then(|c| c.parse::<Timestamp>().ok()) else { return "-".into() };
    let seconds = now.as_second().saturating_sub(created.as_second()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// `quota codex-quota: pods 7/20, requests.cpu 70m/2`: use against every hard limit, in key
/// order; `-` for a use the quota controller has not counted yet.
pub fn quota_line(quota: &QuotaUse) -> String {
    let parts: Vec<String> = quota
        .hard
        .iter()
        .map(|(key, hard)| format!("{key} {}/{hard}", quota.used.get(key).map_or("-", String::as_str)))
        .collect();
    if parts.is_empty() {
        return format!("quota {}: no limits", quota.name);
    }
    format!("quota {}: {}", quota.name, parts.join(", "))
}

fn clip(text: &str) -> String {
    if text.chars().count() <= CELL_MAX {
        return text.to_string();
    }
    let mut out: String = text.chars().take(CELL_MAX - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, state: &str, restarts: i32, event: Option<&str>) -> UnitRow {
        UnitRow {
            phase: "internal",
            name: name.into(),
            kind: "Deployment",
            state: state.into(),
            ready: state.starts_with("ready"),
            restarts,
            created_at: Some("2026-12-06T10:00:00Z".into()),
            last_event: event.map(String::from),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_table_pads_columns_and_shows_age_and_the_last_event() {
        let rows =
            [row("greeter", "ready: 1/1 replicas", 2, Some("Pulled: ok")), row("catalog", "not ready: 0/1", 0, None)];
        let text = table(&rows, at("2026-12-06T10:03:30Z"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "PHASE     UNIT     KIND        STATE                RESTARTS  AGE  LAST EVENT");
        assert_eq!(lines[1], "internal  greeter  Deployment  ready: 1/1 replicas  2         3m   Pulled: ok");
        assert_eq!(lines[2], "internal  catalog  Deployment  not ready: 0/1       0         3m   -");
    }

    #[test]
    fn an_empty_table_says_so_and_long_cells_are_clipped() {
        assert!(table(&[], at("2026-12-06T10:00:00Z")).ends_with("(no units installed yet)\n"));
        let long = "x".repeat(100);
        let text = table(&[row("a", &long, 0, None)], at("2026-12-06T10:00:00Z"));
        assert!(text.contains(&format!("{}…", "x".repeat(CELL_MAX - 1))), "{text}");
        assert!(!text.contains(&long));
    }

    #[test]
    fn ages_read_like_kubectls() {
        let now = at("2026-12-08T10:00:00Z");
        assert_eq!(age(Some("2026-12-08T09:59:15Z"), now), "45s");
        assert_eq!(age(Some("2026-12-08T09:48:00Z"), now), "12m");
        assert_eq!(age(Some("2026-12-08T07:00:00Z"), now), "3h");
        assert_eq!(age(Some("2026-12-03T10:00:00Z"), now), "5d");
        assert_eq!(age(None, now), "-");
        assert_eq!(age(Some("2026-12-08T10:00:05Z"), now), "0s", "a clock skew is no negative age");
    }

    #[test]
    fn changes_are_new_or_changed_rows_then_gone_ones_and_age_alone_is_no_change() {
        let before = [
            row("greeter", "not ready: 0/1", 0, None),
            row("catalog", "ready: 1/1", 0, None),
            row("old", "ready: 1/1", 0, None),
        ];
        let mut aged = before[1].clone();
        aged.created_at = Some("2026-12-01T00:00:00Z".into());
        let after = [row("greeter", "ready: 1/1", 0, Some("Started: ok")), aged, row("web", "not ready: 0/1", 0, None)];
        let found = changes(&before, &after);
        assert_eq!(found, vec![Change::Now(&after[0]), Change::Now(&after[2]), Change::Gone(&before[2])]);
        let now = at("2026-12-06T10:04:05Z");
        assert_eq!(
            change_line(&found[0], now),
            "10:04:05Z internal/greeter Deployment: ready: 1/1 · restarts 0 · last event: Started: ok"
        );
        assert_eq!(change_line(&found[2], now), "10:04:05Z internal/old Deployment: gone");
        let json = change_json(&found[0], now);
        assert_eq!(json["name"], "greeter");
        assert_eq!(json["ready"], true);
        assert_eq!(json["gone"], false);
        assert_eq!(json["time"], "2026-12-06T10:04:05Z");
    }

    #[test]
    fn the_quota_line_shows_use_against_every_limit() {
        let pairs = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let quota = QuotaUse {
            name: "codex-quota".into(),
            hard: pairs(&[
                ("requests.cpu", "2"),
                ("pods", "20"),
                ("requests.memory", "4Gi"),
                ("requests.storage", "10Gi"),
            ]),
            used: pairs(&[
                ("pods", "7"),
                ("requests.cpu", "70m"),
                ("requests.memory", "448Mi"),
                ("requests.storage", "2Gi"),
            ]),
        };
        assert_eq!(
            quota_line(&quota),
            "quota codex-quota: pods 7/20, requests.cpu 70m/2, requests.memory 448Mi/4Gi, requests.storage 2Gi/10Gi"
        );
        let uncounted = QuotaUse { used: Default::default(), ..quota };
        assert!(quota_line(&uncounted).starts_with("quota codex-quota: pods -/20, "));
        let empty = QuotaUse { hard: Default::default(), ..uncounted };
        assert_eq!(quota_line(&empty), "quota codex-quota: no limits");
    }

    #[test]
    fn a_restart_alone_is_a_change() {
        let before = [row("greeter", "ready: 1/1", 0, Some("Started: ok"))];
        let after = [row("greeter", "ready: 1/1", 1, Some("Started: ok"))];
        assert_eq!(changes(&before, &after).len(), 1);
        assert!(changes(&after, &after).is_empty());
    }
}
