//! 工商注册号 (business registration number): the 15-digit number used before the unified social
//! credit code, still sent by agencies as a secondary identifier. 6-digit registrar code, 8-digit
//! sequence, check digit by ISO 7064 MOD 11,10.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::IdError;
use super::normalize::{first_bad_char, prepare};

/// 工商注册号校验位: ISO 7064 MOD 11,10 check digit for 14 digits. Starting with p = 10, for each
/// digit d: s = (p + d) mod 10 (0 read as 10), p = 2s mod 11; check = (11 − p) mod 10.
/// `None` unless `body14` is exactly 14 ASCII digits (no normalisation is done).
pub fn reg_no_check_digit(body14: &str) -> Option<char> {
    if body14.len() != 14 || !body14.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let p = body14.bytes().fold(10u32, |p, b| {
        let s = match (p + u32::from(b - b'0')) % 10 {
            0 => 10,
            s => s,
        };
        (2 * s) % 11
    });
    char::from_digit((11 - p) % 10, 10)
}

/// 工商注册号 (business registration number), valid by construction: 15 ASCII digits whose last digit
/// is the ISO 7064 MOD 11,10 check of the first 14. Serialises as the string of digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationNumber(String);

impl RegistrationNumber {
    /// Normalises and validates a 15-digit registration number.
    ///
    /// Checks, in order: empty, placeholder, spreadsheet number, length 15, digits only, check digit
    /// ([`IdError::CheckCharacter`]).
    pub fn parse(raw: &str) -> Result<RegistrationNumber, IdError> {
        let n = prepare(raw)?;
        let found = n.chars().count();
        if found != 15 {
            return Err(IdError::Length {
                expected: "15",
                found,
            });
        }
        first_bad_char(&n, |_, c| c.is_ascii_digit())?;
        let (body, check) = n.split_at(14);
        let found = check.chars().next().unwrap_or(' ');
        match reg_no_check_digit(body) {
            Some(expected) if expected == found => Ok(RegistrationNumber(n)),
            Some(expected) => Err(IdError::CheckCharacter { expected, found }),
            None => Err(IdError::Length {
                expected: "15",
                found: n.len(),
            }),
        }
    }

    /// The 15 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 登记机关代码: the 6-digit code of the registering authority (positions 1–6).
    pub fn registrar(&self) -> &str {
        self.0.get(..6).unwrap_or(&self.0)
    }

    /// 顺序码: the 8-digit sequence (positions 7–14).
    pub fn sequence(&self) -> &str {
        self.0.get(6..14).unwrap_or("")
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RegistrationNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegistrationNumber::parse(s)
    }
}

impl AsRef<str> for RegistrationNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for RegistrationNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RegistrationNumber {
    /// Validates through [`RegistrationNumber::parse`].
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RegistrationNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn standard_test_vector() {
        assert_eq!(reg_no_check_digit("33010040001557"), Some('5'));
        let r = RegistrationNumber::parse("330100400015575").expect("valid");
        assert_eq!(r.as_str(), "330100400015575");
        assert_eq!(r.registrar(), "330100");
        assert_eq!(r.sequence(), "40001557");
        assert_eq!(r.to_string(), "330100400015575");
        assert_eq!(
            RegistrationNumber::parse(" ３３０１００４０００１５５７５\u{00A0}"),
            Ok(r)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            RegistrationNumber::parse("330100400015576"),
            Err(IdError::CheckCharacter {
                expected: '5',
                found: '6'
            })
        );
        assert_eq!(
            RegistrationNumber::parse("33010040001557"),
            Err(IdError::Length {
                expected: "15",
                found: 14
            })
        );
        assert_eq!(
            RegistrationNumber::parse("33010040001557X"),
            Err(IdError::Character {
                position: 15,
                ch: 'X'
            })
        );
        assert_eq!(
            RegistrationNumber::parse("3.30100400015575E+14"),
            Err(IdError::SpreadsheetNumber {
                value: "3.30100400015575E+14".into()
            })
        );
        assert_eq!(RegistrationNumber::parse("null"), Err(IdError::Empty));
        assert_eq!(reg_no_check_digit("3301004000155"), None);
        assert_eq!(reg_no_check_digit("3301004000155A"), None);
    }

    #[test]
    fn serde_round_trip() {
        let r = RegistrationNumber::parse("330100400015575").expect("valid");
        let json = serde_json::to_string(&r).expect("serialise");
        assert_eq!(json, "\"330100400015575\"");
        assert_eq!(
            serde_json::from_str::<RegistrationNumber>(&json).expect("deserialise"),
            r
        );
        assert!(serde_json::from_str::<RegistrationNumber>("\"330100400015576\"").is_err());
    }

    proptest! {
        #[test]
        fn generated_numbers_parse(body in "[0-9]{14}") {
            let check = reg_no_check_digit(&body).expect("body is valid");
            let code = format!("{body}{check}");
            prop_assert!(RegistrationNumber::parse(&code).is_ok());
        }

        #[test]
        fn single_digit_substitutions_fail(body in "[0-9]{14}", pos in 0usize..15, shift in 1u8..10) {
            let check = reg_no_check_digit(&body).expect("body is valid");
            let mut bytes = format!("{body}{check}").into_bytes();
            // Another digit.
            bytes[pos] = b'0' + (bytes[pos] - b'0' + shift) % 10;
            let mutated = String::from_utf8(bytes).expect("ascii");
            let is_check_error = matches!(
                RegistrationNumber::parse(&mutated),
                Err(IdError::CheckCharacter { .. })
            );
            prop_assert!(is_check_error);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = RegistrationNumber::parse(&s);
        }
    }
}
