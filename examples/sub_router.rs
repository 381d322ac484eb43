//! Sub-routers, middleware and routing domains.
//!
//! Run: `PORT=3000 cargo run --example sub_router`, then
//! - `curl localhost:3000/` -> 200 `home`
//! - `curl localhost:3000/api/users` -> 401
//! - `curl -H 'Authorization: Bearer demo-token' localhost:3000/api/users` -> 200 JSON
//! - `curl -H 'Host: www.example.test' localhost:3000/` -> the `*.example.test` domain

mod common;

use std::time::Instant;

use uweb::{App, HttpRequest, HttpResponse, Router};

/// The authenticated user, handed from the middleware to the handlers.
#[derive(Clone)]
struct User {
    name: &'static str,
}

/// When the request entered the `/api` group, for the timing hook.
#[derive(Clone, Copy)]
struct Started(Instant);

/// Answers 401 unless the request carries the demo bearer token; otherwise hands the user on.
fn auth(res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) {
    req.extensions_mut().insert(Started(Instant::now()));
    match req.header("authorization") {
        Some("Bearer demo-token") => {
            req.extensions_mut().insert(User { name: "demo" });
        }
        _ => res
            .write_status("401 Unauthorized")
            .write_header("WWW-Authenticate", "Bearer")
            .end("Unauthorized"),
    }
}

/// Logs how long the `/api` request took (an after hook).
fn timing(_res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) {
    if let Some(Started(at)) = req.extensions().get::<Started>() {
        println!("{} {} took {:?}", req.method(), req.url(), at.elapsed());
    }
}

/// The `/api` routes, as another module or file would build them.
fn api() -> Router {
    Router::new()
        .middleware(auth)
        .after(timing)
        .get("/users", |res, req| {
            let user = req.extensions().get::<User>().map_or("?", |u| u.name);
            res.write_header("Content-Type", "application/json").end(format!(
                r#"{{"users":[{{"id":1,"name":"ada"}},{{"id":2,"name":"grace"}}],"requested_by":"{user}"}}"#
            ));
        })
        .get("/users/:id", |res, req| {
            let id = req.parameter("id").unwrap_or_default();
            res.write_header("Content-Type", "application/json")
                .end(format!(r#"{{"id":"{id}"}}"#));
        })
}

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    println!("listening on http://localhost:{port}");
    App::new()
        .get("/", |res, _req| res.end("home"))
        .nest("/api", api())
        .domain(
            "*.example.test",
            Router::new().get("/", |res, req| {
                let host = req.header("host").unwrap_or_default();
                res.end(format!("hello from the *.example.test domain ({host})"));
            }),
        )
        .on_error(|err, res, _req| {
            eprintln!("error: {err}");
            if let Some(res) = res {
                res.write_status("500 Internal Server Error").end("Sorry");
            }
        })
        .listen(port)
}
