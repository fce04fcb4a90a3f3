//! A `coordination.k8s.io/v1` Lease per namespace, so two runs on one environment never
//! interleave. The holder renews it while it works; a crashed holder's lease simply expires.

use super::api;
use anyhow::{anyhow, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::Client;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Name of the Lease object in the environment's namespace.
pub const LEASE_NAME: &str = "kubectl-codex-run";
/// How long a lease stays valid without renewal; a crashed holder blocks others this long.
pub const LEASE_SECONDS: i32 = 30;
const RENEW_EVERY: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_secs(1);

/// A held lease; renewal runs in the background until `release`.
pub struct HeldLease {
    api: Api<Lease>,
    holder: String,
    renewal: JoinHandle<()>,
    state: Arc<Mutex<Renewal>>,
}

/// What the renewal task last saw, for [`HeldLease::ensure_held`].
struct Renewal {
    /// When the API server last accepted our renewal (or the acquisition).
    renewed: Instant,
    /// Someone else's name in the Lease: it expired while we stalled and was taken.
    taken_by: Option<String>,
}

/// Why a run no longer holds its lease, if it does not: taken by `other`, or not renewed for
/// longer than the lease lasts (so another run may have taken it meanwhile).
fn lost_reason(renewed_ago: Duration, taken_by: Option<&str>) -> Option<String> {
    if let Some(other) = taken_by {
        return Some(format!("another run took it over: {other}"));
    }
    let valid = Duration::from_secs(LEASE_SECONDS as u64);
    (renewed_ago > valid).then(|| {
        format!(
            "it was last renewed {}s ago and is only valid for {}s (the API server did not answer)",
            renewed_ago.as_secs(),
            valid.as_secs()
        )
    })
}

/// Who holds a lease and until when, as read from the object.
fn holder_and_expiry(lease: &Lease) -> (Option<String>, Option<Timestamp>) {
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.filter(|h| !h.is_empty());
    let renewed = spec.renew_time.or(spec.acquire_time).map(|t| t.0);
    let seconds = spec.lease_duration_seconds.unwrap_or(LEASE_SECONDS);
    let expiry = renewed.and_then(|t| t.checked_add(k8s_openapi::jiff::SignedDuration::from_secs(seconds as i64)).ok());
    (holder, expiry)
}

/// Takes the namespace's lease for `holder`, waiting up to `wait` while someone else holds
/// it (`on_wait` is told who, once per change).
pub async fn acquire(
    client: &Client,
    namespace: &str,
    holder: &str,
    wait: Duration,
    mut on_wait: impl FnMut(&str),
) -> Result<HeldLease> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let started = Instant::now();
    let mut last_reported = String::new();
    loop {
        let now = Timestamp::now();
        let existing = api(leases.get_opt(LEASE_NAME).await, || format!("reading Lease {LEASE_NAME}"))?;
        let free = match &existing {
            None => true,
            Some(lease) => {
                let (current, expiry) = holder_and_expiry(lease);
                current.is_none() || current.as_deref() == Some(holder) || expiry.is_none_or(|e| e < now)
            }
        };
        if free {
            let mut lease = existing.clone().unwrap_or_else(|| Lease {
                metadata: kube::api::ObjectMeta { name: Some(LEASE_NAME.into()), ..Default::default() },
                ..Default::default()
            });
            let mut spec = lease.spec.clone().unwrap_or_default();
            spec.holder_identity = Some(holder.to_string());
            spec.lease_duration_seconds = Some(LEASE_SECONDS);
            spec.acquire_time = Some(MicroTime(now));
            spec.renew_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            lease.spec = Some(spec);
            // Create or replace with the read resourceVersion: if another run got there
            // first, the write conflicts and we simply look again.
            let written = match existing {
                None => leases.create(&PostParams::default(), &lease).await,
                Some(_) => leases.replace(LEASE_NAME, &PostParams::default(), &lease).await,
            };
            match written {
                Ok(_) => {
                    let state = Arc::new(Mutex::new(Renewal { renewed: Instant::now(), taken_by: None }));
                    let renewal = spawn_renewal(leases.clone(), holder.to_string(), state.clone());
                    return Ok(HeldLease { api: leases, holder: holder.to_string(), renewal, state });
                }
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(e) => return Err(super::api::<()>(Err(e), || "taking the Lease".into()).unwrap_err()),
            }
        }
        let (current, expiry) = existing.as_ref().map(holder_and_expiry).unwrap_or((None, None));
        let who = format!(
            "{} (lease valid until {})",
            current.unwrap_or_default(),
            expiry.map(|e| e.to_string()).unwrap_or_default()
        );
        if who != last_reported {
            on_wait(&who);
            last_reported = who.clone();
        }
        if started.elapsed() >= wait {
            return Err(crate::exit::coded(
                crate::exit::LOCKED,
                anyhow!(
                    "namespace {namespace} is busy: another run holds its lease: {who}; waited {}s",
                    wait.as_secs()
                ),
            ));
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn spawn_renewal(leases: Api<Lease>, holder: String, state: Arc<Mutex<Renewal>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let asked = Instant::now();
            if let Ok(Some(mut lease)) = leases.get_opt(LEASE_NAME).await {
                let mut spec = lease.spec.clone().unwrap_or_default();
                if spec.holder_identity.as_deref() != Some(holder.as_str()) {
                    // Taken over after we stalled; nothing left to renew.
                    let other = spec.holder_identity.unwrap_or_else(|| "nobody (released)".into());
                    state.lock().unwrap_or_else(|e| e.into_inner()).taken_by = Some(other);
                    return;
                }
                spec.renew_time = Some(MicroTime(Timestamp::now()));
                lease.spec = Some(spec);
                if leases.replace(LEASE_NAME, &PostParams::default(), &lease).await.is_ok() {
                    // Valid from when we asked, not from when a slow server answered.
                    state.lock().unwrap_or_else(|e| e.into_inner()).renewed = asked;
                }
            }
        }
    })
}

impl HeldLease {
    /// Fails with exit 7 when the lease may be someone else's now, so that a run which
    /// stalled longer than the lease stops before it applies anything more instead of racing
    /// the run that took over.
    pub fn ensure_held(&self, namespace: &str) -> Result<()> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match lost_reason(state.renewed.elapsed(), state.taken_by.as_deref()) {
            None => Ok(()),
            Some(reason) => Err(crate::exit::coded(
                crate::exit::LOCKED,
                anyhow!("lost the lease of namespace {namespace}: {reason}; stopping before applying anything more (run again to converge)"),
            )),
        }
    }

    /// Stops renewing and frees the lease for the next run.
    pub async fn release(self) {
        self.renewal.abort();
        if let Ok(Some(mut lease)) = self.api.get_opt(LEASE_NAME).await {
            let mut spec = lease.spec.clone().unwrap_or_default();
            if spec.holder_identity.as_deref() == Some(self.holder.as_str()) {
                spec.holder_identity = None;
                spec.renew_time = None;
                lease.spec = Some(spec);
                let _ = self.api.replace(LEASE_NAME, &PostParams::default(), &lease).await;
            }
        }
    }
}

/// Who holds the namespace's lease now, if anyone (for `status`).
pub async fn current_holder(client: &Client, namespace: &str) -> Result<Option<(String, String)>> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let Some(lease) = api(leases.get_opt(LEASE_NAME).await, || "reading the Lease".into())? else {
        return Ok(None);
    };
    let (holder, expiry) = holder_and_expiry(&lease);
    let now = Timestamp::now();
    Ok(match (holder, expiry) {
        (Some(h), Some(e)) if e >= now => Some((h, e.to_string())),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_lost_when_taken_or_not_renewed_for_its_duration() {
        assert_eq!(lost_reason(Duration::from_secs(12), None), None);
        assert_eq!(lost_reason(Duration::from_secs(LEASE_SECONDS as u64), None), None);
        let stalled = lost_reason(Duration::from_secs(45), None).unwrap();
        assert!(stalled.contains("45s ago") && stalled.contains("30s"), "{stalled}");
        let taken = lost_reason(Duration::from_secs(1), Some("host/42/run")).unwrap();
        assert!(taken.contains("host/42/run"), "{taken}");
    }
}
