//! 公民身份号码 (resident identity number, GB 11643-1999): 6-digit address code, 8-digit birth date
//! `YYYYMMDD`, 3-digit sequence (odd = male, even = female) and a check character; the legacy 15-digit
//! form (two-digit year, no check) is converted to 18 digits.
//!
//! Personal data (个人信息): `Debug` and `Display` print only the masked form.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::IdError;
use super::normalize::{first_bad_char, float_truncated, prepare};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Earliest birth year accepted.
const MIN_BIRTH_YEAR: i32 = 1880;

/// 公民身份号码校验码: `10X98765432`[Σ digit × weight mod 11] with weights
/// 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2. `None` unless `body17` is exactly 17 ASCII
/// digits (no normalisation is done).
pub fn resident_id_check_char(body17: &str) -> Option<char> {
    if body17.len() != 17 || !body17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS
        .get(usize::try_from(sum % 11).ok()?)
        .map(|&b| char::from(b))
}

/// Reads `YYYYMMDD` (ASCII digits) as a birth date between 1880-01-01 and `today`.
pub(crate) fn birth_date(yyyymmdd: &str, today: NaiveDate) -> Result<NaiveDate, IdError> {
    let invalid = || IdError::BirthDate {
        value: yyyymmdd.to_string(),
    };
    let num = |range: std::ops::Range<usize>| -> Option<u32> { yyyymmdd.get(range)?.parse().ok() };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(4..6), num(6..8)) else {
        return Err(invalid());
    };
    let date = i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(invalid)?;
    if date.year() < MIN_BIRTH_YEAR || date > today {
        return Err(invalid());
    }
    Ok(date)
}

/// 公民身份号码 (resident identity number, GB 11643-1999), valid by construction: always the
/// 18-character form (legacy 15-digit numbers are converted), check character `X` upper-case.
///
/// Personal data: `Debug` and `Display` show [`ResidentId::masked`]; [`ResidentId::as_str`] and
/// serde give the full number. Deserialising validates everything but "not after today" (the value
/// was checked against the date of import).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId {
    code: String,
    birth: NaiveDate,
}

impl ResidentId {
    /// Normalises and validates a resident identity number; `today` is the date the birth date may
    /// not be after (passed in so the function stays pure).
    ///
    /// Checks, in order: empty, placeholder, spreadsheet number ([`IdError::SpreadsheetNumber`]),
    /// length 18 or 15, characters (17 digits and a digit or `X`; 15 digits), birth date
    /// ([`IdError::BirthDate`]), check character ([`IdError::CheckCharacter`]). A number ending in
    /// `000` whose check fails is reported as a spreadsheet number: a float keeps only 15 significant
    /// digits. A 15-digit number gets `19` inserted before its year and its check computed.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<ResidentId, IdError> {
        let n = prepare(raw)?;
        match n.chars().count() {
            18 => {
                first_bad_char(&n, |i, c| c.is_ascii_digit() || (i == 17 && c == 'X'))?;
                // All characters are ASCII from here on.
                let (body, check) = n.split_at(17);
                let birth = birth_date(body.get(6..14).unwrap_or(""), today)?;
                let found = check.chars().next().unwrap_or(' ');
                match resident_id_check_char(body) {
                    Some(expected) if expected == found => Ok(ResidentId { code: n, birth }),
                    _ if float_truncated(&n) => Err(IdError::SpreadsheetNumber { value: n }),
                    Some(expected) => Err(IdError::CheckCharacter { expected, found }),
                    None => Err(IdError::Length {
                        expected: "18",
                        found: n.len(),
                    }),
                }
            }
            15 => {
                first_bad_char(&n, |_, c| c.is_ascii_digit())?;
                let (address, rest) = n.split_at(6);
                let body = format!("{address}19{rest}");
                let birth = birth_date(body.get(6..14).unwrap_or(""), today)?;
                match resident_id_check_char(&body) {
                    Some(check) => Ok(ResidentId {
                        code: format!("{body}{check}"),
                        birth,
                    }),
                    None => Err(IdError::Length {
                        expected: "15",
                        found: n.len(),
                    }),
                }
            }
            found => Err(IdError::Length {
                expected: "18 or 15",
                found,
            }),
        }
    }

    /// Whether `raw` could be a resident number at all: false when it holds an ASCII letter other
    /// than `X`, which normalisation keeps and no resident number has, so [`ResidentId::parse`]
    /// would fail. A test of a few nanoseconds for callers that see mostly organisations' codes
    /// (most unified codes have a letter) and would otherwise parse every one.
    pub fn could_be(raw: &str) -> bool {
        !raw.bytes()
            .any(|b| b.is_ascii_alphabetic() && !matches!(b, b'x' | b'X'))
    }

    /// The full 18-character number. Personal data: prefer [`ResidentId::masked`] in public views.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// 出生日期: the birth date (positions 7–14).
    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// 性别: whether the sequence code (position 17) is odd, meaning male.
    pub fn is_male(&self) -> bool {
        self.code
            .as_bytes()
            .get(16)
            .is_some_and(|b| (b - b'0') % 2 == 1)
    }

    /// 脱敏: the first 4 and last 4 characters with 10 stars between, e.g. `1201**********123X`.
    pub fn masked(&self) -> String {
        let head = self.code.get(..4).unwrap_or("");
        let tail = self.code.get(14..).unwrap_or("");
        format!("{head}**********{tail}")
    }
}

impl fmt::Debug for ResidentId {
    /// Prints only the masked form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl fmt::Display for ResidentId {
    /// Prints only the masked form; use [`ResidentId::as_str`] for the full number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for ResidentId {
    /// The full number, as a string.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code)
    }
}

impl<'de> Deserialize<'de> for ResidentId {
    /// Validates with [`ResidentId::parse`], without the "not after today" rule.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ResidentId::parse(&s, NaiveDate::MAX).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 1).expect("date")
    }

    #[test]
    fn standard_example() {
        assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));
        let id = ResidentId::parse("11010519491231002X", today()).expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).expect("date")
        );
        assert!(!id.is_male());
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(
            ResidentId::parse("11010519491231002x", today()),
            Ok(id.clone())
        );
        assert_eq!(
            ResidentId::parse("１１０１０５１９４９１２３１００２ｘ", today()),
            Ok(id)
        );
    }

    #[test]
    fn legacy_15_digits_convert() {
        let id = ResidentId::parse("110105491231002", today()).expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = ResidentId::parse("120102800101123", today()).expect("valid");
        assert_eq!(id.as_str().len(), 18);
        assert!(id.as_str().starts_with("12010219800101123"));
        assert!(id.is_male());
        assert_eq!(
            ResidentId::parse(id.as_str(), today()),
            Ok(id.clone()),
            "the converted form parses again"
        );
        assert_eq!(
            ResidentId::parse("110105490230002", today()),
            Err(IdError::BirthDate {
                value: "19490230".into()
            })
        );
    }

    #[test]
    fn personal_data_is_masked_in_debug_and_display() {
        let id = ResidentId::parse("11010519491231002X", today()).expect("valid");
        let debug = format!("{id:?}");
        assert_eq!(debug, "ResidentId(1101**********002X)");
        assert!(!debug.contains("19491231"));
        assert_eq!(id.to_string(), "1101**********002X");
        assert_eq!(
            format!("{:?}", Some(&id)),
            "Some(ResidentId(1101**********002X))"
        );
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(ResidentId::parse("空", today()), Err(IdError::Empty));
        assert_eq!(
            ResidentId::parse("1.20102E+17", today()),
            Err(IdError::SpreadsheetNumber {
                value: "1.20102E+17".into()
            })
        );
        assert_eq!(
            ResidentId::parse("1.20102199001011E17", today()),
            Err(IdError::SpreadsheetNumber {
                value: "1.20102199001011E17".into()
            })
        );
        // The last digits zeroed by a float.
        assert_eq!(
            ResidentId::parse("110105194912310000", today()),
            Err(IdError::SpreadsheetNumber {
                value: "110105194912310000".into()
            })
        );
        assert_eq!(
            ResidentId::parse("11010519491231002", today()),
            Err(IdError::Length {
                expected: "18 or 15",
                found: 17
            })
        );
        assert_eq!(
            ResidentId::parse("1101051949123100X2", today()),
            Err(IdError::Character {
                position: 17,
                ch: 'X'
            })
        );
        assert_eq!(
            ResidentId::parse("11010519491231002A", today()),
            Err(IdError::Character {
                position: 18,
                ch: 'A'
            })
        );
        assert_eq!(
            ResidentId::parse("110105194913310021", today()),
            Err(IdError::BirthDate {
                value: "19491331".into()
            })
        );
        assert_eq!(
            ResidentId::parse("110105187912310021", today()),
            Err(IdError::BirthDate {
                value: "18791231".into()
            })
        );
        // Born after "today".
        let body = "11010520260502002";
        let future = format!("{body}{}", resident_id_check_char(body).expect("digits"));
        assert_eq!(
            ResidentId::parse(&future, today()),
            Err(IdError::BirthDate {
                value: "20260502".into()
            })
        );
        assert!(
            ResidentId::parse(&future, NaiveDate::from_ymd_opt(2026, 5, 2).expect("date")).is_ok()
        );
        assert_eq!(
            ResidentId::parse("110105194912310021", today()),
            Err(IdError::CheckCharacter {
                expected: 'X',
                found: '1'
            })
        );
        assert_eq!(
            ResidentId::parse("00000000000000000X", today()),
            Err(IdError::Placeholder)
        );
    }

    #[test]
    fn serde_round_trip() {
        let id = ResidentId::parse("11010519491231002X", today()).expect("valid");
        let json = serde_json::to_string(&id).expect("serialise");
        assert_eq!(json, "\"11010519491231002X\"");
        assert_eq!(
            serde_json::from_str::<ResidentId>(&json).expect("deserialise"),
            id
        );
        assert!(serde_json::from_str::<ResidentId>("\"110105194912310021\"").is_err());
    }

    /// A random valid number born between 1880 and `today()`.
    fn valid_id() -> impl Strategy<Value = String> {
        let days = (today() - NaiveDate::from_ymd_opt(1880, 1, 1).expect("date")).num_days();
        ("[1-8][0-9]{5}", 0..=days, "[0-9]{3}").prop_map(|(address, day, seq)| {
            let birth =
                NaiveDate::from_ymd_opt(1880, 1, 1).expect("date") + chrono::Duration::days(day);
            let body = format!("{address}{}{seq}", birth.format("%Y%m%d"));
            let check = resident_id_check_char(&body).expect("digits");
            format!("{body}{check}")
        })
    }

    proptest! {
        #[test]
        fn random_valid_numbers_parse(code in valid_id()) {
            let id = ResidentId::parse(&code, today());
            prop_assert_eq!(id.as_ref().map(ResidentId::as_str), Ok(code.as_str()));
            let id = id.expect("valid");
            prop_assert_eq!(id.birth_date().format("%Y%m%d").to_string(), &code[6..14]);
            prop_assert_eq!(id.masked().len(), 18);
        }

        #[test]
        fn single_digit_substitutions_are_detected(
            code in valid_id(),
            pos in 0usize..18,
            shift in 1u8..10,
        ) {
            let mut bytes = code.clone().into_bytes();
            // Another digit (any digit replaces a check character `X`).
            bytes[pos] = match bytes[pos] {
                b'X' => b'0' + shift,
                d => b'0' + (d - b'0' + shift) % 10,
            };
            let mutated = String::from_utf8(bytes).expect("ascii");
            let result = ResidentId::parse(&mutated, today());
            let detected = matches!(
                result,
                Err(IdError::CheckCharacter { .. })
                    | Err(IdError::BirthDate { .. })
                    | Err(IdError::SpreadsheetNumber { .. })
            );
            prop_assert!(detected, "{} → {} gave {:?}", code, mutated, result);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = ResidentId::parse(&s, today());
            let _ = ResidentId::parse(&s, NaiveDate::MAX);
            let _ = ResidentId::parse(&s, NaiveDate::MIN);
        }

        #[test]
        fn what_cannot_be_a_number_never_parses(
            s in "[0-9xXa-zA-Z０-９ＡＸ .E+\u{00A0}\u{200B}-]{0,20}",
            code in valid_id(),
            pos in 0usize..18,
            letter in "[a-wyzA-WYZ]",
        ) {
            if !ResidentId::could_be(&s) {
                prop_assert!(ResidentId::parse(&s, NaiveDate::MAX).is_err(), "{}", s);
            }
            // A valid number is never ruled out, in full-width digits and spaced out too; with any
            // other letter in it, it is.
            prop_assert!(ResidentId::could_be(&code));
            let wide: String = code
                .chars()
                .map(|c| c.to_digit(10).and_then(|d| char::from_u32(0xFF10 + d)).unwrap_or(c))
                .collect();
            let spaced = format!(" {wide}\u{00A0}");
            prop_assert!(ResidentId::could_be(&spaced));
            prop_assert_eq!(
                ResidentId::parse(&spaced, NaiveDate::MAX).map(|id| id.as_str().to_string()),
                Ok(code.clone())
            );
            let mut with_letter = code.clone();
            with_letter.replace_range(pos..=pos, &letter);
            prop_assert!(!ResidentId::could_be(&with_letter));
            prop_assert!(ResidentId::parse(&with_letter, NaiveDate::MAX).is_err());
        }

        #[test]
        fn parse_never_panics_near_numbers(s in "[0-9xX０-９ .E+\u{00A0}\u{200B}]{0,20}") {
            let _ = ResidentId::parse(&s, today());
        }
    }
}
