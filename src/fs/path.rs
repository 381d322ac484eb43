//! From a request path to a file under the root, and nowhere else: segments are
//! percent-decoded one by one (an encoded `/` or `\` cannot join two), `..` and NUL are
//! refused, and the resolved path (symlinks followed) must stay under the canonical root.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// Why a path does not name a file to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Malformed: invalid percent-encoding into non-UTF-8, or a NUL byte (400).
    BadRequest,
    /// Outside the root, a traversal attempt, or simply missing (404).
    NotFound,
}

/// The file `relative` (the request path below the served prefix, not decoded) names under
/// `root` (canonical); a directory gives its `index.html`.
pub(crate) fn resolve(root: &Path, relative: &str) -> Result<PathBuf, Refusal> {
    let mut path = root.to_path_buf();
    for raw in relative.split('/') {
        let segment = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| Refusal::BadRequest)?;
        if segment.contains('\0') {
            return Err(Refusal::BadRequest);
        }
        match &*segment {
            "" | "." => {}
            ".." => return Err(Refusal::NotFound),
            s if s.contains('/') || s.contains('\\') => return Err(Refusal::NotFound),
            s => path.push(s),
        }
    }
    let mut path = path.canonicalize().map_err(|_| Refusal::NotFound)?;
    if !path.starts_with(root) {
        // A symlink pointing out of the root.
        return Err(Refusal::NotFound);
    }
    if path.is_dir() {
        path.push("index.html");
        if !path.is_file() {
            return Err(Refusal::NotFound);
        }
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_malformed_paths_are_refused() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .canonicalize()
            .unwrap();
        assert_eq!(resolve(&root, "lib.rs"), Ok(root.join("lib.rs")));
        assert_eq!(resolve(&root, "./fs//mod.rs"), Ok(root.join("fs/mod.rs")));
        assert_eq!(resolve(&root, "../Cargo.toml"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "%2e%2e/Cargo.toml"), Err(Refusal::NotFound));
        assert_eq!(
            resolve(&root, "fs%2f..%2f..%2fCargo.toml"),
            Err(Refusal::NotFound)
        );
        assert_eq!(resolve(&root, "..%5cCargo.toml"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "lib%00.rs"), Err(Refusal::BadRequest));
        assert_eq!(resolve(&root, "%ff"), Err(Refusal::BadRequest));
        assert_eq!(resolve(&root, "missing.rs"), Err(Refusal::NotFound));
    }
}
