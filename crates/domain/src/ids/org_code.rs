//! 组织机构代码 (organisation code, GB 11714): 8 body characters (digits or upper-case letters) and a
//! check character, written `XXXXXXXX-X` with or without the hyphen.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::IdError;
use super::normalize::prepare;

const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Value of a body character: digits count as their value, `A`–`Z` as 10–35.
fn value(c: char) -> Option<u32> {
    match c {
        '0'..='9' | 'A'..='Z' => c.to_digit(36),
        _ => None,
    }
}

/// 组织机构代码校验码: the check character for 8 body characters (digits or upper-case `A`–`Z`),
/// `11 − (Σ value × weight mod 11)` with weights 3, 7, 9, 10, 5, 8, 4, 2; 10 is written `X` and 11 is
/// written `0`. `None` when `body8` is not exactly 8 such characters (no normalisation is done).
pub fn org_code_check_char(body8: &str) -> Option<char> {
    let mut sum = 0;
    let mut count = 0;
    for (i, c) in body8.chars().enumerate() {
        let w = WEIGHTS.get(i)?;
        sum += value(c)? * w;
        count += 1;
    }
    if count != WEIGHTS.len() {
        return None;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        d => char::from_digit(d, 10),
    }
}

/// 组织机构代码 (organisation code, GB 11714), valid by construction: 9 characters stored without the
/// hyphen. [`OrgCode::as_str`] gives `123456789`, [`OrgCode::hyphenated`] and `Display` give
/// `12345678-9`; serde uses the form without hyphen.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgCode(String);

impl OrgCode {
    /// Normalises and validates an organisation code given as `XXXXXXXX-X` or `XXXXXXXXX`.
    ///
    /// Checks, in order: empty, placeholder, spreadsheet number, length (9, or 10 with the hyphen),
    /// characters (body `0-9A-Z`, hyphen only at position 9), organisation-code check
    /// ([`IdError::OrgCodeCheck`]).
    pub fn parse(raw: &str) -> Result<OrgCode, IdError> {
        let n = prepare(raw)?;
        let len = n.chars().count();
        let hyphenated = match len {
            9 => false,
            10 => true,
            found => {
                return Err(IdError::Length {
                    expected: "9 or 10",
                    found,
                });
            }
        };
        super::normalize::first_bad_char(&n, |i, c| {
            if hyphenated && i == 8 {
                c == '-'
            } else {
                value(c).is_some()
            }
        })?;
        // All characters are ASCII from here on.
        let compact: String = n.chars().filter(|&c| c != '-').collect();
        let (body, check) = compact.split_at(8);
        verify(body, check)?;
        Ok(OrgCode(compact))
    }

    /// Wraps 9 characters already checked by the caller (body and check character valid).
    pub(crate) fn from_checked(code: &str) -> OrgCode {
        OrgCode(code.to_string())
    }

    /// The 9 characters without hyphen, e.g. `716105852`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The written form with hyphen, e.g. `71610585-2`.
    pub fn hyphenated(&self) -> String {
        let (body, check) = self.0.split_at(8.min(self.0.len()));
        format!("{body}-{check}")
    }

    /// The 8 body characters (本体代码).
    pub fn body(&self) -> &str {
        self.0.get(..8).unwrap_or(&self.0)
    }

    /// The check character (校验码).
    pub fn check_char(&self) -> char {
        self.0.chars().last().unwrap_or('0')
    }
}

/// Checks the organisation-code check character of an 8-character body (ASCII, in `0-9A-Z`).
pub(crate) fn verify(body: &str, check: &str) -> Result<(), IdError> {
    let found = check.chars().next().unwrap_or(' ');
    match org_code_check_char(body) {
        Some(expected) if expected == found => Ok(()),
        Some(expected) => Err(IdError::OrgCodeCheck { expected, found }),
        // Unreachable for bodies already checked character by character.
        None => Err(IdError::Length {
            expected: "8",
            found: body.chars().count(),
        }),
    }
}

impl fmt::Display for OrgCode {
    /// Writes the hyphenated form `XXXXXXXX-X`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hyphenated())
    }
}

impl fmt::Debug for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgCode({})", self.0)
    }
}

impl FromStr for OrgCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgCode::parse(s)
    }
}

impl AsRef<str> for OrgCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for OrgCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrgCode {
    /// Validates through [`OrgCode::parse`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OrgCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn check_characters() {
        assert_eq!(org_code_check_char("71610585"), Some('2'));
        assert_eq!(org_code_check_char("MA1B3N1N"), Some('2'));
        assert_eq!(org_code_check_char("M0001TGQ"), Some('X'));
        assert_eq!(org_code_check_char("00000000"), Some('0'));
        assert_eq!(org_code_check_char("7161058"), None);
        assert_eq!(org_code_check_char("716105852"), None);
        assert_eq!(org_code_check_char("7161058a"), None);
        assert_eq!(org_code_check_char("7161058Ａ"), None);
    }

    #[test]
    fn parses_with_or_without_hyphen() {
        let a = OrgCode::parse("71610585-2").expect("valid");
        let b = OrgCode::parse(" 716105852 ").expect("valid");
        let c = OrgCode::parse("７１６１０５８５－２").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.as_str(), "716105852");
        assert_eq!(a.hyphenated(), "71610585-2");
        assert_eq!(a.to_string(), "71610585-2");
        assert_eq!(a.body(), "71610585");
        assert_eq!(a.check_char(), '2');
        assert_eq!(
            OrgCode::parse("ma1b3n1n-2").expect("valid").as_str(),
            "MA1B3N1N2"
        );
        assert_eq!(
            OrgCode::parse("M0001TGQX").expect("valid").check_char(),
            'X'
        );
        // `E` in a code is not scientific notation.
        assert_eq!(
            OrgCode::parse("3000011E6").expect("valid").as_str(),
            "3000011E6"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(OrgCode::parse("/"), Err(IdError::Empty));
        assert_eq!(
            OrgCode::parse("71610585-3"),
            Err(IdError::OrgCodeCheck {
                expected: '2',
                found: '3'
            })
        );
        assert_eq!(
            OrgCode::parse("7161058-52"),
            Err(IdError::Character {
                position: 8,
                ch: '-'
            })
        );
        assert_eq!(
            OrgCode::parse("7161058522"),
            Err(IdError::Character {
                position: 9,
                ch: '2'
            })
        );
        assert_eq!(
            OrgCode::parse("7161058#2"),
            Err(IdError::Character {
                position: 8,
                ch: '#'
            })
        );
        assert_eq!(
            OrgCode::parse("71610585"),
            Err(IdError::Length {
                expected: "9 or 10",
                found: 8
            })
        );
        assert_eq!(
            OrgCode::parse("7.16106E+8"),
            Err(IdError::SpreadsheetNumber {
                value: "7.16106E+8".into()
            })
        );
    }

    #[test]
    fn serde_round_trip() {
        let a = OrgCode::parse("71610585-2").expect("valid");
        let json = serde_json::to_string(&a).expect("serialise");
        assert_eq!(json, "\"716105852\"");
        let back: OrgCode = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, a);
        assert!(serde_json::from_str::<OrgCode>("\"716105853\"").is_err());
        assert_eq!(format!("{a:?}"), "OrgCode(716105852)");
    }

    proptest! {
        #[test]
        fn generated_codes_parse(body in "[0-9A-Z]{8}", hyphen in any::<bool>()) {
            let check = org_code_check_char(&body).expect("body is valid");
            let raw = if hyphen { format!("{body}-{check}") } else { format!("{body}{check}") };
            let code = OrgCode::parse(&raw).expect("generated code parses");
            prop_assert_eq!(code.as_str(), format!("{body}{check}"));
        }

        #[test]
        fn wrong_check_characters_fail(body in "[0-9A-Z]{8}", shift in 1usize..11) {
            const CHECKS: &str = "0123456789X";
            let check = org_code_check_char(&body).expect("body is valid");
            let index = CHECKS.find(check).expect("check is a digit or X");
            // Another of the 11 possible check characters.
            let other = CHECKS.as_bytes()[(index + shift) % 11] as char;
            let is_org_check_error =
                matches!(OrgCode::parse(&format!("{body}{other}")), Err(IdError::OrgCodeCheck { .. }));
            prop_assert!(is_org_check_error);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = OrgCode::parse(&s);
        }
    }
}
