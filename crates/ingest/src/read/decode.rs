//! 编码识别与转码 (encoding detection and decoding): a [`Read`] adapter that turns UTF-8, UTF-8 with
//! BOM, UTF-16 with BOM or GBK/GB18030 bytes into UTF-8 as a stream, with `encoding_rs`' decoder.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use encoding_rs::{CoderResult, Decoder, Encoding};

/// How much of the start of a file is examined to detect its encoding.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Detects the encoding of the start of a file: a byte-order mark decides (UTF-8, UTF-16); else
/// valid UTF-8 is UTF-8 (a multibyte character cut at the end of the sample does not count against
/// it); else GB18030 (GBK's superset). Returns the encoding and the length of the BOM.
pub fn detect_encoding(sample: &[u8]) -> (&'static Encoding, usize) {
    if let Some((enc, bom)) = Encoding::for_bom(sample) {
        return (enc, bom);
    }
    match std::str::from_utf8(sample) {
        Ok(_) => (encoding_rs::UTF_8, 0),
        // `error_len() == None`: the sample ends inside a character, which is fine when the sample is
        // a cut of a longer file.
        Err(e) if e.error_len().is_none() && sample.len() - e.valid_up_to() < 4 => {
            (encoding_rs::UTF_8, 0)
        }
        Err(_) => (encoding_rs::GB18030, 0),
    }
}

/// A [`Read`] adapter decoding its input to UTF-8. Malformed sequences become U+FFFD, so the output
/// is always valid UTF-8. It also stops a runaway record: after `limit` bytes without the counter of
/// [`DecodeReader::counter`] being reset to 0 it fails with [`RecordTooLarge`], so that an unclosed
/// quote cannot make a CSV reader hold the whole file.
pub struct DecodeReader<R> {
    inner: R,
    encoding: &'static Encoding,
    decoder: Decoder,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    in_eof: bool,
    output: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    finished: bool,
    counter: Arc<AtomicU64>,
    limit: u64,
}

/// The default limit on one record: 64 MiB.
pub const DEFAULT_RECORD_LIMIT: u64 = 64 * 1024 * 1024;

impl<R: Read> DecodeReader<R> {
    /// Reads the first 64 KiB, detects the encoding (or uses `forced`, though a BOM still wins) and
    /// returns the adapter.
    pub fn new(mut inner: R, forced: Option<&'static Encoding>) -> io::Result<Self> {
        let mut input = vec![0u8; SNIFF_BYTES].into_boxed_slice();
        let mut filled = 0;
        let mut in_eof = false;
        while filled < input.len() {
            match inner.read(&mut input[filled..]) {
                Ok(0) => {
                    in_eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let sample = &input[..filled];
        let (detected, bom) = detect_encoding(sample);
        let encoding = match forced {
            Some(f) if bom == 0 => f,
            _ => detected,
        };
        Ok(DecodeReader {
            inner,
            encoding,
            decoder: encoding.new_decoder_without_bom_handling(),
            input,
            in_start: bom,
            in_end: filled,
            in_eof,
            output: vec![0u8; SNIFF_BYTES + 16].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            finished: false,
            counter: Arc::new(AtomicU64::new(0)),
            limit: DEFAULT_RECORD_LIMIT,
        })
    }

    /// The undecoded bytes read ahead (the start of the file before the first read).
    pub fn sample(&self) -> &[u8] {
        &self.input[self.in_start..self.in_end]
    }

    /// The encoding being decoded.
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// Sets the most bytes that may be read between two calls of the counter's reset.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// A handle that resets the runaway-record counter (call it after each record).
    pub fn counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.counter)
    }

    fn refill(&mut self) -> io::Result<()> {
        self.in_start = 0;
        self.in_end = 0;
        loop {
            match self.inner.read(&mut self.input) {
                Ok(0) => {
                    self.in_eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.in_end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                let seen = self.counter.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
                if seen > self.limit {
                    return Err(io::Error::other(RecordTooLarge(self.limit)));
                }
                return Ok(n);
            }
            if self.finished {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.in_eof {
                self.refill()?;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_start..self.in_end],
                &mut self.output,
                self.in_eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.in_eof && result == CoderResult::InputEmpty && self.in_start == self.in_end {
                self.finished = true;
            }
        }
    }
}

/// The error [`DecodeReader`] fails with when a record exceeds its limit.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("a record is larger than {0} bytes")]
pub struct RecordTooLarge(pub u64);

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], forced: Option<&'static Encoding>) -> (String, &'static str) {
        let mut r = DecodeReader::new(bytes, forced).expect("sniff");
        let enc = r.encoding().name();
        let mut s = String::new();
        r.read_to_string(&mut s).expect("decode");
        (s, enc)
    }

    #[test]
    fn detects_utf8_bom_and_gbk() {
        assert_eq!(
            decode_all("名称,a".as_bytes(), None),
            ("名称,a".into(), "UTF-8")
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("名称".as_bytes());
        assert_eq!(decode_all(&bom, None), ("名称".into(), "UTF-8"));
        let (gbk, _, _) = encoding_rs::GBK.encode("行政相对人名称,处罚机关");
        assert_eq!(
            decode_all(&gbk, None),
            ("行政相对人名称,处罚机关".into(), "gb18030")
        );
        assert_eq!(decode_all(b"abc", Some(encoding_rs::GB18030)).1, "gb18030");
    }

    #[test]
    fn multibyte_character_cut_at_the_sample_boundary_is_still_utf8() {
        // Put a 3-byte character across the 64 KiB boundary.
        let mut s = "a".repeat(SNIFF_BYTES - 1);
        s.push('名');
        s.push_str(&"b".repeat(10));
        let (out, enc) = decode_all(s.as_bytes(), None);
        assert_eq!(enc, "UTF-8");
        assert_eq!(out, s);
    }

    #[test]
    fn gbk_longer_than_one_buffer_decodes_across_boundaries() {
        let text = "行政处罚,罚款\r\n".repeat(20_000);
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let (out, enc) = decode_all(&gbk, None);
        assert_eq!(enc, "gb18030");
        assert_eq!(out, text);
    }

    #[test]
    fn runaway_records_stop() {
        let data = vec![b'a'; 10_000];
        let mut r = DecodeReader::new(&data[..], None)
            .expect("sniff")
            .with_limit(100);
        let mut s = String::new();
        assert!(r.read_to_string(&mut s).is_err());
    }
}
