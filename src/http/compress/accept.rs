//! `Accept-Encoding` negotiation (RFC 9110 section 12.5.3): which content coding, if any, a
//! response should use.
//!
//! ```text
//! Accept-Encoding = #( codings [ weight ] )
//! codings         = content-coding / "identity" / "*"
//! weight          = OWS ";" OWS "q=" qvalue
//! qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//! ```
//!
//! Parsing is lenient, never failing: an element whose weight is malformed is skipped,
//! unknown codings and parameters other than `q` are ignored, tokens and `q` are
//! case-insensitive, and whitespace around `;` and `=` is allowed.

use super::Coding;

/// A q-value in thousandths (0 to 1000), the precision RFC 9110 section 12.4.2 allows.
type Weight = u16;

/// What the fields said about each coding uweb knows, explicitly or through `*`.
#[derive(Debug, Default)]
struct Weights {
    gzip: Option<Weight>,
    br: Option<Weight>,
    identity: Option<Weight>,
    any: Option<Weight>,
}

/// The coding to answer with, given the values of every `Accept-Encoding` field line of a
/// request (none: the field is absent). `None` means no coding (`identity`).
///
/// - A coding is acceptable with its own q-value, else with that of `*` ("any coding not
///   listed"), else not at all; q=0 means "not acceptable".
/// - The acceptable coding with the highest q-value wins; ties go to the server's order of
///   preference, `br` (with the `brotli` feature) then `gzip`.
/// - `identity` listed with a q-value above the winner's keeps the response uncoded.
/// - Without the field, or with an empty one, no coding is used: the field's absence allows
///   any coding (RFC 9110 section 12.5.3), but clients that decode send it.
/// - When nothing is acceptable, not even `identity` (`identity;q=0`, or `*;q=0` without an
///   `identity` entry), `None` too: the response goes uncoded rather than as a `406`.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub fn negotiate<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Option<Coding> {
    let mut weights = Weights::default();
    for value in values {
        for element in value.split(|&b| b == b',') {
            weights.add(element);
        }
    }
    weights.choose()
}

impl Weights {
    /// Takes one list element, e.g. ` gzip;q=0.8`; skips it if malformed.
    fn add(&mut self, element: &[u8]) {
        let mut parts = element.split(|&b| b == b';');
        let coding = trim(parts.next().unwrap_or_default());
        if coding.is_empty() {
            return;
        }
        let mut weight = 1000;
        for param in parts {
            let param = trim(param);
            let Some(eq) = param.iter().position(|&b| b == b'=') else {
                return;
            };
            if trim(&param[..eq]).eq_ignore_ascii_case(b"q") {
                match qvalue(trim(&param[eq + 1..])) {
                    Some(q) => weight = q,
                    None => return,
                }
            }
        }
        let slot = if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
        {
            // x-gzip: the same coding (RFC 9110 section 8.4.1.3).
            &mut self.gzip
        } else if coding.eq_ignore_ascii_case(b"br") {
            &mut self.br
        } else if coding.eq_ignore_ascii_case(b"identity") {
            &mut self.identity
        } else if coding == b"*" {
            &mut self.any
        } else {
            return;
        };
        // Listed twice: the more permissive entry counts.
        *slot = Some(slot.map_or(weight, |w| w.max(weight)));
    }

    /// The winning coding, if any (see [`negotiate`]).
    fn choose(&self) -> Option<Coding> {
        let effective = |w: Option<Weight>| w.or(self.any).unwrap_or(0);
        // Server preference first: a later candidate must beat it strictly.
        let candidates = [
            #[cfg(feature = "brotli")]
            (Coding::Brotli, effective(self.br)),
            (Coding::Gzip, effective(self.gzip)),
        ];
        let (coding, weight) = candidates.into_iter().fold(
            None,
            |best: Option<(Coding, Weight)>, (c, w)| match best {
                Some((_, bw)) if bw >= w => best,
                _ => Some((c, w)),
            },
        )?;
        if weight == 0 || self.identity.is_some_and(|q| q > weight) {
            return None;
        }
        Some(coding)
    }
}

/// A qvalue in thousandths; `None` if malformed (RFC 9110 section 12.4.2).
fn qvalue(v: &[u8]) -> Option<Weight> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(dot) => (&v[..dot], &v[dot + 1..]),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths: Weight = 0;
    for (i, d) in frac.iter().enumerate() {
        thousandths += Weight::from(d - b'0') * [100, 10, 1][i];
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// `b` without leading and trailing spaces and tabs (OWS).
fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(values: &[&str]) -> Option<&'static str> {
        negotiate(values.iter().map(|v| v.as_bytes())).map(Coding::token)
    }

    /// `br` when the feature is on, else what the same field gives without it.
    fn br_or(fallback: Option<&'static str>) -> Option<&'static str> {
        if cfg!(feature = "brotli") {
            Some("br")
        } else {
            fallback
        }
    }

    #[test]
    fn qvalues_parse_per_the_grammar() {
        let cases: &[(&str, Option<Weight>)] = &[
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.123", Some(123)),
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            ("0.1234", None),
            ("2", None),
            ("", None),
            ("-0", None),
            (".5", None),
            ("0.5x", None),
            ("1e0", None),
        ];
        for &(v, want) in cases {
            assert_eq!(qvalue(v.as_bytes()), want, "{v:?}");
        }
    }

    #[test]
    fn single_codings_and_absence() {
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[""]), None);
        assert_eq!(pick(&["gzip"]), Some("gzip"));
        assert_eq!(pick(&["x-gzip"]), Some("gzip"));
        assert_eq!(pick(&["br"]), br_or(None));
        assert_eq!(pick(&["identity"]), None);
        assert_eq!(pick(&["deflate, compress, zstd"]), None);
        assert_eq!(pick(&["GZIP"]), Some("gzip"));
    }

    #[test]
    fn weights_are_honoured_and_ties_follow_server_preference() {
        assert_eq!(pick(&["gzip, deflate, br"]), br_or(Some("gzip")));
        assert_eq!(pick(&["br;q=0, gzip"]), Some("gzip"));
        assert_eq!(pick(&["gzip;q=0.5, br;q=0.9"]), br_or(Some("gzip")));
        assert_eq!(pick(&["gzip;q=0.9, br;q=0.5"]), Some("gzip"));
        assert_eq!(pick(&["gzip;q=1.000"]), Some("gzip"));
        assert_eq!(pick(&["gzip ; Q = 0.3 "]), Some("gzip"));
        assert_eq!(pick(&["gzip;q=0"]), None);
        assert_eq!(pick(&["gzip;q=0.000"]), None);
        // Split over two field lines: one list (RFC 9110 section 5.3).
        assert_eq!(pick(&["br;q=0", "gzip"]), Some("gzip"));
    }

    #[test]
    fn star_covers_codings_not_listed() {
        assert_eq!(pick(&["*"]), br_or(Some("gzip")));
        assert_eq!(pick(&["*;q=0"]), None);
        assert_eq!(pick(&["gzip;q=0, *"]), br_or(None));
        assert_eq!(pick(&["br;q=0, *;q=0.1"]), Some("gzip"));
        assert_eq!(pick(&["*;q=0, gzip"]), Some("gzip"));
    }

    #[test]
    fn identity_listed_above_the_winner_keeps_the_body_uncoded() {
        assert_eq!(pick(&["gzip;q=0.5, identity"]), None);
        assert_eq!(pick(&["gzip, identity"]), Some("gzip"));
        assert_eq!(pick(&["identity;q=0"]), None);
        assert_eq!(pick(&["identity;q=0, gzip;q=0.1"]), Some("gzip"));
    }

    #[test]
    fn malformed_elements_are_skipped_not_fatal() {
        assert_eq!(pick(&["gzip;q=2"]), None);
        assert_eq!(pick(&["gzip;q=abc, br;q=0"]), None);
        assert_eq!(pick(&["gzip;q"]), None);
        assert_eq!(pick(&[",,, gzip ,;,"]), Some("gzip"));
        assert_eq!(pick(&["gzip;level=9"]), Some("gzip"));
        assert_eq!(pick(&["\u{ff}\u{fe}, gzip"]), Some("gzip"));
        // Listed twice: the more permissive wins.
        assert_eq!(pick(&["gzip;q=0, gzip;q=0.5"]), Some("gzip"));
    }
}
