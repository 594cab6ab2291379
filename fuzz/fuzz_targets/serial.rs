//! Serial date numbers of spreadsheets (docs/fuzzing.md, target `serial`): the fuzzer's bytes give a
//! number, written with rust_xlsxwriter into the 处罚决定日期 column of a one-row workbook and read
//! back through `read_bytes(…, Format::Xlsx, …)`, the path of an agency's XLSX upload.
//!
//! Invariants: no panic; a serial of the 1900 date system (1 ≤ n < 2 958 466, 60 being the fictitious
//! 1900-02-29) reads as the date it denotes — computed here independently, from 1900-01-01 and
//! 1900-03-01 — with the time of day of its fraction; any other number reads as itself.
#![no_main]

use chrono::{Duration, NaiveDate, NaiveDateTime};
use creditloop_ingest::{Format, ReadOptions, read_bytes};
use libfuzzer_sys::fuzz_target;
use rust_xlsxwriter::Workbook;

fn expected(f: f64) -> Option<NaiveDateTime> {
    if !f.is_finite() || !(1.0..2_958_466.0).contains(&f) {
        return None;
    }
    let days = f.floor() as i64;
    let date = match days {
        60 => return None,
        1..=59 => NaiveDate::from_ymd_opt(1900, 1, 1)? + Duration::days(days - 1),
        _ => NaiveDate::from_ymd_opt(1900, 3, 1)? + Duration::days(days - 61),
    };
    let secs = (((f - f.floor()) * 86_400.0).round() as i64).min(86_399);
    Some(date.and_hms_opt(0, 0, 0)? + Duration::seconds(secs))
}

fuzz_target!(|data: &[u8]| {
    let Some(bytes) = data.get(..8) else {
        return;
    };
    let f = f64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    if !f.is_finite() {
        return; // not a number a workbook can hold
    }
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let write = ws
        .write_string(0, 0, "行政相对人名称")
        .and_then(|ws| ws.write_string(0, 1, "处罚决定日期"))
        .and_then(|ws| ws.write_string(1, 0, "某公司"))
        .and_then(|ws| ws.write_number(1, 1, f));
    if write.is_err() {
        return;
    }
    let Ok(xlsx) = wb.save_to_buffer() else {
        return;
    };
    let rows: Vec<_> = read_bytes(xlsx, Format::Xlsx, &ReadOptions::default())
        .expect("workbook opens")
        .collect();
    let row = match rows.as_slice() {
        [Ok(row)] => row,
        other => panic!("{f:?}: expected one row, got {other:?}"),
    };
    let text = &row.fields[1].1;
    match expected(f) {
        Some(dt) => {
            let want = if dt.time() == chrono::NaiveTime::MIN {
                dt.format("%Y-%m-%d").to_string()
            } else {
                dt.format("%Y-%m-%d %H:%M:%S").to_string()
            };
            assert_eq!(text, &want, "serial {f:?}");
        }
        None => {
            let back: f64 = text
                .parse()
                .unwrap_or_else(|_| panic!("{f:?} written as {text:?}"));
            assert!(
                back == f || (f.fract() == 0.0 && back == f.trunc()),
                "{f:?} read as {text:?}"
            );
        }
    }
});
