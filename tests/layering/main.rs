//! Layering check: the crate's modules form layers, and code may only import downward.
//!
//! Layers, lowest first (the [`LAYERS`] table below is the reference):
//!
//! | rank | top-level modules                                              |
//! |------|----------------------------------------------------------------|
//! | 0    | `config`, `error`, `runtime`, `stats` (src/*.rs)               |
//! | 1    | `net` (src/net/), `router` (src/router/)                       |
//! | 2    | `http` (src/http/)                                             |
//! | 3    | `ws` (src/ws/), `fs` (src/fs/)                                 |
//! | 4    | `event_loop` (src/event_loop/), `message` (src/message/),      |
//! |      | `bridge` (src/bridge/)                                         |
//! | 5    | `app` (src/app/)                                               |
//! | 6    | `internals` (src/internals.rs), the crate root src/lib.rs      |
//!
//! The sources under `src/` are read as text (comments and string literals are skipped; code in
//! `#[cfg(test)]` modules counts like any other) and two rules are enforced:
//!
//! 1. **No upward import.** A file of top-level module `M` may refer to an item of top-level
//!    module `N`, by `use` or by an inline path such as `crate::ws::OpCode::Text`, only if
//!    `N == M` or `rank(N) < rank(M)`. Modules of the same rank may not use each other.
//! 2. **No import cycle between files.** Every reference is resolved to the deepest source file
//!    its path names (`crate::a::b::C` is `src/a/b.rs` if that exists, else `src/a/mod.rs`...),
//!    and the graph of these file-to-file edges must be acyclic. `mod x;` is not an edge, but a
//!    parent's `use x::Y` or `pub use x::Y` is one: a child that uses `super::Item` while its
//!    parent re-exports that child closes a cycle. References that already break rule 1 are
//!    left out of this graph: every cycle through one of them is gone once it is fixed.
//!
//! Paths are followed through `crate::`, `self::`, `super::` (relative to the file's module and
//! any inline `mod name { .. }` around the path), names of child modules declared with `mod x;`,
//! and module names brought in by `use` (`use crate::net::tls;` then `tls::X`). Paths starting
//! with `::` or with any other name (external crates, types, enums) are ignored: `::http::Method`
//! is the `http` crate, `crate::http::..` is the module.
//!
//! [`check`] runs on any directory laid out like `src/`; the fixtures under
//! `tests/fixtures/layering/` prove it reports what it should.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

mod scan;

use scan::{Ref, parse, tokenize};

/// The rank of every top-level module; a module may only import modules of a lower rank.
/// `lib` stands for the crate root, src/lib.rs.
const LAYERS: &[(&str, u32)] = &[
    ("config", 0),
    ("error", 0),
    ("runtime", 0),
    ("spares", 0),
    ("stats", 0),
    ("net", 1),
    ("router", 1),
    ("http", 2),
    ("ws", 3),
    ("fs", 3),
    ("event_loop", 4),
    ("message", 4),
    ("bridge", 4),
    ("app", 5),
    ("internals", 6),
    ("lib", 6),
];

fn rank(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, r)| r)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Rule 1: a reference to a module of the same or a higher rank.
    Upward,
    /// Rule 2: files that import each other, directly or through others.
    Cycle,
    /// A top-level module missing from [`LAYERS`].
    Unranked,
}

#[derive(Debug)]
struct Violation {
    kind: Kind,
    /// Relative to the checked root, `/`-separated.
    file: String,
    line: usize,
    path: String,
    why: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}`: {}",
            self.file, self.line, self.path, self.why
        )
    }
}

// Resolution: module paths to files, and the checks.

/// Every source file under the root, by module path (`[]` for lib.rs, `["a", "b"]` for a/b.rs
/// or a/b/mod.rs), as a root-relative `/`-separated path.
fn source_files(root: &Path) -> BTreeMap<Vec<String>, String> {
    fn walk(dir: &Path, rel: &[String], out: &mut BTreeMap<Vec<String>, String>) {
        let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let mut segs = rel.to_vec();
            if path.is_dir() {
                segs.push(name);
                walk(&path, &segs, out);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let file = segs
                    .iter()
                    .chain([&name])
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("/");
                match stem {
                    "lib" | "main" if rel.is_empty() => {}
                    "mod" if !rel.is_empty() => {}
                    _ => segs.push(stem.to_owned()),
                }
                // `a.rs` wins over `a/mod.rs` (both would not compile anyway).
                if !(out.contains_key(&segs) && stem == "mod") {
                    out.insert(segs, file);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, &[], &mut out);
    assert!(!out.is_empty(), "no .rs file under {}", root.display());
    out
}

/// The deepest file naming a prefix of `abs`, and how many segments it covers.
fn file_of<'f>(
    files: &'f BTreeMap<Vec<String>, String>,
    abs: &[String],
) -> Option<(&'f str, usize)> {
    (0..=abs.len())
        .rev()
        .find_map(|k| files.get(&abs[..k]).map(|f| (f.as_str(), k)))
}

/// `r` as an absolute module path, or `None` if it does not start in this crate.
/// `aliases` maps (scope, name) to the module a `use` bound to that name.
fn absolute(
    r: &Ref,
    module: &[String],
    children: &BTreeSet<String>,
    aliases: &BTreeMap<(Vec<String>, String), Vec<String>>,
) -> Option<Vec<String>> {
    let here: Vec<String> = module.iter().chain(&r.scope).cloned().collect();
    let (first, rest) = r.segs.split_first()?;
    let mut abs = match first.as_str() {
        "crate" => Vec::new(),
        "self" | "super" => here,
        name => match aliases.get(&(r.scope.clone(), name.to_owned())) {
            Some(target) => target.clone(),
            // Child modules are in scope at the file's top, not in its inline modules.
            None if r.scope.is_empty() && children.contains(name) => {
                module.iter().chain([first]).cloned().collect()
            }
            None => return None,
        },
    };
    if first == "super" {
        abs.pop()?;
    }
    for seg in rest {
        if seg == "super" {
            abs.pop()?;
        } else {
            abs.push(seg.clone());
        }
    }
    Some(abs)
}

fn top_module(file_module: &[String]) -> &str {
    file_module.first().map_or("lib", String::as_str)
}

/// Checks the tree rooted at `root` (laid out like `src/`) and returns every violation.
fn check(root: &Path) -> Vec<Violation> {
    let files = source_files(root);
    let mut violations = Vec::new();
    // (from, to) file → the references making that edge, as (line, path).
    let mut edges: BTreeMap<(String, String), Vec<(usize, String)>> = BTreeMap::new();
    for (module, file) in &files {
        let from_top = top_module(module);
        let from_rank = rank(from_top);
        if from_rank.is_none() {
            violations.push(Violation {
                kind: Kind::Unranked,
                file: file.clone(),
                line: 1,
                path: from_top.to_owned(),
                why: "top-level module missing from LAYERS".to_owned(),
            });
        }
        let text = fs::read_to_string(root.join(file)).unwrap();
        let parsed = parse(&tokenize(&text));
        // Module names bound by `use` (`use crate::net::tls;`), for paths like `tls::X`.
        let (mut aliases, none) = (BTreeMap::new(), BTreeMap::new());
        for r in parsed.refs.iter().filter(|r| !r.glob) {
            if let (Some(name), Some(abs)) =
                (&r.binds, absolute(r, module, &parsed.children, &none))
                && file_of(&files, &abs).is_some_and(|(_, k)| k == abs.len())
            {
                aliases.insert((r.scope.clone(), name.clone()), abs);
            }
        }
        for r in &parsed.refs {
            let Some(abs) = absolute(r, module, &parsed.children, &aliases) else {
                continue;
            };
            let Some((target, k)) = file_of(&files, &abs) else {
                continue;
            };
            let to_top = top_module(&abs[..k]);
            if let (Some(from), Some(to)) = (from_rank, rank(to_top))
                && to_top != from_top
                && to >= from
            {
                let why = if to == from {
                    format!(
                        "`{from_top}` and `{to_top}` share rank {to} and may not import each other"
                    )
                } else {
                    format!(
                        "upward import: `{from_top}` (rank {from}) may not import `{to_top}` (rank {to})"
                    )
                };
                violations.push(Violation {
                    kind: Kind::Upward,
                    file: file.clone(),
                    line: r.line,
                    path: r.text(),
                    why,
                });
                // Left out of the cycle search: a cycle through this edge goes with it.
                continue;
            }
            if target != file {
                let key = (file.clone(), target.to_owned());
                edges.entry(key).or_default().push((r.line, r.text()));
            }
        }
    }
    violations.extend(cycles(&edges));
    violations
}

/// The shortest path of files from `from` to `to`, both included.
fn shortest_path<'f>(
    next: &BTreeMap<&'f str, Vec<&'f str>>,
    from: &'f str,
    to: &'f str,
) -> Option<Vec<&'f str>> {
    let mut parent = BTreeMap::from([(from, from)]);
    let mut queue = VecDeque::from([from]);
    while let Some(g) = queue.pop_front() {
        if g == to {
            let mut path = vec![to];
            while path[path.len() - 1] != from {
                path.push(parent[path[path.len() - 1]]);
            }
            path.reverse();
            return Some(path);
        }
        for &h in next.get(g).into_iter().flatten() {
            if !parent.contains_key(h) {
                parent.insert(h, g);
                queue.push_back(h);
            }
        }
    }
    None
}

/// The import cycles among files: for each edge `a -> b` on a cycle and not yet part of a
/// reported one, the shortest cycle `a -> b -> .. -> a`. So every edge on a cycle (each a
/// candidate to remove) appears in at least one report.
fn cycles(edges: &BTreeMap<(String, String), Vec<(usize, String)>>) -> Vec<Violation> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        next.entry(a).or_default().push(b);
    }
    let (mut covered, mut out) = (BTreeSet::new(), Vec::new());
    for (a, b) in edges.keys() {
        if covered.contains(&(a.as_str(), b.as_str())) {
            continue;
        }
        let Some(back) = shortest_path(&next, b, a) else {
            continue;
        };
        let chain: Vec<&str> = [a.as_str()].into_iter().chain(back).collect(); // a, b, .., a
        let mut why = String::from("import cycle: ");
        for hop in chain.windows(2) {
            covered.insert((hop[0], hop[1]));
            let (line, path) = &edges[&(hop[0].to_owned(), hop[1].to_owned())][0];
            why += &format!("{}:{line} `{path}` -> ", hop[0]);
        }
        why += a;
        let (line, path) = edges[&(a.clone(), b.clone())][0].clone();
        let (kind, file) = (Kind::Cycle, a.clone());
        out.push(Violation {
            kind,
            file,
            line,
            path,
            why,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tests

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layering")
        .join(name)
}

fn listing(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("  {v}\n")).collect()
}

#[test]
fn src_respects_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let violations = check(&root);
    assert!(
        violations.is_empty(),
        "{} layering violation(s) under {} (see the doc of tests/layering/main.rs):\n{}",
        violations.len(),
        root.display(),
        listing(&violations)
    );
}

#[test]
fn fixture_upward_import_is_reported() {
    let violations = check(&fixture("upward"));
    let found: Vec<_> = violations
        .iter()
        .map(|v| (v.kind, v.file.as_str(), v.line, v.path.as_str()))
        .collect();
    assert_eq!(
        found,
        [(Kind::Upward, "http/conn.rs", 3, "crate::ws::X")],
        "\n{}",
        listing(&violations)
    );
}

#[test]
fn fixture_cycle_is_reported() {
    let violations = check(&fixture("cycle"));
    assert_eq!(violations.len(), 1, "\n{}", listing(&violations));
    let v = &violations[0];
    assert_eq!((v.kind, v.file.as_str()), (Kind::Cycle, "ws/a.rs"), "\n{v}");
    assert!(
        v.why.starts_with(
            "import cycle: ws/a.rs:1 `super::b::B` -> ws/b.rs:1 `super::a::A` -> ws/a.rs"
        ),
        "\n{v}"
    );
}

#[test]
fn fixture_clean_tree_passes() {
    let violations = check(&fixture("clean"));
    assert!(violations.is_empty(), "\n{}", listing(&violations));
}

#[test]
fn fixture_hidden_references_are_reported() {
    let violations = check(&fixture("tricky"));
    let found: Vec<_> = violations
        .iter()
        .map(|v| (v.kind, v.file.as_str(), v.line, v.path.as_str()))
        .collect();
    let up = Kind::Upward;
    let conn = "http/conn.rs";
    #[rustfmt::skip]
    let expected = [
        (up, "event_loop/worker/ws.rs", 1, "super::super::super::app::Shared"),
        (up, conn, 4, "crate::ws::frame::Frame"),
        (up, conn, 4, "crate::ws::frame::Opcode"),
        (up, conn, 7, "crate::ws"),
        (up, conn, 10, "crate::ws::frame::Opcode::Text"),
        (up, conn, 13, "sockets::frame::Frame"),
        (up, conn, 14, "sockets::frame::Frame"),
        (up, "net/tls.rs", 6, "crate::router::matches"),
        (Kind::Cycle, "ws/frame.rs", 8, "self::super::mask::apply"),
    ];
    assert_eq!(found, expected, "\n{}", listing(&violations));
    let cycle = &violations.last().unwrap().why;
    assert!(
        cycle.starts_with("import cycle: ws/frame.rs:8 `self::super::mask::apply` -> ws/mask.rs:2 `crate::ws::Frame` -> ws/mod.rs:4 `frame::Frame` -> ws/frame.rs"),
        "\n{cycle}"
    );
}
