//! A class-style endpoint (Starlette's `HTTPEndpoint`) at `/items/:id` implementing GET and PUT.
//!
//! Run: `PORT=3000 cargo run --example endpoints`, then
//! - `curl -X PUT 'localhost:3000/items/1?name=lamp'` -> 201
//! - `curl localhost:3000/items/1` -> 200 `{"id":"1","name":"lamp"}`
//! - `curl -i -X DELETE localhost:3000/items/1` -> 405 with `Allow: GET, HEAD, PUT, OPTIONS`
//! - `curl -i -X OPTIONS localhost:3000/items/1` -> 204 with the same `Allow`

mod common;

use std::collections::HashMap;
use std::sync::Mutex;

use uweb::{App, EndpointResult, HttpEndpoint, HttpRequest, HttpResponse, Method};

/// Item names by id. A `Mutex` keeps the example short; every loop thread shares the endpoint.
#[derive(Default)]
struct Items {
    names: Mutex<HashMap<String, String>>,
}

impl HttpEndpoint for Items {
    const METHODS: &'static [Method] = &[Method::GET, Method::PUT];

    fn get(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        let id = req.parameter("id").unwrap_or_default();
        match self.names.lock().unwrap().get(id) {
            Some(name) => res
                .write_header("Content-Type", "application/json")
                .end(format!(r#"{{"id":"{id}","name":"{name}"}}"#)),
            None => res.write_status("404 Not Found").end("no such item"),
        }
        Ok(())
    }

    fn put(&self, res: &mut HttpResponse<'_>, req: &mut HttpRequest<'_>) -> EndpointResult {
        let id = req.parameter("id").unwrap_or_default().to_owned();
        let Some(name) = req.query_value("name") else {
            res.write_status("400 Bad Request").end("name is required");
            return Ok(());
        };
        self.names.lock().unwrap().insert(id, name.into_owned());
        res.write_status("201 Created").end("stored");
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    let port = common::port(3000);
    println!("listening on http://localhost:{port}");
    App::new()
        .endpoint("/items/:id", Items::default())
        .listen(port)
}
