//! Async handlers on tokio (feature `tokio`): `App::get_async(pattern, |req| async move {..})`
//! and the other verbs. The loop copies the request head, polls the handler's future once,
//! and if it waits, takes the response out ([`HttpResponse::defer`]) and spawns the future
//! (batched per loop iteration, `http::batch`); its return value
//! ([`IntoResponse`]) goes back through the deferred response, corked by the owning loop. A
//! panic or an `Err` goes to the app's error handler. The synchronous API and its cost are
//! untouched.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::error::{BoxError, HandlerError, Stage};
use crate::http::batch;
use crate::http::collect::BodyError;
use crate::http::later::DeferredResponse;
use crate::http::owned::OwnedRequest;
use crate::http::request::HttpRequest;
use crate::http::respond::IntoResponse;
use crate::http::response::HttpResponse;
use crate::runtime::{self, CatchUnwind};

/// The request an async handler gets: an owned copy of the head (every accessor of
/// [`OwnedRequest`], through `Deref`) and the body, awaitable whole.
#[derive(Debug)]
pub struct AsyncRequest {
    head: OwnedRequest,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// Arriving: sent once complete.
    Pending(oneshot::Receiver<Bytes>),
    Read(Bytes),
    Lost,
}

impl Deref for AsyncRequest {
    type Target = OwnedRequest;

    fn deref(&self) -> &OwnedRequest {
        &self.head
    }
}

impl AsyncRequest {
    /// The whole body (empty for a request without one), once it has arrived; a second
    /// call gives it again. Limited by
    /// [`Config::max_body_bytes`](crate::Config::max_body_bytes) (the client gets `413`
    /// past it).
    ///
    /// # Errors
    /// [`BodyError`] when the body will never be complete (over the limit, or the client
    /// went).
    pub async fn body(&mut self) -> Result<Bytes, BodyError> {
        if let Body::Pending(receiver) = &mut self.body {
            self.body = match receiver.await {
                Ok(bytes) => Body::Read(bytes),
                Err(_) => Body::Lost,
            };
        }
        match &self.body {
            Body::Read(bytes) => Ok(bytes.clone()),
            _ => Err(BodyError::Incomplete),
        }
    }

    /// The whole body as UTF-8 text.
    ///
    /// # Errors
    /// As [`body`](Self::body), or [`BodyError::Utf8`].
    pub async fn text(&mut self) -> Result<String, BodyError> {
        let bytes = self.body().await?;
        String::from_utf8(bytes.to_vec()).map_err(|e| BodyError::Utf8(e.utf8_error()))
    }

    /// The whole body decoded as JSON into `T` (`serde_json`).
    ///
    /// # Errors
    /// As [`body`](Self::body), or [`BodyError::Json`].
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T, BodyError> {
        let bytes = self.body().await?;
        serde_json::from_slice(&bytes).map_err(BodyError::Json)
    }

    /// The head alone.
    pub fn into_head(self) -> OwnedRequest {
        self.head
    }
}

/// The synchronous handler that runs `handler`'s future for each request.
///
/// The future is polled once at once, on the loop thread, inside the runtime's context: one
/// that is ready then (no await that waits, as for a plaintext answer) is answered like a
/// synchronous handler, corked, with no task, no thread hop and no deferred response. Only a
/// future that waits is spawned on the runtime (whose first poll of it registers the real
/// wakers: a readiness missed by the no-op waker of the first poll is seen then) and answers
/// through a deferred response. It is spawned with the others of this loop iteration, as one
/// task (`http::batch`).
pub(crate) fn async_handler<F, Fut>(
    handler: F,
) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) -> Result<(), BoxError> + Send + Sync + 'static
where
    F: Fn(AsyncRequest) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    move |res, req| {
        let (body, sender) = match res.expects_body() {
            true => {
                let (sender, receiver) = oneshot::channel();
                (Body::Pending(receiver), Some(sender))
            }
            false => (Body::Read(Bytes::new()), None),
        };
        let request = AsyncRequest {
            head: req.to_owned(),
            body,
        };
        // One allocation for the future and what answers with it, whether it is ready at
        // once or spawned.
        let mut answering = Box::pin(Answering {
            future: CatchUnwind::new(handler(request)),
            later: None,
        });
        let first = {
            let _entered = runtime::enter();
            answering
                .as_mut()
                .poll_handler(&mut Context::from_waker(Waker::noop()))
        };
        match first {
            Poll::Ready(Ok(output)) => return res.respond(output),
            // Reported as the handler's own panic by dispatch.
            Poll::Ready(Err(panic)) => std::panic::resume_unwind(panic),
            Poll::Pending => {}
        }
        if let Some(sender) = sender {
            res.on_body(move |_res, body| {
                // The handler may have stopped waiting: nobody to tell then.
                let _ = sender.send(body);
            });
        }
        *answering.as_mut().project().later = Some(res.defer());
        batch::spawn_later(answering);
        Ok(())
    }
}

pin_project_lite::pin_project! {
    /// An async handler's future and, once it waited, the deferred response its output
    /// answers: completes by answering.
    struct Answering<Fut> {
        #[pin]
        future: CatchUnwind<Fut>,
        later: Option<DeferredResponse>,
    }
}

impl<Fut: Future> Answering<Fut> {
    /// Polls the handler's future alone (the first poll, on the loop thread).
    fn poll_handler(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Fut::Output, Box<dyn std::any::Any + Send>>> {
        self.project().future.poll(cx)
    }
}

impl<Fut> Future for Answering<Fut>
where
    Fut: Future,
    Fut::Output: IntoResponse,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Poll::Ready(output) = self.as_mut().poll_handler(cx) else {
            return Poll::Pending;
        };
        if let Some(later) = self.project().later.take() {
            match output {
                Ok(output) => later.respond(output),
                Err(panic) => {
                    later.fail_with(HandlerError::panic(panic.as_ref(), Stage::Handler, None))
                }
            };
        }
        Poll::Ready(())
    }
}
