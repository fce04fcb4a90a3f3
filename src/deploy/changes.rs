//! When to look again: watches on the kinds a phase waits for, so the readiness gate reads
//! the cluster right after something changed instead of on a fixed poll.
//!
//! The watches carry only metadata (every status change bumps `resourceVersion`, which is all
//! we need to know that something moved); the readiness rules then read the objects as
//! before. A broken watch is re-established by kube-runtime's backoff, and a slow fallback tick
//! covers kinds no watch follows (a CRD, a custom resource) and a watch that is down.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::core::PartialObjectMeta;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client, Resource};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The longest the gate goes without looking when no watch reported a change.
pub const FALLBACK: Duration = Duration::from_secs(2);
/// The shortest gap between two looks, so that a burst of events costs a few looks rather
/// than one each. Short, because readiness lands in two steps: the pod's update, then its
/// controller's status 20–30 ms later (watched on the local cluster). The look the pod's
/// event starts still sees the old status, and with a 100 ms gap the look that sees the new
/// one could come up to some 75 ms late (derived from those timings, not measured). A large
/// phase's look takes longer than this by itself, so only small phases look this often.
pub const MIN_GAP: Duration = Duration::from_millis(25);

/// Watches on one namespace; dropped, it stops them.
pub struct ChangeFeed {
    signal: ChangeSignal,
    tasks: Vec<JoinHandle<()>>,
}

/// A cheap handle that waits for the next change (or the fallback tick).
#[derive(Clone)]
pub struct ChangeSignal {
    notify: Arc<Notify>,
    last: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
}

impl ChangeSignal {
    fn new() -> ChangeSignal {
        ChangeSignal { notify: Arc::new(Notify::new()), last: Arc::default() }
    }

    /// Returns at the next change seen since the last call (but not sooner than [`MIN_GAP`]
    /// after that call), or after `fallback`. Changes that arrive while nobody waits are kept
    /// (one permit), so none is lost between two looks.
    pub async fn next(&self, fallback: Duration) {
        tokio::select! {
            _ = self.notify.notified() => {}
            _ = tokio::time::sleep(fallback) => {}
        }
        let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = last {
            tokio::time::sleep_until(last + MIN_GAP).await;
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(tokio::time::Instant::now());
    }

    /// Records a change (what a watch event does).
    pub fn notify(&self) {
        self.notify.notify_one();
    }
}

impl ChangeFeed {
    /// Starts one metadata watch per kind the readiness rules read in `namespace`.
    pub fn start(client: &Client, namespace: &str) -> ChangeFeed {
        let signal = ChangeSignal::new();
        let tasks = vec![
            watch::<Pod>(client, namespace, &signal),
            watch::<Deployment>(client, namespace, &signal),
            watch::<StatefulSet>(client, namespace, &signal),
            watch::<DaemonSet>(client, namespace, &signal),
            watch::<ReplicaSet>(client, namespace, &signal),
            watch::<Job>(client, namespace, &signal),
            watch::<PersistentVolumeClaim>(client, namespace, &signal),
        ];
        ChangeFeed { signal, tasks }
    }

    pub fn signal(&self) -> ChangeSignal {
        self.signal.clone()
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn watch<K>(client: &Client, namespace: &str, signal: &ChangeSignal) -> JoinHandle<()>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + std::fmt::Debug + Send + Sync + 'static,
    K: serde::de::DeserializeOwned,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    // `Api<PartialObjectMeta<K>>` makes metadata-only list and watch requests.
    let api: Api<PartialObjectMeta<K>> = Api::namespaced(client.clone(), namespace);
    let signal = signal.clone();
    tokio::spawn(async move {
        // Errors (a stalled API server, a watch that expired) are retried by the backoff; the
        // fallback tick keeps the gate looking meanwhile.
        let mut events = watcher(api, watcher::Config::default()).default_backoff().boxed();
        while let Some(event) = events.next().await {
            if event.is_ok() {
                signal.notify();
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn without_a_change_the_wait_ends_at_the_fallback() {
        let signal = ChangeSignal::new();
        let started = tokio::time::Instant::now();
        signal.next(Duration::from_secs(2)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn changes_are_kept_until_someone_waits_and_coalesce() {
        let signal = ChangeSignal::new();
        signal.notify();
        signal.notify();
        let started = tokio::time::Instant::now();
        signal.next(Duration::from_secs(2)).await;
        assert_eq!(started.elapsed(), Duration::ZERO, "the kept change wakes at once");
        signal.next(Duration::from_secs(2)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(2), "two changes make one wake-up");
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_changes_is_looked_at_no_more_often_than_the_minimum_gap() {
        let signal = ChangeSignal::new();
        signal.notify();
        signal.next(FALLBACK).await;
        let first = tokio::time::Instant::now();
        signal.notify();
        signal.next(FALLBACK).await;
        assert_eq!(first.elapsed(), MIN_GAP);
    }
}
