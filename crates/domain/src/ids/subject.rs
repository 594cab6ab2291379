//! 主体代码 (subject code): whichever identifier a record gives for its subject (行政相对人), detected
//! from the value's shape.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::IdError;
use super::exceptions::{UsccExceptions, UsccWarning};
use super::normalize::prepare;
use super::org_code::OrgCode;
use super::reg_no::RegistrationNumber;
use super::resident_id::{ResidentId, birth_date};
use super::uscc::Uscc;

/// The identifier of a subject: 统一社会信用代码, 工商注册号, 组织机构代码 or 公民身份号码.
///
/// Serialises as `{"kind": "uscc", "code": "91330100716105852F"}` (kind as in
/// [`SubjectCode::kind_code`]); deserialising validates the code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum SubjectCode {
    /// 统一社会信用代码.
    Uscc(Uscc),
    /// 工商注册号.
    RegNo(RegistrationNumber),
    /// 组织机构代码.
    OrgCode(OrgCode),
    /// 公民身份号码.
    ResidentId(ResidentId),
}

/// Whether `n` (normalised) looks like an 18-character resident number: 17 digits, a digit or `X`,
/// and a real birth date (1880 to `today`) at positions 7–14.
fn resident_shaped(n: &str, today: NaiveDate) -> bool {
    let b = n.as_bytes();
    b.len() == 18
        && b.iter().take(17).all(u8::is_ascii_digit)
        && b.get(17).is_some_and(|&c| c.is_ascii_digit() || c == b'X')
        && n.get(6..14).is_some_and(|d| birth_date(d, today).is_ok())
}

impl SubjectCode {
    /// Detects the kind of identifier from the normalised value's shape and validates it:
    ///
    /// - 18 characters, 17 digits and a digit or `X`, with a real birth date at positions 7–14: a
    ///   resident identity number if it passes, else a unified social credit code if that passes,
    ///   else the resident number's error;
    /// - other 18-character values: unified social credit code;
    /// - 15 characters: business registration number (a legacy 15-digit resident number is only
    ///   read by [`ResidentId::parse`], when the column says the subject is a person);
    /// - 9 characters, or 10 with a hyphen at position 9: organisation code;
    /// - anything else: [`IdError::Length`].
    ///
    /// Empty markers, the placeholder and spreadsheet numbers are rejected first.
    pub fn detect(raw: &str, today: NaiveDate) -> Result<SubjectCode, IdError> {
        Self::detect_with(raw, today, &UsccExceptions::new()).map(|(code, _)| code)
    }

    /// Like [`SubjectCode::detect`], accepting unified social credit codes on the `exceptions` list
    /// with a warning (see [`Uscc::parse_with`]).
    pub fn detect_with(
        raw: &str,
        today: NaiveDate,
        exceptions: &UsccExceptions,
    ) -> Result<(SubjectCode, Option<UsccWarning>), IdError> {
        let n = prepare(raw)?;
        let uscc =
            |n: &str| Uscc::parse_with(n, exceptions).map(|(code, w)| (SubjectCode::Uscc(code), w));
        match n.chars().count() {
            18 if resident_shaped(&n, today) => match ResidentId::parse(&n, today) {
                Ok(id) => Ok((SubjectCode::ResidentId(id), None)),
                Err(resident_error) => uscc(&n).map_err(|_| resident_error),
            },
            18 => uscc(&n),
            15 => RegistrationNumber::parse(&n).map(|r| (SubjectCode::RegNo(r), None)),
            9 => OrgCode::parse(&n).map(|o| (SubjectCode::OrgCode(o), None)),
            10 if n.get(8..9) == Some("-") => {
                OrgCode::parse(&n).map(|o| (SubjectCode::OrgCode(o), None))
            }
            found => Err(IdError::Length {
                expected: "18, 15, 9 or 10",
                found,
            }),
        }
    }

    /// Stable kind code: `uscc`, `reg_no`, `org_code` or `resident_id`.
    pub fn kind_code(&self) -> &'static str {
        match self {
            SubjectCode::Uscc(_) => "uscc",
            SubjectCode::RegNo(_) => "reg_no",
            SubjectCode::OrgCode(_) => "org_code",
            SubjectCode::ResidentId(_) => "resident_id",
        }
    }

    /// The code as stored (organisation code without hyphen, resident number in full).
    pub fn as_str(&self) -> &str {
        match self {
            SubjectCode::Uscc(c) => c.as_str(),
            SubjectCode::RegNo(c) => c.as_str(),
            SubjectCode::OrgCode(c) => c.as_str(),
            SubjectCode::ResidentId(c) => c.as_str(),
        }
    }

    /// Stable key for indexes and joins: `U:…` (统一社会信用代码), `R:…` (工商注册号), `O:…`
    /// (组织机构代码, without hyphen) or `P:…` (公民身份号码, full number: personal data).
    pub fn key(&self) -> String {
        let prefix = match self {
            SubjectCode::Uscc(_) => "U",
            SubjectCode::RegNo(_) => "R",
            SubjectCode::OrgCode(_) => "O",
            SubjectCode::ResidentId(_) => "P",
        };
        format!("{prefix}:{}", self.as_str())
    }

    /// Reads back a [`SubjectCode::key`]. Unified social credit codes are validated with the
    /// built-in exception list; resident numbers without the "not after today" rule. `None` for an
    /// unknown prefix or an invalid code.
    pub fn from_key(key: &str) -> Option<SubjectCode> {
        let (prefix, code) = key.split_once(':')?;
        match prefix {
            "U" => Uscc::parse_with(code, UsccExceptions::builtin_ref())
                .ok()
                .map(|(c, _)| SubjectCode::Uscc(c)),
            "R" => RegistrationNumber::parse(code).ok().map(SubjectCode::RegNo),
            "O" => OrgCode::parse(code).ok().map(SubjectCode::OrgCode),
            "P" => ResidentId::parse(code, NaiveDate::MAX)
                .ok()
                .map(SubjectCode::ResidentId),
            _ => None,
        }
    }
}

impl fmt::Display for SubjectCode {
    /// The inner code's `Display`: organisation codes hyphenated, resident numbers masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectCode::Uscc(c) => c.fmt(f),
            SubjectCode::RegNo(c) => c.fmt(f),
            SubjectCode::OrgCode(c) => c.fmt(f),
            SubjectCode::ResidentId(c) => c.fmt(f),
        }
    }
}

impl From<Uscc> for SubjectCode {
    fn from(c: Uscc) -> Self {
        SubjectCode::Uscc(c)
    }
}

impl From<RegistrationNumber> for SubjectCode {
    fn from(c: RegistrationNumber) -> Self {
        SubjectCode::RegNo(c)
    }
}

impl From<OrgCode> for SubjectCode {
    fn from(c: OrgCode) -> Self {
        SubjectCode::OrgCode(c)
    }
}

impl From<ResidentId> for SubjectCode {
    fn from(c: ResidentId) -> Self {
        SubjectCode::ResidentId(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 1).expect("date")
    }

    fn detect(raw: &str) -> Result<SubjectCode, IdError> {
        SubjectCode::detect(raw, today())
    }

    #[test]
    fn detects_each_kind() {
        let u = detect("９１３３０１００７１６１０５８５２ｆ").expect("uscc");
        assert_eq!(u.kind_code(), "uscc");
        assert_eq!(u.key(), "U:91330100716105852F");
        let r = detect("330100400015575").expect("reg no");
        assert_eq!(r.kind_code(), "reg_no");
        assert_eq!(r.key(), "R:330100400015575");
        let o = detect("71610585-2").expect("org code");
        assert_eq!(o.kind_code(), "org_code");
        assert_eq!(o.as_str(), "716105852");
        assert_eq!(o.key(), "O:716105852");
        assert_eq!(o.to_string(), "71610585-2");
        assert_eq!(detect("716105852"), Ok(o));
        let p = detect("11010519491231002x").expect("resident id");
        assert_eq!(p.kind_code(), "resident_id");
        assert_eq!(p.key(), "P:11010519491231002X");
        assert_eq!(p.to_string(), "1101**********002X");
        assert!(!format!("{p:?}").contains("19491231"));
    }

    #[test]
    fn resident_shaped_values_that_fail_fall_back_to_uscc() {
        // An all-digit unified social credit code whose positions 7–14 read as a date (19900101)
        // but whose last digit is not a resident number's check.
        let uscc = Uscc::parse("913301199001010425").expect("uscc");
        assert!(ResidentId::parse(uscc.as_str(), today()).is_err());
        assert_eq!(detect(uscc.as_str()), Ok(SubjectCode::Uscc(uscc)));
        // Failing both: the resident number's error.
        assert_eq!(
            detect("110105194912310021"),
            Err(IdError::CheckCharacter {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn errors() {
        assert_eq!(detect("NULL"), Err(IdError::Empty));
        assert_eq!(detect("00000000000000000X"), Err(IdError::Placeholder));
        assert!(matches!(
            detect("1.20102E+17"),
            Err(IdError::SpreadsheetNumber { .. })
        ));
        assert_eq!(
            detect("1234567"),
            Err(IdError::Length {
                expected: "18, 15, 9 or 10",
                found: 7
            })
        );
        assert_eq!(
            detect("7161058521"),
            Err(IdError::Length {
                expected: "18, 15, 9 or 10",
                found: 10
            })
        );
        assert!(matches!(
            detect("91350100M000100Y4Z"),
            Err(IdError::CheckCharacter { .. })
        ));
        assert!(matches!(
            detect("330100400015576"),
            Err(IdError::CheckCharacter { .. })
        ));
    }

    #[test]
    fn exceptions_through_detect_with() {
        assert!(detect("91350100M0001TGQXM").is_err());
        let (code, warning) =
            SubjectCode::detect_with("91350100M0001TGQXM", today(), UsccExceptions::builtin_ref())
                .expect("listed exception");
        assert_eq!(code.kind_code(), "uscc");
        assert!(warning.is_some());
    }

    #[test]
    fn keys_and_serde_round_trip() {
        for raw in [
            "91330100716105852F",
            "330100400015575",
            "71610585-2",
            "11010519491231002X",
        ] {
            let code = detect(raw).expect("valid");
            assert_eq!(SubjectCode::from_key(&code.key()), Some(code.clone()));
            let json = serde_json::to_value(&code).expect("serialise");
            assert_eq!(json["kind"], code.kind_code());
            assert_eq!(json["code"], code.as_str());
            let back: SubjectCode = serde_json::from_value(json).expect("deserialise");
            assert_eq!(back, code);
        }
        assert_eq!(SubjectCode::from_key("X:1"), None);
        assert_eq!(SubjectCode::from_key("U:91350100M000100Y4Z"), None);
        assert!(
            serde_json::from_str::<SubjectCode>(r#"{"kind":"uscc","code":"91350100M000100Y4Z"}"#)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn detect_never_panics(s in any::<String>()) {
            let _ = SubjectCode::detect(&s, today());
            let _ = SubjectCode::from_key(&s);
        }

        #[test]
        fn detect_never_panics_near_codes(s in "[0-9A-Zxa-z０-９ .E+\u{00A0}\u{200B}中-]{0,20}") {
            let _ = SubjectCode::detect(&s, today());
        }
    }
}
