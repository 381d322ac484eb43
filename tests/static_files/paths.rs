//! Which paths are served: directory index, missing files, and everything that tries to
//! leave the root.

use crate::fixture::{Fixture, INDEX, SECRET, ask, turn};

#[test]
fn paths_out_of_the_root_are_refused() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    // The parser or the router may answer some of these first; either way 400 or 404.
    for (path, expected) in [
        ("/static/../Cargo.toml", &[400, 404][..]),
        ("/static/%2e%2e/Cargo.toml", &[404]),
        ("/static/%2E%2E/Cargo.toml", &[404]),
        ("/static/.%2e/secret.txt", &[404]),
        ("/static/..%2fCargo.toml", &[404]),
        ("/static/%2e%2e%2fCargo.toml", &[404]),
        ("/static/..%5cCargo.toml", &[404]),
        ("/static/sub/../../Cargo.toml", &[400, 404]),
        ("/static/sub/%2e%2e/%2e%2e/secret.txt", &[404]),
        ("/static/a%00b", &[400]),
        ("/static/hello.txt%00.png", &[400]),
        ("/static/a%zzb", &[400]),
        ("/static/a%2", &[400]),
        ("/static/escape.txt", &[404]),
        ("/static/escape_dir/secret.txt", &[404]),
        ("/static//etc/passwd", &[404]),
    ] {
        let resp = ask(&server, "GET", path, &[]);
        assert!(
            expected.contains(&resp.status),
            "{path}: {} (expected one of {expected:?})",
            resp.status
        );
        let raw = String::from_utf8_lossy(&resp.raw);
        assert!(!raw.contains(SECRET), "{path} leaked: {raw}");
    }
    server.shutdown();
}

#[test]
fn directories_serve_their_index() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    let resp = ask(&server, "GET", "/static/sub/", &[]);
    assert_eq!((resp.status, resp.body_str()), (200, INDEX));
    assert_eq!(
        resp.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(resp.header("etag").is_some());
    // Without the final slash: redirected, so that relative links resolve.
    let resp = ask(&server, "GET", "/static/sub", &[]);
    assert_eq!(resp.status, 301);
    assert_eq!(resp.header("location"), Some("/static/sub/"));
    let resp = ask(&server, "GET", "/static/sub?x=1", &[]);
    assert_eq!(resp.header("location"), Some("/static/sub/?x=1"));
    // No index: 404, with or without the slash; the root has none either.
    for path in ["/static/empty/", "/static/empty", "/static/"] {
        assert_eq!(ask(&server, "GET", path, &[]).status, 404, "{path}");
    }
    server.shutdown();
}

#[test]
fn missing_files_give_404() {
    let _turn = turn();
    let fixture = Fixture::new();
    let server = fixture.serve();
    for path in [
        "/static/nope.txt",
        "/static/sub/nope.html",
        "/static/hello.txt/",
        "/static/hello.txt/x",
        "/gone",
    ] {
        let resp = ask(&server, "GET", path, &[]);
        assert_eq!(resp.status, 404, "{path}");
    }
    assert_eq!(ask(&server, "HEAD", "/static/nope.txt", &[]).status, 404);
    server.shutdown();
}

#[test]
fn dotfiles_are_not_served_unless_allowed() {
    let _turn = turn();
    let fixture = Fixture::new();
    std::fs::write(fixture.root.join(".env"), SECRET).unwrap();
    std::fs::create_dir_all(fixture.root.join(".git")).unwrap();
    std::fs::write(fixture.root.join(".git/config"), SECRET).unwrap();
    std::fs::create_dir_all(fixture.root.join(".well-known")).unwrap();
    std::fs::write(fixture.root.join(".well-known/token"), "token").unwrap();
    let hidden = [
        "/static/.env",
        "/static/%2eenv",
        "/static/.git/config",
        "/static/.git/",
    ];
    let server = fixture.serve();
    for path in hidden {
        let resp = ask(&server, "GET", path, &[]);
        assert_eq!(resp.status, 404, "{path}");
        let raw = String::from_utf8_lossy(&resp.raw);
        assert!(!raw.contains(SECRET), "{path} leaked: {raw}");
    }
    assert_eq!(ask(&server, "GET", "/static/hello.txt", &[]).status, 200);
    server.shutdown();

    // Allowed: served like any other file.
    let dir = uweb::fs::ServeDir::new(&fixture.root)
        .prefix("/static")
        .dotfiles(true);
    let server = crate::support::serve(uweb::App::new().get("/static/*", dir.handler()), 1);
    let resp = ask(&server, "GET", "/static/.well-known/token", &[]);
    assert_eq!((resp.status, resp.body_str()), (200, "token"));
    assert_eq!(ask(&server, "GET", "/static/.env", &[]).status, 200);
    server.shutdown();
}
