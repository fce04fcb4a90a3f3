//! When a waiting container will not start by itself: one rule for the phase gate and for
//! the agent Job, so both give up on the same evidence.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::jiff::Timestamp;
use std::time::Duration;

/// Restarts after which a crash-looping container is taken as a failure, not a slow start.
pub const CRASH_RESTARTS: i32 = 3;

/// A name no registry could serve: waiting never helps.
const INVALID_IMAGE: &str = "InvalidImageName";

/// Pull failures; the kubelet keeps retrying them with a back-off.
const PULL_FAILURES: [&str; 2] = ["ErrImagePull", "ImagePullBackOff"];

/// Words in a pull failure that say the image is not there or not ours to pull: permanent,
/// reported at once. Anything else (a refused connection, a timeout, a 5xx) may be a registry
/// hiccup, so it counts only once it outlasts [`PULL_RETRY_GRACE`].
const PERMANENT_PULL_WORDS: [&str; 6] =
    ["not found", "manifest unknown", "unauthorized", "denied", "forbidden", "invalid reference"];

/// How long a pod may fail to pull for a reason that might pass.
pub const PULL_RETRY_GRACE: Duration = Duration::from_secs(60);

/// Waiting reasons the kubelet retries by itself, and that sometimes clear: a missing Secret
/// stays missing, but creating a workspace subPath directory races with another pod creating
/// its sibling on the same volume (the kubelet's mkdirat sees EEXIST), and the next attempt a
/// few seconds later starts the container. Taken as failures only once they outlast
/// [`CONFIG_RETRY_GRACE`].
const RETRIED_CONFIG_FAILURES: [&str; 2] = ["CreateContainerConfigError", "CreateContainerError"];

/// How long a pod may sit in a retried config failure before it counts as stuck. The kubelet
/// retries every sync (about 10 s at most between attempts here), so this covers two retries.
pub const CONFIG_RETRY_GRACE: Duration = Duration::from_secs(25);

/// Is a container waiting for `reason` (with the kubelet's `message`) stuck, for a pod this old?
pub fn is_stuck(reason: &str, message: &str, restart_count: i32, pod_age: Duration) -> bool {
    if PULL_FAILURES.contains(&reason) {
        let message = message.to_ascii_lowercase();
        return PERMANENT_PULL_WORDS.iter().any(|word| message.contains(word)) || pod_age >= PULL_RETRY_GRACE;
    }
    reason == INVALID_IMAGE
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
    let statuses: &[ContainerStatus] =
        pod.status.as_ref().and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    statuses.iter().find_map(|status| {
        let waiting = status.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.clone().unwrap_or_default();
        let message = waiting.message.clone().unwrap_or_default();
        is_stuck(&reason, &message, status.restart_count, age)
            .then(|| (status.name.clone(), format!("{reason} {message}").trim().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECONDS: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_missing_or_forbidden_image_is_stuck_at_once() {
        let missing = "failed to pull and unpack image \"127.0.0.1:5000/app:1\": failed to resolve reference \"127.0.0.1:5000/app:1\": 127.0.0.1:5000/app:1: not found";
        assert!(is_stuck("ErrImagePull", missing, 0, Duration::ZERO));
        assert!(is_stuck(
            "ImagePullBackOff",
            "Back-off pulling image \"r/app:1\": ErrImagePull: pull access denied",
            0,
            Duration::ZERO
        ));
        assert!(is_stuck("ErrImagePull", "unexpected status from HEAD request: 401 Unauthorized", 0, Duration::ZERO));
        assert!(is_stuck(INVALID_IMAGE, "", 0, Duration::ZERO));
    }

    #[test]
    fn a_registry_hiccup_gets_time_to_pass() {
        let refused = "failed to do request: Head \"http://127.0.0.1:5000/v2/app/manifests/1\": dial tcp 127.0.0.1:5000: connect: connection refused";
        assert!(!is_stuck("ErrImagePull", refused, 0, SECONDS(10)));
        assert!(!is_stuck("ImagePullBackOff", "Back-off pulling image \"r/app:1\"", 0, SECONDS(59)));
        assert!(is_stuck("ErrImagePull", refused, 0, PULL_RETRY_GRACE));
    }

    #[test]
    fn config_failures_get_the_kubelets_retries_first() {
        for reason in RETRIED_CONFIG_FAILURES {
            let message = "failed to create subPath directory for volumeMount \"codex-workspace\"";
            assert!(!is_stuck(reason, message, 0, SECONDS(3)), "{reason} at 3 s");
            assert!(is_stuck(reason, message, 0, CONFIG_RETRY_GRACE), "{reason} after the grace");
        }
    }

    #[test]
    fn a_crash_loop_counts_after_some_restarts() {
        assert!(!is_stuck("CrashLoopBackOff", "", CRASH_RESTARTS - 1, SECONDS(600)));
        assert!(is_stuck("CrashLoopBackOff", "", CRASH_RESTARTS, Duration::ZERO));
        assert!(!is_stuck("ContainerCreating", "", 0, SECONDS(600)));
    }
}
