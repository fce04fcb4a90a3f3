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

/// The first stuck container of the pod, as (name, "Reason message"). Init containers come
/// first, named `<name> (init)`: a failing one blocks every container after it.
pub fn stuck_container(pod: &Pod) -> Option<(String, String)> {
    let age = pod_age(pod);
    let status = pod.status.as_ref();
    let init: &[ContainerStatus] = status.and_then(|s| s.init_container_statuses.as_deref()).unwrap_or_default();
    let main: &[ContainerStatus] = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    let never_restarted = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) == Some("Never");
    init.iter()
        .find_map(|status| {
            let stuck = waiting_stuck(status, age).or_else(|| {
                // In a pod that never restarts, a failed init container stays failed; a sidecar
                // (an init container that restarts always) is restarted regardless.
                (never_restarted && !is_sidecar(pod, &status.name)).then(|| exited_with_error(status)).flatten()
            })?;
            Some((format!("{} (init)", status.name), stuck))
        })
        .or_else(|| main.iter().find_map(|status| Some((status.name.clone(), waiting_stuck(status, age)?))))
}

/// "Reason message" when the container waits for a reason that will not pass.
fn waiting_stuck(status: &ContainerStatus, age: Duration) -> Option<String> {
    let waiting = status.state.as_ref()?.waiting.as_ref()?;
    let reason = waiting.reason.as_deref().unwrap_or_default();
    let message = waiting.message.as_deref().unwrap_or_default();
    is_stuck(reason, message, status.restart_count, age).then(|| format!("{reason} {message}").trim().to_string())
}

/// "init container exited with code N: Reason" when the container terminated with an error.
fn exited_with_error(status: &ContainerStatus) -> Option<String> {
    let terminated = status.state.as_ref()?.terminated.as_ref()?;
    if terminated.exit_code == 0 {
        return None;
    }
    let why = terminated.reason.as_deref().or(terminated.message.as_deref()).unwrap_or("no reason given");
    Some(format!("init container exited with code {}: {why}", terminated.exit_code))
}

/// Is this init container a sidecar (`restartPolicy: Always`)?
fn is_sidecar(pod: &Pod, name: &str) -> bool {
    let init = pod.spec.as_ref().and_then(|s| s.init_containers.as_deref()).unwrap_or_default();
    init.iter().any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
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

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("test pod")
    }

    fn waiting(name: &str, reason: &str, restarts: i32) -> serde_json::Value {
        serde_json::json!({"name": name, "image": "busybox", "ready": false, "restartCount": restarts,
            "state": {"waiting": {"reason": reason, "message": "back-off 40s restarting failed container"}}})
    }

    fn running(name: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "image": "busybox", "ready": false, "restartCount": 0,
            "state": {"running": {"startedAt": "2025-01-01T00:00:00Z"}}})
    }

    #[test]
    fn a_crash_looping_init_container_is_stuck_and_named_first() {
        let looping = pod(serde_json::json!({
            "metadata": {"name": "app-0"},
            "spec": {"initContainers": [{"name": "migrate"}], "containers": [{"name": "app"}]},
            "status": {
                "phase": "Pending",
                "initContainerStatuses": [waiting("migrate", "CrashLoopBackOff", CRASH_RESTARTS + 1)],
                "containerStatuses": [waiting("app", "ImagePullBackOff", 0)],
            },
        }));
        let (name, why) = stuck_container(&looping).expect("stuck");
        assert_eq!(name, "migrate (init)");
        assert!(why.starts_with("CrashLoopBackOff"), "{why}");
    }

    #[test]
    fn a_running_init_container_is_not_stuck() {
        let starting = pod(serde_json::json!({
            "metadata": {"name": "app-0"},
            "spec": {"restartPolicy": "Never", "initContainers": [{"name": "migrate"}], "containers": [{"name": "app"}]},
            "status": {
                "phase": "Pending",
                "initContainerStatuses": [running("migrate")],
                "containerStatuses": [{"name": "app", "image": "busybox", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": "PodInitializing"}}}],
            },
        }));
        assert_eq!(stuck_container(&starting), None);
    }

    #[test]
    fn a_failed_init_container_is_stuck_when_the_pod_never_restarts() {
        let failed = |policy: &str| {
            pod(serde_json::json!({
                "metadata": {"name": "job-x"},
                "spec": {"restartPolicy": policy, "initContainers": [{"name": "fetch"}], "containers": [{"name": "work"}]},
                "status": {"initContainerStatuses": [{"name": "fetch", "image": "busybox", "ready": false,
                    "restartCount": 0, "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]},
            }))
        };
        let stuck = stuck_container(&failed("Never")).expect("stuck");
        assert_eq!(stuck, ("fetch (init)".to_string(), "init container exited with code 2: Error".to_string()));
        // With OnFailure the kubelet runs it again; it counts once it crash-loops.
        assert_eq!(stuck_container(&failed("OnFailure")), None);
    }

    #[test]
    fn main_containers_are_still_examined() {
        let missing = pod(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"initContainerStatuses": [{"name": "done", "image": "busybox", "ready": true, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                "containerStatuses": [waiting("web", INVALID_IMAGE, 0)]},
        }));
        assert_eq!(stuck_container(&missing).map(|(name, _)| name).as_deref(), Some("web"));
    }
}
