//! Sub-routers: prefixes and nesting, middleware order, short-circuit, typed data handed to
//! handlers, after hooks, and specificity across groups; real server, raw bytes.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::{Client, fetch, get, request, serve};
use uweb::{App, HttpRequest, HttpResponse, Router};

/// Names of the middleware that ran, in order, carried to the handler as typed data.
#[derive(Clone, Default)]
struct Trace(Vec<&'static str>);

/// A middleware that appends `name` to the request's `Trace`.
fn mark(name: &'static str) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) {
    move |_res, req| {
        req.extensions_mut()
            .get_or_insert_default::<Trace>()
            .0
            .push(name)
    }
}

/// A handler answering `name` plus the trace, e.g. `h:app,outer`.
fn traced(name: &'static str) -> impl Fn(&mut HttpResponse<'_>, &mut HttpRequest<'_>) {
    move |res, req| {
        let trace = req.extensions().get::<Trace>().map(|t| t.0.join(","));
        res.end(format!("{name}:{}", trace.unwrap_or_default()));
    }
}

#[test]
fn prefixes_concatenate_and_nest() {
    let v1 = Router::new()
        .get("/users/:id", |res, req| {
            res.end(format!("v1 user {}", req.parameter("id").unwrap()))
        })
        .get("", |res, _req| res.end("v1 root"));
    let repos = Router::new().get("/repos/:repo", |res, req| {
        let (org, repo) = (req.parameter("org"), req.parameter(1));
        res.end(format!("{}/{}", org.unwrap(), repo.unwrap()))
    });
    let api = Router::new()
        .nest("/v1", v1)
        .nest("/orgs/:org", repos)
        .get("/health", |res, _req| res.end("healthy"))
        // A HEAD route too: `Allow` still lists HEAD once.
        .head("/health", |res, _req| res.end_without_body(Some(7)));
    let about = Router::new().get("/about", |res, _req| res.end("about"));
    let app = App::new()
        .nest("/api", api)
        .include(about)
        .nest(
            "/",
            Router::new().get("/slash", |res, _req| res.end("slash")),
        )
        .get("/", |res, _req| res.end("home"));
    let server = serve(app, 1);
    let addr = server.local_addr();
    let cases: &[(&str, u16, &str)] = &[
        ("/api/v1/users/7", 200, "v1 user 7"),
        ("/api/v1", 200, "v1 root"),
        ("/api/v1/", 404, "Not Found"),
        ("/api/orgs/rust-lang/repos/cargo", 200, "rust-lang/cargo"),
        ("/api/health", 200, "healthy"),
        ("/v1/users/7", 404, "Not Found"),
        ("/health", 404, "Not Found"),
        ("/about", 200, "about"),
        ("/slash", 200, "slash"),
        ("/", 200, "home"),
    ];
    let mut client = Client::connect(addr);
    for (path, status, body) in cases {
        let res = client.send(get(path)).response();
        assert_eq!((res.status, res.body_str()), (*status, *body), "{path}");
    }
    let res = client.send(request("POST", "/api/health", &[])).response();
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
    server.shutdown();
}

#[test]
fn middleware_runs_app_then_outer_then_inner_in_order_added() {
    let inner = Router::new()
        .get("/x", traced("inner"))
        // Added after the route: still applies to it.
        .middleware(mark("inner1"))
        .middleware(mark("inner2"));
    let outer = Router::new()
        .middleware(mark("outer"))
        .nest("/in", inner)
        .get("/y", traced("outer"));
    let app = App::new()
        .nest("/out", outer)
        .middleware(mark("app"))
        .get("/z", traced("root"));
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    let cases = [
        ("/out/in/x", "inner:app,outer,inner1,inner2"),
        ("/out/y", "outer:app,outer"),
        ("/z", "root:app"),
    ];
    for (path, body) in cases {
        assert_eq!(client.send(get(path)).response().body_str(), body, "{path}");
    }
    server.shutdown();
}

#[derive(Clone)]
struct User {
    name: String,
}

#[test]
fn middleware_short_circuits_with_401_or_hands_the_user_to_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let hooks = Arc::new(AtomicUsize::new(0));
    let (c, h) = (Arc::clone(&calls), Arc::clone(&hooks));
    let api = Router::new()
        .middleware(|res, req| match req.header("authorization") {
            Some(token) if token.starts_with("Bearer ") => {
                let name = token["Bearer ".len()..].to_owned();
                req.extensions_mut().insert(User { name });
            }
            _ => res
                .write_status("401 Unauthorized")
                .write_header("WWW-Authenticate", "Bearer")
                .end("Unauthorized"),
        })
        .middleware(mark("after-auth"))
        .after(move |_res, _req| {
            h.fetch_add(1, Ordering::SeqCst);
        })
        .get("/me", move |res, req| {
            c.fetch_add(1, Ordering::SeqCst);
            let user = req
                .extensions()
                .get::<User>()
                .expect("user from middleware");
            let trace = &req.extensions().get::<Trace>().unwrap().0;
            res.end(format!("{} {trace:?}", user.name));
        });
    let server = serve(App::new().nest("/api", api), 1);
    let mut client = Client::connect(server.local_addr());

    let res = client.send(get("/api/me")).response();
    assert_eq!((res.status, res.body_str()), (401, "Unauthorized"));
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
    assert_eq!(calls.load(Ordering::SeqCst), 0, "handler must not run");
    assert_eq!(
        hooks.load(Ordering::SeqCst),
        1,
        "after hooks run on a short-circuit"
    );

    let authorized = request("GET", "/api/me", &[("Authorization", "Bearer ada")]);
    let res = client.send(&authorized).response();
    assert_eq!((res.status, res.body_str()), (200, "ada [\"after-auth\"]"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(hooks.load(Ordering::SeqCst), 2);
    server.shutdown();
}

#[test]
fn after_hooks_run_inner_first_after_the_handler_and_see_middleware_data() {
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let hook = |name: &'static str, log: &Arc<Mutex<Vec<String>>>| {
        let log = Arc::clone(log);
        move |res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>| {
            let trace = req.extensions().get::<Trace>().map(|t| t.0.len());
            let line = format!("{name} answered={} trace={trace:?}", res.has_responded());
            log.lock().unwrap().push(line);
        }
    };
    let inner = Router::new()
        .after(hook("inner", &log))
        .get("/x", traced("x"));
    let outer = Router::new()
        .middleware(mark("started"))
        .after(hook("outer", &log))
        .nest("/in", inner);
    let app = App::new().after(hook("app", &log)).nest("/out", outer);
    let server = serve(app, 1);
    let res = fetch(server.local_addr(), get("/out/in/x"));
    assert_eq!(res.body_str(), "x:started");
    // Hooks run before the loop writes the corked response out, so they are done by now.
    assert_eq!(
        *log.lock().unwrap(),
        [
            "inner answered=true trace=Some(1)",
            "outer answered=true trace=Some(1)",
            "app answered=true trace=Some(1)",
        ]
    );
    server.shutdown();
}

#[test]
fn specificity_and_yield_hold_across_groups() {
    // The param route is registered first, in another group: the static one still wins.
    let users = Router::new().get("/:id", |res, req| {
        let id = req.parameter("id").unwrap();
        if id.bytes().all(|b| b.is_ascii_digit()) {
            res.end(format!("user {id}"));
        } else {
            req.set_yield(true);
        }
    });
    let me = Router::new().get("/api/users/me", |res, _req| res.end("me"));
    // A group whose middleware yields unless a field is present: its routes step aside.
    let beta = Router::new()
        .middleware(|_res, req| {
            if req.header("x-beta").is_none() {
                req.set_yield(true);
            }
        })
        .get("/api/users/:id", |res, _req| res.end("beta user"));
    let app = App::new()
        .nest("/api/users", users)
        .any("/*", |res, req| res.end(format!("catch-all {}", req.url())))
        .include(me)
        .nest("/beta", beta);
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    let cases = [
        (get("/api/users/me"), "me"),
        (get("/api/users/42"), "user 42"),
        (get("/api/users/ada"), "catch-all /api/users/ada"),
        (get("/beta/api/users/1"), "catch-all /beta/api/users/1"),
        (
            request("GET", "/beta/api/users/1", &[("X-Beta", "1")]),
            "beta user",
        ),
    ];
    for (req, body) in cases {
        assert_eq!(client.send(&req).response().body_str(), body, "{req:?}");
    }
    server.shutdown();
}

#[test]
fn groups_built_elsewhere_merge_into_the_app() {
    mod users {
        use uweb::Router;
        pub(crate) fn router() -> Router {
            Router::new().get("/users", |res, _req| res.end("users"))
        }
    }
    mod chat {
        use uweb::Router;
        pub(crate) fn router() -> Router {
            Router::new().post("/chat", |res, _req| res.end("posted"))
        }
    }
    let app = App::new().include(users::router()).include(chat::router());
    let server = serve(app, 1);
    let mut client = Client::connect(server.local_addr());
    assert_eq!(client.send(get("/users")).response().body_str(), "users");
    let res = client
        .send(request("POST", "/chat", &[("Content-Length", "0")]))
        .response();
    assert_eq!(res.body_str(), "posted");
    server.shutdown();
}
