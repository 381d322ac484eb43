//! The parts of [`HttpResponse`] that compress bodies, for routes that enabled it (see
//! [`Compression`]): the writer calls in here only when the response state holds a
//! compression plan, so the default path never sees them.

use super::chunked::write_hex;
use super::compress::Compression;
use super::compress::accept::negotiate;
use super::compress::encoder::{Stream, compress_whole, with_scratch};
use super::compress::plan::Plan;
use super::exchange::{Exchange, Phase};
use super::response::HttpResponse;
use crate::net::link::uncork_when_full;

impl HttpResponse<'_> {
    /// Enables compression under `config` for this response, negotiated from the values of
    /// the request's `Accept-Encoding` field lines; `None` disables it. Only while nothing
    /// of the response is written.
    pub(crate) fn compress_with<'v>(
        &mut self,
        config: Option<&Compression>,
        accept_encoding: impl IntoIterator<Item = &'v [u8]>,
    ) {
        if self.state.is_fresh() {
            self.state.compress =
                config.map(|c| Box::new(Plan::new(*c, negotiate(accept_encoding))));
        }
    }

    /// Whether compression is enabled for this response.
    pub(crate) fn compresses(&self) -> bool {
        self.state.compress.is_some()
    }

    /// `end(body)` on a response whose header section is still open, when compression is
    /// enabled: if the body gets a coding, writes the fields with the coded length, then the
    /// coded body (not for HEAD), and returns true; false leaves the plain `end` to it.
    #[inline(never)]
    pub(super) fn end_compressed(&mut self, body: &[u8]) -> bool {
        self.write_status("200 OK");
        let status = self.state.status;
        let Some(plan) = self.state.compress.as_mut() else {
            return false;
        };
        let Some(coding) = plan.choose(status, Some(body.len())) else {
            return false;
        };
        let config = *plan.config();
        let head = self.state.is(Exchange::HEAD);
        let sent = compress_whole(coding, &config, body, |coded| {
            self.finish_fields(Some(coded.len() as u64));
            if !head {
                self.out.extend_from_slice(coded);
            }
            coded.len() as u64
        });
        match sent {
            Some(len) => {
                self.state.offset = if head { 0 } else { len };
                self.state.phase = Phase::Ended;
                true
            }
            None => {
                log::warn!("compressing a response body failed; it is sent uncoded");
                self.decline_coding();
                false
            }
        }
    }

    /// A body is about to be streamed with [`write`](Self::write): chooses its coding and,
    /// unless the request is HEAD (the fields are all it gets), starts the encoder.
    #[inline(never)]
    pub(super) fn start_compressed_stream(&mut self) {
        let status = self.state.status;
        let head = self.state.is(Exchange::HEAD);
        if let Some(plan) = self.state.compress.as_mut()
            && let Some(coding) = plan.choose(status, None)
            && !head
        {
            plan.stream = Some(Box::new(Stream::new(coding, plan.config())));
        }
    }

    /// Whether a streamed body is being coded.
    #[inline]
    pub(super) fn streams_coded(&self) -> bool {
        self.state
            .compress
            .as_ref()
            .is_some_and(|plan| plan.stream.is_some())
    }

    /// Codes `chunk` (the last piece when `last`) and writes what comes out as one piece of
    /// the streamed body; `write`'s return value. The write offset counts `chunk`'s bytes,
    /// before coding. An encoder failure cannot be repaired mid-body: the connection closes.
    #[inline(never)]
    pub(super) fn write_coded(&mut self, chunk: &[u8], last: bool) -> bool {
        let Some(stream) = self.state.compress.as_mut().and_then(|p| p.stream.as_mut()) else {
            return false;
        };
        // Chunked framing for `write`'s body and for `try_end`'s once coded (`Sized`).
        let chunked = !matches!(self.state.phase, Phase::UntilClose);
        let out = &mut *self.out;
        let ok = with_scratch(|coded| {
            let ok = match last {
                false => stream.write(chunk, coded),
                true => stream.finish(chunk, coded),
            };
            // An empty chunk would end a chunked body.
            if ok && !coded.is_empty() {
                if chunked {
                    write_hex(out, coded.len());
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(coded);
                    out.extend_from_slice(b"\r\n");
                } else {
                    out.extend_from_slice(coded);
                }
            }
            ok
        });
        if last && let Some(plan) = self.state.compress.as_mut() {
            plan.stream = None;
        }
        if !ok {
            log::warn!("compressing a streamed response body failed; closing the connection");
            self.close();
            return false;
        }
        self.state.offset += chunk.len() as u64;
        if uncork_when_full(self.link, self.out).is_err() {
            self.state.phase = Phase::Aborted;
            return false;
        }
        self.link.buffered() == 0
    }

    /// The first `try_end` of a body of `total` bytes sent piecewise: chooses its coding.
    /// Returns the `Content-Length` to announce: `total` when uncoded; none when coded, the
    /// body then going with chunked framing (`Transfer-Encoding` is written here) or, for
    /// HEAD, not at all. HTTP/1.0 has no chunked framing: its bodies stay uncoded.
    #[inline(never)]
    pub(super) fn start_sized_coded(&mut self, total: u64) -> Option<u64> {
        let status = self.state.status;
        let head = self.state.is(Exchange::HEAD);
        let http10 = self.state.is(Exchange::HTTP10);
        let Some(plan) = self.state.compress.as_mut() else {
            return Some(total);
        };
        let len = usize::try_from(total).unwrap_or(usize::MAX);
        let Some(coding) = plan.choose(status, Some(len)) else {
            return Some(total);
        };
        if head {
            return None;
        }
        if http10 {
            plan.decline();
            return Some(total);
        }
        plan.stream = Some(Box::new(Stream::new(coding, plan.config())));
        self.out
            .extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        None
    }

    /// `try_end`'s piece of a coded body: codes and sends `piece` (the body's end when
    /// `last`: the last chunk follows). Returns `try_end`'s `(ok, done)`.
    #[inline(never)]
    pub(super) fn try_end_coded(&mut self, piece: &[u8], last: bool) -> (bool, bool) {
        if piece.is_empty() && !last {
            return (self.link.buffered() == 0, false);
        }
        let ok = self.write_coded(piece, last);
        if self.state.is_ended() {
            // The connection was lost, or the encoder failed and it is closing.
            return (false, false);
        }
        if last {
            self.out.extend_from_slice(b"0\r\n\r\n");
            self.state.phase = Phase::Ended;
        }
        (ok, last)
    }

    /// The `Content-Length` to announce for a response ended without its body, where the
    /// handler says the body would have had `len` bytes. A HEAD answer gets the coding a GET
    /// would (RFC 9110 section 9.3.2) but, the coded length being unknown, no length.
    #[inline(never)]
    pub(super) fn bodiless_length(&mut self, len: Option<u64>) -> Option<u64> {
        let status = self.state.status;
        let head = self.state.is(Exchange::HEAD);
        let Some(plan) = self.state.compress.as_mut() else {
            return len;
        };
        match (head, len) {
            (true, Some(n)) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                match plan.choose(status, Some(n)) {
                    Some(_) => None,
                    None => len,
                }
            }
            _ => {
                plan.decline();
                len
            }
        }
    }

    /// No coding for this response (its `Vary` stays).
    pub(super) fn decline_coding(&mut self) {
        if let Some(plan) = self.state.compress.as_mut() {
            plan.decline();
        }
    }
}
