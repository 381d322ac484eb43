//! Answering a GET or HEAD for one resolved file: preconditions, range, fields, then the
//! body streamed from the file.

use std::path::Path;
use std::time::SystemTime;

use super::conditional::{Precondition, Validators};
use super::open::{content_type, open};
use super::range::{self, Ranged};
use super::stream;
use crate::http::request::HttpRequest;
use crate::http::response::HttpResponse;

/// Answers `req` with the file at `path` (already known to be allowed):
/// - `412` or `304` as the preconditions decide ([`Validators::evaluate`]);
/// - `206` with `Content-Range` for one satisfiable `Range` of a GET (when `If-Range`, if
///   any, still holds), `416` with `Content-Range: bytes */len` for an unsatisfiable one;
/// - else `200` with `Accept-Ranges: bytes`.
///
/// `Content-Type`, `Last-Modified` and `ETag` go with `200` and `206`, the validators with
/// `304`. HEAD gets the fields of the GET answer without a body (and, as RFC 9110 section
/// 14.2 says, no range handling).
pub(super) fn respond(res: &mut HttpResponse<'_>, req: &HttpRequest<'_>, path: &Path) {
    let opened = match open(path) {
        Ok(opened) => opened,
        Err(refusal) => return refusal.reply(res),
    };
    let len = opened.len;
    let validators = Validators::new(len, opened.mtime, SystemTime::now());
    let method = req.method();
    let (get, head) = (method == "GET", method == "HEAD");
    match validators.evaluate(get || head, |name| field_values(req, name)) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            res.write_status("304 Not Modified");
            write_validators(res, &validators);
            return res.end_without_body(None);
        }
        Precondition::Failed => return res.write_status("412 Precondition Failed").end(""),
    }
    let ranged = match single_field(req, "range") {
        Some(value)
            if get
                && req
                    .header("if-range")
                    .is_none_or(|v| validators.if_range_holds(v)) =>
        {
            range::evaluate(value, len)
        }
        _ => Ranged::Whole,
    };
    let (start, total) = match ranged {
        Ranged::Whole => {
            res.write_status("200 OK");
            (0, len)
        }
        Ranged::Part { start, end } => {
            res.write_status("206 Partial Content")
                .write_header("Content-Range", &format!("bytes {start}-{end}/{len}"));
            (start, end - start + 1)
        }
        Ranged::Unsatisfiable => {
            return res
                .write_status("416 Range Not Satisfiable")
                .write_header("Content-Range", &format!("bytes */{len}"))
                .end("");
        }
    };
    res.write_header("Content-Type", &content_type(path))
        .write_header("Accept-Ranges", "bytes");
    write_validators(res, &validators);
    if head {
        // Fields only: `try_end` announces the length and ends a HEAD response at once.
        res.try_end(b"", total);
        return;
    }
    stream::send(res, opened.file, start, total);
}

/// Writes `ETag` and `Last-Modified`, those known.
fn write_validators(res: &mut HttpResponse<'_>, validators: &Validators) {
    if let Some(etag) = validators.etag() {
        res.write_header("ETag", etag);
    }
    if let Some(date) = validators.last_modified() {
        res.write_header("Last-Modified", &date);
    }
}

/// The values of every field of `req` named `name` (case-insensitive) that are UTF-8.
fn field_values<'a>(req: &HttpRequest<'a>, name: &str) -> impl Iterator<Item = &'a str> {
    req.headers()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .filter_map(|(_, v)| std::str::from_utf8(v).ok())
}

/// The value of the field `name` when `req` has exactly one such field line.
fn single_field<'a>(req: &HttpRequest<'a>, name: &str) -> Option<&'a str> {
    let mut values = field_values(req, name);
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}
