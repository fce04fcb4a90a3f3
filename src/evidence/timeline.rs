//! The timeline picture of evidence records: `kubectl codex evidence --svg/--html`.
//!
//! A pure function from records to SVG text: one section per run, a row per phase and per unit,
//! bars from start to ready on the run's own time scale (runs can be hours apart, so they do
//! not share one axis). Wave starts (each a Helm revision) are dashed lines, gate instants
//! (the moment a wave or phase was seen ready) diamonds. Failures are red; the reason is the
//! bar's `<title>`, which browsers show on hover. Nothing is fetched: no script, no web font.

use super::record::{EvidenceRecord, PhaseEvidence, PhaseResult, RunResult, UnitEvidence};
use k8s_openapi::jiff::Timestamp;
use std::fmt::Write as _;

/// Why a record cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    #[error("run {run}: {field} {value:?} is not an RFC 3339 time")]
    BadTime { run: String, field: String, value: String },
}

/// Total width of the picture; the chart area is what is left of the label column.
pub const WIDTH: f64 = 1200.0;
const LABEL_WIDTH: f64 = 300.0;
const RIGHT_MARGIN: f64 = 70.0;
const ROW_HEIGHT: f64 = 20.0;
const BAR_HEIGHT: f64 = 14.0;
const RUN_HEADER: f64 = 46.0;
const RUN_GAP: f64 = 18.0;

/// Fill colours by outcome; the HTML legend uses the same ones.
pub const DEPLOYED: &str = "#2e7d32";
pub const UNIT_READY: &str = "#66bb6a";
pub const SKIPPED: &str = "#9e9e9e";
pub const FAILED: &str = "#d32f2f";
pub const RUNNING: &str = "#f9a825";
pub const WAVE: &str = "#1565c0";
pub const HOOK: &str = "#00695c";

/// Seconds since the Unix epoch, to the nanosecond, of an RFC 3339 text.
fn seconds(run: &str, field: &str, value: &str) -> Result<f64, TimelineError> {
    value.parse::<Timestamp>().map(|t| t.as_nanosecond() as f64 / 1e9).map_err(|_| TimelineError::BadTime {
        run: run.to_string(),
        field: field.to_string(),
        value: value.to_string(),
    })
}

fn optional(run: &str, field: &str, value: Option<&String>) -> Result<Option<f64>, TimelineError> {
    value.map(|v| seconds(run, field, v)).transpose()
}

/// Escapes text for element content and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even escaped; a reason's tabs and
            // newlines stay, anything else becomes a space.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One run's time scale: seconds since its start mapped onto the chart area.
struct Scale {
    origin: f64,
    span: f64,
}

impl Scale {
    fn x(&self, t: f64) -> f64 {
        let fraction = ((t - self.origin) / self.span).clamp(0.0, 1.0);
        LABEL_WIDTH + fraction * (WIDTH - LABEL_WIDTH - RIGHT_MARGIN)
    }
}

/// One bar of the chart, in seconds, with what it means.
struct Bar {
    label: String,
    start: f64,
    end: f64,
    fill: &'static str,
    /// Hover text: the outcome and, for a failure, its reason.
    title: String,
    /// Whether this is a phase (bold label, taller bar) or one of its units.
    phase: bool,
    /// Text right of the bar: the Helm revision of a phase.
    note: String,
    /// Gate instant drawn as a diamond at the bar's end.
    gate: Option<f64>,
    /// The readiness hooks the unit passed, at the end of its bar.
    hooks: Vec<HookSpan>,
}

/// A readiness hook that passed: it ran for the time it reports, ending with the next one's
/// start or, for the last, when the unit was seen ready (hooks run one after another).
struct HookSpan {
    start: f64,
    end: f64,
    text: String,
}

/// A line of the chart: a bar, or the lane under a phase's units where its waves are labelled.
enum Row {
    Bar(Bar),
    WaveLane,
}

/// A wave start (a Helm revision) and its gate instant.
struct WaveMark {
    /// The phase's row; the wave line runs down to its lane.
    row: usize,
    lane: usize,
    label: String,
    start: f64,
    ready: Option<f64>,
}

struct RunLayout<'a> {
    record: &'a EvidenceRecord,
    scale: Scale,
    rows: Vec<Row>,
    waves: Vec<WaveMark>,
}

/// The reason a unit did not become ready: its own paragraph of the phase's error report
/// (which names each suspect as `unit NAME (kind) is not ready:`), else the whole report.
pub fn unit_reason(phase_error: &str, unit: &str) -> String {
    let head = format!("unit {unit} (");
    // The report's first line says what failed ("phase internal failed: not ready within 60s").
    let first = phase_error.lines().next().unwrap_or_default();
    let mut section: Vec<&str> = Vec::new();
    let mut inside = false;
    for line in phase_error.lines() {
        if line.starts_with("unit ") && line.contains(" is not ready") {
            inside = line.starts_with(&head);
        }
        if inside {
            section.push(line);
        }
    }
    if section.is_empty() {
        phase_error.trim_end().to_string()
    } else {
        format!("{first}\n{}", section.join("\n").trim_end())
    }
}

fn layout(record: &EvidenceRecord) -> Result<RunLayout<'_>, TimelineError> {
    let run = record.run_id.as_str();
    let origin = seconds(run, "startedAt", &record.started_at)?;
    let finished = optional(run, "finishedAt", record.finished_at.as_ref())?;
    let mut latest = origin;
    let mut rows = Vec::new();
    let mut waves = Vec::new();
    for phase in &record.phases {
        let field = |what: &str| format!("phase {} {what}", phase.name);
        let started = seconds(run, &field("startedAt"), &phase.started_at)?;
        let ready = optional(run, &field("readyAt"), phase.ready_at.as_ref())?;
        let phase_row = rows.len();
        let lane = phase_row + phase.units.len() + 1;
        let mut phase_end = ready.unwrap_or(started);
        for wave in &phase.waves {
            let start = seconds(run, &field(&format!("wave {} startedAt", wave.wave)), &wave.started_at)?;
            let wave_ready = optional(run, &field(&format!("wave {} readyAt", wave.wave)), wave.ready_at.as_ref())?;
            phase_end = phase_end.max(start).max(wave_ready.unwrap_or(start));
            let revision = wave.revision.map_or("-".to_string(), |r| r.to_string());
            waves.push(WaveMark {
                row: phase_row,
                lane,
                label: format!("wave {} · rev {revision}", wave.wave),
                start,
                ready: wave_ready,
            });
        }
        let mut unit_bars = Vec::new();
        for unit in &phase.units {
            let bar = unit_bar(run, phase, unit, started)?;
            phase_end = phase_end.max(bar.end);
            unit_bars.push(bar);
        }
        if ready.is_none() {
            // A failed or killed phase lasted until the run ended, if that is later than anything seen.
            phase_end = phase_end.max(finished.unwrap_or(phase_end));
        }
        for bar in &mut unit_bars {
            // A unit never seen ready stays open until its phase closed.
            if bar.gate.is_none() {
                bar.end = bar.end.max(phase_end);
            }
        }
        latest = latest.max(phase_end);
        rows.push(Row::Bar(phase_bar(phase, started, phase_end, ready)));
        rows.extend(unit_bars.into_iter().map(Row::Bar));
        if !phase.waves.is_empty() {
            rows.push(Row::WaveLane);
        }
    }
    latest = latest.max(finished.unwrap_or(latest));
    let span = (latest - origin).max(1.0);
    Ok(RunLayout { record, scale: Scale { origin, span }, rows, waves })
}

fn phase_bar(phase: &PhaseEvidence, start: f64, end: f64, ready: Option<f64>) -> Bar {
    let fill = match phase.result {
        PhaseResult::Deployed => DEPLOYED,
        PhaseResult::Skipped => SKIPPED,
        PhaseResult::Failed => FAILED,
        PhaseResult::Running => RUNNING,
    };
    let revision = phase.revision.map_or("-".to_string(), |r| r.to_string());
    let mut title =
        format!("phase {} {} · release {} revision {revision}", phase.name, phase.result.as_str(), phase.release);
    if let Some(error) = &phase.error {
        title.push('\n');
        title.push_str(error.trim_end());
    }
    Bar {
        label: phase.name.clone(),
        start,
        end,
        fill,
        title,
        phase: true,
        note: format!("rev {revision}"),
        gate: ready,
        hooks: Vec::new(),
    }
}

/// A unit's bar runs from its first object's creation (else its wave's start, else its
/// phase's) to when it was seen ready; the hooks it passed are part of that time.
fn unit_bar(run: &str, phase: &PhaseEvidence, unit: &UnitEvidence, phase_start: f64) -> Result<Bar, TimelineError> {
    let field = |what: &str| format!("unit {} {what}", unit.name);
    let wave_start = phase
        .waves
        .iter()
        .find(|w| w.wave == unit.wave)
        .map(|w| seconds(run, &field("wave startedAt"), &w.started_at))
        .transpose()?;
    let start = optional(run, &field("createdAt"), unit.created_at.as_ref())?.or(wave_start).unwrap_or(phase_start);
    let ready = optional(run, &field("readyAt"), unit.ready_at.as_ref())?;
    let hooks = ready.map(|ready| hook_spans(&unit.observed, ready)).unwrap_or_default();
    let label = format!("{} ({})", unit.name, unit.kind);
    let (fill, outcome) = match (ready, phase.result) {
        (Some(_), PhaseResult::Skipped) => (SKIPPED, "unchanged"),
        (Some(_), _) => (UNIT_READY, "ready"),
        (None, PhaseResult::Failed) => (FAILED, "not ready"),
        (None, PhaseResult::Skipped) => (SKIPPED, "unchanged"),
        (None, _) => (RUNNING, "not ready yet"),
    };
    let mut title = format!("{} {outcome} · wave {}", unit.name, unit.wave);
    if !unit.depends_on.is_empty() {
        title.push_str(&format!(" · after {}", unit.depends_on.join(", ")));
    }
    for seen in &unit.observed {
        title.push_str(&format!("\n✓ {seen}"));
    }
    if fill == FAILED {
        let reason = phase.error.as_deref().map_or("the phase failed".to_string(), |e| unit_reason(e, &unit.name));
        title.push('\n');
        title.push_str(&reason);
    }
    Ok(Bar {
        label,
        start,
        end: ready.unwrap_or(start),
        fill,
        title,
        phase: false,
        note: String::new(),
        gate: ready,
        hooks,
    })
}

/// How long a passed hook ran, from its evidence line: `… passed after 2.5s` (HTTP, TCP)
/// or `job NAME succeeded after 2.5s`.
pub fn hook_seconds(observed: &str) -> Option<f64> {
    let (_, after) = observed.rsplit_once(" passed after ").or_else(|| observed.rsplit_once(" succeeded after "))?;
    after.strip_suffix('s')?.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0)
}

/// The unit's hooks laid out backwards from when it was seen ready.
fn hook_spans(observed: &[String], ready: f64) -> Vec<HookSpan> {
    let mut end = ready;
    let mut spans: Vec<HookSpan> = observed
        .iter()
        .rev()
        .filter_map(|text| {
            let start = end - hook_seconds(text)?;
            let span = HookSpan { start, end, text: text.clone() };
            end = start;
            Some(span)
        })
        .collect();
    spans.reverse();
    spans
}

/// A readable axis step: the smallest of 1 s, 2 s, 5 s, 10 s, … giving at most ten ticks.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 14] =
        [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0];
    STEPS.into_iter().find(|s| span / s <= 10.0).unwrap_or((span / 10.0 / 3600.0).ceil() * 3600.0)
}

fn tick_label(offset: f64) -> String {
    let total = offset.round() as u64;
    match (total / 3600, total % 3600 / 60, total % 60) {
        (0, 0, s) => format!("+{s}s"),
        (0, m, 0) => format!("+{m}m"),
        (0, m, s) => format!("+{m}m{s}s"),
        (h, m, _) => format!("+{h}h{m:02}m"),
    }
}

fn run_height(layout: &RunLayout) -> f64 {
    RUN_HEADER + layout.rows.len() as f64 * ROW_HEIGHT
}

/// The SVG of `records`, oldest first as given. Deterministic: the same records give the
/// same bytes.
pub fn svg(records: &[EvidenceRecord]) -> Result<String, TimelineError> {
    let layouts = records.iter().map(layout).collect::<Result<Vec<_>, _>>()?;
    let body_height: f64 = layouts.iter().map(|l| run_height(l) + RUN_GAP).sum();
    let height = (body_height + 10.0).max(60.0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    if layouts.is_empty() {
        let _ = writeln!(out, r##"<text x="20" y="35" fill="#555555">no evidence records</text>"##);
    }
    let mut top = 10.0;
    for layout in &layouts {
        draw_run(&mut out, layout, top);
        top += run_height(layout) + RUN_GAP;
    }
    out.push_str("</svg>\n");
    Ok(out)
}

fn draw_run(out: &mut String, layout: &RunLayout, top: f64) {
    draw_heading(out, layout, top);
    draw_axis(out, layout, top);
    for (row, bar) in layout.rows.iter().enumerate() {
        let y = top + RUN_HEADER + row as f64 * ROW_HEIGHT;
        match bar {
            Row::Bar(bar) => draw_bar(out, &layout.scale, bar, y),
            Row::WaveLane => {
                let _ = writeln!(out, r#"<text x="26" y="{:.1}" font-size="10" fill="{WAVE}">waves</text>"#, y + 14.0);
            }
        }
    }
    for wave in &layout.waves {
        draw_wave(out, &layout.scale, wave, top);
    }
    out.push_str("</g>\n");
}

/// Opens the run's group with its heading: which run, how it ended, when and how long.
fn draw_heading(out: &mut String, layout: &RunLayout, top: f64) {
    let record = layout.record;
    let scale = &layout.scale;
    // The start to the second, in UTC, and how long the run took: the axis shows offsets only.
    let started = record
        .started_at
        .parse::<Timestamp>()
        .map_or(record.started_at.clone(), |t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string());
    let took = match record.finished_at {
        Some(_) => tick_label(scale.span).replacen('+', "took ", 1),
        None => "not finished".to_string(),
    };
    let heading = format!(
        "run {} · {} · {} · namespace {} · {started} · {took}",
        record.run_id, record.trigger, record.result, record.namespace
    );
    let heading_fill = if record.result == RunResult::Failed { FAILED } else { "#212121" };
    let _ = writeln!(
        out,
        r#"<g class="run" data-run="{}"><text x="10" y="{:.1}" font-size="14" font-weight="bold" fill="{heading_fill}">{}</text>"#,
        escape(&record.run_id),
        top + 16.0,
        escape(&heading)
    );
}

/// The axis: a tick per step, labelled as time since the run started.
fn draw_axis(out: &mut String, layout: &RunLayout, top: f64) {
    let scale = &layout.scale;
    let chart_right = WIDTH - RIGHT_MARGIN;
    let axis_y = top + RUN_HEADER - 6.0;
    let rows_bottom = top + run_height(layout);
    let step = tick_step(scale.span);
    let mut tick = 0.0;
    while tick <= scale.span + 1e-9 {
        let x = scale.x(scale.origin + tick);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{axis_y:.1}" x2="{x:.1}" y2="{rows_bottom:.1}" stroke="#e0e0e0"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#757575">{}</text>"##,
            axis_y - 4.0,
            tick_label(tick)
        );
        tick += step;
    }
    let _ = writeln!(
        out,
        r##"<line x1="{LABEL_WIDTH:.1}" y1="{axis_y:.1}" x2="{chart_right:.1}" y2="{axis_y:.1}" stroke="#9e9e9e"/>"##
    );
}

/// One phase or unit row at `y`: its label, its bar, the hooks and gate on it, its note.
fn draw_bar(out: &mut String, scale: &Scale, bar: &Bar, y: f64) {
    let height = if bar.phase { BAR_HEIGHT + 2.0 } else { BAR_HEIGHT - 2.0 };
    let bar_y = y + (ROW_HEIGHT - height) / 2.0;
    let x1 = scale.x(bar.start);
    // A bar of zero length still shows: two pixels wide.
    let width = (scale.x(bar.end) - x1).max(2.0);
    let (indent, weight) = if bar.phase { (10.0, "bold") } else { (26.0, "normal") };
    let kind = if bar.phase { "phase" } else { "unit" };
    let _ = writeln!(
        out,
        r##"<g class="{kind}" data-name="{}"><text x="{indent:.1}" y="{:.1}" font-weight="{weight}" fill="#212121">{}</text><rect x="{x1:.1}" y="{bar_y:.1}" width="{width:.1}" height="{height:.1}" rx="2" fill="{}"><title>{}</title></rect>"##,
        escape(&bar.label),
        y + 15.0,
        escape(&bar.label),
        bar.fill,
        escape(&bar.title)
    );
    for hook in &bar.hooks {
        let hx = scale.x(hook.start);
        let _ = writeln!(
            out,
            r##"<rect class="hook" x="{hx:.1}" y="{bar_y:.1}" width="{:.1}" height="{height:.1}" fill="{HOOK}"><title>hook {}</title></rect>"##,
            (scale.x(hook.end) - hx).max(2.0),
            escape(&hook.text)
        );
    }
    if let Some(gate) = bar.gate {
        let (gx, gy) = (scale.x(gate), bar_y + height / 2.0);
        let _ = writeln!(
            out,
            r##"<path class="gate" d="M{:.1} {gy:.1} L{gx:.1} {:.1} L{:.1} {gy:.1} L{gx:.1} {:.1} Z" fill="#212121"><title>gate passed {}</title></path>"##,
            gx - 4.0,
            gy - 5.0,
            gx + 4.0,
            gy + 5.0,
            tick_label(gate - scale.origin)
        );
    }
    if !bar.note.is_empty() {
        let _ = writeln!(
            out,
            r##"<text class="revision" x="{:.1}" y="{:.1}" font-size="10" fill="#424242">{}</text>"##,
            scale.x(bar.end) + 7.0,
            y + 15.0,
            escape(&bar.note)
        );
    }
    out.push_str("</g>\n");
}

/// A wave's start line across the rows it adds, and the diamond of its gate.
fn draw_wave(out: &mut String, scale: &Scale, wave: &WaveMark, top: f64) {
    let y1 = top + RUN_HEADER + wave.row as f64 * ROW_HEIGHT;
    let y2 = top + RUN_HEADER + (wave.lane + 1) as f64 * ROW_HEIGHT;
    let x = scale.x(wave.start);
    let _ = writeln!(
        out,
        r##"<g class="wave"><line x1="{x:.1}" y1="{y1:.1}" x2="{x:.1}" y2="{y2:.1}" stroke="{WAVE}" stroke-dasharray="4 3"><title>{} started {}</title></line><text x="{:.1}" y="{:.1}" font-size="9" fill="{WAVE}">{}</text>"##,
        escape(&wave.label),
        tick_label(wave.start - scale.origin),
        // Right of the previous wave's gate diamond, which often sits on this line.
        x + 7.0,
        y2 - 6.0,
        escape(&wave.label)
    );
    if let Some(ready) = wave.ready {
        let (gx, gy) = (scale.x(ready), y2 - 10.0);
        let _ = writeln!(
            out,
            r##"<path class="gate" d="M{:.1} {gy:.1} L{gx:.1} {:.1} L{:.1} {gy:.1} L{gx:.1} {:.1} Z" fill="{WAVE}"><title>{} gate passed {}</title></path>"##,
            gx - 4.0,
            gy - 4.0,
            gx + 4.0,
            gy + 4.0,
            escape(&wave.label),
            tick_label(ready - scale.origin)
        );
    }
    out.push_str("</g>\n");
}

/// A self-contained HTML page: a legend and the SVG inline.
pub fn html(records: &[EvidenceRecord]) -> Result<String, TimelineError> {
    let picture = svg(records)?;
    let title = match records {
        [one] => format!("kubectl codex evidence: run {}", one.run_id),
        _ => format!("kubectl codex evidence: {} runs", records.len()),
    };
    let swatch = |fill: &str, text: &str| {
        format!(r#"<span class="item"><span class="swatch" style="background:{fill}"></span>{text}</span>"#)
    };
    let legend = [
        swatch(DEPLOYED, "phase deployed"),
        swatch(UNIT_READY, "unit ready"),
        swatch(SKIPPED, "unchanged (skipped)"),
        swatch(FAILED, "failed (hover for the reason)"),
        swatch(RUNNING, "running / not ready"),
        swatch(HOOK, "readiness hook"),
        r#"<span class="item"><span class="dash"></span>wave start (Helm revision)</span>"#.to_string(),
        r#"<span class="item"><span class="diamond"></span>gate passed</span>"#.to_string(),
    ]
    .join("\n");
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{}</title>
<style>
body {{ margin: 0; padding: 12px 16px; background: #ffffff; color: #212121; font: 13px "DejaVu Sans", Arial, sans-serif; }}
h1 {{ font-size: 16px; margin: 0 0 8px 0; }}
.legend {{ margin: 0 0 8px 0; }}
.item {{ display: inline-block; margin-right: 12px; font-size: 12px; }}
.swatch {{ display: inline-block; width: 14px; height: 10px; margin-right: 5px; border-radius: 2px; }}
.dash {{ display: inline-block; width: 0; height: 12px; margin: 0 6px -2px 2px; border-left: 2px dashed {WAVE}; }}
.diamond {{ display: inline-block; width: 7px; height: 7px; margin: 0 6px 0 2px; background: #212121; transform: rotate(45deg); }}
</style>
</head>
<body>
<h1>{}</h1>
<div class="legend">
{legend}
</div>
{picture}</body>
</html>
"#,
        escape(&title),
        escape(&title)
    ))
}

#[cfg(test)]
mod tests;
