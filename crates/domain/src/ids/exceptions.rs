//! 例外代码 (exception codes): unified social credit codes issued in early pilot regions that are
//! legally valid yet fail the check character. They are kept as a data list and accepted with a
//! warning by [`Uscc::parse_with`](super::Uscc::parse_with); the check itself is never loosened.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Serialize;

use super::error::IdError;
use super::normalize::{first_bad_char, normalize, prepare};
use super::org_code;
use super::uscc::USCC_CHARSET;

/// The built-in list, `data/uscc_exceptions.txt`: one code a line, `#` starts a comment.
const BUILTIN_TEXT: &str = include_str!("../../../../data/uscc_exceptions.txt");

static BUILTIN: LazyLock<UsccExceptions> = LazyLock::new(|| {
    UsccExceptions::from_text(BUILTIN_TEXT)
        .unwrap_or_else(|e| panic!("data/uscc_exceptions.txt is invalid: {e}"))
});

/// Warning attached to a code accepted only because it is on an exception list (例外名单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum UsccWarning {
    /// 例外代码: the code is on the list of legally issued codes that fail the check character.
    #[error("accepted from the list of legally issued codes that fail the checksum ({failed})")]
    ListedException {
        /// The check that failed.
        failed: IdError,
    },
}

impl UsccWarning {
    /// Chinese message (中文提示).
    pub fn zh(&self) -> String {
        match self {
            UsccWarning::ListedException { failed } => {
                format!(
                    "该代码在例外名单中，按合法代码接受（未通过校验：{}）",
                    failed.zh()
                )
            }
        }
    }

    /// Stable rule code: `listed_exception`.
    pub fn rule(&self) -> &'static str {
        match self {
            UsccWarning::ListedException { .. } => "listed_exception",
        }
    }
}

/// A line of an exception list that is not a well-formed code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct ExceptionListError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with the entry.
    pub error: IdError,
}

/// 统一社会信用代码例外名单: codes that are legally valid yet fail the check character. Entries are
/// normalised and must have 18 characters of the code's set and a valid organisation code at
/// positions 9–17 (only the final check character may be wrong).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsccExceptions {
    codes: BTreeSet<String>,
}

impl UsccExceptions {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in list from `data/uscc_exceptions.txt` (embedded at compile time).
    pub fn builtin() -> Self {
        BUILTIN.clone()
    }

    /// The built-in list, shared.
    pub fn builtin_ref() -> &'static UsccExceptions {
        &BUILTIN
    }

    /// Reads a list: one code a line; `#` starts a comment; blank lines are ignored.
    pub fn from_text(text: &str) -> Result<Self, ExceptionListError> {
        let mut list = Self::new();
        for (i, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("");
            if entry.trim().is_empty() {
                continue;
            }
            list.insert(entry)
                .map_err(|error| ExceptionListError { line: i + 1, error })?;
        }
        Ok(list)
    }

    /// Adds a code (normalised first). Returns whether it was new.
    pub fn insert(&mut self, raw: &str) -> Result<bool, IdError> {
        let n = prepare(raw)?;
        let found = n.chars().count();
        if found != 18 {
            return Err(IdError::Length {
                expected: "18",
                found,
            });
        }
        first_bad_char(&n, |_, c| c.is_ascii() && USCC_CHARSET.contains(c))?;
        org_code::verify(n.get(8..16).unwrap_or(""), n.get(16..17).unwrap_or(""))?;
        Ok(self.codes.insert(n))
    }

    /// Whether the list holds `raw` (normalised first).
    pub fn contains(&self, raw: &str) -> bool {
        self.contains_normalized(&normalize(raw))
    }

    pub(crate) fn contains_normalized(&self, n: &str) -> bool {
        self.codes.contains(n)
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The codes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.codes.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Uscc;
    use super::*;

    #[test]
    fn builtin_list_is_well_formed_and_holds_the_known_codes() {
        let list = UsccExceptions::from_text(BUILTIN_TEXT).expect("valid data file");
        for code in [
            "91350100M0001TGQXM",
            "91350211M0000XUF46",
            "91350203M0001FUE2P",
        ] {
            assert!(list.contains(code), "{code}");
        }
        assert_eq!(UsccExceptions::builtin(), list);
    }

    #[test]
    fn every_builtin_entry_really_fails_the_check_character() {
        for code in UsccExceptions::builtin_ref().iter() {
            assert!(
                matches!(Uscc::parse(code), Err(IdError::CheckCharacter { .. })),
                "{code} is not an exception"
            );
        }
    }

    #[test]
    fn reading_lists() {
        let list = UsccExceptions::from_text(
            "# comment\n\n 91350100m0001tgqxm  # lower case, trailing comment\r\n91350100M0001TGQXM\n",
        )
        .expect("valid");
        assert_eq!(list.len(), 1);
        assert!(list.contains("９１３５０１００Ｍ０００１ＴＧＱＸＭ"));
        assert!(!list.is_empty());
        assert_eq!(
            UsccExceptions::from_text("# x\n91350100M0001TGQX\n"),
            Err(ExceptionListError {
                line: 2,
                error: IdError::Length {
                    expected: "18",
                    found: 17
                }
            })
        );
        // The organisation code part must be valid: only the last character may be wrong.
        assert!(matches!(
            UsccExceptions::from_text("91350100M0001TGQ1M"),
            Err(ExceptionListError {
                line: 1,
                error: IdError::OrgCodeCheck { .. }
            })
        ));
        assert!(UsccExceptions::new().insert("9135010OM0001TGQXM").is_err());
    }

    #[test]
    fn warning_messages() {
        let w = UsccWarning::ListedException {
            failed: IdError::CheckCharacter {
                expected: '1',
                found: 'M',
            },
        };
        assert_eq!(w.rule(), "listed_exception");
        assert!(w.zh().contains("例外名单"));
        assert!(
            w.to_string()
                .contains("check character should be '1', found 'M'")
        );
        let v = serde_json::to_value(&w).expect("serialise");
        assert_eq!(v["rule"], "listed_exception");
        assert_eq!(v["failed"]["rule"], "check_character");
    }
}
