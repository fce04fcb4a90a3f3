//! When a waiting container will not start by itself: one rule for the phase gate and for
//! the agent Job, so both give up on the same evidence.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;
use std::time::Duration;

/// Restarts after which a crash-looping container is taken as a failure, not a slow start.
pub const CRASH_RESTARTS: i32 = 3;

/// Waiting reasons that no amount of waiting fixes: the image cannot be had.
const IMAGE_FAILURES: [&str; 3] = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"];

/// Waiting reasons the kubelet retries by itself, and that sometimes clear: a missing Secret
/// stays missing, but creating a workspace subPath directory races with another pod creating
/// its sibling on the same volume (the kubelet's mkdirat sees EEXIST), and the next attempt a
/// few seconds later starts the container. Taken as failures only once they outlast
/// [`CONFIG_RETRY_GRACE`].
const RETRIED_CONFIG_FAILURES: [&str; 2] = ["CreateContainerConfigError", "CreateContainerError"];

/// How long a pod may sit in a retried config failure before it counts as stuck. The kubelet
/// retries every sync (about 10 s at most between attempts here), so this covers two retries.
pub const CONFIG_RETRY_GRACE: Duration = Duration::from_secs(25);

/// Is a container in this waiting state stuck, for a pod this old?
pub fn is_stuck(reason: &str, restart_count: i32, pod_age: Duration) -> bool {
    IMAGE_FAILURES.contains(&reason)
        || (RETRIED_CONFIG_FAILURES.contains(&reason) && pod_age >= CONFIG_RETRY_GRACE)
        || (reason == "CrashLoopBackOff" && restart_count >= CRASH_RESTARTS)
}

/// How long ago the pod was created (zero when the API server gave no time).
pub fn pod_age(pod: &Pod) -> Duration {
    let Some(created) = pod.metadata.creation_timestamp.as_ref() else { return Duration::ZERO };
    let age = Timestamp::now().duration_since(created.0);
    Duration::try_from(age).unwrap_or(Duration::ZERO)
}

/// "pod P container C: Reason message" for the first stuck container of the pod.
pub fn stuck_container(pod: &Pod) -> Option<(String, String)> {
    let age = pod_age(pod);
    let statuses: &[ContainerStatus] = pod.status.as_ref().and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    statuses.iter().find_map(|status| {
        let waiting = status.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.clone().unwrap_or_default();
        is_stuck(&reason, status.restart_count, age).then(|| (status.name.clone(), format!("{reason} {}", waiting.message.clone().unwrap_or_default()).trim().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_failures_are_stuck_at_once() {
        for reason in IMAGE_FAILURES {
            assert!(is_stuck(reason, 0, Duration::ZERO), "{reason}");
        }
    }

    #[test]
    fn config_failures_get_the_kubelets_retries_first() {
        for reason in RETRIED_CONFIG_FAILURES {
            assert!(!is_stuck(reason, 0, Duration::from_secs(3)), "{reason} at 3 s");
            assert!(is_stuck(reason, 0, CONFIG_RETRY_GRACE), "{reason} after the grace");
        }
    }

    #[test]
    fn a_crash_loop_counts_after_some_restarts() {
        assert!(!is_stuck("CrashLoopBackOff", CRASH_RESTARTS - 1, Duration::from_secs(600)));
        assert!(is_stuck("CrashLoopBackOff", CRASH_RESTARTS, Duration::ZERO));
        assert!(!is_stuck("ContainerCreating", 0, Duration::from_secs(600)));
    }
}
