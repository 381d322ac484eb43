//! Router lookup on a realistic 50-route table: static, `:param` and `*` patterns over a few
//! methods, plus an ANY `/*` catch-all.
//!
//! `cargo bench --features internals --bench router`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uweb::internals::{first_match, route_tree};

const GET: Option<&str> = Some("GET");
const POST: Option<&str> = Some("POST");
const PUT: Option<&str> = Some("PUT");
const PATCH: Option<&str> = Some("PATCH");
const DELETE: Option<&str> = Some("DELETE");
const OPTIONS: Option<&str> = Some("OPTIONS");
const ANY: Option<&str> = None;

/// A small web app plus a REST API: 50 routes.
const ROUTES: &[(Option<&str>, &str)] = &[
    (GET, "/"),
    (GET, "/plaintext"),
    (GET, "/json"),
    (GET, "/health"),
    (GET, "/metrics"),
    (GET, "/favicon.ico"),
    (GET, "/robots.txt"),
    (GET, "/login"),
    (GET, "/logout"),
    (GET, "/about"),
    (GET, "/pricing"),
    (GET, "/blog"),
    (GET, "/blog/:slug"),
    (GET, "/docs/*"),
    (GET, "/static/*"),
    (GET, "/api/v1/users"),
    (GET, "/api/v1/users/me"),
    (GET, "/api/v1/users/:id"),
    (GET, "/api/v1/users/:id/posts"),
    (GET, "/api/v1/users/:id/posts/:post"),
    (GET, "/api/v1/users/:id/posts/:post/comments"),
    (GET, "/api/v1/users/:id/posts/:post/comments/:comment"),
    (GET, "/api/v1/posts"),
    (GET, "/api/v1/posts/:id"),
    (GET, "/api/v1/tags"),
    (GET, "/api/v1/tags/:tag"),
    (GET, "/api/v1/search"),
    (GET, "/api/v1/orgs/:org"),
    (GET, "/api/v1/orgs/:org/members"),
    (GET, "/api/v1/orgs/:org/repos"),
    (GET, "/api/v1/orgs/:org/repos/:repo"),
    (GET, "/api/v1/orgs/:org/repos/:repo/issues"),
    (GET, "/api/v1/orgs/:org/repos/:repo/issues/:number"),
    (GET, "/api/v1/files/*"),
    (POST, "/login"),
    (POST, "/api/v1/users"),
    (POST, "/api/v1/posts"),
    (POST, "/api/v1/users/:id/posts"),
    (POST, "/api/v1/posts/:id/comments"),
    (POST, "/api/v1/orgs/:org/repos/:repo/issues"),
    (POST, "/upload/*"),
    (PUT, "/api/v1/users/:id"),
    (PUT, "/api/v1/posts/:id"),
    (PATCH, "/api/v1/users/:id"),
    (PATCH, "/api/v1/orgs/:org/repos/:repo/issues/:number"),
    (DELETE, "/api/v1/users/:id"),
    (DELETE, "/api/v1/posts/:id"),
    (DELETE, "/api/v1/users/:id/posts/:post"),
    (OPTIONS, "/*"),
    (ANY, "/*"),
];

/// The route a pattern got: its position in `ROUTES`.
fn id_of(method: Option<&str>, pattern: &str) -> u32 {
    let i = ROUTES.iter().position(|&r| r == (method, pattern));
    u32::try_from(i.expect("route in table")).unwrap()
}

fn bench(c: &mut Criterion) {
    assert_eq!(ROUTES.len(), 50);
    let router = route_tree(ROUTES);
    let cases = [
        ("static", "GET", "/api/v1/tags", id_of(GET, "/api/v1/tags")),
        ("static_root", "GET", "/plaintext", id_of(GET, "/plaintext")),
        (
            "param",
            "GET",
            "/api/v1/users/12345",
            id_of(GET, "/api/v1/users/:id"),
        ),
        (
            "deep_params",
            "GET",
            "/api/v1/orgs/rust-lang/repos/rust/issues/123456",
            id_of(GET, "/api/v1/orgs/:org/repos/:repo/issues/:number"),
        ),
        (
            "wildcard",
            "GET",
            "/static/css/site.min.css",
            id_of(GET, "/static/*"),
        ),
        (
            "method_param",
            "DELETE",
            "/api/v1/posts/987",
            id_of(DELETE, "/api/v1/posts/:id"),
        ),
        // No GET route matches: the GET tree is searched (with backtracking), then ANY `/*`.
        (
            "miss_to_any",
            "GET",
            "/api/v1/users/12345/unknown/deeper",
            id_of(ANY, "/*"),
        ),
    ];
    let mut group = c.benchmark_group("router");
    group.throughput(Throughput::Elements(1));
    for (name, method, path, want) in cases {
        assert_eq!(first_match(&router, method, path), Some(want), "{name}");
        group.bench_function(name, |b| {
            b.iter(|| first_match(&router, black_box(method), black_box(path)));
        });
    }
    // A target that can match no pattern at all (not origin-form): nothing, not even ANY.
    assert_eq!(first_match(&router, "GET", "*"), None);
    group.bench_function("miss_unroutable", |b| {
        b.iter(|| first_match(&router, black_box("GET"), black_box("*")));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
