//! 规范化 (normalisation) of identifier text as agencies really send it: stray spaces, non-breaking
//! and zero-width characters, full-width (全角) digits and letters, lower-case check letters, empty
//! markers such as `无` or `null`, and numbers that a spreadsheet has turned into floats.

use super::error::IdError;

/// The 双公示 placeholder for an individual business without a code: it means "no code".
pub const PLACEHOLDER: &str = "00000000000000000X";

/// Values that mean "empty" (空值标记) once surrounding whitespace is trimmed.
const EMPTY_MARKERS: [&str; 10] = ["", "-", "/", "无", "空", "null", "NULL", "Null", "—", "——"];

/// Invisible characters that are not Unicode whitespace but still turn up around values:
/// zero-width space, non-joiner and joiner (U+200B..U+200D), word joiner (U+2060) and the byte-order
/// mark / zero-width no-break space (U+FEFF).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Maps a full-width (全角) ASCII form (U+FF01..U+FF5E) to its half-width (半角) character.
fn to_half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// 规范化: removes all whitespace anywhere in the value (including U+00A0 and the ideographic space
/// U+3000) and zero-width characters, turns full-width ASCII (`９１４４…`) into half-width (`9144…`),
/// and upper-cases ASCII letters. Idempotent: `normalize(&normalize(s)) == normalize(s)`.
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|&c| !c.is_whitespace() && !is_invisible(c))
        .map(|c| to_half_width(c).to_ascii_uppercase())
        .collect()
}

/// Whether a value means "empty" (空值): `""`, `-`, `/`, `无`, `空`, `null`, `NULL`, `Null`, `—`
/// (and `——`), after trimming whitespace and zero-width characters. Full-width and spaced-out forms
/// of these markers (`－`, `ｎｕｌｌ`) count as well.
pub fn is_empty_marker(s: &str) -> bool {
    let trimmed = s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
    EMPTY_MARKERS.contains(&trimmed) || EMPTY_MARKERS.contains(&normalize(s).as_str())
}

/// Whether a value looks like a number that a spreadsheet (电子表格) wrote as a float: scientific
/// notation (`1.20102E+17`, `1.20102e17`), a decimal point (`330100400015575.0`) or thousands
/// separators (`120,102,199,…`). Such values have lost digits and can never be repaired.
pub fn is_spreadsheet_number(raw: &str) -> bool {
    looks_like_float(&normalize(raw))
}

/// [`is_spreadsheet_number`] on an already normalised value.
pub(crate) fn looks_like_float(n: &str) -> bool {
    let (mantissa, exponent) = match n.split_once('E') {
        Some((m, e)) => (m, Some(e)),
        None => (n, None),
    };
    let Some(shape) = mantissa_shape(mantissa) else {
        return false;
    };
    match exponent {
        None => shape.has_dot || shape.has_comma,
        Some(e) => {
            // Spreadsheets write large numbers as `1.20102E+17`. `E-` (tiny numbers) never comes
            // from an identifier, and `…E…` without dot or `+` may be a real code: `E` is in the
            // code character sets (e.g. the organisation code `3000011E6` or `1234567E-8`).
            let (plus, digits) = match e.strip_prefix('+') {
                Some(d) => (true, d),
                None => (false, e),
            };
            let digits_ok = !digits.is_empty()
                && digits.len() <= 3
                && digits.bytes().all(|b| b.is_ascii_digit());
            digits_ok && (shape.has_dot || shape.has_comma || plus)
        }
    }
}

struct MantissaShape {
    has_dot: bool,
    has_comma: bool,
}

/// Digits, optionally grouped by thousands separators, optionally followed by `.` and digits.
fn mantissa_shape(m: &str) -> Option<MantissaShape> {
    let (int, frac) = match m.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (m, None),
    };
    if let Some(f) = frac
        && !f.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let has_comma = int.contains(',');
    if has_comma {
        let mut groups = int.split(',');
        let first = groups.next()?;
        if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
    } else if !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digit_count = int.bytes().filter(u8::is_ascii_digit).count() + frac.map_or(0, str::len);
    if digit_count == 0 {
        return None;
    }
    Some(MantissaShape {
        has_dot: frac.is_some(),
        has_comma,
    })
}

/// An 18-digit value whose last three digits are zeros: what a float keeps of an 18-digit number
/// (15 significant digits). Only used to explain a failed check, never to accept or repair a value.
pub(crate) fn float_truncated(n: &str) -> bool {
    n.len() == 18 && n.bytes().all(|b| b.is_ascii_digit()) && n.ends_with("000")
}

/// Common first steps of every identifier parser: normalise, then reject empty markers
/// ([`IdError::Empty`]), the placeholder ([`IdError::Placeholder`]) and spreadsheet floats
/// ([`IdError::SpreadsheetNumber`]).
pub(crate) fn prepare(raw: &str) -> Result<String, IdError> {
    if is_empty_marker(raw) {
        return Err(IdError::Empty);
    }
    let n = normalize(raw);
    if n == PLACEHOLDER {
        return Err(IdError::Placeholder);
    }
    if looks_like_float(&n) {
        return Err(IdError::SpreadsheetNumber { value: n });
    }
    Ok(n)
}

/// Position (1-based) and character of the first character of `n` rejected by `allowed`.
pub(crate) fn first_bad_char(
    n: &str,
    mut allowed: impl FnMut(usize, char) -> bool,
) -> Result<(), IdError> {
    match n.chars().enumerate().find(|&(i, c)| !allowed(i, c)) {
        Some((i, ch)) => Err(IdError::Character {
            position: i + 1,
            ch,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn full_width_becomes_half_width() {
        assert_eq!(
            normalize("９１３３０１００７１６１０５８５２Ｆ"),
            "91330100716105852F"
        );
        assert_eq!(normalize("ｘ－ａ"), "X-A");
    }

    #[test]
    fn spaces_and_invisible_characters_are_removed() {
        assert_eq!(
            normalize("  9133 0100\t7161 05852f \r\n"),
            "91330100716105852F"
        );
        assert_eq!(normalize("\u{00A0}9133\u{3000}0100"), "91330100");
        assert_eq!(
            normalize("\u{FEFF}\u{200B}9133\u{200C}01\u{200D}00\u{2060}"),
            "91330100"
        );
    }

    #[test]
    fn lower_case_is_upper_cased() {
        assert_eq!(normalize("11010519491231002x"), "11010519491231002X");
        // Only ASCII letters change.
        assert_eq!(normalize("无ß"), "无ß");
    }

    #[test]
    fn empty_markers() {
        for m in [
            "",
            " ",
            "-",
            "/",
            "无",
            "空",
            "null",
            "NULL",
            "Null",
            "—",
            "——",
            " 无 ",
            "\u{3000}",
            "－",
            "ｎｕｌｌ",
            "\u{FEFF}-",
        ] {
            assert!(is_empty_marker(m), "{m:?}");
        }
        for v in ["0", "X", "无效", "nul", "91330100716105852F"] {
            assert!(!is_empty_marker(v), "{v:?}");
        }
    }

    #[test]
    fn spreadsheet_numbers() {
        for v in [
            "1.20102E+17",
            "1.20102e17",
            "1.20102E17",
            "1.2010219900101E+17",
            "120102199001011000.0",
            "330100400015575.0",
            "1E+17",
            "120,102,199,001,011,000",
            "１．２０１０２Ｅ＋１７",
        ] {
            assert!(is_spreadsheet_number(v), "{v:?}");
        }
        for v in [
            "91330100716105852F",
            "120102199001011234",
            "330100400015575",
            "12345678-9",
            "1234567890123E4567",
            "12E17",
            "3000011E6",
            "1234567E-8",
            "1.2E-",
            "E",
            ".",
            "1,2345",
            "",
            "1.2X",
        ] {
            assert!(!is_spreadsheet_number(v), "{v:?}");
        }
    }

    #[test]
    fn prepare_rejects_in_order() {
        assert_eq!(prepare(" 无 "), Err(IdError::Empty));
        assert_eq!(prepare("00000000000000000x"), Err(IdError::Placeholder));
        assert_eq!(
            prepare("1.20102e+17"),
            Err(IdError::SpreadsheetNumber {
                value: "1.20102E+17".into()
            })
        );
        assert_eq!(prepare(" ab c"), Ok("ABC".into()));
    }

    proptest! {
        #[test]
        fn normalize_is_idempotent(s in any::<String>()) {
            let once = normalize(&s);
            prop_assert_eq!(normalize(&once), once);
        }

        #[test]
        fn normalize_is_idempotent_on_messy_codes(
            s in "[0-9a-zA-Z０-９ａ-ｚＡ-Ｚ \u{00A0}\u{3000}\u{200B}\u{FEFF}\u{2060}－.,+]{0,24}"
        ) {
            let once = normalize(&s);
            prop_assert_eq!(normalize(&once), once.clone());
            prop_assert!(!once.chars().any(|c| c.is_whitespace() || c.is_ascii_lowercase()));
        }

        #[test]
        fn markers_and_float_checks_never_panic(s in any::<String>()) {
            let _ = is_empty_marker(&s);
            let _ = is_spreadsheet_number(&s);
            let _ = prepare(&s);
        }
    }
}
