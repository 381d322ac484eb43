//! Request router with uWebSockets semantics: one segment tree per method plus an ANY tree,
//! matched depth-first (static, then `:param`, then `*`) with backtracking and yielding, and
//! the WebSocket routes in a tree of their own that a handshake tries before all others (uWS
//! registers `ws()` with the highest priority).

mod domain;
mod params;
mod pattern;
mod tree;

pub(crate) use domain::{DomainTree, server_name};
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub use params::{HandlerId, ParamKey, Params, Priority};

use tree::{Key, Node, key_of};

/// Routing table: built once with [`RouteTree::add`], then shared read-only.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
#[derive(Debug, Default)]
pub struct RouteTree {
    /// Method trees sorted by method name.
    methods: Vec<MethodTree>,
    /// The ANY tree, tried after the method trees.
    any: Node,
    /// Routes added with [`Priority::Upgrade`] (WebSocket handshakes, GET only): tried before
    /// every other tree by requests that ask for the upgrade, never by others.
    upgrade: Node,
}

/// The route tree of one method token.
#[derive(Debug)]
struct MethodTree {
    /// Method token, e.g. `GET`.
    name: Box<str>,
    /// `key_of` the name, for fast lookup.
    key: Key,
    /// Routes registered for this method.
    tree: Node,
}

/// Panics with a message naming `pattern` if it breaks the pattern rules (see
/// [`RouteTree::add`]); lets builders reject a bad pattern where it is written.
pub(crate) fn check_pattern(pattern: &str) {
    pattern::parse(pattern);
}

/// True if `path` can match a route: it starts with `/` and its offsets fit in `u32`.
fn routable(path: &str) -> bool {
    path.starts_with('/') && u32::try_from(path.len()).is_ok()
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
impl RouteTree {
    /// Registers `handler` for `pattern` in the tree of `method` (`None`: the ANY tree), or,
    /// with [`Priority::Upgrade`], in the upgrade tree (whatever `method`: a handshake is GET).
    ///
    /// Same tree, same shape and same priority replaces the previous handler id.
    /// Panics with a message naming the pattern if it is invalid.
    pub fn add(
        &mut self,
        method: Option<&str>,
        pattern: &str,
        priority: Priority,
        handler: HandlerId,
    ) {
        let segments = pattern::parse(pattern);
        let tree = match method {
            _ if priority == Priority::Upgrade => &mut self.upgrade,
            None => &mut self.any,
            Some(m) => {
                let found = self.methods.binary_search_by(|t| (*t.name).cmp(m));
                let i = found.unwrap_or_else(|i| {
                    let (name, key, tree) = (m.into(), key_of(m.as_bytes()), Node::default());
                    self.methods.insert(i, MethodTree { name, key, tree });
                    i
                });
                &mut self.methods[i].tree
            }
        };
        tree.insert(&segments, priority, handler);
    }

    /// Returns the tree of `method`, if any route was registered for it.
    /// Linear scan: there are few methods and the key compare avoids `memcmp`.
    #[inline]
    fn tree(&self, method: &str) -> Option<&Node> {
        let key = key_of(method.as_bytes());
        let long = method.len() > 8;
        self.methods
            .iter()
            .find(|t| t.key == key && (!long || *t.name == *method))
            .map(|t| &t.tree)
    }

    /// Depth-first search in specificity order: for a GET that asks for a WebSocket upgrade
    /// (`upgrade`), the upgrade tree first; then the tree of `method`, then (for `HEAD` only)
    /// the GET tree, then the ANY tree.
    ///
    /// Calls `visit(handler, params)` for each candidate; `true` means handled (stop),
    /// `false` means yield (continue with the next candidate). Returns true if a visit
    /// returned true. `params` is cleared first and holds the current candidate's ranges.
    pub fn route(
        &self,
        method: &str,
        path: &str,
        upgrade: bool,
        params: &mut Params,
        mut visit: impl FnMut(HandlerId, &Params) -> bool,
    ) -> bool {
        params.clear();
        if !routable(path) {
            return false;
        }
        let (bytes, visit) = (path.as_bytes(), &mut visit);
        if upgrade && method == "GET" && self.upgrade.walk(bytes, 1, params, visit) {
            return true;
        }
        if let Some(t) = self.tree(method)
            && t.walk(bytes, 1, params, visit)
        {
            return true;
        }
        if method == "HEAD"
            && let Some(t) = self.tree("GET")
            && t.walk(bytes, 1, params, visit)
        {
            return true;
        }
        self.any.walk(bytes, 1, params, visit)
    }

    /// Calls `f(method)` once for every method tree (not ANY) with a route matching `path`,
    /// in method-name order. Used to build a 405 `Allow` field.
    /// A WebSocket route makes GET allowed.
    pub(crate) fn allowed_methods<'t>(&'t self, path: &str, mut f: impl FnMut(&'t str)) {
        let mut upgrade = Some(()).filter(|()| matches(&self.upgrade, path));
        for t in &self.methods {
            let get = &*t.name == "GET";
            if matches(&t.tree, path) || get && upgrade.is_some() {
                f(&t.name);
            }
            if get {
                upgrade = None;
            }
        }
        if upgrade.is_some() {
            f("GET");
        }
    }

    /// True if the ANY tree has a route matching `path`.
    pub(crate) fn any_matches(&self, path: &str) -> bool {
        matches(&self.any, path)
    }
}

/// True if `tree` has any handler matching `path`.
fn matches(tree: &Node, path: &str) -> bool {
    routable(path) && tree.walk(path.as_bytes(), 1, &mut Params::new(), &mut |_, _| true)
}

#[cfg(test)]
mod tests {
    use super::Priority::{Method as M, Upgrade as U};
    use super::*;

    /// (method tree or None for ANY, pattern, priority, handler id).
    type Route = (Option<&'static str>, &'static str, Priority, HandlerId);
    /// (routes, method, path, handlers that accept, expected accepting handler).
    type FirstCase = (
        &'static [Route],
        &'static str,
        &'static str,
        &'static [HandlerId],
        Option<HandlerId>,
    );
    /// Expected visit: handler id and the param substrings it sees.
    type Expected = (HandlerId, &'static [&'static str]);

    fn router(routes: &[Route]) -> RouteTree {
        let mut r = RouteTree::default();
        for &(m, p, prio, h) in routes {
            r.add(m, p, prio, h);
        }
        r
    }

    /// Handlers visited when every visit yields.
    fn visits(r: &RouteTree, method: &str, path: &str) -> Vec<HandlerId> {
        let mut out = Vec::new();
        let mut params = Params::new();
        assert!(!r.route(method, path, true, &mut params, |h, _| {
            out.push(h);
            false
        }));
        out
    }

    /// First handler in `accepting` that is visited; all others yield.
    fn first(
        r: &RouteTree,
        method: &str,
        path: &str,
        accepting: &[HandlerId],
    ) -> Option<HandlerId> {
        let mut hit = None;
        let mut params = Params::new();
        let found = r.route(method, path, true, &mut params, |h, _| {
            hit = Some(h).filter(|h| accepting.contains(h));
            hit.is_some()
        });
        assert_eq!(found, hit.is_some());
        hit
    }

    const G: Option<&str> = Some("GET");
    const P: Option<&str> = Some("POST");
    const ANY: Option<&str> = None;

    #[test]
    fn visit_order_tables() {
        #[rustfmt::skip]
        let cases: &[(&[Route], &str, &str, &[HandlerId])] = &[
            // static, param, wildcard regardless of registration order
            (&[(G, "/*", M, 1), (G, "/:x", M, 2), (G, "/a", M, 3)], "GET", "/a", &[3, 2, 1]),
            (&[(G, "/a", M, 3), (G, "/*", M, 1), (G, "/:x", M, 2)], "GET", "/a", &[3, 2, 1]),
            (&[(G, "/a/*", M, 1), (G, "/a/:x", M, 2), (G, "/:y/b", M, 3)], "GET", "/a/b", &[2, 1, 3]),
            // backtracking
            (&[(G, "/a/b/d", M, 1), (G, "/a/:x/c", M, 2)], "GET", "/a/b/c", &[2]),
            (&[(G, "/a/b/d", M, 1), (G, "/a/:x/c", M, 2)], "GET", "/a/b/d", &[1]),
            // wildcard needs at least one (possibly empty) segment
            (&[(G, "/a/*", M, 1)], "GET", "/a", &[]),
            (&[(G, "/a/*", M, 1)], "GET", "/a/", &[1]),
            (&[(G, "/a/*", M, 1)], "GET", "/a/x/y", &[1]),
            (&[(G, "/a/*", M, 1), (G, "/a", M, 2), (G, "/a/", M, 3)], "GET", "/a/", &[3, 1]),
            (&[(G, "/*", M, 1)], "GET", "/", &[1]),
            (&[(G, "/*", M, 1)], "GET", "//x/", &[1]),
            // root
            (&[(G, "/", M, 1), (G, "/:x", M, 2)], "GET", "/", &[1]),
            (&[(G, "/", M, 1)], "GET", "/a", &[]),
            // trailing slash and `//` are significant
            (&[(G, "/a", M, 1), (G, "/a/", M, 2)], "GET", "/a", &[1]),
            (&[(G, "/a", M, 1), (G, "/a/", M, 2)], "GET", "/a/", &[2]),
            (&[(G, "/a", M, 1), (G, "//a", M, 2)], "GET", "//a", &[2]),
            (&[(G, "/:x/a", M, 1), (G, "/:x", M, 2)], "GET", "//a", &[]),
            (&[(G, "/a/:x", M, 1)], "GET", "/a/", &[]),
            // method tree, then ANY
            (&[(ANY, "/x", M, 1), (G, "/*", M, 2)], "GET", "/x", &[2, 1]),
            (&[(ANY, "/x", M, 1), (P, "/x", M, 2)], "GET", "/x", &[1]),
            // HEAD: HEAD tree, GET tree, ANY
            (&[(ANY, "/x", M, 1), (G, "/x", M, 2), (Some("HEAD"), "/*", M, 3)], "HEAD", "/x", &[3, 2, 1]),
            (&[(ANY, "/x", M, 1), (G, "/x", M, 2)], "HEAD", "/x", &[2, 1]),
            (&[(ANY, "/x", M, 1), (Some("HEAD"), "/x", M, 2)], "GET", "/x", &[1]),
            // unknown and lowercase methods reach only ANY
            (&[(ANY, "/x", M, 1), (G, "/x", M, 2)], "FOO", "/x", &[1]),
            (&[(ANY, "/x", M, 1), (G, "/x", M, 2)], "get", "/x", &[1]),
            (&[(ANY, "/x", M, 1), (Some("get"), "/x", M, 2)], "get", "/x", &[2, 1]),
            // replacement of the same shape and priority
            (&[(G, "/u/:id", M, 1), (G, "/u/:name", M, 2)], "GET", "/u/7", &[2]),
            (&[(G, "/u/*", M, 1), (G, "/u/*", M, 2), (ANY, "/u/*", M, 3)], "GET", "/u/7", &[2, 3]),
            // Upgrade routes before every other route, at every level, regardless of
            // registration order (uWS: `ws()` has the highest priority), for GET only
            (&[(G, "/ws", M, 1), (G, "/ws", U, 2)], "GET", "/ws", &[2, 1]),
            (&[(G, "/*", M, 1), (G, "/*", U, 2), (G, "/ws", M, 3)], "GET", "/ws", &[2, 3, 1]),
            (&[(G, "/static", M, 1), (ANY, "/static", M, 2), (G, "/*", U, 3)], "GET", "/static", &[3, 1, 2]),
            (&[(G, "/ws", U, 1), (G, "/ws", U, 2), (G, "/ws", M, 3)], "GET", "/ws", &[2, 3]),
            (&[(G, "/*", U, 1), (ANY, "/x", M, 2)], "POST", "/x", &[2]),
            // paths that match nothing
            (&[(ANY, "/*", M, 1)], "GET", "", &[]),
            (&[(ANY, "/*", M, 1)], "GET", "*", &[]),
            (&[(ANY, "/*", M, 1)], "GET", "a/b", &[]),
        ];
        for (i, (routes, method, path, want)) in cases.iter().enumerate() {
            let r = router(routes);
            assert_eq!(visits(&r, method, path), *want, "case {i}: {method} {path}");
        }
    }

    #[test]
    fn first_accepting_tables() {
        #[rustfmt::skip]
        let cases: &[FirstCase] = &[
            (&[(G, "/a/b/d", M, 1), (G, "/a/:x/c", M, 2)], "GET", "/a/b/c", &[1, 2], Some(2)),
            (&[(G, "/*", M, 1), (G, "/:x", M, 2), (G, "/a", M, 3)], "GET", "/a", &[1, 2, 3], Some(3)),
            (&[(G, "/*", M, 1), (G, "/:x", M, 2), (G, "/a", M, 3)], "GET", "/a", &[1, 2], Some(2)),
            (&[(G, "/*", M, 1), (ANY, "/x", M, 2)], "GET", "/x", &[1, 2], Some(1)),
            (&[(G, "/*", M, 1), (ANY, "/x", M, 2)], "GET", "/x", &[2], Some(2)),
            (&[(G, "/ws", M, 1), (G, "/ws", U, 2)], "GET", "/ws", &[1, 2], Some(2)),
            (&[(G, "/ws", M, 1), (G, "/ws", U, 2)], "GET", "/ws", &[1], Some(1)),
            (&[(G, "/x", M, 1), (ANY, "/*", M, 2)], "HEAD", "/x", &[1, 2], Some(1)),
            (&[(G, "/x", M, 1)], "HEAD", "/y", &[1], None),
        ];
        for (i, (routes, method, path, accepting, want)) in cases.iter().enumerate() {
            let r = router(routes);
            assert_eq!(
                first(&r, method, path, accepting),
                *want,
                "case {i}: {method} {path}"
            );
        }
    }

    #[test]
    fn params_hold_ranges_of_current_candidate() {
        let r = router(&[
            (G, "/u/:id/p/:pid", M, 1),
            (G, "/:a/:b", M, 2),
            (G, "/:a/x/*", M, 3),
            (G, "/*", M, 4),
        ]);
        let cases: &[(&str, &[Expected])] = &[
            ("/u/42/p/ab%20c", &[(1, &["42", "ab%20c"]), (4, &[])]),
            ("/u/x/p/q", &[(1, &["x", "q"]), (3, &["u"]), (4, &[])]),
            ("/é/ñ", &[(2, &["é", "ñ"]), (4, &[])]),
            (
                "/a-long-segment/x/more",
                &[(3, &["a-long-segment"]), (4, &[])],
            ),
            (
                "/long-segment-one/long-segment-two",
                &[(2, &["long-segment-one", "long-segment-two"]), (4, &[])],
            ),
            ("/q/x/y/z", &[(3, &["q"]), (4, &[])]),
            ("/u/x", &[(2, &["u", "x"]), (4, &[])]),
        ];
        for (path, want) in cases {
            let mut got = Vec::new();
            let mut params = Params::new();
            params.push((9, 9)); // stale content must be cleared
            r.route("GET", path, false, &mut params, |h, ps| {
                let strs: Vec<&str> = ps
                    .iter()
                    .map(|&(s, e)| &path[s as usize..e as usize])
                    .collect();
                got.push((h, strs));
                false
            });
            let want: Vec<(HandlerId, Vec<&str>)> =
                want.iter().map(|(h, s)| (*h, s.to_vec())).collect();
            assert_eq!(got, want, "{path}");
            assert!(params.is_empty());
        }
    }

    #[test]
    fn allowed_methods_and_any_matches() {
        let r = router(&[
            (P, "/a/:x", M, 1),
            (G, "/a/b", M, 2),
            (Some("DELETE"), "/*", M, 3),
            (Some("PUT"), "/c", M, 4),
            (ANY, "/a/*", M, 5),
        ]);
        let allowed = |path: &str| {
            let mut v = Vec::new();
            r.allowed_methods(path, |m| v.push(m.to_owned()));
            v
        };
        assert_eq!(allowed("/a/b"), ["DELETE", "GET", "POST"]);
        assert_eq!(allowed("/a/z"), ["DELETE", "POST"]);
        assert_eq!(allowed("/c"), ["DELETE", "PUT"]);
        assert!(allowed("").is_empty());
        assert!(r.any_matches("/a/"));
        assert!(r.any_matches("/a/b/c"));
        assert!(!r.any_matches("/a"));
        assert!(!r.any_matches("*"));
        assert!(!RouteTree::default().any_matches("/"));
    }

    #[test]
    #[should_panic(expected = "\"/a/*/b\"")]
    fn add_panics_on_invalid_pattern() {
        RouteTree::default().add(G, "/a/*/b", M, 1);
    }

    #[test]
    fn router_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<RouteTree>();
    }

    #[test]
    fn odd_paths_never_panic() {
        let r = router(&[
            (G, "/", M, 1),
            (G, "/:a/:b/:c/:d/:e/:f/:g/:h/:i/:j", M, 2),
            (G, "/a/*", M, 3),
            (ANY, "//:x/", M, 4),
            (Some("HEAD"), "/é/:x", U, 5),
        ]);
        let parts = [
            "/", "//", "a", "é", ":", "*", "", "?", "%00", "\u{0}", "😀", "x",
        ];
        let methods = ["GET", "HEAD", "get", "", "*", "FOO"];
        let mut seed = 0x2545_f491_u64;
        let mut path = String::new();
        let mut params = Params::new();
        for n in 0..20_000 {
            path.clear();
            for _ in 0..(n % 24) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                path.push_str(parts[(seed >> 33) as usize % parts.len()]);
            }
            let m = methods[n % methods.len()];
            r.route(m, &path, false, &mut params, |_, ps| {
                assert!(
                    ps.iter()
                        .all(|&(s, e)| path.get(s as usize..e as usize).is_some())
                );
                false
            });
            r.allowed_methods(&path, |_| {});
            r.any_matches(&path);
        }
        let long = "/a".repeat(100_000) + "/";
        assert_eq!(visits(&r, "GET", &long), [3]);
        assert_eq!(visits(&r, "GET", &long.replace('a', "b")), [] as [u32; 0]);
        let deep = "/x".repeat(10);
        assert_eq!(visits(&r, "GET", &deep), [2]);
    }
}
