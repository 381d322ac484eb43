//! The `Date` field (RFC 9110 section 6.6.1), formatted once a second per loop.

use std::time::SystemTime;

/// Length of `Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n`.
const LINE_LEN: usize = 37;

/// A ready-to-write `Date: ...\r\n` line, refreshed by the loop's one-second tick.
pub(crate) struct DateCache {
    line: [u8; LINE_LEN],
}

impl DateCache {
    /// A cache holding the current time.
    pub(crate) fn new() -> Self {
        let mut cache = DateCache {
            line: [0; LINE_LEN],
        };
        cache.refresh();
        cache
    }

    /// Re-formats the line from the system clock, in place (no allocation: the tick is on
    /// the loop).
    pub(crate) fn refresh(&mut self) {
        use std::io::Write;
        let date = httpdate::HttpDate::from(SystemTime::now());
        let mut line = [0u8; LINE_LEN];
        let mut cursor: &mut [u8] = &mut line;
        // IMF-fixdate is always 29 bytes; keep the previous line if that ever changed.
        if write!(cursor, "Date: {date}\r\n").is_ok() && cursor.is_empty() {
            self.line = line;
        }
    }

    /// The whole line, CRLF included.
    pub(crate) fn line(&self) -> &[u8] {
        &self.line
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_is_imf_fixdate() {
        let cache = super::DateCache::new();
        let line = std::str::from_utf8(cache.line()).unwrap();
        assert!(
            line.starts_with("Date: ") && line.ends_with(" GMT\r\n"),
            "{line}"
        );
        assert!(httpdate::parse_http_date(&line[6..line.len() - 2]).is_ok());
    }
}
