//! The scanner of the layering check: Rust source to tokens (comments, strings, chars and
//! lifetimes dropped), then to the crate-internal paths each file refers to.

use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Tokens: identifiers, `::` and single punctuation; comments, strings, chars and lifetimes dropped.

#[derive(Debug, PartialEq)]
pub(crate) enum Tok {
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
pub(crate) fn tokenize(src: &str) -> Vec<(Tok, usize)> {
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
pub(crate) struct Ref {
    pub(crate) line: usize,
    /// The inline modules (`mod tests { .. }`) around the path, outermost first.
    pub(crate) scope: Vec<String>,
    pub(crate) segs: Vec<String>,
    /// `use a::*`.
    pub(crate) glob: bool,
    /// The name a `use` leaf brings into scope (`use a::b as c;` → `c`); `None` outside `use`.
    pub(crate) binds: Option<String>,
}

impl Ref {
    pub(crate) fn text(&self) -> String {
        self.segs.join("::") + if self.glob { "::*" } else { "" }
    }
}

pub(crate) struct Parsed {
    /// Child modules declared with `mod x;` at the top of the file.
    pub(crate) children: BTreeSet<String>,
    pub(crate) refs: Vec<Ref>,
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

pub(crate) fn parse(toks: &[(Tok, usize)]) -> Parsed {
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
