//! Validators and conditional requests (RFC 9110 sections 8.8 and 13.1): an entity tag from
//! the file's length and modification time, `Last-Modified`, and whether `If-None-Match`
//! (which takes precedence) or `If-Modified-Since` make the answer `304 Not Modified`.

use std::time::{SystemTime, UNIX_EPOCH};

/// A strong entity tag: length and modification time (seconds, nanoseconds), hexadecimal.
pub(crate) fn etag(len: u64, modified: SystemTime) -> String {
    let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "\"{len:x}-{:x}-{:x}\"",
        since.as_secs(),
        since.subsec_nanos()
    )
}

/// Whether the client's copy is current: `If-None-Match` lists `etag` (weak comparison,
/// section 13.1.2) or is `*`; else, without `If-None-Match`, `If-Modified-Since` is not
/// before the modification time (whole seconds, as `Last-Modified` has).
pub(crate) fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    etag: &str,
    modified: SystemTime,
) -> bool {
    if let Some(tags) = if_none_match {
        let ours = etag.trim_start_matches("W/");
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours);
    }
    let Some(since) = if_modified_since.and_then(|d| httpdate::parse_http_date(d.trim()).ok())
    else {
        return false;
    };
    let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    seconds(modified) <= seconds(since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let modified = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tag = etag(10, modified);
        let later = httpdate::fmt_http_date(modified + Duration::from_secs(60));
        let earlier = httpdate::fmt_http_date(modified - Duration::from_secs(60));
        assert!(not_modified(Some(&tag), None, &tag, modified));
        assert!(not_modified(
            Some(&format!("\"x\", W/{tag}")),
            None,
            &tag,
            modified
        ));
        assert!(not_modified(Some("*"), None, &tag, modified));
        assert!(!not_modified(
            Some("\"other\""),
            Some(&later),
            &tag,
            modified
        ));
        assert!(not_modified(None, Some(&later), &tag, modified));
        assert!(!not_modified(None, Some(&earlier), &tag, modified));
        assert!(!not_modified(None, Some("yesterday"), &tag, modified));
    }
}
