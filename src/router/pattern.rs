//! Route pattern parsing and validation.

use smallvec::SmallVec;

/// One segment of a parsed route pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// Literal text that must equal the path segment byte for byte (may be empty).
    Static(&'a str),
    /// `:name`: matches exactly one non-empty path segment.
    Param(&'a str),
    /// `*` as the whole final segment: matches one or more remaining path segments.
    Wildcard,
}

/// Segments of a parsed pattern, in order.
pub(crate) type Segments<'a> = SmallVec<[Segment<'a>; 8]>;

/// Parses `pattern` into its segments.
///
/// Panics with a message naming the pattern if it does not start with `/`, contains `?` or
/// `#`, has a `*` anywhere but as the whole last segment, has a `:` with an empty name, or
/// repeats a parameter name.
pub(crate) fn parse(pattern: &str) -> Segments<'_> {
    let fail = |why: &str| -> ! { panic!("invalid route pattern {pattern:?}: {why}") };
    let Some(rest) = pattern.strip_prefix('/') else {
        fail("must start with '/'");
    };
    if pattern.contains(['?', '#']) {
        fail("must not contain '?' or '#'");
    }
    let mut out = Segments::new();
    let mut parts = rest.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        let seg = if part.contains('*') {
            if part != "*" || !last {
                fail("'*' is only allowed as the whole last segment");
            }
            Segment::Wildcard
        } else if let Some(name) = part.strip_prefix(':') {
            if name.is_empty() {
                fail("parameter name after ':' must not be empty");
            }
            if out.contains(&Segment::Param(name)) {
                fail(&format!("duplicate parameter name {name:?}"));
            }
            Segment::Param(name)
        } else {
            Segment::Static(part)
        };
        out.push(seg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Segment::{Param, Static, Wildcard};
    use super::*;

    #[test]
    fn parses_valid_patterns() {
        let cases: &[(&str, &[Segment<'_>])] = &[
            ("/", &[Static("")]),
            ("/a/", &[Static("a"), Static("")]),
            ("//a", &[Static(""), Static("a")]),
            ("/a/:id", &[Static("a"), Param("id")]),
            ("/a:b/x:", &[Static("a:b"), Static("x:")]),
            ("/:a/:b/*", &[Param("a"), Param("b"), Wildcard]),
            ("/*", &[Wildcard]),
            ("/é/:ñ", &[Static("é"), Param("ñ")]),
        ];
        for (pattern, want) in cases {
            assert_eq!(parse(pattern).as_slice(), *want, "{pattern}");
        }
    }

    #[test]
    #[should_panic(expected = "\"a/b\"")]
    fn rejects_missing_slash() {
        parse("a/b");
    }

    #[test]
    #[should_panic(expected = "invalid route pattern \"\"")]
    fn rejects_empty() {
        parse("");
    }

    #[test]
    #[should_panic(expected = "\"/a/*/b\"")]
    fn rejects_wildcard_not_last() {
        parse("/a/*/b");
    }

    #[test]
    #[should_panic(expected = "\"/a*\"")]
    fn rejects_wildcard_inside_segment() {
        parse("/a*");
    }

    #[test]
    #[should_panic(expected = "\"/:\"")]
    fn rejects_empty_param_name() {
        parse("/:");
    }

    #[test]
    #[should_panic(expected = "duplicate parameter name \"id\"")]
    fn rejects_duplicate_param() {
        parse("/:id/x/:id");
    }

    #[test]
    #[should_panic(expected = "\"/a?b=1\"")]
    fn rejects_question_mark() {
        parse("/a?b=1");
    }

    #[test]
    #[should_panic(expected = "\"/a#frag\"")]
    fn rejects_hash() {
        parse("/a#frag");
    }
}
