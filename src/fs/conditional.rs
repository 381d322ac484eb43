//! Validators and conditional requests (RFC 9110 sections 8.8 and 13): a file's `ETag` and
//! `Last-Modified`, and what `If-Match`, `If-Unmodified-Since`, `If-None-Match`,
//! `If-Modified-Since` and `If-Range` make of them, evaluated in the order of section 13.2.2.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The validators of one file, from its length and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Validators {
    /// A strong entity tag, quotes included (section 8.8.3): `"<len>-<secs>.<nanos>"`, the
    /// length and the modification time since the Unix epoch, in lowercase hex. `None`
    /// when the file system gives no modification time.
    etag: Option<String>,
    /// The modification time in whole seconds (what `Last-Modified` can say), no later than
    /// when the request is answered (section 8.8.2.1).
    modified: Option<SystemTime>,
}

/// What the preconditions of a request decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precondition {
    /// Go on: answer with the file (or the range asked for).
    Proceed,
    /// `304 Not Modified` (section 15.4.5): the client's copy is current.
    NotModified,
    /// `412 Precondition Failed` (section 15.5.13).
    Failed,
}

impl Validators {
    /// Validators for a file of `len` bytes last modified at `mtime` (if known), answered at
    /// `now`.
    pub(super) fn new(len: u64, mtime: Option<SystemTime>, now: SystemTime) -> Validators {
        let since_epoch = mtime.map(|t| t.duration_since(UNIX_EPOCH).unwrap_or_default());
        Validators {
            etag: since_epoch
                .map(|d| format!("\"{len:x}-{:x}.{:x}\"", d.as_secs(), d.subsec_nanos())),
            modified: mtime.map(|t| whole_seconds(t.min(now))),
        }
    }

    /// The `ETag` field value, quotes included.
    pub(super) fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The `Last-Modified` field value, an IMF-fixdate (section 5.6.7).
    pub(super) fn last_modified(&self) -> Option<String> {
        self.modified.map(httpdate::fmt_http_date)
    }

    /// The opaque part of the entity tag, quotes removed.
    fn opaque(&self) -> Option<&str> {
        self.etag.as_deref().map(|t| &t[1..t.len() - 1])
    }

    /// Whether `If-Match` / `If-None-Match` field `values` list this file's tag, or `*`
    /// (sections 13.1.1 and 13.1.2). `strong`: the strong comparison of section 8.8.3.2
    /// (a weak tag never matches), else the weak one (`W/` ignored). A malformed list
    /// matches nothing past the first error.
    fn listed<'a>(&self, values: impl Iterator<Item = &'a str>, strong: bool) -> bool {
        let ours = self.opaque();
        values.into_iter().any(|value| {
            value.trim() == "*"
                || Tags(value).any(|tag| Some(tag.opaque) == ours && !(strong && tag.weak))
        })
    }

    /// Whether the file changed after `date` (whole seconds).
    fn modified_after(&self, date: SystemTime) -> bool {
        self.modified.is_some_and(|m| m > date)
    }

    /// Whether an `If-Range` field `value` (section 13.1.5) still describes this file, so
    /// the `Range` applies: a strong entity tag equal to ours, or exactly our
    /// `Last-Modified` date. A weak tag or anything else does not (the whole file is sent).
    pub(super) fn if_range_holds(&self, value: &str) -> bool {
        let value = value.trim();
        if value.starts_with('"') || value.starts_with("W/") {
            let mut tags = Tags(value);
            return match (tags.next(), tags.next()) {
                (Some(tag), None) => !tag.weak && Some(tag.opaque) == self.opaque(),
                _ => false,
            };
        }
        httpdate::parse_http_date(value).is_ok_and(|date| self.modified == Some(date))
    }

    /// Evaluates a request's preconditions in the order of RFC 9110 section 13.2.2 (steps 1
    /// to 4; `If-Range` comes with the range). `fields(name)` yields the values of every
    /// request field named `name`; `safe`: the method is GET or HEAD (others get `412`
    /// where these get `304`). Dates that do not parse are ignored, as sections 13.1.3 and
    /// 13.1.4 require.
    pub(super) fn evaluate<'a, I>(
        &self,
        safe: bool,
        fields: impl Fn(&'static str) -> I,
    ) -> Precondition
    where
        I: Iterator<Item = &'a str>,
    {
        let present = |name: &'static str| fields(name).next().is_some();
        let date = |name: &'static str| fields(name).next().and_then(parse_date);
        if present("if-match") {
            if !self.listed(fields("if-match"), true) {
                return Precondition::Failed;
            }
        } else if date("if-unmodified-since").is_some_and(|d| self.modified_after(d)) {
            return Precondition::Failed;
        }
        if present("if-none-match") {
            if self.listed(fields("if-none-match"), false) {
                return match safe {
                    true => Precondition::NotModified,
                    false => Precondition::Failed,
                };
            }
        } else if safe && date("if-modified-since").is_some_and(|d| !self.modified_after(d)) {
            return Precondition::NotModified;
        }
        Precondition::Proceed
    }
}

/// An HTTP-date (section 5.6.7), any of its three forms.
fn parse_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value.trim()).ok()
}

/// `t` with the fraction of a second dropped.
fn whole_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// One `entity-tag` of a list (section 8.8.3): `W/"x"` or `"x"`.
#[derive(Debug, PartialEq, Eq)]
struct Tag<'a> {
    weak: bool,
    /// Between the quotes.
    opaque: &'a str,
}

/// The entity tags of a `#entity-tag` field value, in order; stops at the first malformed one.
struct Tags<'a>(&'a str);

impl<'a> Iterator for Tags<'a> {
    type Item = Tag<'a>;

    fn next(&mut self) -> Option<Tag<'a>> {
        let rest = self.0.trim_start_matches([' ', '\t', ',']);
        let (weak, rest) = match rest.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        self.0 = &rest[end + 1..];
        Some(Tag {
            weak,
            opaque: &rest[..end],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Precondition::{Failed, NotModified, Proceed};
    use super::*;

    const MTIME_SECS: u64 = 1_700_000_000;

    fn validators() -> Validators {
        let mtime = UNIX_EPOCH + Duration::new(MTIME_SECS, 0x1234);
        Validators::new(0x1a, Some(mtime), SystemTime::now())
    }

    fn date(secs: u64) -> String {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Evaluates with `fields` as the request's (name, value) fields.
    fn eval(safe: bool, fields: &[(&str, &str)]) -> Precondition {
        validators().evaluate(safe, |name| {
            fields
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .map(|&(_, v)| v)
        })
    }

    #[test]
    fn etag_and_last_modified() {
        let v = validators();
        assert_eq!(v.etag(), Some("\"1a-6553f100.1234\""));
        assert_eq!(
            v.last_modified().as_deref(),
            Some("Tue, 14 Nov 2023 22:13:20 GMT")
        );
        let future = SystemTime::now() + Duration::from_secs(3600);
        let now = SystemTime::now();
        let v = Validators::new(1, Some(future), now);
        assert_eq!(v.last_modified(), Some(httpdate::fmt_http_date(now)));
        assert_eq!(Validators::new(1, None, now).etag(), None);
    }

    #[test]
    fn if_none_match_weak_comparison() {
        let tag = validators().etag().unwrap().to_owned();
        let weak = format!("W/{tag}");
        let listed = format!("\"other\", {weak}");
        for value in [tag.as_str(), &weak, &listed, "*", " * "] {
            assert_eq!(
                eval(true, &[("If-None-Match", value)]),
                NotModified,
                "{value}"
            );
        }
        for value in ["\"other\"", "", "garbage", "\"1a-6553f100\""] {
            assert_eq!(eval(true, &[("If-None-Match", value)]), Proceed, "{value}");
        }
        // In a second field line.
        let fields = [("If-None-Match", "\"x\""), ("If-None-Match", tag.as_str())];
        assert_eq!(eval(true, &fields), NotModified);
        // Not GET or HEAD: 412 instead.
        assert_eq!(eval(false, &[("If-None-Match", "*")]), Failed);
    }

    #[test]
    fn if_none_match_takes_precedence_over_if_modified_since() {
        let later = date(MTIME_SECS + 10);
        let fields = [
            ("If-None-Match", "\"other\""),
            ("If-Modified-Since", &later),
        ];
        assert_eq!(eval(true, &fields), Proceed);
    }

    #[test]
    fn if_modified_since() {
        for (secs, expected) in [
            (MTIME_SECS, NotModified),
            (MTIME_SECS + 1, NotModified),
            (MTIME_SECS - 1, Proceed),
        ] {
            assert_eq!(eval(true, &[("If-Modified-Since", &date(secs))]), expected);
        }
        assert_eq!(eval(true, &[("If-Modified-Since", "yesterday")]), Proceed);
        assert_eq!(
            eval(false, &[("If-Modified-Since", &date(MTIME_SECS))]),
            Proceed
        );
    }

    #[test]
    fn if_match_strong_comparison_and_if_unmodified_since() {
        let tag = validators().etag().unwrap().to_owned();
        assert_eq!(eval(true, &[("If-Match", &tag)]), Proceed);
        assert_eq!(eval(true, &[("If-Match", "*")]), Proceed);
        assert_eq!(eval(true, &[("If-Match", &format!("W/{tag}"))]), Failed);
        assert_eq!(eval(true, &[("If-Match", "\"other\"")]), Failed);
        let earlier = date(MTIME_SECS - 1);
        assert_eq!(eval(true, &[("If-Unmodified-Since", &earlier)]), Failed);
        let same = date(MTIME_SECS);
        assert_eq!(eval(true, &[("If-Unmodified-Since", &same)]), Proceed);
        // If-Match wins over If-Unmodified-Since.
        let fields = [
            ("If-Match", tag.as_str()),
            ("If-Unmodified-Since", &earlier),
        ];
        assert_eq!(eval(true, &fields), Proceed);
    }

    #[test]
    fn if_range() {
        let v = validators();
        let tag = v.etag().unwrap().to_owned();
        assert!(v.if_range_holds(&tag));
        assert!(v.if_range_holds(&date(MTIME_SECS)));
        assert!(!v.if_range_holds(&format!("W/{tag}")));
        assert!(!v.if_range_holds("\"other\""));
        assert!(!v.if_range_holds(&format!("{tag}, {tag}")));
        assert!(!v.if_range_holds(&date(MTIME_SECS + 1)));
        assert!(!v.if_range_holds("garbage"));
    }

    #[test]
    fn tags_parse_lists() {
        let tags: Vec<_> = Tags(" \"a\" ,W/\"b,c\",, \"\" x \"d\"").collect();
        let expected = [(false, "a"), (true, "b,c"), (false, "")];
        let got: Vec<_> = tags.iter().map(|t| (t.weak, t.opaque)).collect();
        assert_eq!(got, expected);
    }
}
