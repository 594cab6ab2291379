//! The JSON Lines reader and the JSON document reader of the HTTP API, and validation of every row
//! (docs/fuzzing.md, target `jsonl`). Invariants: no panic, JSON Lines rows numbered by line from 1
//! upwards, every rejected row (a broken line too) names its row and a field.
#![no_main]

mod common;

use creditloop_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::read_and_validate(data, Format::JsonLines, true);
    common::read_and_validate(data, Format::Json, true);
});
