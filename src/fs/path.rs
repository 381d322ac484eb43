//! Safe resolution of a request path below a root directory: each segment is percent-decoded
//! on its own and refused if it could climb out (`..`, an encoded `/`, a backslash, a NUL);
//! then the file system resolves symlinks (`canonicalize`) and the result must still lie
//! below the (canonical) root.

use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode;

use super::refusal::Refusal;

/// A request path decoded into a path relative to the root, not yet looked up.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Relative {
    /// The decoded segments joined; empty for the root itself.
    pub(super) path: PathBuf,
    /// The URL path ends with `/` (or is empty): it names a directory.
    pub(super) dir_form: bool,
}

/// Decodes `raw`, the URL path below the root as sent (`"/css/a%20b.css"`, not decoded), into
/// a relative path. Empty segments and `.` are skipped.
///
/// # Errors
/// [`Refusal::BadRequest`] for a `%` not followed by two hex digits or a (decoded) NUL byte;
/// [`Refusal::NotFound`] for a `..` segment (also `%2e%2e`) or a segment that decodes to
/// something holding `/` or `\` (`..%2fx`).
pub(super) fn decode(raw: &str) -> Result<Relative, Refusal> {
    let mut path = PathBuf::new();
    for segment in raw.split('/') {
        if let Some(name) = decode_segment(segment)? {
            path.push(std::ffi::OsStr::from_bytes(&name));
        }
    }
    Ok(Relative {
        path,
        dir_form: raw.is_empty() || raw.ends_with('/'),
    })
}

/// One segment decoded: `None` for a segment that names the current directory.
fn decode_segment(raw: &str) -> Result<Option<Cow<'_, [u8]>>, Refusal> {
    let bytes = raw.as_bytes();
    // `percent_decode` keeps a malformed escape as it is; refuse it instead.
    for (i, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b'%') {
        let hex = bytes.get(i + 1..i + 3);
        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
            return Err(Refusal::BadRequest);
        }
    }
    let name: Cow<'_, [u8]> = percent_decode(bytes).into();
    if name.contains(&0) {
        return Err(Refusal::BadRequest);
    }
    if name.iter().any(|&b| b == b'/' || b == b'\\') {
        return Err(Refusal::NotFound);
    }
    match &*name {
        b"" | b"." => Ok(None),
        b".." => Err(Refusal::NotFound),
        _ => Ok(Some(name)),
    }
}

/// Whether a segment of `relative` (decoded, below the root) names a dotfile or a
/// dot-directory (`.env`, `.git`); `.` and `..` never get here (`decode` skips or refuses them).
pub(super) fn has_dot_name(relative: &Path) -> bool {
    relative
        .components()
        .any(|c| c.as_os_str().as_bytes().starts_with(b"."))
}

/// `candidate` (the root joined with a [`Relative`] path, or a path found below the root)
/// looked up with every symlink resolved; refused unless the result still lies below `root`
/// (canonical).
///
/// # Errors
/// [`Refusal::from_io`] of the lookup's error (missing: `NotFound`); `NotFound` for a path
/// that resolves outside `root`.
pub(super) fn contain(root: &Path, candidate: &Path) -> Result<PathBuf, Refusal> {
    let real = std::fs::canonicalize(candidate).map_err(|e| Refusal::from_io(&e))?;
    // Component-wise: `/srv/www2` does not start with `/srv/www`.
    match real.starts_with(root) {
        true => Ok(real),
        false => Err(Refusal::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> (String, bool) {
        let r = decode(raw).unwrap_or_else(|e| panic!("{raw:?}: {e:?}"));
        (r.path.to_str().unwrap().to_owned(), r.dir_form)
    }

    #[test]
    fn dot_names_are_found_in_any_segment() {
        let dotted = |raw: &str| has_dot_name(&decode(raw).unwrap().path);
        assert!(dotted("/.env"));
        assert!(dotted("/%2eenv"));
        assert!(dotted("/.git/config"));
        assert!(dotted("/a/.hidden/b.txt"));
        assert!(!dotted("/a.txt"));
        assert!(!dotted("/./a.txt"), "`.` is skipped, not a name");
        assert!(!dotted("/"));
    }

    #[test]
    fn decodes_segments() {
        assert_eq!(ok(""), (String::new(), true));
        assert_eq!(ok("/"), (String::new(), true));
        assert_eq!(ok("/a.txt"), ("a.txt".into(), false));
        assert_eq!(ok("/css/a%20b.css"), ("css/a b.css".into(), false));
        assert_eq!(ok("//sub/./x/"), ("sub/x".into(), true));
        assert_eq!(ok("/%2e/x"), ("x".into(), false));
        assert_eq!(ok("/caf%C3%A9"), ("café".into(), false));
        assert_eq!(ok("/..a/b..c"), ("..a/b..c".into(), false));
    }

    #[test]
    fn refuses_what_could_climb_out() {
        for raw in [
            "/..",
            "/../x",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2e/x",
            "/.%2e/x",
            "/..%2fx",
            "/..%2Fx",
            "/a%5cb",
            "/a\\b",
            "/..\\x",
        ] {
            assert_eq!(decode(raw), Err(Refusal::NotFound), "{raw:?}");
        }
    }

    #[test]
    fn refuses_malformed_encoding_and_nul() {
        for raw in ["/a%00b", "/%", "/a%2", "/a%zz", "/%%41", "/a%0"] {
            assert_eq!(decode(raw), Err(Refusal::BadRequest), "{raw:?}");
        }
    }
}
