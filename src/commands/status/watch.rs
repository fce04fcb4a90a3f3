//! `status --watch`: follows an environment's units until Ctrl-C or `--watch-timeout`.
//!
//! Watches on the namespace's workloads, pods and events say *when* to look again; each
//! burst of watch events (a rollout sends dozens) is answered with one fresh snapshot of the
//! rows, so what is shown is always judged by the same rules as `status` and `up`.

use crate::cli::OutputFormat;
use crate::cluster::unit_rows::{self, UnitRow};
use crate::ui::status_table;
use anyhow::Result;
use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::{watcher, WatchStreamExt};
use kube::Client;
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tokio::time::Instant;

/// How long to let a burst of watch events settle before reading the rows again.
const SETTLE: Duration = Duration::from_millis(300);
/// How often a terminal table is redrawn without any event, so ages move on.
const REDRAW: Duration = Duration::from_secs(5);

/// A watch event of any kind, or a watch that failed (and is being retried with backoff).
type Trigger = std::result::Result<(), String>;

pub async fn watch(client: &Client, namespace: &str, output: OutputFormat, timeout: Option<Duration>) -> Result<()> {
    let live_table = output == OutputFormat::Text && std::io::stdout().is_terminal();
    let mut triggers = triggers(client, namespace);
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut shown: Vec<UnitRow> = Vec::new();
    let mut first = true;
    let mut watch_failure: Option<String> = None;
    // One listener for the whole watch, so a Ctrl-C that arrives while rows are read counts.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        match unit_rows::snapshot(client, namespace).await {
            Ok(rows) => {
                show(namespace, &shown, &rows, output, live_table, first, watch_failure.as_deref(), timeout);
                shown = rows;
                first = false;
            }
            // A flaky API server is what one watches through: say so, keep the last rows.
            Err(err) => eprintln!("status --watch: reading {namespace} failed, retrying: {err:#}"),
        }
        let wake = tokio::select! {
            _ = &mut ctrl_c => None,
            _ = sleep_until(deadline) => None,
            _ = tokio::time::sleep(REDRAW), if live_table => Some(None),
            next = triggers.next() => Some(next),
        };
        match wake {
            None => break,
            Some(None) => {}
            Some(Some(Err(why))) => {
                if watch_failure.as_deref() != Some(why.as_str()) && !live_table {
                    eprintln!("status --watch: a watch failed, retrying: {why}");
                }
                watch_failure = Some(why);
            }
            Some(Some(Ok(()))) => {
                watch_failure = None;
                settle(&mut triggers).await;
            }
        }
    }
    if !live_table && output == OutputFormat::Text {
        println!("{} watch ended", Timestamp::now().strftime("%H:%M:%SZ"));
    }
    Ok(())
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits `SETTLE`, then swallows whatever arrived meanwhile.
async fn settle(triggers: &mut SelectAll<BoxStream<'static, Trigger>>) {
    tokio::time::sleep(SETTLE).await;
    while let Some(Some(_)) = triggers.next().now_or_never() {}
}

/// One stream of triggers from watches on every kind a row is made from.
fn triggers(client: &Client, namespace: &str) -> SelectAll<BoxStream<'static, Trigger>> {
    fn follow<K>(client: &Client, namespace: &str) -> BoxStream<'static, Trigger>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + Send
            + 'static,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(client.clone(), namespace);
        watcher(api, watcher::Config::default())
            .default_backoff()
            .map(|event| event.map(|_| ()).map_err(|e| e.to_string()))
            .boxed()
    }
    futures::stream::select_all([
        follow::<Deployment>(client, namespace),
        follow::<StatefulSet>(client, namespace),
        follow::<DaemonSet>(client, namespace),
        follow::<Job>(client, namespace),
        follow::<CronJob>(client, namespace),
        follow::<Pod>(client, namespace),
        follow::<Event>(client, namespace),
    ])
}

#[allow(clippy::too_many_arguments)]
fn show(
    namespace: &str,
    before: &[UnitRow],
    rows: &[UnitRow],
    output: OutputFormat,
    live_table: bool,
    first: bool,
    watch_failure: Option<&str>,
    timeout: Option<Duration>,
) {
    let now = Timestamp::now();
    let mut out = std::io::stdout().lock();
    if live_table {
        // Home and clear, then the whole table: a terminal shows the current state only.
        let ends = match timeout {
            Some(t) => format!("ends after {}", crate::config::duration::format(t)),
            None => "Ctrl-C ends it".to_string(),
        };
        let _ = write!(out, "\x1b[H\x1b[2J");
        let _ = writeln!(out, "namespace {namespace} · {} · watching, {ends}", now.strftime("%H:%M:%SZ"));
        if let Some(why) = watch_failure {
            let _ = writeln!(out, "(a watch failed and is retried: {why})");
        }
        let _ = writeln!(out);
        let _ = write!(out, "{}", status_table::table(rows, now));
    } else {
        match output {
            OutputFormat::Json => {
                for change in status_table::changes(before, rows) {
                    let _ = writeln!(out, "{}", status_table::change_json(&change, now));
                }
            }
            OutputFormat::Text if first => {
                let _ = writeln!(out, "namespace {namespace} at {now}");
                let _ = write!(out, "{}", status_table::table(rows, now));
            }
            OutputFormat::Text => {
                for change in status_table::changes(before, rows) {
                    let _ = writeln!(out, "{}", status_table::change_line(&change, now));
                }
            }
        }
    }
    let _ = out.flush();
}
