//! `kubectl codex evidence --from-file … --svg/--html`: the timeline of committed evidence
//! records (tests/fixtures/timeline/records.json, two runs of a shop stack: a deploy, then a
//! revise whose `orders` unit crash-loops), drawn without a cluster, and its HTML rendered by
//! real headless Chromium and compared pixel by pixel with docs/timeline.png.
//!
//! `CODEX_TEST_UPDATE_REFERENCE=1 cargo test --test tests -- timeline::` rewrites docs/timeline.png after
//! a deliberate change of the picture (then look at it before committing).

use crate::support::{codex_command, host_tool, png, root, text};

use kubectl_codex::evidence::record::EvidenceRecord;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture() -> PathBuf {
    root().join("tests/fixtures/timeline/records.json")
}

fn codex(args: &[&str]) -> Output {
    codex_command(args)
        // Nothing here may reach a cluster: a kubeconfig that names none.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("the binary runs")
}

/// Writes the fixture's pictures into `dir`; returns (svg, html) text.
fn draw(dir: &Path) -> (String, String) {
    let (svg, html) = (dir.join("timeline.svg"), dir.join("timeline.html"));
    let out = codex(&[
        "evidence",
        "--from-file",
        fixture().to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("timeline of 2 run(s) written to"), "{}", text(&out.stdout));
    (std::fs::read_to_string(svg).unwrap(), std::fs::read_to_string(html).unwrap())
}

#[test]
fn the_fixture_draws_both_runs_with_the_failure_and_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (svg, html) = draw(dir.path());
    assert!(svg.contains(r#"data-run="20261127t101500z-1a2b""#) && svg.contains(r#"data-run="20261127t110230z-3c4d""#));
    // A row per phase and unit: 5 + 9 in the deploy, 3 + 7 in the failed revise.
    assert_eq!(svg.matches(r#"<g class="phase""#).count(), 8, "{svg}");
    assert_eq!(svg.matches(r#"<g class="unit""#).count(), 16, "{svg}");
    // The crash-looping unit is red, its own reason on hover, escaped.
    let failed = svg.rfind(r#"data-name="orders (Deployment)""#).unwrap();
    let failed = &svg[failed..failed + svg[failed..].find("</g>").unwrap()];
    assert!(failed.contains(r##"fill="#d32f2f""##), "{failed}");
    assert!(
        failed.contains("CrashLoopBackOff") && failed.contains("catalog &lt;nil&gt;: no such host &amp; retries"),
        "{failed}"
    );
    // Waves with their Helm revisions, the phases' revisions.
    assert!(svg.contains(">wave 1 · rev 4<") && svg.contains(">rev 2<"), "{svg}");
    assert!(html.contains(&svg), "the page carries the SVG as is");
    assert!(!html.contains("<script") && !html.contains("https://"), "self-contained");
    // Deterministic: the same records draw the same bytes.
    let again = tempfile::tempdir().unwrap();
    assert_eq!(draw(again.path()), (svg, html));
}

#[test]
fn from_file_lists_the_records_like_the_cluster_command() {
    let out = codex(&["evidence", "--from-file", fixture().to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    assert_eq!(printed, committed, "the -o json output is the --from-file input");
    let one = codex(&["evidence", "--from-file", fixture().to_str().unwrap(), "--run", "20261127t110230z-3c4d"]);
    let listing = text(&one.stdout);
    assert!(listing.contains("run 20261127t110230z-3c4d (revise 19) failed"), "{listing}");
    assert!(!listing.contains("20261127t101500z-1a2b"), "{listing}");
}

#[test]
fn unreadable_or_wrong_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = codex(&["evidence", "--from-file", "/nonexistent/records.json"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
    let wrong = dir.path().join("wrong.json");
    std::fs::write(&wrong, r#"{"runId": 7}"#).unwrap();
    let out = codex(&["evidence", "--from-file", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not evidence records"), "{}", text(&out.stderr));
    let unknown = codex(&["evidence", "--from-file", fixture().to_str().unwrap(), "--run", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    let bad_time = dir.path().join("bad.json");
    let records = std::fs::read_to_string(fixture()).unwrap().replacen("2026-11-27T10:15:02Z", "soon", 1);
    std::fs::write(&bad_time, records).unwrap();
    let svg = dir.path().join("x.svg");
    let out = codex(&["evidence", "--from-file", bad_time.to_str().unwrap(), "--svg", svg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unit postgres createdAt \"soon\""), "{}", text(&out.stderr));
    let verify = codex(&["evidence", "--from-file", fixture().to_str().unwrap(), "--verify"]);
    assert_eq!(verify.status.code(), Some(64), "--verify needs the cluster's Helm history");
}

#[test]
fn a_listing_of_odd_records_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.json");
    // A digest shorter than the 12 characters shown, and one whose 12th byte is inside a character.
    let records = std::fs::read_to_string(fixture()).unwrap().replacen(
        "9b1e4c7d2a6f0000000000000000000000000000000000000000000000000000",
        "9b1e",
        1,
    );
    std::fs::write(
        &odd,
        records.replacen("9b1e4c7d2a6f0000000000000000000000000000000000000000000000000000", "aéééééé", 1),
    )
    .unwrap();
    let out = codex(&["evidence", "--from-file", odd.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("input 9b1e\n") && text(&out.stdout).contains("input aéééééé\n"));
}

proptest::proptest! {
    /// Any names, kinds, reasons and times (as long as they are times) draw without a panic,
    /// and nothing from the record reaches the SVG unescaped.
    #[test]
    fn any_record_draws_escaped(
        name in ".{0,12}",
        kind in ".{0,8}",
        reason in ".{0,40}",
        offsets in proptest::collection::vec(0u32..5_000_000, 4),
        ready in proptest::bool::ANY,
    ) {
        let base = "2026-11-27T10:00:00Z".parse::<k8s_openapi::jiff::Timestamp>().unwrap();
        let at = |ms: u32| (base + k8s_openapi::jiff::SignedDuration::from_millis(ms as i64)).to_string();
        let mut records: Vec<EvidenceRecord> =
            serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
        let record = &mut records[1];
        record.started_at = at(offsets[0]);
        let phase = &mut record.phases[2];
        phase.started_at = at(offsets[1]);
        phase.error = Some(reason.clone());
        let unit = &mut phase.units[2];
        unit.name = name.clone();
        unit.kind = kind.clone();
        unit.created_at = Some(at(offsets[2]));
        unit.ready_at = ready.then(|| at(offsets[3]));
        let svg = kubectl_codex::evidence::timeline::svg(&records[1..]).unwrap();
        let label = format!("{name} ({kind})");
        let escaped = kubectl_codex::evidence::timeline::escape(&label);
        let attribute = format!("data-name=\"{escaped}\"");
        proptest::prop_assert!(svg.contains(&attribute), "{} missing", attribute);
        if label.contains(['<', '&', '"']) {
            proptest::prop_assert!(!svg.contains(&label));
        }
        proptest::prop_assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}

const WINDOW: (usize, usize) = (1200, 760);
/// A pixel differs when a channel is further apart than this (anti-aliasing moves less).
const CHANNEL_TOLERANCE: u8 = 48;
/// At most this share of the drawn pixels may differ (font hinting and Chromium versions move
/// text a little; a moved bar or another colour moves much more).
const MAX_DIFFERING: f64 = 0.02;

/// Chromium's screenshot of `page`, a `WINDOW`-sized PNG.
fn screenshot(chromium: &Path, page: &Path, out: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--font-render-hinting=none",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", chromium.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let stderr = child.wait_with_output().map(|o| text(&o.stderr)).unwrap_or_default();
            assert!(status.success() && out.is_file(), "chromium failed ({status}): {stderr}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium took more than 120s to take a screenshot");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_near(pixel: [u8; 3], colour: [u8; 3]) -> bool {
    pixel.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 8)
}

#[test]
fn chromium_renders_the_timeline_like_the_reference() {
    let chromium = host_tool::host_tool("CODEX_TEST_CHROMIUM", "chromium");
    let dir = tempfile::tempdir().unwrap();
    draw(dir.path());
    let shot = dir.path().join("shot.png");
    screenshot(&chromium, &dir.path().join("timeline.html"), &shot);
    let reference_path = root().join("docs/timeline.png");
    if std::env::var_os("CODEX_TEST_UPDATE_REFERENCE").is_some() {
        std::fs::copy(&shot, &reference_path).unwrap();
    }
    let actual = png::decode(&std::fs::read(&shot).unwrap()).unwrap();
    let reference = png::decode(&std::fs::read(&reference_path).unwrap()).unwrap();
    assert_eq!((actual.width, actual.height), WINDOW, "screenshot size");
    assert_eq!((reference.width, reference.height), WINDOW, "reference size");
    // The picture is really there: red of the failed unit and phase, green of the deployed ones.
    let red = actual.rgb.iter().filter(|p| is_near(**p, [0xd3, 0x2f, 0x2f])).count();
    let green = actual.rgb.iter().filter(|p| is_near(**p, [0x2e, 0x7d, 0x32])).count();
    assert!(red > 2_000 && green > 2_000, "red {red} and green {green} pixels: the timeline did not render");
    // Most of the page is white, so the share is taken of the drawn pixels (not white in
    // either image): a bar moved by a few per cent of the width must not hide in the margin.
    let white = |p: &[u8; 3]| p.iter().all(|c| *c >= 0xf0);
    let drawn = actual.rgb.iter().zip(&reference.rgb).filter(|(a, b)| !white(a) || !white(b)).count();
    let differing = actual
        .rgb
        .iter()
        .zip(&reference.rgb)
        .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE))
        .count();
    let share = differing as f64 / drawn.max(1) as f64;
    eprintln!("{differing} of {drawn} drawn pixels ({:.2}%) differ from docs/timeline.png", share * 100.0);
    assert!(
        share <= MAX_DIFFERING,
        "{:.2}% of the drawn pixels differ from docs/timeline.png (at most {:.0}% may); the screenshot is {}",
        share * 100.0,
        MAX_DIFFERING * 100.0,
        keep(&shot).display()
    );
}

/// Keeps a failing screenshot where it can be looked at.
fn keep(shot: &Path) -> PathBuf {
    let kept = std::env::temp_dir().join("kubectl-codex-timeline-actual.png");
    let _ = std::fs::copy(shot, &kept);
    kept
}
