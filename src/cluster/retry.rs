//! Retries of transient API failures, as a tower layer under every request the client makes.
//!
//! A cluster that hiccups (an API server restarting, an etcd leader change, a proxy that
//! drops a connection) answers with connection errors, 429, or 5xx for a few seconds. Each
//! request is retried with capped exponential backoff and jitter until it succeeds, fails
//! for a reason that is not transient, or its budget is spent. TLS and authentication
//! failures are never retried: they will not heal by waiting.
//!
//! Watch streams that end are not requests failing; kube-runtime's watcher re-establishes
//! them from the last resourceVersion (see `deploy::changes`).

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use std::error::Error as StdError;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tower::retry::Policy;
use tower::BoxError;

/// The first wait after a failure; each further one doubles, up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(200);
/// The cap of the backoff: a restarted API server is noticed within this.
const MAX_DELAY: Duration = Duration::from_secs(4);

/// How long one request keeps being retried. Every request of a run is bounded by the
/// phase's `--timeout` above this, so this is the longest single stall we ride out.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(90);
/// The budget of the first request, which checks the server answers at all: a kubeconfig
/// that points at nothing is reported within 10 s.
pub const PROBE_BUDGET: Duration = Duration::from_secs(6);

/// Why a failure is worth another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transient {
    /// Connection refused, reset or aborted, a timeout, or a connection that closed early.
    Connection,
    /// 429 Too Many Requests (API priority and fairness).
    Throttled,
    /// 5xx from the server or a proxy in front of it.
    ServerError(u16),
}

impl std::fmt::Display for Transient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transient::Connection => f.write_str("no connection"),
            Transient::Throttled => f.write_str("429 too many requests"),
            Transient::ServerError(code) => write!(f, "HTTP {code}"),
        }
    }
}

/// Whether a response status is transient for a request of `method`. A 500 is retried only
/// for reads: a write may have happened before the server failed.
pub fn transient_status(method: &Method, status: StatusCode) -> Option<Transient> {
    match status.as_u16() {
        429 => Some(Transient::Throttled),
        502..=504 => Some(Transient::ServerError(status.as_u16())),
        500 if method == Method::GET || method == Method::HEAD => Some(Transient::ServerError(500)),
        _ => None,
    }
}

/// Whether `path` goes through the API server to a Service, pod or node (the `proxy`
/// subresource: `…/services/web:80/proxy/readyz`).
pub fn is_proxied(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    segments.windows(3).any(|w| matches!(w[0], "services" | "pods" | "nodes") && w[2] == "proxy")
}

/// Whether a transport error is transient: an I/O error of a kind that waiting can heal,
/// anywhere in its source chain, and no TLS error (a bad certificate is final).
pub fn transient_error(error: &(dyn StdError + 'static)) -> Option<Transient> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    let mut transient = false;
    while let Some(cause) = current {
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return None;
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                return None;
            }
            transient |= matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::TimedOut
                    | io::ErrorKind::UnexpectedEof
            );
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            transient |= hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_timeout();
        }
        if cause.is::<tower::timeout::error::Elapsed>() || cause.is::<tokio::time::error::Elapsed>() {
            transient = true;
        }
        current = cause.source();
    }
    transient.then_some(Transient::Connection)
}

/// Counts retries across all requests, for the progress line ("retrying (n)").
#[derive(Clone, Default)]
pub struct RetryCounter(Arc<AtomicU32>);

impl RetryCounter {
    fn next(&self) -> u32 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The tower policy: one instance per request (tower clones it for each call).
#[derive(Clone)]
pub struct TransientRetry {
    budget: Duration,
    started: Option<Instant>,
    attempt: u32,
    counter: RetryCounter,
    /// Prints "API server not answering, retrying (n)" on stderr; off in unit tests.
    report: bool,
}

impl TransientRetry {
    pub fn new(budget: Duration, counter: RetryCounter) -> Self {
        TransientRetry { budget, started: None, attempt: 0, counter, report: true }
    }

    #[cfg(test)]
    fn quiet(budget: Duration) -> Self {
        TransientRetry { report: false, ..TransientRetry::new(budget, RetryCounter::default()) }
    }

    /// The wait before attempt `attempt + 1`: doubling from [`FIRST_DELAY`], capped at
    /// [`MAX_DELAY`], with "equal jitter" (half fixed, half random) so that many clients do
    /// not return in step.
    pub fn delay(attempt: u32, random: f64) -> Duration {
        let exponential = FIRST_DELAY.saturating_mul(1u32 << attempt.min(16)).min(MAX_DELAY);
        let half = exponential / 2;
        half + half.mul_f64(random.clamp(0.0, 1.0))
    }

    /// The next wait, or `None` once the budget is spent.
    fn next_wait(&mut self, why: Transient, what: &str) -> Option<Duration> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let wait = Self::delay(self.attempt, jitter());
        if started.elapsed() + wait > self.budget {
            return None;
        }
        self.attempt += 1;
        let n = self.counter.next();
        if self.report {
            eprintln!("API server not answering ({why} on {what}), retrying ({n})");
        }
        Some(wait)
    }
}

/// A number in [0, 1) from the clock's nanoseconds: jitter needs spread, not quality.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos());
    f64::from(nanos.unwrap_or(0) % 1_000_000) / 1_000_000.0
}

impl<Res> Policy<Request<Body>, Response<Res>, BoxError> for TransientRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request<Body>,
        result: &mut Result<Response<Res>, BoxError>,
    ) -> Option<Self::Future> {
        let why = match result {
            // Through a proxy subresource the status is the backend's (an app that answers
            // 503 while it warms up, a Service without endpoints yet): an answer for the
            // caller, which decides when to ask again, not a sign that the API server is down.
            Ok(_) if is_proxied(request.uri().path()) => return None,
            Ok(response) => transient_status(request.method(), response.status())?,
            Err(error) => transient_error(error.as_ref())?,
        };
        let what = format!("{} {}", request.method(), request.uri().path());
        self.next_wait(why, &what).map(tokio::time::sleep)
    }

    fn clone_request(&mut self, request: &Request<Body>) -> Option<Request<Body>> {
        // Only buffered bodies can be sent again; a streamed one is not retried.
        let body = request.body().try_clone()?;
        let mut copy = Request::builder().method(request.method().clone()).uri(request.uri().clone());
        if let Some(headers) = copy.headers_mut() {
            headers.extend(request.headers().clone());
        }
        let mut copy = copy.version(request.version()).body(body).ok()?;
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_half_of_it_random() {
        assert_eq!(TransientRetry::delay(0, 0.0), Duration::from_millis(100));
        assert_eq!(TransientRetry::delay(0, 1.0), Duration::from_millis(200));
        assert_eq!(TransientRetry::delay(1, 1.0), Duration::from_millis(400));
        assert_eq!(TransientRetry::delay(10, 1.0), MAX_DELAY);
        assert_eq!(TransientRetry::delay(40, 0.0), MAX_DELAY / 2);
    }

    #[test]
    fn statuses_that_heal_are_retried_and_a_failed_write_is_not_repeated() {
        assert_eq!(transient_status(&Method::PATCH, StatusCode::TOO_MANY_REQUESTS), Some(Transient::Throttled));
        assert_eq!(transient_status(&Method::POST, StatusCode::SERVICE_UNAVAILABLE), Some(Transient::ServerError(503)));
        assert_eq!(
            transient_status(&Method::GET, StatusCode::INTERNAL_SERVER_ERROR),
            Some(Transient::ServerError(500))
        );
        assert_eq!(transient_status(&Method::POST, StatusCode::INTERNAL_SERVER_ERROR), None);
        for final_status in
            [StatusCode::NOT_FOUND, StatusCode::CONFLICT, StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED]
        {
            assert_eq!(transient_status(&Method::GET, final_status), None, "{final_status}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn answers_through_a_proxy_subresource_are_the_backends_and_not_retried() {
        let proxied = "/api/v1/namespaces/shop/services/web:80/proxy/readyz";
        assert!(is_proxied(proxied));
        assert!(is_proxied("/api/v1/namespaces/shop/pods/web-0:8080/proxy/"));
        assert!(!is_proxied("/api/v1/namespaces/shop/services/proxy"), "a Service named proxy");
        assert!(!is_proxied("/apis/apps/v1/namespaces/shop/deployments/web"));
        let mut policy = TransientRetry::quiet(Duration::from_secs(10));
        let unavailable =
            || Ok::<_, BoxError>(Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body(()).unwrap());
        let mut request = Request::get(proxied).body(Body::empty()).unwrap();
        assert!(policy.retry(&mut request, &mut unavailable()).is_none(), "the app's 503 reaches the hook");
        let mut request = Request::get("/api/v1/namespaces/shop/pods").body(Body::empty()).unwrap();
        assert!(policy.retry(&mut request, &mut unavailable()).is_some(), "the API server's own 503 is retried");
        let mut request = Request::get(proxied).body(Body::empty()).unwrap();
        let mut refused: Result<Response<()>, BoxError> =
            Err(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert!(policy.retry(&mut request, &mut refused).is_some(), "no connection to the API server is retried");
    }

    #[derive(Debug)]
    struct Wrapper(Box<dyn StdError + Send + Sync>);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(self.0.as_ref())
        }
    }

    #[test]
    fn connection_failures_deep_in_the_chain_are_transient_and_tls_failures_are_not() {
        let refused = Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert_eq!(transient_error(&refused), Some(Transient::Connection));
        let reset = Wrapper(Box::new(Wrapper(Box::new(io::Error::from(io::ErrorKind::ConnectionReset)))));
        assert_eq!(transient_error(&reset), Some(Transient::Connection));
        let bad_certificate = Wrapper(Box::new(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )));
        assert_eq!(transient_error(&bad_certificate), None);
        let other = Wrapper(Box::new(io::Error::from(io::ErrorKind::PermissionDenied)));
        assert_eq!(transient_error(&other), None);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_when_the_budget_is_spent() {
        let mut policy = TransientRetry::quiet(Duration::from_secs(10));
        let mut waited = Duration::ZERO;
        let mut attempts = 0;
        while let Some(wait) = policy.next_wait(Transient::Connection, "GET /version") {
            tokio::time::advance(wait).await;
            waited += wait;
            attempts += 1;
        }
        assert!(waited <= Duration::from_secs(10), "{waited:?}");
        assert!(waited >= Duration::from_secs(10) - MAX_DELAY, "{waited:?}");
        assert!((4..=20).contains(&attempts), "{attempts}");
    }
}
