//! Counts the HTTP requests this process sends to the API server, as a tower layer at the
//! bottom of the client's stack (under the retry layer, so every attempt counts): reports
//! such as `gc -o json`'s `apiRequests` give what was sent, not what the code meant to send.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tower::{Layer, Service};

static SENT: AtomicUsize = AtomicUsize::new(0);

/// Requests sent so far by every client of this process.
pub fn sent() -> usize {
    SENT.load(Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CountLayer;

impl<S> Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted(inner)
    }
}

#[derive(Debug, Clone)]
pub struct Counted<S>(S);

impl<S: Service<R>, R> Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        SENT.fetch_add(1, Ordering::Relaxed);
        self.0.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_call_through_the_layer_is_counted() {
        let mut service =
            CountLayer.layer(tower::service_fn(|n: u32| async move { Ok::<_, std::convert::Infallible>(n) }));
        let before = sent();
        assert_eq!(service.ready().await.unwrap().call(1).await.unwrap(), 1);
        assert_eq!(service.ready().await.unwrap().call(2).await.unwrap(), 2);
        assert_eq!(sent() - before, 2);
    }
}
