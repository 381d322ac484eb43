//! Routing domains: which route table serves a server name, with uWebSockets' label rules
//! (uSockets `sni_tree`): names are split into `.`-separated labels; a `*` label matches
//! exactly one label; at every label the exact child is tried before `*`, with backtracking.
//!
//! The server name is the TLS SNI name on TLS connections, else the `Host` field
//! ([`server_name`]): lookup only needs a `&str`.

/// Label tree of registered domain patterns, mapping each to a table index.
#[derive(Debug, Default)]
pub(crate) struct DomainTree {
    root: LabelNode,
}

/// One position in the label tree.
#[derive(Debug, Default)]
struct LabelNode {
    /// Children by exact label, stored lowercase.
    exact: Vec<(Box<str>, LabelNode)>,
    /// Child reached through a `*` label.
    wildcard: Option<Box<LabelNode>>,
    /// Table index of the pattern ending here.
    value: Option<usize>,
}

impl DomainTree {
    /// True if no pattern was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.root.exact.is_empty() && self.root.wildcard.is_none()
    }

    /// The table index already registered for `pattern`, if any (case-insensitive).
    pub(crate) fn get(&self, pattern: &str) -> Option<usize> {
        let mut node = &self.root;
        for label in labels(pattern) {
            node = if label == "*" {
                node.wildcard.as_deref()?
            } else {
                let (_, child) = node
                    .exact
                    .iter()
                    .find(|(l, _)| l.eq_ignore_ascii_case(label))?;
                child
            };
        }
        node.value
    }

    /// Registers `pattern` (e.g. `"*.example.com"`) for table `value`, replacing a previous
    /// value of the same pattern.
    ///
    /// # Panics
    /// If `pattern` is empty, has an empty label (`"a..b"`, `".a"`), or a label that contains
    /// `*` without being exactly `*` (`"a*.com"`).
    pub(crate) fn add(&mut self, pattern: &str, value: usize) {
        check_domain(pattern);
        let mut node = &mut self.root;
        for label in labels(pattern) {
            node = if label == "*" {
                node.wildcard.get_or_insert_with(Box::default)
            } else {
                let label = label.to_ascii_lowercase();
                let i = match node.exact.iter().position(|(l, _)| **l == *label) {
                    Some(i) => i,
                    None => {
                        node.exact.push((label.into(), LabelNode::default()));
                        node.exact.len() - 1
                    }
                };
                &mut node.exact[i].1
            };
        }
        node.value = Some(value);
    }

    /// The table index for `server_name` (already stripped of any port, see
    /// [`server_name`]), compared case-insensitively; `None` when no pattern matches.
    pub(crate) fn find(&self, server_name: &str) -> Option<usize> {
        if server_name.is_empty() {
            return None;
        }
        self.root.find(server_name)
    }
}

impl LabelNode {
    /// Matches the labels of `rest` (non-empty) below this node: exact child, then `*`.
    fn find(&self, rest: &str) -> Option<usize> {
        let (label, tail) = match rest.split_once('.') {
            Some((label, tail)) => (label, Some(tail)),
            None => (rest, None),
        };
        if label.is_empty() {
            return None;
        }
        let descend = |child: &LabelNode| match tail {
            None => child.value,
            Some(tail) => child.find(tail),
        };
        let exact = self
            .exact
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label));
        exact
            .and_then(|(_, child)| descend(child))
            .or_else(|| self.wildcard.as_deref().and_then(descend))
    }
}

/// The labels of a domain pattern.
fn labels(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('.')
}

/// Panics with a message naming `pattern` if it is not a valid domain pattern.
fn check_domain(pattern: &str) {
    let fail = |why: &str| -> ! { panic!("invalid domain pattern {pattern:?}: {why}") };
    if pattern.is_empty() {
        fail("must not be empty");
    }
    for label in labels(pattern) {
        if label.is_empty() {
            fail("labels between '.' must not be empty");
        }
        if label.contains('*') && label != "*" {
            fail("'*' must be a whole label");
        }
    }
}

/// The server name of a `Host` field value (RFC 9110 section 7.2): the port is stripped
/// (`example.com:8080` -> `example.com`, `[::1]:80` -> `[::1]`), and so is one trailing `.`
/// of a fully qualified name.
pub(crate) fn server_name(host: &str) -> &str {
    let name = if host.starts_with('[') {
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.strip_suffix('.').unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(patterns: &[&str]) -> DomainTree {
        let mut t = DomainTree::default();
        for (i, p) in patterns.iter().enumerate() {
            t.add(p, i);
        }
        t
    }

    #[test]
    fn label_rules_as_uwebsockets() {
        #[rustfmt::skip]
        let cases: &[(&[&str], &str, Option<usize>)] = &[
            (&["*.google.*"], "www.google.com", Some(0)),
            (&["*.google.*"], "google.com", None),
            (&["*.google.*"], "a.b.google.com", None),
            (&["*.google.*"], "www.google.com.au", None),
            (&["example.com"], "example.com", Some(0)),
            (&["example.com"], "EXAMPLE.Com", Some(0)),
            (&["example.com"], "www.example.com", None),
            (&["*.example.com"], "example.com", None),
            (&["*.example.com"], "API.example.COM", Some(0)),
            // exact labels before `*`, with backtracking
            (&["*.example.com", "api.example.com"], "api.example.com", Some(1)),
            (&["api.example.com", "*.example.com"], "www.example.com", Some(1)),
            (&["api.*.com", "*.example.com"], "api.example.com", Some(0)),
            (&["api.*.org", "*.example.com"], "api.example.com", Some(1)),
            (&["a.b.*", "*.b.c"], "a.b.c", Some(0)),
            (&["a.x.*", "*.b.c"], "a.b.c", Some(1)),
            (&["*"], "localhost", Some(0)),
            (&["*"], "a.b", None),
            // odd names never match
            (&["*", "*.*"], "", None),
            (&["*", "*.*"], ".", None),
            (&["*.*"], "a.", None),
            (&["*.*"], ".a", None),
            (&["*.*"], "a..b", None),
        ];
        for (i, (patterns, name, want)) in cases.iter().enumerate() {
            assert_eq!(tree(patterns).find(name), *want, "case {i}: {name:?}");
        }
    }

    #[test]
    fn same_pattern_is_found_and_replaced() {
        let mut t = tree(&["*.Example.com", "x.y"]);
        assert_eq!(t.get("*.example.COM"), Some(0));
        assert_eq!(t.get("x.y"), Some(1));
        assert_eq!(t.get("x"), None);
        assert_eq!(t.get("*.y"), None);
        t.add("*.EXAMPLE.com", 7);
        assert_eq!(t.find("a.example.com"), Some(7));
        assert!(!t.is_empty());
        assert!(DomainTree::default().is_empty());
    }

    #[test]
    fn server_name_strips_port_and_final_dot() {
        let cases = [
            ("example.com", "example.com"),
            ("example.com:8080", "example.com"),
            ("example.com.", "example.com"),
            ("example.com.:80", "example.com"),
            ("[::1]:8080", "[::1]"),
            ("[::1]", "[::1]"),
            ("127.0.0.1:3000", "127.0.0.1"),
            ("", ""),
        ];
        for (host, want) in cases {
            assert_eq!(server_name(host), want, "{host}");
        }
    }

    #[test]
    #[should_panic(expected = "invalid domain pattern \"a..b\"")]
    fn rejects_empty_label() {
        tree(&["a..b"]);
    }

    #[test]
    #[should_panic(expected = "invalid domain pattern \"a*.com\"")]
    fn rejects_partial_wildcard() {
        tree(&["a*.com"]);
    }

    #[test]
    #[should_panic(expected = "invalid domain pattern \"\"")]
    fn rejects_empty() {
        tree(&[""]);
    }
}
