//! hyper 1.x HTTP/1.1 plaintext peer whose handler waits once before it answers (`WAIT=1`,
//! the default; `WAIT=0` answers at once, as ../shared/peers' hyper_plaintext). One tokio
//! current-thread runtime, as that peer runs with `--threads 1`: one core. Port from `PORT`
//! or `--port N`.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

async fn handle(req: Request<Incoming>, wait: bool) -> Result<Response<Full<Bytes>>, Infallible> {
    if wait {
        tokio::task::yield_now().await;
    }
    if req.uri().path() == "/plaintext" {
        let mut r = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        h.insert(SERVER, HeaderValue::from_static("hyper"));
        Ok(r)
    } else {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_FOUND;
        Ok(r)
    }
}

fn port() -> u16 {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--port" {
            return args.next().and_then(|p| p.parse().ok()).expect("--port N");
        }
    }
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080)
}

fn main() {
    let port = port();
    let wait = std::env::var("WAIT").map_or(true, |w| w != "0");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        eprintln!("listening on 127.0.0.1:{port}, waiting once per request: {wait}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::task::spawn_local(async move {
                // As hyper_plaintext: hyper adds Date and Content-Length; pipeline_flush
                // batches the responses to pipelined requests into one write.
                let _ = http1::Builder::new()
                    .pipeline_flush(true)
                    .serve_connection(
                        TokioIo::new(stream),
                        service_fn(move |req| handle(req, wait)),
                    )
                    .await;
            });
        }
    });
}
