//! Values as agencies send them: cleaning (stray spaces, NBSP, zero-width characters, empty markers),
//! dates in every accepted form, amounts. Written without regular expressions or allocation on the
//! common path: these run for every cell of every row.

use std::borrow::Cow;

use chrono::NaiveDate;

/// Zero-width and byte-order characters that turn up around values.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Cleans a value: trims whitespace (including NBSP and the ideographic space) and zero-width
/// characters at both ends, turns inner NBSPs into spaces and drops inner zero-width characters; an
/// empty marker (`-`, `/`, `无`, `空`, `null`, `NULL` …) becomes the empty string.
pub fn clean(raw: &str) -> Cow<'_, str> {
    let t = if is_trimmed(raw) {
        raw
    } else {
        raw.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
    };
    if t.is_empty() || is_marker(t) {
        return Cow::Borrowed("");
    }
    // NBSP is C2 A0 in UTF-8, the zero-width characters start with E2 or EF: look for those lead
    // bytes before decoding characters.
    if memchr::memchr3(0xC2, 0xE2, 0xEF, t.as_bytes()).is_none()
        || !t.chars().any(|c| c == '\u{00A0}' || is_invisible(c))
    {
        return Cow::Borrowed(t);
    }
    Cow::Owned(
        t.chars()
            .filter(|&c| !is_invisible(c))
            .map(|c| if c == '\u{00A0}' { ' ' } else { c })
            .collect(),
    )
}

/// A quick test that a value needs no trimming: it starts and ends with a visible ASCII character
/// or a CJK ideograph (lead bytes E4–E9, which no space or invisible character has).
fn is_trimmed(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    let starts = (0x21..=0x7E).contains(&first) || (0xE4..=0xE9).contains(&first);
    let ends = (0x21..=0x7E).contains(&last)
        || (b.len() >= 3 && (0xE4..=0xE9).contains(&b[b.len() - 3]) && last >= 0x80);
    starts && ends
}

/// Whether a trimmed value is an empty marker. Markers are short, so longer values are never
/// passed to the (allocating) identifier normaliser.
fn is_marker(t: &str) -> bool {
    t.len() <= 16
        && t.chars().all(|c| {
            matches!(
                c,
                '-' | '/'
                    | '无'
                    | '空'
                    | 'n'
                    | 'u'
                    | 'l'
                    | 'N'
                    | 'U'
                    | 'L'
                    | '—'
                    | '－'
                    | '／'
                    | 'ｎ'
                    | 'ｕ'
                    | 'ｌ'
                    | 'Ｎ'
                    | 'Ｕ'
                    | 'Ｌ'
            ) || c.is_whitespace()
                || is_invisible(c)
        })
        && creditloop_domain::ids::is_empty_marker(t)
}

/// Whether a (cleaned) value is the 双公示 placeholder `00000000000000000X`, without allocating
/// for ordinary values.
pub fn is_placeholder(v: &str) -> bool {
    use creditloop_domain::ids::{PLACEHOLDER, normalize};
    if v.is_ascii() && !v.contains(' ') {
        v.eq_ignore_ascii_case(PLACEHOLDER)
    } else {
        v.len() >= PLACEHOLDER.len() && normalize(v) == PLACEHOLDER
    }
}

/// Collapses runs of whitespace (any kind) into one ASCII space; for document numbers (文号).
pub fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// Why a text is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not in any accepted form.
    Format,
    /// In an accepted form but not a day of the calendar (2023-02-30).
    Impossible,
}

/// Parses a date: `2024-03-05`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`, each optionally
/// followed by a time of day (`2024-03-05 14:30:00`, `2024-03-05T00:00:00`, `2024/3/5 0:00`);
/// full-width digits are accepted. Years 1900–9999.
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    let s = s.trim();
    let mut owned = String::new();
    let s = if s.is_ascii() {
        s
    } else {
        owned.extend(s.chars().map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        }));
        owned.as_str()
    };
    let mut p = Scanner { s, i: 0 };
    let first = p.digits();
    let (y, m, d) = if first.len() == 8 {
        let n = first.as_bytes();
        (num(&n[..4]), num(&n[4..6]), num(&n[6..8]))
    } else if first.len() == 4 {
        let y = num(first.as_bytes());
        let sep = p.sep().ok_or(DateError::Format)?;
        let m = p.digits();
        if m.is_empty() || m.len() > 2 {
            return Err(DateError::Format);
        }
        let sep2 = p.sep().ok_or(DateError::Format)?;
        let ok = match sep {
            Sep::Ascii(c) => sep2 == Sep::Ascii(c),
            Sep::Year => sep2 == Sep::Month,
            Sep::Month | Sep::Day => false,
        };
        if !ok {
            return Err(DateError::Format);
        }
        let d = p.digits();
        if d.is_empty() || d.len() > 2 {
            return Err(DateError::Format);
        }
        if sep == Sep::Year && p.peek_str("日") {
            p.i += "日".len();
        }
        (y, num(m.as_bytes()), num(d.as_bytes()))
    } else {
        return Err(DateError::Format);
    };
    if !valid_time_tail(&s[p.i..]) {
        return Err(DateError::Format);
    }
    if !(1900..=9999).contains(&y) {
        return Err(DateError::Impossible);
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(DateError::Impossible)
}

fn num(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Ascii(u8),
    Year,
    Month,
    Day,
}

struct Scanner<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Scanner<'a> {
    fn digits(&mut self) -> &'a str {
        let start = self.i;
        let b = self.s.as_bytes();
        while self.i < b.len() && b[self.i].is_ascii_digit() && self.i - start < 9 {
            self.i += 1;
        }
        &self.s[start..self.i]
    }
    fn peek_str(&self, t: &str) -> bool {
        self.s[self.i..].starts_with(t)
    }
    fn sep(&mut self) -> Option<Sep> {
        let b = self.s.as_bytes();
        let c = *b.get(self.i)?;
        if matches!(c, b'-' | b'/' | b'.') {
            self.i += 1;
            return Some(Sep::Ascii(c));
        }
        for (t, sep) in [("年", Sep::Year), ("月", Sep::Month), ("日", Sep::Day)] {
            if self.peek_str(t) {
                self.i += t.len();
                return Some(sep);
            }
        }
        None
    }
}

/// What may follow a date: nothing, or a space / `T` and a time of day (`14:30`, `14:30:00`,
/// `00:00:00.000`, optionally `Z` or an offset).
fn valid_time_tail(t: &str) -> bool {
    let Some(first) = t.chars().next() else {
        return true;
    };
    if !(first == ' ' || first == 'T') {
        return false;
    }
    let rest = t[1..].trim();
    if rest.is_empty() {
        return true;
    }
    let b = rest.as_bytes();
    b[0].is_ascii_digit()
        && rest
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'+' | b'-' | b'Z' | b' '))
}

/// Why a text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not a number.
    NotANumber,
    /// Negative.
    Negative,
}

/// Parses an amount in 万元: a non-negative decimal number; thousands separators and a trailing
/// `万元`/`万` unit are accepted.
pub fn parse_amount(s: &str) -> Result<f64, AmountError> {
    let t = s.trim();
    let t = t
        .strip_suffix("万元")
        .or_else(|| t.strip_suffix('万'))
        .unwrap_or(t)
        .trim();
    let cleaned: Cow<'_, str> = if t.contains(',') {
        Cow::Owned(t.replace(',', ""))
    } else {
        Cow::Borrowed(t)
    };
    let c = cleaned.as_ref();
    let body = c.strip_prefix(['+', '-']).unwrap_or(c);
    let plain = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|&b| b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(AmountError::NotANumber);
    }
    let v: f64 = c.parse().map_err(|_| AmountError::NotANumber)?;
    if !v.is_finite() {
        return Err(AmountError::NotANumber);
    }
    if v < 0.0 {
        return Err(AmountError::Negative);
    }
    Ok(if v == 0.0 { 0.0 } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("  abc \u{00A0}"), "abc");
        assert_eq!(clean("\u{200B}a\u{00A0}b\u{FEFF}"), "a b");
        assert_eq!(clean("a\u{200B}b"), "ab");
        for m in ["-", " / ", "无", "空", "null", "NULL", "－", "\u{3000}"] {
            assert_eq!(clean(m), "", "{m:?}");
        }
        assert_eq!(clean("无效"), "无效");
        assert_eq!(
            collapse_spaces(" 津市监 罚〔2024〕\u{3000} 12号 "),
            "津市监 罚〔2024〕 12号"
        );
    }

    #[test]
    fn dates_in_every_form() {
        let want = d(2024, 3, 5);
        for s in [
            "2024-03-05",
            "2024/3/5",
            "2024.3.5",
            "20240305",
            "2024年3月5日",
            "2024年03月05日",
            "2024年3月5",
            "2024-03-05 14:30:00",
            "2024-03-05T00:00:00",
            "2024/3/5 0:00",
            "2024-03-05 00:00:00.0",
            "２０２４－０３－０５",
            " 2024-03-05 ",
        ] {
            assert_eq!(parse_date(s), Ok(want), "{s}");
        }
        assert_eq!(parse_date("2023-02-30"), Err(DateError::Impossible));
        assert_eq!(parse_date("20230230"), Err(DateError::Impossible));
        assert_eq!(parse_date("2023-13-01"), Err(DateError::Impossible));
        for s in [
            "",
            "2024",
            "2024-3",
            "2024-03/05",
            "05/03/2024",
            "abc",
            "2024-03-05x",
            "45356",
        ] {
            assert_eq!(parse_date(s), Err(DateError::Format), "{s}");
        }
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1.5"), Ok(1.5));
        assert_eq!(parse_amount("1,000.25"), Ok(1000.25));
        assert_eq!(parse_amount("0.2万元"), Ok(0.2));
        assert_eq!(parse_amount("0"), Ok(0.0));
        assert_eq!(parse_amount("-1"), Err(AmountError::Negative));
        for s in ["", "abc", "1.2.3", "NaN", "inf", "1e3", "."] {
            assert_eq!(parse_amount(s), Err(AmountError::NotANumber), "{s}");
        }
    }
}
