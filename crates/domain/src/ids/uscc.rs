//! 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from
//! `0123456789ABCDEFGHJKLMNPQRTUWXY`; positions 9–17 are the organisation code (GB 11714) and
//! position 18 is the check character.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::IdError;
use super::exceptions::{UsccExceptions, UsccWarning};
use super::normalize::{first_bad_char, float_truncated, prepare};
use super::org_code::{self, OrgCode};
use super::uscc_kinds;

/// The 31-character set of the unified social credit code (no I, O, S, V, Z); each character is
/// worth its index.
pub const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17: 3^(i−1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Value of a character in [`USCC_CHARSET`].
fn value(c: char) -> Option<u32> {
    if c.is_ascii() {
        USCC_CHARSET.find(c).and_then(|i| u32::try_from(i).ok())
    } else {
        None
    }
}

/// 统一社会信用代码校验码: the check character (position 18) for 17 characters of
/// [`USCC_CHARSET`]: `31 − (Σ value × weight mod 31)`, 31 written `0`. `None` unless `body17` is
/// exactly 17 characters of the set (no normalisation is done).
pub fn uscc_check_char(body17: &str) -> Option<char> {
    let mut sum = 0;
    let mut count = 0;
    for (i, c) in body17.chars().enumerate() {
        sum += value(c)? * WEIGHTS.get(i)?;
        count += 1;
    }
    if count != WEIGHTS.len() {
        return None;
    }
    let check = (31 - sum % 31) % 31;
    USCC_CHARSET
        .as_bytes()
        .get(usize::try_from(check).ok()?)
        .map(|&b| char::from(b))
}

/// 统一社会信用代码 (unified social credit code, GB 32100-2015), valid by construction: 18
/// normalised characters that pass the organisation-code check and the check character — or a code
/// on a [`UsccExceptions`] list accepted by [`Uscc::parse_with`].
///
/// Serialises as its 18 characters; deserialising validates with [`Uscc::parse`], accepting also the
/// built-in exception list ([`UsccExceptions::builtin`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    /// Normalises and validates a unified social credit code.
    ///
    /// Checks, in order: empty ([`IdError::Empty`]), the placeholder `00000000000000000X`
    /// ([`IdError::Placeholder`]), spreadsheet number ([`IdError::SpreadsheetNumber`]), length 18,
    /// character set (positions 1–17; position 18 only needs to be an ASCII letter or digit),
    /// organisation-code check of positions 9–17 ([`IdError::OrgCodeCheck`]) and check character
    /// ([`IdError::CheckCharacter`]; a letter outside the set at position 18, as in the annex's
    /// `91350100M000100Y4Z`, fails here, naming the expected character). An all-digit value ending in `000` that fails a check
    /// is reported as a spreadsheet number (a float keeps only 15 significant digits).
    pub fn parse(raw: &str) -> Result<Uscc, IdError> {
        let n = prepare(raw)?;
        let found = n.chars().count();
        if found != 18 {
            return Err(IdError::Length {
                expected: "18",
                found,
            });
        }
        // Position 18 may hold any ASCII letter or digit here: a wrong one (even I, O, S, V or Z) is
        // reported by the check-character rule, which names the expected character.
        first_bad_char(&n, |i, c| {
            value(c).is_some() || (i == 17 && c.is_ascii_alphanumeric())
        })?;
        // All characters are ASCII from here on.
        check_sums(&n).map_err(|e| {
            if float_truncated(&n) {
                IdError::SpreadsheetNumber { value: n.clone() }
            } else {
                e
            }
        })?;
        Ok(Uscc(n))
    }

    /// Like [`Uscc::parse`], but a code on the `exceptions` list (合法但校验不通过的例外代码) whose check
    /// character fails is accepted with a [`UsccWarning`]. Every other failure is still an error: the
    /// check itself is never loosened.
    pub fn parse_with(
        raw: &str,
        exceptions: &UsccExceptions,
    ) -> Result<(Uscc, Option<UsccWarning>), IdError> {
        match Uscc::parse(raw) {
            Ok(code) => Ok((code, None)),
            Err(failed @ IdError::CheckCharacter { .. }) => {
                let n = super::normalize::normalize(raw);
                if exceptions.contains_normalized(&n) {
                    Ok((Uscc(n), Some(UsccWarning::ListedException { failed })))
                } else {
                    Err(failed)
                }
            }
            Err(e) => Err(e),
        }
    }

    /// 补全校验码: builds a code from its first 17 characters by appending the check character.
    /// Positions 9–17 must already be a valid organisation code. For generators and tests.
    pub fn complete(body17: &str) -> Result<Uscc, IdError> {
        let n = prepare(body17)?;
        let found = n.chars().count();
        if found != 17 {
            return Err(IdError::Length {
                expected: "17",
                found,
            });
        }
        first_bad_char(&n, |_, c| value(c).is_some())?;
        let (body, check) = n.split_at(16);
        org_code::verify(body.get(8..).unwrap_or(""), check)?;
        match uscc_check_char(&n) {
            Some(c) => Ok(Uscc(format!("{n}{c}"))),
            None => Err(IdError::Length {
                expected: "17",
                found,
            }),
        }
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 登记管理部门代码: position 1.
    pub fn registration_authority_code(&self) -> char {
        self.0.chars().next().unwrap_or('0')
    }

    /// 登记管理部门: Chinese name of the registration authority (position 1), e.g. `机构编制`,
    /// `民政`, `工商`, `司法`, `其他`; `None` for a code not in the table.
    pub fn registration_authority(&self) -> Option<&'static str> {
        uscc_kinds::authority(self.registration_authority_code())
    }

    /// 机构类别代码: positions 1–2, e.g. `91`.
    pub fn entity_kind_code(&self) -> &str {
        self.0.get(..2).unwrap_or("")
    }

    /// 机构类别: Chinese name of the entity kind (positions 1–2), e.g. `企业` for 91, `事业单位`
    /// for 12, `个体工商户` for 92; `None` for a code not in the table.
    pub fn entity_kind_zh(&self) -> Option<&'static str> {
        uscc_kinds::entity_kind(self.entity_kind_code())
    }

    /// 登记管理机关行政区划码: positions 3–8 (GB/T 2260 division code), e.g. `330100`.
    pub fn division(&self) -> &str {
        self.0.get(2..8).unwrap_or("")
    }

    /// 主体标识码（组织机构代码）: positions 9–17 as an [`OrgCode`].
    pub fn org_code(&self) -> OrgCode {
        OrgCode::from_checked(self.0.get(8..17).unwrap_or(""))
    }

    /// 校验码: position 18.
    pub fn check_char(&self) -> char {
        self.0.chars().last().unwrap_or('0')
    }
}

/// Organisation-code check of positions 9–17, then the check character of position 18, on a value of
/// 18 ASCII characters of the set.
fn check_sums(n: &str) -> Result<(), IdError> {
    org_code::verify(n.get(8..16).unwrap_or(""), n.get(16..17).unwrap_or(""))?;
    let found = n.chars().last().unwrap_or(' ');
    match uscc_check_char(n.get(..17).unwrap_or("")) {
        Some(expected) if expected == found => Ok(()),
        Some(expected) => Err(IdError::CheckCharacter { expected, found }),
        None => Err(IdError::Length {
            expected: "18",
            found: n.chars().count(),
        }),
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Uscc {
    type Err = IdError;
    /// Same as [`Uscc::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uscc {
    /// Validates with [`Uscc::parse_with`] and the built-in exception list, so that exception codes
    /// accepted on import can be read back. Codes accepted through another list cannot.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uscc::parse_with(&s, UsccExceptions::builtin_ref())
            .map(|(code, _)| code)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: [&str; 7] = [
        "91330100716105852F",
        "91440300708461136T",
        "91310000132260250X",
        "91110000802100433B",
        "12100000425006133D",
        "91230500MA1B3N1N2M",
        "91350100M000100Y43",
    ];

    const EXCEPTIONS: [&str; 3] = [
        "91350100M0001TGQXM",
        "91350211M0000XUF46",
        "91350203M0001FUE2P",
    ];

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        let mut w = 1;
        for expected in WEIGHTS {
            assert_eq!(w, expected);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn standard_test_vectors_are_valid() {
        for code in VALID {
            let u = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(u.as_str(), code);
            assert_eq!(u.to_string(), code);
            let body = code.get(..17).expect("18 chars");
            assert_eq!(uscc_check_char(body), code.chars().last());
            assert_eq!(Uscc::complete(body), Ok(u));
        }
    }

    #[test]
    fn annex_counter_example_fails_with_expected_check() {
        assert_eq!(
            Uscc::parse("91350100M000100Y4Z"),
            Err(IdError::CheckCharacter {
                expected: '3',
                found: 'Z'
            })
        );
    }

    #[test]
    fn parts() {
        let u = Uscc::parse("91330100716105852F").expect("valid");
        assert_eq!(u.registration_authority_code(), '9');
        assert_eq!(u.registration_authority(), Some("工商"));
        assert_eq!(u.entity_kind_code(), "91");
        assert_eq!(u.entity_kind_zh(), Some("企业"));
        assert_eq!(u.division(), "330100");
        assert_eq!(u.org_code().as_str(), "716105852");
        assert_eq!(u.org_code(), OrgCode::parse("71610585-2").expect("valid"));
        assert_eq!(u.check_char(), 'F');

        let uni = Uscc::parse("12100000425006133D").expect("valid");
        assert_eq!(uni.registration_authority(), Some("机构编制"));
        assert_eq!(uni.entity_kind_zh(), Some("事业单位"));
        assert_eq!(uni.division(), "100000");
        assert_eq!(
            Uscc::parse("91230500MA1B3N1N2M")
                .expect("valid")
                .org_code()
                .hyphenated(),
            "MA1B3N1N-2"
        );
    }

    #[test]
    fn unknown_kinds_are_not_errors() {
        // Position 1 `B` is not in the table; the code is still valid.
        let u = Uscc::complete("BB330100716105852").expect("valid body");
        assert_eq!(u.registration_authority(), None);
        assert_eq!(u.entity_kind_zh(), None);
        assert_eq!(Uscc::parse(u.as_str()), Ok(u));
    }

    #[test]
    fn normalises_before_validating() {
        let expected = Uscc::parse("91330100716105852F").expect("valid");
        for raw in [
            "９１３３０１００７１６１０５８５２Ｆ",
            " 91330100716105852f ",
            "9133 0100 7161 0585 2F",
            "\u{00A0}91330100716105852F\u{3000}",
            "\u{FEFF}9133010071610\u{200B}5852F\u{2060}",
            "９１３３０１００７１６１０５８５２ｆ",
        ] {
            assert_eq!(Uscc::parse(raw).as_ref(), Ok(&expected), "{raw:?}");
        }
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(Uscc::parse("  "), Err(IdError::Empty));
        assert_eq!(Uscc::parse("无"), Err(IdError::Empty));
        assert_eq!(Uscc::parse("00000000000000000X"), Err(IdError::Placeholder));
        assert_eq!(Uscc::parse("00000000000000000x"), Err(IdError::Placeholder));
        assert_eq!(
            Uscc::parse("9.13301E+17"),
            Err(IdError::SpreadsheetNumber {
                value: "9.13301E+17".into()
            })
        );
        assert_eq!(
            Uscc::parse("91330100716105852"),
            Err(IdError::Length {
                expected: "18",
                found: 17
            })
        );
        assert_eq!(
            Uscc::parse("9133I100716105852F"),
            Err(IdError::Character {
                position: 5,
                ch: 'I'
            })
        );
        assert_eq!(
            Uscc::parse("91330100716105852中"),
            Err(IdError::Character {
                position: 18,
                ch: '中'
            })
        );
        assert_eq!(
            Uscc::parse("91330100716105853F"),
            Err(IdError::OrgCodeCheck {
                expected: '2',
                found: '3'
            })
        );
        assert_eq!(
            Uscc::parse("91330100716105852G"),
            Err(IdError::CheckCharacter {
                expected: 'F',
                found: 'G'
            })
        );
    }

    #[test]
    fn float_truncated_digits_are_a_spreadsheet_number() {
        // 913301007161058520 → shown by a spreadsheet as 913301007161058000.
        assert_eq!(
            Uscc::parse("913301007161058000"),
            Err(IdError::SpreadsheetNumber {
                value: "913301007161058000".into()
            })
        );
    }

    #[test]
    fn exceptions_only_with_parse_with() {
        let builtin = UsccExceptions::builtin();
        for code in EXCEPTIONS {
            let strict = Uscc::parse(code);
            assert!(
                matches!(strict, Err(IdError::CheckCharacter { .. })),
                "{code}: {strict:?}"
            );
            let (u, warning) = Uscc::parse_with(code, &builtin).expect("listed exception");
            assert_eq!(u.as_str(), code);
            let Some(UsccWarning::ListedException { failed }) = warning else {
                panic!("{code}: expected a warning");
            };
            assert_eq!(Err(failed), strict);
            // Normalised input is recognised too.
            assert!(Uscc::parse_with(&code.to_lowercase(), &builtin).is_ok());
            // Not with an empty list.
            assert_eq!(
                Uscc::parse_with(code, &UsccExceptions::new()).map(|(u, _)| u),
                strict
            );
        }
        // Valid codes parse without warning; other failures stay failures.
        assert_eq!(
            Uscc::parse_with("91330100716105852F", &builtin),
            Ok((Uscc::parse("91330100716105852F").expect("valid"), None))
        );
        assert!(Uscc::parse_with("91350100M000100Y4Z", &builtin).is_err());
    }

    #[test]
    fn complete_checks_its_body() {
        assert_eq!(
            Uscc::complete("9133010071610585"),
            Err(IdError::Length {
                expected: "17",
                found: 16
            })
        );
        assert_eq!(
            Uscc::complete("91330100716105853"),
            Err(IdError::OrgCodeCheck {
                expected: '2',
                found: '3'
            })
        );
        assert_eq!(
            Uscc::complete("9133010071610585O"),
            Err(IdError::Character {
                position: 17,
                ch: 'O'
            })
        );
        assert_eq!(uscc_check_char("9133010071610585"), None);
        assert_eq!(uscc_check_char("9133010071610585I"), None);
    }

    #[test]
    fn serde_round_trip() {
        let u = Uscc::parse("91330100716105852F").expect("valid");
        let json = serde_json::to_string(&u).expect("serialise");
        assert_eq!(json, "\"91330100716105852F\"");
        assert_eq!(serde_json::from_str::<Uscc>(&json).expect("deserialise"), u);
        assert_eq!(
            serde_json::from_str::<Uscc>("\" 91330100716105852f\"").expect("deserialise"),
            u
        );
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y4Z\"").is_err());
        // Built-in exceptions read back.
        let e: Uscc = serde_json::from_str("\"91350100M0001TGQXM\"").expect("exception");
        assert_eq!(e.as_str(), "91350100M0001TGQXM");
    }

    fn charset_char() -> impl Strategy<Value = char> {
        proptest::sample::select(USCC_CHARSET.chars().collect::<Vec<_>>())
    }

    /// A random valid code: 8 free characters, an organisation code whose body is drawn from the
    /// set, and the computed check character.
    fn valid_code() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(charset_char(), 8),
            proptest::collection::vec(charset_char(), 8),
        )
            .prop_map(|(head, org)| {
                let org: String = org.into_iter().collect();
                let org_check = org_code::org_code_check_char(&org).expect("org body valid");
                let body: String =
                    format!("{}{org}{org_check}", head.into_iter().collect::<String>());
                let check = uscc_check_char(&body).expect("body valid");
                format!("{body}{check}")
            })
    }

    proptest! {
        #[test]
        fn random_valid_codes_parse(code in valid_code()) {
            let u = Uscc::parse(&code);
            prop_assert_eq!(u.as_ref().map(Uscc::as_str), Ok(code.as_str()));
            let body = code.get(..17).expect("18 chars");
            prop_assert_eq!(Uscc::complete(body), u);
        }

        #[test]
        fn single_substitutions_are_detected(
            code in valid_code(),
            pos in 0usize..18,
            shift in 1usize..31,
        ) {
            let set: Vec<char> = USCC_CHARSET.chars().collect();
            let mut chars: Vec<char> = code.chars().collect();
            // Another character of the set.
            let index = set.iter().position(|&c| c == chars[pos]).expect("in the set");
            chars[pos] = set[(index + shift) % 31];
            let mutated: String = chars.into_iter().collect();
            let result = Uscc::parse(&mutated);
            let detected = matches!(
                result,
                Err(IdError::CheckCharacter { .. })
                    | Err(IdError::OrgCodeCheck { .. })
                    | Err(IdError::SpreadsheetNumber { .. })
            );
            prop_assert!(detected, "{} → {} gave {:?}", code, mutated, result);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Uscc::parse(&s);
            let _ = Uscc::parse_with(&s, UsccExceptions::builtin_ref());
            let _ = Uscc::complete(&s);
        }

        #[test]
        fn parse_never_panics_near_codes(s in "[0-9A-Z０-９ａ-ｚ .E+\u{00A0}\u{200B}中-]{0,20}") {
            let _ = Uscc::parse(&s);
            let _ = Uscc::complete(&s);
        }
    }
}
