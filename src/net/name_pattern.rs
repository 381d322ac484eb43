//! Host-name patterns for server names: labels separated by `.`, `*` standing for exactly one
//! label (the routing-domain rules of the composition issue, as uSockets' SNI tree).

use std::cmp::Ordering;

use super::tls_error::{Kind, TlsError};

/// A parsed, lowercased host-name pattern such as `api.example.com` or `*.example.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamePattern {
    text: Box<str>,
    /// Per label from the left: is it `*`?
    wild: Box<[bool]>,
}

impl NamePattern {
    /// Parses `pattern`: non-empty labels of ASCII letters, digits, `-` and `_`, or `*` alone.
    pub(crate) fn parse(pattern: &str) -> Result<NamePattern, TlsError> {
        let text = pattern.to_ascii_lowercase();
        let valid_label = |label: &str| {
            label == "*"
                || !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if text.is_empty() || !text.split('.').all(valid_label) {
            return Err(TlsError::new(Kind::BadPattern).with_source(format!("{pattern:?}")));
        }
        let wild = text.split('.').map(|label| label == "*").collect();
        Ok(NamePattern {
            text: text.into(),
            wild,
        })
    }

    /// The pattern, lowercased.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// True when the pattern has no `*`.
    pub(crate) fn is_exact(&self) -> bool {
        !self.wild.contains(&true)
    }

    /// Whether lowercase host `name` matches: same number of labels, each equal or `*`.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let mut labels = name.split('.');
        let mut count = 0;
        for (pattern_label, &wild) in self.text.split('.').zip(self.wild.iter()) {
            match labels.next() {
                Some(label) if wild && !label.is_empty() || label == pattern_label => count += 1,
                _ => return false,
            }
        }
        labels.next().is_none() && count == self.wild.len()
    }

    /// Orders more specific patterns first: compared label by label from the left, a literal
    /// label beats `*` (uSockets tries the exact child before the wildcard at each level).
    pub(crate) fn specificity_cmp(&self, other: &NamePattern) -> Ordering {
        self.wild.cmp(&other.wild)
    }
}

#[cfg(test)]
mod tests {
    use super::NamePattern;

    #[test]
    fn star_is_exactly_one_label() {
        let p = NamePattern::parse("*.Example.com").unwrap();
        assert!(p.matches("a.example.com"));
        assert!(!p.matches("example.com"));
        assert!(!p.matches("a.b.example.com"));
        assert!(!p.matches(".example.com"));
        assert!(!p.is_exact());
        let mid = NamePattern::parse("api.*.test").unwrap();
        assert!(mid.matches("api.eu.test") && !mid.matches("www.eu.test"));
    }

    #[test]
    fn exact_patterns_match_only_themselves() {
        let p = NamePattern::parse("LOCALHOST").unwrap();
        assert!(p.is_exact() && p.matches("localhost") && !p.matches("localhost.x"));
    }

    #[test]
    fn literal_label_sorts_first() {
        let a = NamePattern::parse("*.b.test").unwrap();
        let b = NamePattern::parse("*.*.test").unwrap();
        assert!(a.specificity_cmp(&b).is_lt());
    }
}
