//! The CSV reader (UTF-8, BOM, GBK; comma or tab; title lines) and validation of every row
//! (docs/fuzzing.md, target `csv`). Invariants: no panic, rows numbered from 1 upwards, every
//! rejected row names its row and a field.
#![no_main]

mod common;

use creditloop_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::read_and_validate(data, Format::Csv, true);
});
