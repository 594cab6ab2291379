//! 校验错误 (validation errors): which rule an identifier failed, in English ([`std::fmt::Display`]) and
//! Chinese ([`IdError::zh`]), with a stable rule code ([`IdError::rule`]).

use serde::Serialize;

/// Why a value is not a valid identifier (标识码校验失败原因). Each variant names one rule.
///
/// Serialises with a `rule` tag equal to [`IdError::rule`], e.g.
/// `{"rule":"check_character","expected":"3","found":"Z"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum IdError {
    /// 空值: nothing, or an empty marker such as `-`, `无`, `null`.
    #[error("no value (empty, or an empty marker such as \"-\", \"无\" or \"null\")")]
    Empty,
    /// 长度错误: wrong number of characters after normalisation.
    #[error("length should be {expected}, found {found}")]
    Length {
        /// Accepted length(s), e.g. `"18"` or `"18 or 15"`.
        expected: &'static str,
        /// Number of characters found (after normalisation).
        found: usize,
    },
    /// 字符错误: a character outside the identifier's character set (or in a wrong place).
    #[error("character '{ch}' at position {position} is not allowed there")]
    Character {
        /// 1-based position in the normalised value.
        position: usize,
        /// The offending character.
        ch: char,
    },
    /// 校验码错误: the final check character does not match the computed one.
    #[error("check character should be '{expected}', found '{found}'")]
    CheckCharacter {
        /// The check character computed from the body.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// 组织机构代码校验位错误 (GB 11714): the organisation code's own check character is wrong.
    #[error("organisation code check character should be '{expected}', found '{found}'")]
    OrgCodeCheck {
        /// The check character computed from the 8 body characters.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// 出生日期无效: the birth date of a resident identity number is not a real date, is before 1880
    /// or is after today.
    #[error("birth date '{value}' is not a real date, is before 1880 or is after today")]
    BirthDate {
        /// The eight digits `YYYYMMDD` read as the birth date.
        value: String,
    },
    /// 占位代码: the placeholder `00000000000000000X` used in 双公示 feeds means "no code".
    #[error("the placeholder 00000000000000000X means there is no code")]
    Placeholder,
    /// 电子表格数字: a spreadsheet turned the identifier into a number (scientific notation, decimal
    /// point, trailing digits zeroed by a float); its digits are lost and it is never repaired.
    #[error(
        "'{value}' was turned into a number by a spreadsheet (scientific notation / float), so its \
         digits are lost; re-export the column as text"
    )]
    SpreadsheetNumber {
        /// The value as received (normalised).
        value: String,
    },
}

impl IdError {
    /// Chinese message (中文提示) for the same failure, for agency users.
    pub fn zh(&self) -> String {
        match self {
            IdError::Empty => "值为空".to_string(),
            IdError::Length { expected, found } => {
                let expected = expected.replace(", ", "、").replace(" or ", "或");
                format!("长度应为{expected}位，实际为{found}位")
            }
            IdError::Character { position, ch } => {
                format!("第{position}位字符“{ch}”不在该代码允许的字符集内")
            }
            IdError::CheckCharacter { expected, found } => {
                format!("校验码应为“{expected}”，实际为“{found}”")
            }
            IdError::OrgCodeCheck { expected, found } => {
                format!("组织机构代码校验位应为“{expected}”，实际为“{found}”")
            }
            IdError::BirthDate { value } => format!("出生日期“{value}”无效或晚于今天"),
            IdError::Placeholder => "占位代码“00000000000000000X”表示无代码".to_string(),
            IdError::SpreadsheetNumber { value } => format!(
                "该值“{value}”被电子表格转为数字（科学计数法），号码已丢失，请以文本格式重新导出"
            ),
        }
    }

    /// Stable rule code (规则代码): `empty`, `length`, `character`, `check_character`,
    /// `org_code_check`, `birth_date`, `placeholder` or `spreadsheet_number`.
    pub fn rule(&self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::Length { .. } => "length",
            IdError::Character { .. } => "character",
            IdError::CheckCharacter { .. } => "check_character",
            IdError::OrgCodeCheck { .. } => "org_code_check",
            IdError::BirthDate { .. } => "birth_date",
            IdError::Placeholder => "placeholder",
            IdError::SpreadsheetNumber { .. } => "spreadsheet_number",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<IdError> {
        vec![
            IdError::Empty,
            IdError::Length {
                expected: "18",
                found: 17,
            },
            IdError::Character {
                position: 5,
                ch: 'I',
            },
            IdError::CheckCharacter {
                expected: '3',
                found: 'Z',
            },
            IdError::OrgCodeCheck {
                expected: 'X',
                found: '1',
            },
            IdError::BirthDate {
                value: "19490231".into(),
            },
            IdError::Placeholder,
            IdError::SpreadsheetNumber {
                value: "1.20102E+17".into(),
            },
        ]
    }

    #[test]
    fn chinese_messages() {
        let zh: Vec<String> = all().iter().map(IdError::zh).collect();
        assert_eq!(zh[1], "长度应为18位，实际为17位");
        assert_eq!(zh[2], "第5位字符“I”不在该代码允许的字符集内");
        assert_eq!(zh[3], "校验码应为“3”，实际为“Z”");
        assert_eq!(zh[4], "组织机构代码校验位应为“X”，实际为“1”");
        assert!(zh[5].contains("出生日期") && zh[5].contains("无效或晚于今天"));
        assert!(zh[6].contains("占位代码") && zh[6].contains("表示无代码"));
        assert!(
            zh[7].contains("被电子表格转为数字（科学计数法），号码已丢失，请以文本格式重新导出")
        );
        let several = IdError::Length {
            expected: "18, 15, 9 or 10",
            found: 3,
        };
        assert_eq!(several.zh(), "长度应为18、15、9或10位，实际为3位");
    }

    #[test]
    fn english_messages_and_rule_codes() {
        let rules: Vec<&str> = all().iter().map(IdError::rule).collect();
        assert_eq!(
            rules,
            [
                "empty",
                "length",
                "character",
                "check_character",
                "org_code_check",
                "birth_date",
                "placeholder",
                "spreadsheet_number"
            ]
        );
        assert_eq!(
            all()[3].to_string(),
            "check character should be '3', found 'Z'"
        );
        assert!(
            all()[7]
                .to_string()
                .contains("re-export the column as text")
        );
    }

    #[test]
    fn serialises_with_rule_tag() {
        for e in all() {
            let v = serde_json::to_value(&e).expect("serialise");
            assert_eq!(v["rule"], e.rule());
        }
        let v = serde_json::to_value(&all()[3]).expect("serialise");
        assert_eq!(
            v,
            serde_json::json!({"rule": "check_character", "expected": "3", "found": "Z"})
        );
    }
}
