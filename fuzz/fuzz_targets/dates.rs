//! Date parsers on arbitrary text (docs/fuzzing.md, target `dates`): ingest's
//! `value::parse_date` (`2024-03-05`, `2024/3/5`, `20240305`, `2024年3月5日`, full-width digits, a
//! time of day after) and the catalogue's `parse_date`.
//!
//! Invariants: no panic; an accepted date is the one the text spells — its year, month and day are
//! the first digit groups of the text (or the first 8 digits) — within 1900–9999; it parses back
//! from `YYYY-MM-DD`, `YYYYMMDD` and `YYYY年M月D日`; `Impossible` only for well-formed text.
#![no_main]

use chrono::{Datelike, NaiveDate};
use creditloop_ingest::value::{DateError, parse_date};
use libfuzzer_sys::fuzz_target;

/// Full-width ASCII to half-width, as the parser does.
fn half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The runs of ASCII digits of `s`.
fn digit_groups(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect()
}

fn spelled(date: NaiveDate, text: &str) {
    let t = half_width(text);
    let groups = digit_groups(&t);
    let first = groups.first().copied().unwrap_or("");
    let (y, m, d): (u32, u32, u32) = if first.len() == 8 {
        (
            first[..4].parse().unwrap_or(0),
            first[4..6].parse().unwrap_or(0),
            first[6..].parse().unwrap_or(0),
        )
    } else {
        let n = |i: usize| groups.get(i).and_then(|g| g.parse().ok()).unwrap_or(0);
        (n(0), n(1), n(2))
    };
    assert_eq!(
        (date.year(), date.month(), date.day()),
        (y as i32, m, d),
        "{text:?} read as {date}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse_date(s) {
        Ok(date) => {
            assert!((1900..=9999).contains(&date.year()), "{s:?} read as {date}");
            spelled(date, s);
            for form in ["%Y-%m-%d", "%Y%m%d", "%Y年%-m月%-d日", "%Y/%-m/%-d"] {
                let text = date.format(form).to_string();
                assert_eq!(parse_date(&text), Ok(date), "{text:?}");
            }
        }
        Err(DateError::Impossible) => {
            // Well-formed: ASCII digits and separators only after half-width conversion.
            let t = half_width(s.trim());
            assert!(
                t.chars().next().is_some_and(|c| c.is_ascii_digit()),
                "impossible date without digits: {s:?}"
            );
        }
        Err(DateError::Format) => {}
    }
    if let Some(date) = creditloop_domain::catalogue::parse_date(s) {
        if (0..=9999).contains(&date.year()) {
            let text = date.format("%Y-%m-%d").to_string();
            assert_eq!(
                creditloop_domain::catalogue::parse_date(&text),
                Some(date),
                "{s:?} read as {date}, written {text:?}"
            );
        }
    }
});
