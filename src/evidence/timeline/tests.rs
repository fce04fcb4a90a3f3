use super::*;
use crate::evidence::record::WaveEvidence;

fn unit(name: &str, created: Option<&str>, ready: Option<&str>) -> UnitEvidence {
    UnitEvidence {
        name: name.into(),
        kind: "Deployment".into(),
        wave: 0,
        depends_on: Vec::new(),
        created_at: created.map(String::from),
        ready_at: ready.map(String::from),
        observed: vec!["deployment available (1/1)".into()],
        objects: Vec::new(),
    }
}

fn phase(name: &str, result: PhaseResult, start: &str, ready: Option<&str>, units: Vec<UnitEvidence>) -> PhaseEvidence {
    PhaseEvidence {
        name: name.into(),
        release: format!("codex-{name}"),
        revision: Some(3),
        values_digest: "0".repeat(64),
        result,
        started_at: start.into(),
        ready_at: ready.map(String::from),
        units,
        waves: Vec::new(),
        error: None,
        helm_pending: false,
    }
}

/// A run of 100 s: stateful 0–40 s, internal 40–100 s with `api` failing.
fn record() -> EvidenceRecord {
    let mut internal = phase(
        "internal",
        PhaseResult::Failed,
        "2026-11-27T10:00:40Z",
        None,
        vec![unit("api", Some("2026-11-27T10:00:50Z"), None), unit("worker", None, Some("2026-11-27T10:01:00Z"))],
    );
    internal.error = Some(
        "phase internal failed: not ready within 60s\nunit api (Deployment) is not ready:\n  pod api-1: CrashLoopBackOff <exit 1>\nunit other (Job) is not ready:\n  job failed\n".into(),
    );
    EvidenceRecord {
        run_id: "20261127t100000z-0001".into(),
        trigger: "up".into(),
        tool_version: "0.1.0".into(),
        input_digest: "f".repeat(64),
        project: "shop".into(),
        env: "prod".into(),
        slot: String::new(),
        issue: String::new(),
        namespace: "codex-prod".into(),
        namespace_uid: "uid".into(),
        namespace_decision: "created".into(),
        started_at: "2026-11-27T10:00:00Z".into(),
        finished_at: Some("2026-11-27T10:01:40Z".into()),
        result: RunResult::Failed,
        inputs: Default::default(),
        secrets: Vec::new(),
        phases: vec![
            phase(
                "stateful",
                PhaseResult::Deployed,
                "2026-11-27T10:00:00Z",
                Some("2026-11-27T10:00:40Z"),
                vec![unit("db <main> & \"co\"", Some("2026-11-27T10:00:10Z"), Some("2026-11-27T10:00:30Z"))],
            ),
            internal,
        ],
    }
}

/// The `<rect …>` of the group whose data-name is `name`.
fn rect_of<'a>(svg: &'a str, name: &str) -> &'a str {
    let at = svg.find(&format!(r#"data-name="{name}""#)).unwrap_or_else(|| panic!("no {name} in {svg}"));
    let rect = at + svg[at..].find("<rect").unwrap();
    &svg[rect..rect + svg[rect..].find("</rect>").unwrap()]
}

fn attribute(element: &str, name: &str) -> f64 {
    let at = element.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    element[at..at + element[at..].find('"').unwrap()].parse().unwrap()
}

#[test]
fn bars_are_proportional_to_time() {
    let svg = svg(&[record()]).unwrap();
    let chart = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
    // The run spans 100 s: stateful 0–40 s, its unit 10–30 s, internal 40–100 s.
    let stateful = rect_of(&svg, "stateful");
    assert!((attribute(stateful, "x") - LABEL_WIDTH).abs() < 0.11, "{stateful}");
    assert!((attribute(stateful, "width") - 0.4 * chart).abs() < 0.11, "{stateful}");
    let db = rect_of(&svg, "db &lt;main&gt; &amp; &quot;co&quot; (Deployment)");
    assert!((attribute(db, "x") - (LABEL_WIDTH + 0.1 * chart)).abs() < 0.11, "{db}");
    assert!((attribute(db, "width") - 0.2 * chart).abs() < 0.11, "{db}");
    let internal = rect_of(&svg, "internal");
    assert!((attribute(internal, "x") - (LABEL_WIDTH + 0.4 * chart)).abs() < 0.11, "{internal}");
    assert!((attribute(internal, "width") - 0.6 * chart).abs() < 0.11, "{internal}");
}

#[test]
fn a_failed_unit_is_red_with_its_own_reason_on_hover() {
    let svg = svg(&[record()]).unwrap();
    let api = rect_of(&svg, "api (Deployment)");
    assert!(api.contains(&format!(r#"fill="{FAILED}""#)), "{api}");
    assert!(api.contains("CrashLoopBackOff &lt;exit 1&gt;"), "{api}");
    assert!(!api.contains("job failed"), "another unit's reason leaked in: {api}");
    // Open until its phase closed at 100 s, from its creation at 50 s.
    let chart = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
    assert!((attribute(api, "width") - 0.5 * chart).abs() < 0.11, "{api}");
    let worker = rect_of(&svg, "worker (Deployment)");
    assert!(worker.contains(&format!(r#"fill="{UNIT_READY}""#)), "{worker}");
    assert!(rect_of(&svg, "internal").contains(&format!(r#"fill="{FAILED}""#)));
    // A report that names no unit (a Helm failure) is the reason of every unready unit.
    assert_eq!(
        unit_reason("phase x failed: helm upgrade: timed out\n", "api"),
        "phase x failed: helm upgrade: timed out"
    );
    assert_eq!(
        unit_reason("phase x failed\nunit api (Job) is not ready:\n  job failed\n", "api"),
        "phase x failed\nunit api (Job) is not ready:\n  job failed"
    );
}

#[test]
fn output_is_deterministic_and_escaped() {
    let records = [record(), record()];
    let first = svg(&records).unwrap();
    assert_eq!(first, svg(&records).unwrap());
    assert!(!first.contains("db <main>"), "unescaped name");
    assert!(first.contains("db &lt;main&gt; &amp; &quot;co&quot;"));
    assert_eq!(first.matches(r#"class="run""#).count(), 2);
    assert!(first.contains(">rev 3<"), "Helm revision missing");
    assert!(first.contains("· 2026-11-27 10:00:00 UTC · took 1m40s<"), "{first}");
}

#[test]
fn waves_are_drawn_with_their_revision_and_gate() {
    let mut record = record();
    record.phases[0].waves = vec![
        WaveEvidence {
            wave: 0,
            units: vec!["db".into()],
            revision: Some(1),
            started_at: "2026-11-27T10:00:00Z".into(),
            ready_at: Some("2026-11-27T10:00:20Z".into()),
        },
        WaveEvidence {
            wave: 1,
            units: vec!["cache".into()],
            revision: Some(2),
            started_at: "2026-11-27T10:00:20Z".into(),
            ready_at: None,
        },
    ];
    let svg = svg(&[record]).unwrap();
    assert_eq!(svg.matches(r#"<g class="wave">"#).count(), 2);
    assert!(svg.contains(">wave 1 · rev 2<"));
    assert!(svg.contains("wave 0 · rev 1 gate passed +20s"));
}

#[test]
fn a_bad_time_is_a_typed_error_not_a_panic() {
    let mut bad = record();
    bad.phases[1].units[0].created_at = Some("yesterday".into());
    let error = svg(&[bad]).unwrap_err();
    assert_eq!(
        error,
        TimelineError::BadTime {
            run: "20261127t100000z-0001".into(),
            field: "unit api createdAt".into(),
            value: "yesterday".into()
        }
    );
    // Nothing at all, and a run without phases, still draw.
    assert!(svg(&[]).unwrap().contains("no evidence records"));
    let mut empty = record();
    empty.phases.clear();
    empty.finished_at = None;
    let unfinished = svg(&[empty]).unwrap();
    assert!(unfinished.contains(r#"class="run""#) && unfinished.contains("· not finished<"), "{unfinished}");
}

#[test]
fn html_is_self_contained() {
    let page = html(&[record()]).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(page.contains("failed (hover for the reason)"));
    for remote in ["<script", "http://", "https://", "@import", "url("] {
        let outside_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
        assert!(!outside_svg_namespace.contains(remote), "{remote} in the page");
    }
}

#[test]
fn hooks_end_when_the_unit_was_seen_ready() {
    let mut record = record();
    record.phases[0].units[0].observed = vec![
        "statefulset ready (1/1)".into(),
        "tcp connect :5432 passed after 5.0s".into(),
        "job db-hook-1 succeeded after 5.0s".into(),
    ];
    let svg = svg(&[record]).unwrap();
    let chart = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
    // The unit was ready at 30 s: the job hook ran 25–30 s, the TCP one 20–25 s.
    let hooks: Vec<(f64, f64)> = svg
        .match_indices(r#"<rect class="hook""#)
        .map(|(at, _)| {
            let element = &svg[at..at + svg[at..].find('>').unwrap()];
            (attribute(element, "x"), attribute(element, "width"))
        })
        .collect();
    assert_eq!(hooks.len(), 2, "{svg}");
    assert!((hooks[0].0 - (LABEL_WIDTH + 0.2 * chart)).abs() < 0.11, "{hooks:?}");
    assert!((hooks[1].0 - (LABEL_WIDTH + 0.25 * chart)).abs() < 0.11, "{hooks:?}");
    assert!((hooks[1].1 - 0.05 * chart).abs() < 0.11, "{hooks:?}");
    assert!(svg.contains("<title>hook tcp connect :5432 passed after 5.0s</title>"));
    assert_eq!(hook_seconds("http GET :http/readyz -> 200 passed after 1.25s"), Some(1.25));
    assert_eq!(hook_seconds("deployment available (1/1)"), None);
    assert_eq!(hook_seconds("x passed after NaNs"), None);
}

#[test]
fn ticks_are_readable() {
    assert_eq!(tick_step(100.0), 10.0);
    assert_eq!(tick_step(3.0), 1.0);
    assert_eq!(tick_label(90.0), "+1m30s");
    assert_eq!(tick_label(7260.0), "+2h01m");
}
