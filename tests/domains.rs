//! Routing domains chosen by the `Host` field: uWebSockets' label rules, port stripping,
//! case-insensitivity, the per-domain 404/405 fallback and the default router.

mod support;

use support::{Client, request, serve};
use uweb::{App, Router};

fn app() -> App {
    App::new()
        .middleware(|_res, req| {
            req.extensions_mut().insert(AppWide);
        })
        .get("/", |res, _req| res.end("default"))
        .get("/only-default", |res, _req| res.end("only default"))
        .domain(
            "*.example.test",
            Router::new()
                .get("/", |res, req| {
                    let app_wide = req.extensions().get::<AppWide>().is_some();
                    res.end(format!("wild example.test app-wide={app_wide}"))
                })
                .post("/form", |res, _req| res.end("form")),
        )
        .domain(
            "api.example.test",
            Router::new().get("/", |res, _req| res.end("api")),
        )
        .domain(
            "*.google.*",
            Router::new().get("/*", |res, _req| res.end("google")),
        )
        // Same pattern again: adds to that domain.
        .domain(
            "*.EXAMPLE.test",
            Router::new().get("/more", |res, _req| res.end("more")),
        )
}

#[derive(Clone)]
struct AppWide;

#[test]
fn host_selects_the_domain_router() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "www.example.test",
            "/",
            200,
            "wild example.test app-wide=true",
        ),
        (
            "WWW.Example.TEST:8080",
            "/",
            200,
            "wild example.test app-wide=true",
        ),
        (
            "www.example.test.",
            "/",
            200,
            "wild example.test app-wide=true",
        ),
        ("www.example.test", "/more", 200, "more"),
        // exact labels before `*`
        ("api.example.test", "/", 200, "api"),
        ("Api.Example.Test:443", "/", 200, "api"),
        // `*` is exactly one label
        ("example.test", "/", 200, "default"),
        ("a.b.example.test", "/", 200, "default"),
        ("www.google.com", "/search", 200, "google"),
        ("www.google.co", "/", 200, "google"),
        ("google.com", "/", 200, "default"),
        ("a.b.google.com", "/", 200, "default"),
        ("www.google.com.au", "/", 200, "default"),
        ("localhost:3000", "/", 200, "default"),
        ("127.0.0.1", "/only-default", 200, "only default"),
        // a domain router has only its own routes, and the built-in 404
        ("www.example.test", "/only-default", 404, "Not Found"),
        ("api.example.test", "/more", 404, "Not Found"),
    ];
    for (host, path, status, body) in cases {
        let res = client
            .send(request("GET", path, &[("Host", host)]))
            .response();
        assert_eq!(
            (res.status, res.body_str()),
            (*status, *body),
            "{host} {path}"
        );
    }
    server.shutdown();
}

#[test]
fn every_domain_router_has_the_405_fallback() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let res = client
        .send(request("PUT", "/", &[("Host", "www.example.test")]))
        .response();
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
    let res = client
        .send(request("GET", "/form", &[("Host", "www.example.test")]))
        .response();
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("POST"));
    // HEAD falls back to the domain's GET route.
    let res = client
        .send(request("HEAD", "/", &[("Host", "api.example.test")]))
        .head_response();
    assert_eq!((res.status, res.header("content-length")), (200, Some("3")));
    server.shutdown();
}

#[test]
fn requests_without_host_use_the_default_router() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    client.send("GET / HTTP/1.0\r\n\r\n");
    assert_eq!(client.response().body_str(), "default");
    assert!(client.is_closed(), "HTTP/1.0 without keep-alive closes");
    drop(client);
    server.shutdown();
}

#[test]
#[should_panic(expected = "invalid domain pattern \"a*.example.test\"")]
fn partial_wildcard_labels_are_rejected_at_registration() {
    let _ = App::new().domain("a*.example.test", Router::new());
}
