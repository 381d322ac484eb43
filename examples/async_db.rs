//! Async handlers on tokio: `GET /users/:id` awaits a simulated 100 ms database query and
//! answers JSON; `POST /users` reads a JSON body. The loop never waits: with `THREADS=1`, 200
//! concurrent requests to `/users/:id` all answer in about the query's time.
//!
//! Run: `PORT=3000 THREADS=1 cargo run --release --features tokio --example async_db`, then
//! `curl localhost:3000/users/42` or
//! `curl -d '{"name":"Ada"}' localhost:3000/users`.

mod common;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uweb::{App, Json};

#[derive(Serialize)]
struct User {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

/// A stand-in for a database query: 100 ms of waiting, no thread blocked.
async fn find_user(id: &str) -> User {
    tokio::time::sleep(Duration::from_millis(100)).await;
    User {
        id: id.to_owned(),
        name: format!("user {id}"),
    }
}

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    let threads = common::threads();
    // The handlers' futures run here; uweb's loops stay on their own threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("listening on http://localhost:{port} with {threads} loop(s)");
    App::new()
        .threads(threads)
        .runtime(runtime.handle().clone())
        .get_async("/users/:id", |req| async move {
            let id = req.parameter("id").unwrap_or_default().to_owned();
            Json(find_user(&id).await)
        })
        .post_async("/users", |mut req| async move {
            let new: NewUser = req.json().await?;
            Ok::<_, uweb::BodyError>((
                201,
                Json(User {
                    id: "1".into(),
                    name: new.name,
                }),
            ))
        })
        .listen(port)
}
