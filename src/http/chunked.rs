#![allow(dead_code, missing_docs, unused)]
#[derive(Debug, Default)]
pub(crate) struct ChunkedDecoder;
impl ChunkedDecoder {
    pub(crate) fn new() -> Self { ChunkedDecoder }
    pub(crate) fn decode(&mut self, input: &[u8], on_data: impl FnMut(&[u8])) -> Result<(usize, bool), ()> { todo!() }
}
