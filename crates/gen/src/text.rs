//! Formatting of values: dates in the forms agencies write them, money in 万元, full-width forms,
//! and the float a spreadsheet makes of a long number.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

/// How a row writes its dates. [`DateStyle::Iso`] unless the row has the date quirk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// `2024-03-05`
    Iso,
    /// `2024/3/5`
    Slash,
    /// `20240305`
    Compact,
    /// `2024年3月5日`
    Chinese,
    /// `2024.3.5`
    Dot,
    /// `2024-03-05 00:00:00`
    IsoTime,
}

/// The non-ISO styles, for quirky rows.
pub(crate) const QUIRK_STYLES: [DateStyle; 5] = [
    DateStyle::Slash,
    DateStyle::Compact,
    DateStyle::Chinese,
    DateStyle::Dot,
    DateStyle::IsoTime,
];

/// Appends year, month and day (which need not form a real date) in `style`.
pub(crate) fn push_ymd(out: &mut String, y: i32, m: u32, d: u32, style: DateStyle) {
    // Writing to a String cannot fail.
    let _ = match style {
        DateStyle::Iso => write!(out, "{y:04}-{m:02}-{d:02}"),
        DateStyle::Slash => write!(out, "{y}/{m}/{d}"),
        DateStyle::Compact => write!(out, "{y:04}{m:02}{d:02}"),
        DateStyle::Chinese => write!(out, "{y}年{m}月{d}日"),
        DateStyle::Dot => write!(out, "{y}.{m}.{d}"),
        DateStyle::IsoTime => write!(out, "{y:04}-{m:02}-{d:02} 00:00:00"),
    };
}

/// Appends `date` in `style`.
pub(crate) fn push_date(out: &mut String, date: NaiveDate, style: DateStyle) {
    push_ymd(out, date.year(), date.month(), date.day(), style);
}

/// Appends an amount of yuan in 万元 with up to four decimals and no trailing zeros
/// (`5000` → `0.5`, `123400` → `12.34`).
pub(crate) fn push_wan(out: &mut String, yuan: u64) {
    let whole = yuan / 10_000;
    let frac = yuan % 10_000;
    let _ = write!(out, "{whole}");
    if frac != 0 {
        let mut digits = format!("{frac:04}");
        while digits.ends_with('0') {
            digits.pop();
        }
        out.push('.');
        out.push_str(&digits);
    }
}

/// The full-width (全角) form of ASCII digits and letters; other characters stay.
pub(crate) fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// How a spreadsheet in General format shows a long digit string it took for a number:
/// six significant digits and an exponent (`120102199003071234` → `1.20102E+17`).
pub(crate) fn spreadsheet_float(digits: &str) -> String {
    let ds: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if ds.is_empty() {
        return "0".to_string();
    }
    let mut exp = ds.len() - 1;
    let mut mant: u64 = ds.iter().take(7).fold(0, |a, &d| a * 10 + u64::from(d));
    for _ in ds.len()..7 {
        mant *= 10;
    }
    // Round seven digits to six.
    mant = (mant + 5) / 10;
    if mant >= 1_000_000 {
        mant /= 10;
        exp += 1;
    }
    let mut frac = format!("{:05}", mant % 100_000);
    while frac.ends_with('0') {
        frac.pop();
    }
    let lead = mant / 100_000;
    if frac.is_empty() {
        format!("{lead}E+{exp:02}")
    } else {
        format!("{lead}.{frac}E+{exp:02}")
    }
}

/// Fills a template: `{d}` with `date` (as `2024年3月5日`), `{n}` with `n`, `{x}` with `x`, `{y}`
/// with `date`'s year.
pub(crate) fn fill_template(out: &mut String, template: &str, date: NaiveDate, n: u32, x: u64) {
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(t) = tail.strip_prefix("{d}") {
            push_date(out, date, DateStyle::Chinese);
            rest = t;
        } else if let Some(t) = tail.strip_prefix("{n}") {
            let _ = write!(out, "{n}");
            rest = t;
        } else if let Some(t) = tail.strip_prefix("{x}") {
            let _ = write!(out, "{x}");
            rest = t;
        } else if let Some(t) = tail.strip_prefix("{y}") {
            let _ = write!(out, "{}", date.year());
            rest = t;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_every_style() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        let f = |s| {
            let mut o = String::new();
            push_date(&mut o, d, s);
            o
        };
        assert_eq!(f(DateStyle::Iso), "2024-03-05");
        assert_eq!(f(DateStyle::Slash), "2024/3/5");
        assert_eq!(f(DateStyle::Compact), "20240305");
        assert_eq!(f(DateStyle::Chinese), "2024年3月5日");
        assert_eq!(f(DateStyle::Dot), "2024.3.5");
        assert_eq!(f(DateStyle::IsoTime), "2024-03-05 00:00:00");
    }

    #[test]
    fn wan_amounts() {
        let f = |y| {
            let mut o = String::new();
            push_wan(&mut o, y);
            o
        };
        assert_eq!(f(5_000), "0.5");
        assert_eq!(f(123_400), "12.34");
        assert_eq!(f(10_000), "1");
        assert_eq!(f(250), "0.025");
    }

    #[test]
    fn spreadsheet_floats() {
        assert_eq!(spreadsheet_float("120102199003071234"), "1.20102E+17");
        assert_eq!(spreadsheet_float("120102599003071234"), "1.20103E+17");
        assert_eq!(spreadsheet_float("999999999999999999"), "1E+18");
        assert_eq!(spreadsheet_float("120000000000000000"), "1.2E+17");
    }

    #[test]
    fn templates_and_full_width() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        let mut o = String::new();
        fill_template(&mut o, "于{d}销售{n}件，{x}元，{y}年{z}", d, 7, 1200);
        assert_eq!(o, "于2024年3月5日销售7件，1200元，2024年{z}");
        assert_eq!(full_width("91a-X"), "９１ａ-Ｘ");
    }
}
