//! Compiles a `Router` (groups, prefixes, middleware) into one flat route table: every route
//! goes into one `RouteTree` under its full pattern, with its middleware chain resolved, so
//! lookup never walks groups.

use super::group::{Entry, RouteKind, Router};
use super::handler::Middleware;
use crate::http::compress::Compression;
use crate::router::{HandlerId, RouteTree};

/// A route tree and the routes its handler ids index.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Default)]
pub struct Table {
    /// Every route under its full pattern; handler ids index `routes`.
    pub tree: RouteTree,
    /// The compiled routes, in compilation order.
    pub routes: Vec<Route>,
}

/// One compiled route.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub struct Route {
    pub(crate) kind: RouteKind,
    /// The `:name`s of the full pattern, in order.
    pub(crate) param_names: Box<[Box<str>]>,
    /// `"GET /api/users/:id"`, for error reports.
    pub(crate) label: Box<str>,
    /// Middleware to run before the handler, outermost first.
    pub(crate) before: Box<[Middleware]>,
    /// Hooks to run after the handler, innermost first.
    pub(crate) after: Box<[Middleware]>,
    /// Response compression, from the innermost group that set it.
    pub(crate) compression: Option<Compression>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("tree", &self.tree)
            .field("routes", &self.routes)
            .finish()
    }
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("label", &self.label)
            .field("param_names", &self.param_names)
            .field("before", &self.before.len())
            .field("after", &self.after.len())
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

/// Middleware inherited from enclosing groups (and the app).
#[derive(Clone, Default)]
pub(crate) struct Chain {
    pub(crate) before: Vec<Middleware>,
    pub(crate) after: Vec<Middleware>,
    /// Response compression set by an enclosing group (or the app).
    pub(crate) compression: Option<Compression>,
}

impl Chain {
    /// This chain with `router`'s own middleware (and compression, if set) inside it.
    fn enter(&self, router: &Router) -> Chain {
        let before = self.before.iter().chain(&router.middleware).cloned();
        let after = router.after.iter().chain(&self.after).cloned();
        Chain {
            before: before.collect(),
            after: after.collect(),
            compression: router.compression.or(self.compression),
        }
    }
}

/// Compiles `router` under `outer` (middleware that wraps it, e.g. the app's) into a table.
///
/// # Panics
/// If a full pattern (prefixes concatenated) is invalid, e.g. a `:name` repeated between a
/// prefix and a route.
pub(crate) fn compile(router: Router, outer: &Chain) -> Table {
    let mut table = Table::default();
    flatten(router, "", outer, &mut table);
    table
}

fn flatten(router: Router, prefix: &str, outer: &Chain, table: &mut Table) {
    let chain = outer.enter(&router);
    for entry in router.entries {
        match entry {
            Entry::Route(def) => {
                let pattern = format!("{prefix}{}", def.pattern);
                let id = HandlerId::try_from(table.routes.len()).expect("too many routes");
                let method = def.method.as_deref();
                table.tree.add(method, &pattern, def.priority, id);
                table.routes.push(Route {
                    kind: def.kind,
                    param_names: param_names(&pattern),
                    label: format!("{} {pattern}", method.unwrap_or("ANY")).into(),
                    before: chain.before.as_slice().into(),
                    after: chain.after.as_slice().into(),
                    compression: chain.compression,
                });
            }
            Entry::Nested {
                prefix: inner,
                router,
            } => flatten(router, &format!("{prefix}{inner}"), &chain, table),
        }
    }
}

/// The `:name`s of a pattern, in order.
fn param_names(pattern: &str) -> Box<[Box<str>]> {
    pattern
        .split('/')
        .filter_map(|segment| segment.strip_prefix(':'))
        .map(Box::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Params;

    /// Labels of the routes visited for `method path`, when every one yields.
    fn visits(table: &Table, method: &str, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        table
            .tree
            .route(method, path, true, &mut Params::new(), |id, _| {
                out.push(table.routes[id as usize].label.to_string());
                false
            });
        out
    }

    #[test]
    fn prefixes_concatenate_and_specificity_holds_across_groups() {
        let users = Router::new()
            .get("/:id", |_, _| ())
            .get("", |_, _| ())
            .any("/*", |_, _| ());
        let me = Router::new().get("/users/me", |_, _| ());
        let api = Router::new()
            .nest("/users", users)
            .include(me)
            .nest("/v1/:version", Router::new().post("/x", |_, _| ()));
        let root = Router::new().get("/*", |_, _| ()).nest("/api", api);
        let table = compile(root, &Chain::default());
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "GET",
                "/api/users/me",
                &[
                    "GET /api/users/me",
                    "GET /api/users/:id",
                    "GET /*",
                    "ANY /api/users/*",
                ],
            ),
            ("GET", "/api/users", &["GET /api/users", "GET /*"]),
            ("POST", "/api/v1/2/x", &["POST /api/v1/:version/x"]),
        ];
        for (method, path, want) in cases {
            assert_eq!(visits(&table, method, path), *want, "{method} {path}");
        }
        let id = table
            .routes
            .iter()
            .position(|r| r.label.contains(":version"));
        assert_eq!(
            *table.routes[id.unwrap()].param_names,
            [Box::<str>::from("version")]
        );
    }

    #[test]
    fn chains_nest_outer_first_before_and_inner_first_after() {
        // Tag each middleware with a number through its position in the chain.
        let inner = Router::new()
            .middleware(|_, _| ())
            .after(|_, _| ())
            .get("/x", |_, _| ());
        let outer = Router::new()
            .get("/y", |_, _| ())
            .middleware(|_, _| ())
            .after(|_, _| ())
            .nest("/in", inner);
        let app = Chain {
            before: vec![super::super::handler::shared(|_, _| ())],
            after: Vec::new(),
            compression: None,
        };
        let outer_before = outer.middleware[0].clone();
        let outer_after = outer.after[0].clone();
        let table = compile(outer, &app);
        let y = &table.routes[0];
        let x = &table.routes[1];
        assert_eq!((y.before.len(), y.after.len()), (2, 1));
        assert_eq!((x.before.len(), x.after.len()), (3, 2));
        assert!(std::sync::Arc::ptr_eq(&x.before[0], &app.before[0]));
        assert!(std::sync::Arc::ptr_eq(&x.before[1], &outer_before));
        assert!(std::sync::Arc::ptr_eq(&x.after[1], &outer_after));
        assert!(!std::sync::Arc::ptr_eq(&x.after[0], &outer_after));
    }

    #[test]
    fn nested_groups_compile_to_the_same_tree_as_flat_routes() {
        let patterns = ["/users", "/users/:id", "/files/*", ""];
        // Flat: every full pattern, level by level.
        let mut flat = Router::new();
        let mut prefix = String::new();
        for level in ["/api", "/v1", "/admin"] {
            prefix.push_str(level);
            for p in patterns {
                flat = flat.get(&format!("{prefix}{p}"), |_, _| ());
            }
        }
        // Grouped: the same routes as 3 nested groups, with middleware.
        let group = || {
            patterns
                .iter()
                .fold(Router::new().middleware(|_, _| ()), |r, p| {
                    r.get(p, |_, _| ())
                })
        };
        let grouped =
            Router::new().nest("/api", group().nest("/v1", group().nest("/admin", group())));
        let flat = compile(flat, &Chain::default());
        let grouped = compile(grouped, &Chain::default());
        // Same tree, same handler ids: lookup does exactly the same work.
        assert_eq!(format!("{:?}", flat.tree), format!("{:?}", grouped.tree));
        assert_eq!(grouped.routes.len(), 12);
        assert_eq!(grouped.routes[11].before.len(), 3);
    }

    #[test]
    #[should_panic(expected = "duplicate parameter name \"id\"")]
    fn duplicate_param_across_prefix_panics() {
        let r = Router::new().nest("/u/:id", Router::new().get("/p/:id", |_, _| ()));
        compile(r, &Chain::default());
    }

    #[test]
    #[should_panic(expected = "invalid prefix \"/api/\"")]
    fn prefix_with_trailing_slash_panics() {
        let _ = Router::new().nest("/api/", Router::new());
    }
}
