//! What the reader targets share: read every row of a file, validate it, and check that every
//! rejected row names its row and a field.

use std::sync::OnceLock;

use chrono::NaiveDate;
use creditloop_domain::intake::RejectedRow;
use creditloop_ingest::{Format, ReadError, ReadOptions, Validator, ValidatorConfig, read_bytes};

/// One validator for the whole run (it caches the last layout, which changes nothing but speed).
fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).expect("fixed date");
        // The fixed test key: fuzzing pseudonymises and seals as ingest does, storing nothing.
        let pii = std::sync::Arc::new(creditloop_pii::test_key());
        Validator::new(ValidatorConfig::new(today, pii))
    })
}

fn check_rejected(rej: &RejectedRow, row: u64) {
    assert_eq!(rej.row, row, "rejected row renumbered");
    assert!(
        !rej.errors.is_empty(),
        "row {row} rejected without a reason"
    );
    for e in &rej.errors {
        assert_eq!(e.row, row, "error of row {row} names row {}", e.row);
        assert!(!e.field.trim().is_empty(), "error without a field: {e:?}");
        assert!(!e.rule.is_empty(), "error without a rule: {e:?}");
        assert!(
            !e.reason_zh.is_empty() && !e.reason_en.is_empty(),
            "error without a reason: {e:?}"
        );
    }
}

/// Reads `data` as `format` to the end and validates every row. `monotone`: row numbers must grow.
pub fn read_and_validate(data: &[u8], format: Format, monotone: bool) {
    let Ok(rows) = read_bytes(data.to_vec(), format, &ReadOptions::default()) else {
        return;
    };
    let v = validator();
    let mut last = 0u64;
    for item in rows {
        let row = match item {
            Ok(raw) => {
                assert!(raw.row >= 1, "row number 0");
                match v.validate(&raw) {
                    Ok(accepted) => assert_eq!(accepted.row, raw.row),
                    Err(rej) => check_rejected(&rej, raw.row),
                }
                raw.row
            }
            Err(ReadError::Row(e)) => {
                let row = e.row;
                assert!(row >= 1, "row number 0");
                check_rejected(&RejectedRow::from(e), row);
                row
            }
            Err(ReadError::Fatal(_)) => break,
        };
        if monotone {
            assert!(row > last, "row {row} after row {last}");
        }
        last = row;
    }
}
