#![allow(dead_code, missing_docs, unused)]
pub(crate) fn query_value<'a>(query: &'a str, key: &str) -> Option<std::borrow::Cow<'a, str>> { None }
