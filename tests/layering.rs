//! Layering check: the crate's modules form layers, and code may only import downward.
//!
//! Layers, lowest first (the [`LAYERS`] table below is the reference):
//!
//! | rank | top-level modules                                         |
//! |------|-----------------------------------------------------------|
//! | 0    | `config` (src/config.rs), `error` (src/error.rs)          |
//! | 1    | `net` (src/net/), `router` (src/router/)                  |
//! | 2    | `http` (src/http/)                                        |
//! | 3    | `ws` (src/ws/)                                            |
//! | 4    | `event_loop` (src/event_loop/)                            |
//! | 5    | `app` (src/app/)                                          |
//! | 6    | `internals` (src/internals.rs), the crate root src/lib.rs |
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

/// The rank of every top-level module; a module may only import modules of a lower rank.
/// `lib` stands for the crate root, src/lib.rs.
const LAYERS: &[(&str, u32)] = &[
    ("config", 0),
    ("error", 0),
    ("net", 1),
    ("router", 1),
    ("http", 2),
    ("ws", 3),
    ("event_loop", 4),
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

// ---------------------------------------------------------------------------------------------
// Tokens: identifiers, `::` and single punctuation; comments, strings, chars and lifetimes dropped.

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// If a char literal starts at `c[i] == '\''`, the index after it (else it is a lifetime).
fn char_lit_end(c: &[char], i: usize) -> Option<usize> {
    if c.get(i + 1) == Some(&'\\') {
        // Skip the escaped char, then up to the closing quote (`'\''`, `'\u{1F600}'`).
        let close = (i + 3..c.len()).find(|&j| c[j] == '\'')?;
        return Some(close + 1);
    }
    (c.get(i + 2) == Some(&'\'')).then_some(i + 3)
}

/// The index after the string whose opening `"` is at `i` (`hashes` > 0 for raw strings,
/// which have no escapes).
fn string_end(c: &[char], i: usize, raw: bool, hashes: usize) -> usize {
    let mut j = i + 1;
    while j < c.len() {
        if !raw && c[j] == '\\' {
            j += 2;
            continue;
        }
        if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
            return j + 1 + hashes;
        }
        j += 1;
    }
    c.len()
}

/// Each token with its 1-based line.
fn tokenize(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let is_ident = |ch: char| ch == '_' || ch.is_alphanumeric();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < c.len() {
        let start = i;
        let at = |s: &str| {
            s.chars()
                .enumerate()
                .all(|(k, ch)| c.get(start + k) == Some(&ch))
        };
        let mut tok = None;
        if at("//") {
            i = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len());
        } else if at("/*") {
            // Block comments nest.
            let (mut depth, mut j) = (1, i + 2);
            while j < c.len() && depth > 0 {
                let two: String = c[j..c.len().min(j + 2)].iter().collect();
                depth = match two.as_str() {
                    "/*" => depth + 1,
                    "*/" => depth - 1,
                    _ => {
                        j += 1;
                        continue;
                    }
                };
                j += 2;
            }
            i = j;
        } else if c[i] == '"' {
            i = string_end(&c, i, false, 0);
        } else if c[i] == '\'' {
            // A char literal, or a lifetime / label whose name is skipped.
            i = char_lit_end(&c, i).unwrap_or_else(|| {
                (i + 1..c.len())
                    .find(|&j| !is_ident(c[j]))
                    .unwrap_or(c.len())
            });
        } else if c[i].is_ascii_digit() {
            i = (i..c.len()).find(|&j| !is_ident(c[j])).unwrap_or(c.len());
        } else if is_ident(c[i]) {
            let end = (i..c.len()).find(|&j| !is_ident(c[j])).unwrap_or(c.len());
            let word: String = c[i..end].iter().collect();
            let hashes = (end..c.len()).take_while(|&j| c[j] == '#').count();
            let after = c.get(end + hashes).copied();
            i = end;
            if matches!(word.as_str(), "r" | "br" | "cr") && after == Some('"') {
                i = string_end(&c, end + hashes, true, hashes); // r"..", r#".."#
            } else if matches!(word.as_str(), "b" | "c") && after == Some('"') && hashes == 0 {
                i = string_end(&c, end, false, 0); // b"..", c".."
            } else if word == "b" && after == Some('\'') && hashes == 0 {
                i = char_lit_end(&c, end).unwrap_or(end + 1); // b'x'
            } else if word == "r" && hashes == 1 && after.is_some_and(is_ident) {
                // A raw identifier, r#type.
                i = (end + 1..c.len())
                    .find(|&j| !is_ident(c[j]))
                    .unwrap_or(c.len());
                tok = Some(Tok::Ident(c[end + 1..i].iter().collect()));
            } else {
                tok = Some(Tok::Ident(word));
            }
        } else if at("::") {
            i += 2;
            tok = Some(Tok::PathSep);
        } else {
            i += 1;
            tok = (!c[start].is_whitespace()).then_some(Tok::Punct(c[start]));
        }
        if let Some(tok) = tok {
            out.push((tok, line));
        }
        line += c[start..i].iter().filter(|&&ch| ch == '\n').count();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// References: every path in a file that may name a module of this crate.

/// A path as written, e.g. `["super", "b", "B"]`; `""` first for a `::`-rooted path.
struct Ref {
    line: usize,
    /// The inline modules (`mod tests { .. }`) around the path, outermost first.
    scope: Vec<String>,
    segs: Vec<String>,
    /// `use a::*`.
    glob: bool,
    /// The name a `use` leaf brings into scope (`use a::b as c;` → `c`); `None` outside `use`.
    binds: Option<String>,
}

impl Ref {
    fn text(&self) -> String {
        self.segs.join("::") + if self.glob { "::*" } else { "" }
    }
}

struct Parsed {
    /// Child modules declared with `mod x;` at the top of the file.
    children: BTreeSet<String>,
    refs: Vec<Ref>,
}

/// Appends the leaves of the use tree starting at `i` (after `use`, or inside `{ }`) below
/// `prefix`; returns the index after the tree.
fn use_tree(toks: &[(Tok, usize)], mut i: usize, prefix: &[String], out: &mut Vec<Ref>) -> usize {
    let mut segs = prefix.to_vec();
    if let Some((Tok::PathSep, _)) = toks.get(i) {
        segs.push(String::new()); // `use ::http::..`
        i += 1;
    }
    let leaf = |segs: Vec<String>, line, glob, binds| Ref {
        line,
        scope: Vec::new(),
        segs,
        glob,
        binds,
    };
    loop {
        match toks.get(i) {
            Some((Tok::Ident(s), line)) => {
                // `self` inside braces names the prefix: `use a::{self, X}` binds `a`.
                if s != "self" || segs.is_empty() {
                    segs.push(s.clone());
                }
                i += 1;
                if let Some((Tok::PathSep, _)) = toks.get(i) {
                    i += 1;
                    continue;
                }
                let mut binds = segs.last().cloned();
                if let (Some((Tok::Ident(a), _)), Some((Tok::Ident(name), _))) =
                    (toks.get(i), toks.get(i + 1))
                    && a == "as"
                {
                    binds = Some(name.clone());
                    i += 2;
                }
                out.push(leaf(segs, *line, false, binds));
                return i;
            }
            Some((Tok::Punct('*'), line)) => {
                out.push(leaf(segs, *line, true, None));
                return i + 1;
            }
            Some((Tok::Punct('{'), _)) => {
                i += 1;
                while let Some((tok, _)) = toks.get(i) {
                    match tok {
                        Tok::Punct('}') => return i + 1,
                        Tok::Punct(',') => i += 1,
                        _ => {
                            let next = use_tree(toks, i, &segs, out);
                            i = if next == i { i + 1 } else { next }; // never stall
                        }
                    }
                }
                return i;
            }
            _ => return i,
        }
    }
}

fn parse(toks: &[(Tok, usize)]) -> Parsed {
    let ident = |i: usize| match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let tok = |i: usize| toks.get(i).map(|t| &t.0);
    let mut parsed = Parsed {
        children: BTreeSet::new(),
        refs: Vec::new(),
    };
    // Inline modules open around `i`, each with the brace depth of its body.
    let mut scope: Vec<(String, usize)> = Vec::new();
    let (mut depth, mut i) = (0, 0);
    while i < toks.len() {
        let names = || scope.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
        match (&toks[i].0, ident(i + 1), tok(i + 2)) {
            (Tok::Punct('{'), _, _) => depth += 1,
            (Tok::Punct('}'), _, _) => {
                if scope.last().is_some_and(|s| s.1 == depth) {
                    scope.pop();
                }
                depth = depth.saturating_sub(1);
            }
            (Tok::Ident(k), Some(name), Some(Tok::Punct(';')))
                if k == "mod" && scope.is_empty() =>
            {
                parsed.children.insert(name.to_owned());
            }
            (Tok::Ident(k), Some(name), Some(Tok::Punct('{'))) if k == "mod" => {
                scope.push((name.to_owned(), depth + 1));
            }
            (Tok::Ident(k), _, _)
                if k == "use"
                    && matches!(
                        tok(i + 1),
                        Some(Tok::Ident(_) | Tok::PathSep | Tok::Punct('{'))
                    ) =>
            {
                let first = parsed.refs.len();
                let end = use_tree(toks, i + 1, &[], &mut parsed.refs);
                for r in &mut parsed.refs[first..] {
                    r.scope = names();
                }
                i = end;
                continue;
            }
            // An inline path `a::b::c` (not the tail of a longer path, nor a method call).
            (Tok::Ident(first), _, _)
                if tok(i + 1) == Some(&Tok::PathSep)
                    && (i == 0 || !matches!(toks[i - 1].0, Tok::PathSep | Tok::Punct('.'))) =>
            {
                let mut segs = vec![first.clone()];
                let mut j = i + 1;
                while let (Some(Tok::PathSep), Some(next)) = (tok(j), ident(j + 1)) {
                    segs.push(next.to_owned());
                    j += 2;
                }
                if segs.len() > 1 {
                    let (line, scope) = (toks[j - 1].1, names());
                    let (glob, binds) = (false, None);
                    parsed.refs.push(Ref {
                        line,
                        scope,
                        segs,
                        glob,
                        binds,
                    });
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parsed
}

// ---------------------------------------------------------------------------------------------
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
        "{} layering violation(s) under {} (see the doc of tests/layering.rs):\n{}",
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
