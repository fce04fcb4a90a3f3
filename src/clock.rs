//! Wall-clock times as recorded in evidence and annotations (RFC 3339, UTC).

use k8s_openapi::jiff::{Timestamp, Unit};

/// Now, to the nanosecond: evidence compares these with Helm's own timestamps.
pub fn now_precise() -> String {
    Timestamp::now().to_string()
}

/// Now, to the second: for annotations people read.
pub fn now_seconds() -> String {
    let now = Timestamp::now();
    now.round(Unit::Second).unwrap_or(now).to_string()
}
