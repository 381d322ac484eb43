//! Router lookup through sub-routers: 3 nested groups (`/api`, `/api/v1`, `/api/v1/admin`) of
//! 20 routes each, compiled by the `App`, against the same 60 patterns in the core's flat
//! route table, and the same 60 registered flat on an `App`. Groups are flattened into the one
//! tree at start, so the grouped lookup should cost what the flat one does.
//!
//! Also the whole request through a sans-IO connection (parse, lookup, handler, response):
//! flat, grouped, and grouped with one no-op middleware per group level (the price of a
//! middleware chain of 3, which lookup does not pay).
//!
//! `cargo bench --features internals --bench router_groups`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uweb::internals::{HttpConn, Letters, drive, first_match, into_shared, route_tree};
use uweb::{App, Router};

/// The 20 routes of each group, relative to its prefix.
const GROUP_ROUTES: [(&str, &str); 20] = [
    ("GET", "/users"),
    ("GET", "/users/me"),
    ("GET", "/users/:id"),
    ("GET", "/users/:id/posts"),
    ("GET", "/users/:id/posts/:post"),
    ("POST", "/users"),
    ("PUT", "/users/:id"),
    ("DELETE", "/users/:id"),
    ("GET", "/orders"),
    ("GET", "/orders/:id"),
    ("GET", "/orders/:id/items"),
    ("POST", "/orders"),
    ("GET", "/products"),
    ("GET", "/products/:id"),
    ("GET", "/products/:id/reviews"),
    ("GET", "/search"),
    ("GET", "/settings/profile"),
    ("GET", "/settings/security"),
    ("GET", "/health"),
    ("GET", "/files/*"),
];

/// Group prefixes, outermost first; each is nested in the previous one.
const LEVELS: [&str; 3] = ["/api", "/v1", "/admin"];

/// Requests spread over the three levels: static, params, wildcard, misses.
const REQUESTS: [(&str, &str); 12] = [
    ("GET", "/api/users/me"),
    ("GET", "/api/users/42/posts/7"),
    ("POST", "/api/orders"),
    ("GET", "/api/v1/orders/9/items"),
    ("GET", "/api/v1/products/3/reviews"),
    ("PUT", "/api/v1/users/5"),
    ("GET", "/api/v1/admin/settings/security"),
    ("GET", "/api/v1/admin/files/a/b/c.txt"),
    ("DELETE", "/api/v1/admin/users/8"),
    ("GET", "/api/v1/admin/search"),
    ("GET", "/api/v1/nothing"),
    ("GET", "/api/v1/admin/users/1/nope"),
];

/// The 60 full patterns, as the core's flat table takes them.
fn flat_patterns() -> Vec<(String, String)> {
    let mut prefix = String::new();
    let mut out = Vec::new();
    for level in LEVELS {
        prefix.push_str(level);
        for (method, pattern) in GROUP_ROUTES {
            out.push((method.to_owned(), format!("{prefix}{pattern}")));
        }
    }
    out
}

fn answer(res: &mut uweb::HttpResponse<'_>, _req: &mut uweb::HttpRequest<'_>) {
    res.end("ok");
}

fn pass(_res: &mut uweb::HttpResponse<'_>, _req: &mut uweb::HttpRequest<'_>) {}

/// Builds one of the apps compared here.
type AppFn = fn() -> App;

/// The 60 routes registered flat on an `App`.
fn flat_app() -> App {
    flat_patterns()
        .iter()
        .fold(App::new(), |app, (method, pattern)| {
            app.method(method, pattern, answer)
        })
}

/// One group's 20 routes, with `inner` nested under the next level's prefix.
fn group(level: usize, middleware: bool) -> Router {
    let mut router = GROUP_ROUTES
        .iter()
        .fold(Router::new(), |r, (method, pattern)| {
            r.method(method, pattern, answer)
        });
    if middleware {
        router = router.middleware(pass);
    }
    if level + 1 < LEVELS.len() {
        router = router.nest(LEVELS[level + 1], group(level + 1, middleware));
    }
    router
}

/// The same 60 routes as 3 nested groups of 20.
fn grouped_app(middleware: bool) -> App {
    App::new().nest(LEVELS[0], group(0, middleware))
}

/// Time of `rounds` calls of `pass`.
fn time_passes(rounds: u32, pass: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..rounds {
        pass();
    }
    start.elapsed()
}

/// Median over 201 rounds of `passes` calls each of time(b) / time(a), a and b alternating (and swapping
/// which goes first) so that load from other processes hits both alike: on a shared, noisy
/// machine this ratio is steadier than two criterion estimates taken minutes apart.
fn interleaved_ratio(passes: u32, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> f64 {
    let mut ratios: Vec<f64> = (0..201)
        .map(|round| {
            let (ta, tb) = if round % 2 == 0 {
                let ta = time_passes(passes, a);
                (ta, time_passes(passes, b))
            } else {
                let tb = time_passes(passes, b);
                (time_passes(passes, a), tb)
            };
            tb.as_secs_f64() / ta.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// One pass of `lookup` over `REQUESTS`.
fn lookups(lookup: impl Fn(&str, &str) -> Option<u32>) -> impl FnMut() {
    move || {
        for (method, path) in REQUESTS {
            black_box(lookup(black_box(method), black_box(path)));
        }
    }
}

fn lookup(c: &mut Criterion) {
    let patterns = flat_patterns();
    let table: Vec<(Option<&str>, &str)> = patterns
        .iter()
        .map(|(m, p)| (Some(m.as_str()), p.as_str()))
        .collect();
    let core = route_tree(&table);
    // The apps' compiled default tables: groups, prefixes and endpoints flattened into one
    // tree, as the loops get them.
    let flat_shared = into_shared(flat_app());
    let grouped_shared = into_shared(grouped_app(false));
    assert_eq!(grouped_shared.default.routes.len(), 60);
    let (flat, grouped) = (&flat_shared.default.tree, &grouped_shared.default.tree);
    // Same answers everywhere (route ids: registration order, the same in all three).
    for (method, path) in REQUESTS {
        let want = first_match(&core, method, path);
        assert_eq!(first_match(flat, method, path), want, "{method} {path}");
        assert_eq!(first_match(grouped, method, path), want, "{method} {path}");
    }
    assert_eq!(
        REQUESTS
            .iter()
            .filter(|(m, p)| first_match(&core, m, p).is_some())
            .count(),
        10
    );
    let core_ratio = interleaved_ratio(
        500,
        &mut lookups(|m, p| first_match(&core, m, p)),
        &mut lookups(|m, p| first_match(grouped, m, p)),
    );
    let flat_ratio = interleaved_ratio(
        500,
        &mut lookups(|m, p| first_match(flat, m, p)),
        &mut lookups(|m, p| first_match(grouped, m, p)),
    );
    println!(
        "lookup, interleaved median time ratios: groups/core_flat = {core_ratio:.3}, \
         groups/app_flat = {flat_ratio:.3}"
    );

    let mut g = c.benchmark_group("router_groups/lookup");
    g.throughput(Throughput::Elements(REQUESTS.len() as u64));
    g.bench_function("core_flat_table_60", |b| {
        b.iter(|| {
            for (method, path) in REQUESTS {
                black_box(first_match(&core, black_box(method), black_box(path)));
            }
        })
    });
    g.bench_function("app_flat_60", |b| {
        b.iter(|| {
            for (method, path) in REQUESTS {
                black_box(first_match(flat, black_box(method), black_box(path)));
            }
        })
    });
    g.bench_function("app_3_nested_groups_of_20", |b| {
        b.iter(|| {
            for (method, path) in REQUESTS {
                black_box(first_match(grouped, black_box(method), black_box(path)));
            }
        })
    });
    g.finish();
}

fn dispatch(c: &mut Criterion) {
    let bytes: Vec<u8> = REQUESTS
        .iter()
        .flat_map(|(method, path)| {
            format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n\r\n").into_bytes()
        })
        .collect();
    let mut g = c.benchmark_group("router_groups/request");
    g.throughput(Throughput::Elements(REQUESTS.len() as u64));
    // Serves the batch once per call on a connection of its own to `app`.
    let requests = |app: App| {
        let (shared, mut conn) = (into_shared(app), HttpConn::new());
        let letters = Letters::default();
        let (mut out, bytes) = (Vec::new(), bytes.clone());
        move || {
            out.clear();
            black_box(drive(
                &mut conn,
                &shared,
                &letters,
                black_box(&bytes),
                &mut out,
                false,
            ));
        }
    };
    let groups_ratio = interleaved_ratio(
        50,
        &mut requests(flat_app()),
        &mut requests(grouped_app(false)),
    );
    let middleware_ratio = interleaved_ratio(
        50,
        &mut requests(flat_app()),
        &mut requests(grouped_app(true)),
    );
    println!(
        "request, interleaved median time ratios: groups/flat = {groups_ratio:.3}, \
         groups+3 middleware/flat = {middleware_ratio:.3}"
    );

    let cases: [(&str, AppFn); 3] = [
        ("app_flat_60", flat_app),
        ("app_3_nested_groups_of_20", || grouped_app(false)),
        ("app_3_nested_groups_3_middleware", || grouped_app(true)),
    ];
    for (name, app) in cases {
        let (shared, mut conn) = (into_shared(app()), HttpConn::new());
        let letters = Letters::default();
        let mut out = Vec::with_capacity(64 * 1024);
        assert_eq!(
            drive(&mut conn, &shared, &letters, &bytes, &mut out, false),
            bytes.len()
        );
        assert_eq!(
            out.windows(6).filter(|w| w == b"HTTP/1").count(),
            REQUESTS.len()
        );
        let mut serve = requests(app());
        g.bench_function(name, |b| b.iter(&mut serve));
    }
    g.finish();
}

criterion_group!(benches, lookup, dispatch);
criterion_main!(benches);
