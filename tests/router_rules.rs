//! Router semantics (uWebSockets): tables of (routes registered, request, handlers called in
//! order, outcome: which handler answered). Every handler logs `id` (or `id:param,param` when the route has params)
//! and then yields or answers with its id.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};

use support::{Client, Log, get, serve};
use uweb::{App, HttpRequest, HttpResponse};

/// A handler that yields to the next candidate.
const Y: bool = true;
/// A handler that answers with its id.
const A: bool = false;

/// (method token or `"ANY"`, pattern, id, yields).
type Route = (&'static str, &'static str, &'static str, bool);
/// (method, target, ids logged in order, answering id or `"-"` when none answered).
type Req = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);

fn build(routes: &[Route], log: &Log) -> App {
    let mut app = App::new();
    for &(method, pattern, id, yields) in routes {
        let log = log.clone();
        let handler = move |res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>| {
            let params: Vec<&str> = (0..).map_while(|i| req.parameter(i)).collect();
            if params.is_empty() {
                log.push(id);
            } else {
                log.push(format!("{id}:{}", params.join(",")));
            }
            if yields {
                req.set_yield(true);
            } else {
                res.write_header("X-Id", id).end(id);
            }
        };
        app = match method {
            "ANY" => app.any(pattern, handler),
            m => app.method(m, pattern, handler),
        };
    }
    app
}

/// Runs every request of a case against one server built from `routes`.
fn check(case: usize, routes: &[Route], reqs: &[Req]) {
    let log = Log::default();
    let server = serve(build(routes, &log), 1);
    let mut c = Client::connect(server.local_addr());
    for &(method, target, calls, outcome) in reqs {
        let what = format!("case {case}: {method} {target}");
        c.send(format!("{method} {target} HTTP/1.1\r\nHost: t\r\n\r\n"));
        let r = if method == "HEAD" {
            c.head_response()
        } else {
            c.response()
        };
        assert_eq!(log.take(), calls, "{what}: handlers called");
        if outcome == "-" {
            // The built-in fallback answered (its 404/405 choice is tested in fallback.rs).
            assert!(matches!(r.status, 404 | 405), "{what}: {}", r.status);
            assert_eq!(r.header("x-id"), None, "{what}");
        } else {
            assert_eq!(r.status, 200, "{what}");
            assert_eq!(r.header("x-id"), Some(outcome), "{what}");
        }
    }
    server.shutdown();
}

fn check_all(cases: &[(&[Route], &[Req])]) {
    for (i, (routes, reqs)) in cases.iter().enumerate() {
        check(i, routes, reqs);
    }
}

#[test]
fn static_then_param_then_wildcard_regardless_of_registration_order() {
    check_all(&[
        (
            &[
                ("GET", "/*", "star", Y),
                ("GET", "/:x", "param", Y),
                ("GET", "/a", "static", Y),
            ],
            &[
                ("GET", "/a", &["static", "param:a", "star"], "-"),
                ("GET", "/b", &["param:b", "star"], "-"),
                ("GET", "/b/c", &["star"], "-"),
            ],
        ),
        (
            &[
                ("GET", "/*", "star", A),
                ("GET", "/:x", "param", A),
                ("GET", "/a", "static", A),
            ],
            &[
                ("GET", "/a", &["static"], "static"),
                ("GET", "/b", &["param:b"], "param"),
                ("GET", "/b/c", &["star"], "star"),
            ],
        ),
        (
            &[
                ("GET", "/a/*", "aw", Y),
                ("GET", "/:y/b", "yb", Y),
                ("GET", "/a/:x", "ax", Y),
                ("GET", "/a/b", "ab", Y),
            ],
            &[("GET", "/a/b", &["ab", "ax:b", "aw", "yb:a"], "-")],
        ),
    ]);
}

#[test]
fn depth_first_with_backtracking() {
    check_all(&[(
        &[("GET", "/a/b/d", "abd", A), ("GET", "/a/:x/c", "axc", A)],
        &[
            ("GET", "/a/b/c", &["axc:b"], "axc"),
            ("GET", "/a/b/d", &["abd"], "abd"),
            ("GET", "/a/z/c", &["axc:z"], "axc"),
            ("GET", "/a/b/e", &[], "-"),
            ("GET", "/a/b", &[], "-"),
        ],
    )]);
}

#[test]
fn wildcard_needs_its_slash_and_takes_the_rest() {
    check_all(&[
        (
            &[("GET", "/a/*", "aw", A)],
            &[
                ("GET", "/a/", &["aw"], "aw"),
                ("GET", "/a/x/y", &["aw"], "aw"),
                ("GET", "/a/x/y/", &["aw"], "aw"),
                ("GET", "/a", &[], "-"),
                ("GET", "/ab", &[], "-"),
            ],
        ),
        (
            &[
                ("GET", "/", "root", A),
                ("GET", "/:x", "p", A),
                ("GET", "/*", "w", A),
            ],
            &[
                ("GET", "/", &["root"], "root"),
                ("GET", "/z", &["p:z"], "p"),
                ("GET", "//", &["w"], "w"),
            ],
        ),
    ]);
}

#[test]
fn method_tree_before_any_tree() {
    check_all(&[
        (
            &[("ANY", "/x", "any-x", A), ("GET", "/*", "get-star", A)],
            &[
                ("GET", "/x", &["get-star"], "get-star"),
                ("POST", "/x", &["any-x"], "any-x"),
            ],
        ),
        (
            &[("ANY", "/x", "any-x", Y), ("GET", "/*", "get-star", Y)],
            &[
                ("GET", "/x", &["get-star", "any-x"], "-"),
                ("PUT", "/x", &["any-x"], "-"),
            ],
        ),
    ]);
}

#[test]
fn unknown_method_tokens_reach_only_any_and_their_own_routes() {
    check_all(&[
        (
            &[
                ("GET", "/x", "get", A),
                ("ANY", "/x", "any", A),
                ("PROPFIND", "/x", "propfind", A),
            ],
            &[
                ("PROPFIND", "/x", &["propfind"], "propfind"),
                ("FOO", "/x", &["any"], "any"),
                ("get", "/x", &["any"], "any"),
                ("propfind", "/x", &["any"], "any"),
                ("GET", "/x", &["get"], "get"),
            ],
        ),
        (
            &[
                ("GET", "/x", "get", Y),
                ("ANY", "/*", "any", Y),
                ("PROPFIND", "/:p", "propfind", Y),
            ],
            &[
                ("PROPFIND", "/x", &["propfind:x", "any"], "-"),
                ("M-SEARCH", "/x", &["any"], "-"),
            ],
        ),
    ]);
}

#[test]
fn yield_walks_every_candidate_in_order() {
    const ROUTES: &[Route] = &[
        ("ANY", "/*", "any-w", Y),
        ("ANY", "/a/:x", "any-ax", Y),
        ("ANY", "/a/b", "any-ab", Y),
        ("POST", "/a/b", "post-ab", Y),
        ("GET", "/*", "w", Y),
        ("GET", "/:y/b", "yb", Y),
        ("GET", "/a/*", "aw", Y),
        ("GET", "/a/:x", "ax", Y),
        ("GET", "/a/b", "ab", Y),
    ];
    // Same parent (static, param, wildcard), back up (/:y/b, /*), then the ANY tree.
    const ALL: &[&str] = &[
        "ab", "ax:b", "aw", "yb:a", "w", "any-ab", "any-ax:b", "any-w",
    ];
    check_all(&[
        (
            ROUTES,
            &[
                ("GET", "/a/b", ALL, "-"),
                // HEAD: its own tree (none here), the GET tree, then ANY.
                ("HEAD", "/a/b", ALL, "-"),
                (
                    "POST",
                    "/a/b",
                    &["post-ab", "any-ab", "any-ax:b", "any-w"],
                    "-",
                ),
            ],
        ),
        (
            &[
                ("GET", "/a/b", "ab", Y),
                ("GET", "/a/:x", "ax", Y),
                ("GET", "/:y/b", "yb", A),
                ("GET", "/*", "w", A),
                ("ANY", "/a/b", "any-ab", A),
            ],
            &[("GET", "/a/b", &["ab", "ax:b", "yb:a"], "yb")],
        ),
        (
            &[
                ("HEAD", "/h", "head", Y),
                ("GET", "/h", "get", A),
                ("ANY", "/h", "any", A),
            ],
            &[
                ("HEAD", "/h", &["head", "get"], "get"),
                ("GET", "/h", &["get"], "get"),
            ],
        ),
    ]);
}

#[test]
fn same_method_and_shape_replaces() {
    check_all(&[
        (
            &[
                ("GET", "/u/:id", "first", A),
                ("GET", "/u/:name", "second", A),
            ],
            &[("GET", "/u/7", &["second:7"], "second")],
        ),
        (
            &[
                ("GET", "/u/*", "w1", Y),
                ("GET", "/u/*", "w2", Y),
                ("ANY", "/u/*", "any", Y),
            ],
            &[("GET", "/u/7", &["w2", "any"], "-")],
        ),
        (
            // Another method's route of the same shape is not replaced.
            &[
                ("GET", "/p", "get", A),
                ("POST", "/p", "post", A),
                ("GET", "/p", "get2", A),
            ],
            &[
                ("GET", "/p", &["get2"], "get2"),
                ("POST", "/p", &["post"], "post"),
            ],
        ),
    ]);
}

#[test]
fn replaced_route_uses_the_new_parameter_names() {
    let app = App::new()
        .get("/u/:id", |res, _req| res.end("first"))
        .get("/u/:name", |res, req| {
            let body = format!("{:?} {:?}", req.parameter("name"), req.parameter("id"));
            res.end(body);
        });
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    assert_eq!(c.request(get("/u/42")).body_str(), r#"Some("42") None"#);
}

#[test]
fn no_normalisation_and_raw_params() {
    check_all(&[
        (
            &[
                ("GET", "/a", "a", A),
                ("GET", "/a/", "a-slash", A),
                ("GET", "//a", "double", A),
            ],
            &[
                ("GET", "/a", &["a"], "a"),
                ("GET", "/a/", &["a-slash"], "a-slash"),
                ("GET", "//a", &["double"], "double"),
                ("GET", "/a?x=/a/", &["a"], "a"),
                ("GET", "/a//", &[], "-"),
                ("GET", "/A", &[], "-"),
                ("GET", "/%61", &[], "-"),
                ("GET", "/a/.", &[], "-"),
                ("GET", "/a/../a", &[], "-"),
            ],
        ),
        (
            &[("GET", "/p/:v", "p", A), ("GET", "/p/:v/:w", "pw", A)],
            &[
                ("GET", "/p/a%2Fb", &["p:a%2Fb"], "p"),
                ("GET", "/p/a+b%20c", &["p:a+b%20c"], "p"),
                ("GET", "/p/x/y", &["pw:x,y"], "pw"),
                ("GET", "/p/", &[], "-"),
                ("GET", "/p//y", &[], "-"),
            ],
        ),
    ]);
}

#[test]
fn named_builders_register_their_method() {
    let log = Log::default();
    let mut app = App::new();
    macro_rules! routes {
        ($($name:ident => $token:literal),*) => {
            $(
                let l = log.clone();
                app = app.$name("/m", move |res, req| {
                    l.push(req.method());
                    res.write_header("X-Route", $token).end($token);
                });
            )*
        };
    }
    routes!(get => "GET", post => "POST", put => "PUT", patch => "PATCH", delete => "DELETE",
        head => "HEAD", options => "OPTIONS", connect => "CONNECT", trace => "TRACE");
    let server = serve(app, 1);
    let mut c = Client::connect(server.local_addr());
    for token in [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ] {
        c.send(format!("{token} /m HTTP/1.1\r\nHost: t\r\n\r\n"));
        let r = if token == "HEAD" {
            c.head_response()
        } else {
            c.response()
        };
        assert_eq!(r.header("x-route"), Some(token), "{token}");
        assert_eq!(log.take(), [token]);
    }
}

#[test]
fn invalid_patterns_panic_at_registration() {
    for pattern in [
        "",
        "a/b",
        "/a/*/b",
        "/a*",
        "/*x",
        "/:",
        "/a/:",
        "/:id/x/:id",
        "/a?b",
        "/a#b",
    ] {
        let result = catch_unwind(AssertUnwindSafe(|| {
            App::new().get(pattern, |res, _req| res.end(""));
        }));
        assert!(result.is_err(), "{pattern:?} was accepted");
    }
    // The same through `any` and `method`.
    assert!(catch_unwind(|| App::new().any("x", |res, _req| res.end(""))).is_err());
    assert!(
        catch_unwind(|| App::new().method("PROPFIND", "/*/x", |res, _req| res.end(""))).is_err()
    );
    // Valid oddities are accepted.
    for pattern in ["/", "//", "/a:b", "/x:", "/:a/:b/*", "/é/:ñ"] {
        let ok = catch_unwind(AssertUnwindSafe(|| {
            App::new().get(pattern, |res, _req| res.end(""));
        }));
        assert!(ok.is_ok(), "{pattern:?} was rejected");
    }
}
