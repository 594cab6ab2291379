//! The XLSX reader (calamine's cell reader on its own thread, merged cells, serial dates) and
//! validation of every row (docs/fuzzing.md, target `xlsx`). Invariants: no panic (also none on
//! the reading thread), every rejected row names its row and a field.
#![no_main]

mod common;

use creditloop_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::read_and_validate(data, Format::Xlsx, false);
});
