//! Class-style endpoints: implemented verbs are routed, others get 405 with an accurate
//! `Allow`, OPTIONS gets 204 with `Allow` unless implemented.

mod support;

use std::sync::Mutex;

use support::{Client, request, serve};
use uweb::{App, EndpointResult, HttpEndpoint, HttpRequest, HttpResponse, Method, Router};

/// GET and PUT on one stored value per id.
#[derive(Default)]
struct Items {
    names: Mutex<Vec<(String, String)>>,
}

impl HttpEndpoint for Items {
    const METHODS: &'static [Method] = &[Method::GET, Method::PUT];

    fn get(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        let id = req.parameter("id").unwrap_or_default();
        let names = self.names.lock().unwrap();
        match names.iter().find(|(k, _)| k == id) {
            Some((_, name)) => res.end(format!("item {id}: {name}")),
            None => res.write_status("404 Not Found").end("no such item"),
        }
        Ok(())
    }

    fn put(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        let id = req.parameter("id").unwrap_or_default().to_owned();
        let name = req.query_value("name").ok_or("missing name")?.into_owned();
        self.names.lock().unwrap().push((id, name));
        res.write_status("201 Created").end("stored");
        Ok(())
    }
}

/// Implements OPTIONS itself, and lists DELETE without implementing it.
struct Careless;

impl HttpEndpoint for Careless {
    const METHODS: &'static [Method] = &[Method::OPTIONS, Method::DELETE];

    fn options(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        let from_middleware = req.extensions().get::<u32>().copied();
        res.write_header("Allow", "OPTIONS, DELETE")
            .end(format!("custom options {from_middleware:?}"));
        Ok(())
    }
}

fn app() -> App {
    App::new()
        .endpoint("/items/:id", Items::default())
        .nest(
            "/v2",
            Router::new()
                .middleware(|_res, req| {
                    req.extensions_mut().insert(7u32);
                })
                .endpoint("/careless", Careless),
        )
        // A catch-all does not swallow the endpoint's 405s.
        .any("/*", |res, _req| {
            res.write_status("404 Not Found").end("catch-all")
        })
}

#[test]
fn implemented_verbs_are_routed() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    let res = client
        .send(request("PUT", "/items/1?name=lamp", &[]))
        .response();
    assert_eq!((res.status, res.body_str()), (201, "stored"));
    let res = client.send(request("GET", "/items/1", &[])).response();
    assert_eq!((res.status, res.body_str()), (200, "item 1: lamp"));
    let res = client.send(request("GET", "/items/2", &[])).response();
    assert_eq!((res.status, res.body_str()), (404, "no such item"));
    // HEAD is answered by `get`, body suppressed.
    let res = client
        .send(request("HEAD", "/items/1", &[]))
        .head_response();
    assert_eq!(
        (res.status, res.header("content-length")),
        (200, Some("12"))
    );
    // An `Err` from a method goes to the error handler.
    let res = client.send(request("PUT", "/items/3", &[])).response();
    assert_eq!(res.status, 500);
    server.shutdown();
}

#[test]
fn other_verbs_get_405_with_allow_and_options_gets_204() {
    let server = serve(app(), 1);
    let mut client = Client::connect(server.local_addr());
    for method in ["DELETE", "POST", "PATCH", "PROPFIND"] {
        let res = client.send(request(method, "/items/1", &[])).response();
        assert_eq!(res.status, 405, "{method}");
        assert_eq!(
            res.header("allow"),
            Some("GET, HEAD, PUT, OPTIONS"),
            "{method}"
        );
    }
    let res = client.send(request("OPTIONS", "/items/1", &[])).response();
    assert_eq!(res.status, 204);
    assert_eq!(res.header("allow"), Some("GET, HEAD, PUT, OPTIONS"));
    assert_eq!(res.header("content-length"), None);
    // Not the endpoint's path: the catch-all.
    let res = client.send(request("DELETE", "/items", &[])).response();
    assert_eq!((res.status, res.body_str()), (404, "catch-all"));
    server.shutdown();
}

#[test]
fn implemented_options_wins_and_listed_but_missing_verbs_answer_500() {
    let app = app().on_error(|err, res, _req| {
        if let Some(res) = res {
            res.write_status("500 Internal Server Error")
                .end(err.to_string());
        }
    });
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    let res = client
        .send(request("OPTIONS", "/v2/careless", &[]))
        .response();
    assert_eq!(
        (res.status, res.body_str()),
        (200, "custom options Some(7)")
    );
    assert_eq!(res.header("allow"), Some("OPTIONS, DELETE"));
    let res = client.send(request("GET", "/v2/careless", &[])).response();
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("DELETE, OPTIONS"));
    let res = client
        .send(request("DELETE", "/v2/careless", &[]))
        .response();
    assert_eq!(res.status, 500);
    assert_eq!(
        res.body_str(),
        "handler failed: DELETE is listed in HttpEndpoint::METHODS but not implemented \
         (route DELETE /v2/careless)"
    );
    server.shutdown();
}
