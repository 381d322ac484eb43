//! Static files: a directory (or one file) served with `Content-Type` by extension,
//! `ETag`/`Last-Modified` validators and `304`, single byte ranges (`206`, `416`), `HEAD`, and
//! no way out of the directory; bodies streamed with backpressure (`try_end` +
//! `on_writable`), one 64 KiB buffer per download.

mod conditional;
mod path;
mod range;
mod serve;

pub use serve::{ServeDir, ServeFile};
