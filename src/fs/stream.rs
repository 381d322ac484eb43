//! Sending a file's bytes under backpressure: one buffer per download, refilled with
//! positioned reads at the write offset and handed to [`HttpResponse::try_end`]; when the
//! kernel pushes back, [`HttpResponse::on_writable`] goes on from where it stopped.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::http::response::HttpResponse;

/// Bytes read and offered per step, in bytes: a download holds one buffer of this size (or
/// of the body's size, if smaller).
pub(super) const CHUNK: usize = 64 * 1024;

/// Bytes `start..start + total` of a file, on their way to one response.
#[derive(Debug)]
struct Download {
    file: File,
    /// Where the body starts in the file (a range's first byte), in bytes.
    start: u64,
    /// Body length in bytes, announced as `Content-Length`.
    total: u64,
    /// Reused for every read.
    buf: Vec<u8>,
}

/// Sends bytes `start..start + total` of `file` as the body of `res`, whose status and fields
/// are written: as much as the socket takes now, the rest from `on_writable` callbacks. The
/// file is closed when the body is complete or the client goes (the loop drops the callback
/// that owns it). A file that turns out shorter than `start + total` (truncated meanwhile)
/// or fails to read closes the connection: the client never gets fewer bytes than announced
/// without noticing.
pub(super) fn send(res: &mut HttpResponse<'_>, file: File, start: u64, total: u64) {
    let size = usize::try_from(total).map_or(CHUNK, |total| total.min(CHUNK));
    let mut download = Download {
        file,
        start,
        total,
        buf: vec![0; size],
    };
    download.pump(res);
    if !res.has_responded() {
        res.on_writable(move |res, _offset| download.pump(res));
    }
}

impl Download {
    /// Sends from the write offset on until the kernel pushes back or the body is complete;
    /// returns whether the last write was taken without backpressure.
    fn pump(&mut self, res: &mut HttpResponse<'_>) -> bool {
        loop {
            let offset = res.write_offset();
            let left = self.total - offset;
            let n = usize::try_from(left).map_or(self.buf.len(), |l| l.min(self.buf.len()));
            let chunk = &mut self.buf[..n];
            if let Err(e) = self.file.read_exact_at(chunk, self.start + offset) {
                log::warn!(
                    "static file: reading {n} bytes at {} failed ({e}); closing the connection",
                    self.start + offset
                );
                res.close();
                return false;
            }
            let (ok, done) = res.try_end(chunk, self.total);
            if done || !ok {
                return ok;
            }
        }
    }
}
