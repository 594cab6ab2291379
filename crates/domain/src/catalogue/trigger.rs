//! Triggers (触发条件): when a measure applies. Triggers are data, written in a compact text form that
//! fits one spreadsheet cell and is also the JSON form.
//!
//! # Text form
//!
//! A cell holds one or more triggers separated by `;` (also `；` or a line break); the measure
//! applies when **any** of them holds.
//!
//! ```text
//! trigger    = who ":" condition
//!            | "absent:negative@" N "m"          无失信记录: no negative record in the last N months
//!            | "class:" name ("|" name)*          信用等级 (credit class), once classes exist
//! who        = "subject"                          the checked subject itself (主体)
//!            | "person" [roles]                   a linked person (关联人员) with one of the roles
//!            | "either" [roles]                   the subject or such a linked person
//! roles      = "[" role ("," role)* "]"           legal_representative, shareholder, senior_manager,
//!                                                 key_practitioner (or 法定代表人 …); none = any role
//! condition  = categories [">=" severity] ["~" list ("|" list)*] ["@" N "m"]
//! categories = category ("|" category)*           penalty, dishonest_debtor, serious_dishonest_list,
//!                                                 abnormal_operation, red_list, commitment, … (or 行政处罚 …)
//! severity   = slight | general | serious         (or 轻微 / 一般 / 严重): at least this severity
//! list       = text                               名单名称 contains this text (any of them)
//! N          = 1 … 600                            decision date (决定日期) within N months before the check
//! ```
//!
//! Examples: `subject:dishonest_debtor` (主体为失信被执行人), `subject:penalty>=serious@36m` (36个月内受到
//! 严重行政处罚), `person[legal_representative]:dishonest_debtor` (法定代表人为失信被执行人),
//! `subject:serious_dishonest_list~重大税收违法` (重大税收违法失信主体), `subject:red_list~纳税信用A级`,
//! `absent:negative@36m` (36个月内无失信记录).
//!
//! A record trigger of a punishment (惩戒) measure matches only negative (负面) records; one of an
//! incentive (激励) measure matches only records that are not negative. The absence trigger is for
//! incentives only. Together these make the decision monotone in the negative records.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::record::{Category, Severity};
use crate::subject::PersonRole;

/// Whose records a record trigger looks at (触发对象).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppliesTo {
    /// 主体本身
    Subject,
    /// 关联人员 with one of these roles; empty = any role.
    LinkedPerson(Vec<PersonRole>),
    /// 主体或关联人员 with one of these roles; empty = any role.
    Either(Vec<PersonRole>),
}

/// A trigger on the presence of records: e.g. 失信被执行人, 严重违法失信名单, 36个月内严重行政处罚, 红名单.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordTrigger {
    pub applies_to: AppliesTo,
    /// 信息类别: any of these (never empty).
    pub categories: Vec<Category>,
    /// 失信严重程度 at least this.
    pub min_severity: Option<Severity>,
    /// 名单名称 contains any of these; empty = no condition on the list name.
    pub list_name_contains: Vec<String>,
    /// 决定日期 within this many months before the check date.
    pub within_months: Option<u32>,
}

/// One trigger of a measure (触发条件). A measure's triggers are any-of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Records of the given kind exist (有…记录).
    Record(RecordTrigger),
    /// No negative record (失信记录) of the subject decided within `months` (e.g. 36个月内无失信记录).
    /// Incentives only.
    NoNegativeWithin { months: u32 },
    /// The subject's credit class (信用等级) is one of these names.
    CreditClass { classes: Vec<String> },
}

/// Why a trigger text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerParseError {
    pub text: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl std::fmt::Display for TriggerParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}: {}", self.reason_zh, self.reason_en, self.text)
    }
}

impl std::error::Error for TriggerParseError {}

/// What separates the triggers of one cell: `;`, `；` and line breaks.
const LIST_SEPARATORS: [char; 4] = [';', '；', '\n', '\r'];

/// Longest window a trigger may look back (50 years).
pub const MAX_MONTHS: u32 = 600;

fn err(text: &str, zh: impl Into<String>, en: impl Into<String>) -> TriggerParseError {
    TriggerParseError {
        text: text.to_string(),
        reason_zh: zh.into(),
        reason_en: en.into(),
    }
}

fn parse_months(whole: &str, s: &str) -> Result<u32, TriggerParseError> {
    let s = s.trim();
    let digits = s
        .strip_suffix("个月")
        .or_else(|| s.strip_suffix('m'))
        .or_else(|| s.strip_suffix('M'))
        .ok_or_else(|| {
            err(
                whole,
                format!("期限“{s}”应写作月数加 m，如 36m"),
                format!("the window '{s}' must be months followed by 'm', e.g. 36m"),
            )
        })?;
    match digits.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_MONTHS).contains(&n) => Ok(n),
        _ => Err(err(
            whole,
            format!("期限“{s}”应为 1 至 {MAX_MONTHS} 个月"),
            format!("the window '{s}' must be 1 to {MAX_MONTHS} months"),
        )),
    }
}

fn parse_roles(whole: &str, s: &str) -> Result<Vec<PersonRole>, TriggerParseError> {
    let mut out = Vec::new();
    for part in s.split([',', '，', '、', '|']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let role = PersonRole::parse(part).ok_or_else(|| {
            err(
                whole,
                format!(
                    "未知人员角色“{part}”（可用：legal_representative、shareholder、senior_manager、key_practitioner）"
                ),
                format!(
                    "unknown person role '{part}' (known: legal_representative, shareholder, senior_manager, key_practitioner)"
                ),
            )
        })?;
        if !out.contains(&role) {
            out.push(role);
        }
    }
    Ok(out)
}

fn parse_who(whole: &str, s: &str) -> Result<AppliesTo, TriggerParseError> {
    let s = s.trim();
    let (head, roles) = match s.find('[') {
        Some(i) => {
            let inner = s[i + 1..].strip_suffix(']').ok_or_else(|| {
                err(
                    whole,
                    "人员角色应写在方括号内，如 person[legal_representative]",
                    "roles go inside brackets, e.g. person[legal_representative]",
                )
            })?;
            (s[..i].trim(), Some(parse_roles(whole, inner)?))
        }
        None => (s, None),
    };
    match (head, roles) {
        ("subject" | "主体", None) => Ok(AppliesTo::Subject),
        ("subject" | "主体", Some(_)) => Err(err(
            whole,
            "subject 不带人员角色",
            "'subject' takes no roles",
        )),
        ("person" | "关联人员", r) => Ok(AppliesTo::LinkedPerson(r.unwrap_or_default())),
        ("either" | "主体或关联人员", r) => Ok(AppliesTo::Either(r.unwrap_or_default())),
        _ => Err(err(
            whole,
            format!(
                "未知触发对象“{head}”（可用：subject、person[角色]、either[角色]、absent、class）"
            ),
            format!(
                "unknown trigger subject '{head}' (known: subject, person[roles], either[roles], absent, class)"
            ),
        )),
    }
}

impl std::str::FromStr for Trigger {
    type Err = TriggerParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.is_empty() {
            return Err(err(t, "触发条件为空", "the trigger is empty"));
        }
        // The separators of a cell (see `Trigger::parse_list`) cannot be part of one trigger: a
        // trigger holding one (possible from JSON, one string per trigger) would be written into a
        // CSV or XLSX cell that reads back as two.
        if t.contains(LIST_SEPARATORS) {
            return Err(err(
                t,
                "一个触发条件中不能含有分号或换行（多个触发条件之间用 ; 分隔）",
                "a trigger cannot contain ';', '；' or a line break (they separate triggers)",
            ));
        }
        let (who, cond) = t.split_once([':', '：']).ok_or_else(|| {
            err(
                t,
                "触发条件应形如 subject:dishonest_debtor",
                "a trigger looks like subject:dishonest_debtor",
            )
        })?;
        let who = who.trim();
        let cond = cond.trim();
        if who == "absent" || who == "无" {
            let (what, window) = cond.split_once('@').ok_or_else(|| {
                err(
                    t,
                    "无失信记录条件应写作 absent:negative@36m",
                    "an absence trigger is written absent:negative@36m",
                )
            })?;
            if !matches!(what.trim(), "negative" | "失信记录" | "负面") {
                return Err(err(
                    t,
                    format!(
                        "absent 只支持 negative（无失信记录），不支持“{}”",
                        what.trim()
                    ),
                    format!(
                        "absent supports only 'negative' (no negative record), not '{}'",
                        what.trim()
                    ),
                ));
            }
            return Ok(Trigger::NoNegativeWithin {
                months: parse_months(t, window)?,
            });
        }
        if who == "class" || who == "信用等级" {
            let classes: Vec<String> = cond
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if classes.is_empty() {
                return Err(err(t, "未写信用等级名称", "no credit class named"));
            }
            return Ok(Trigger::CreditClass { classes });
        }
        let applies_to = parse_who(t, who)?;
        let mut rest = cond;
        let mut within_months = None;
        if let Some(i) = rest.rfind('@') {
            within_months = Some(parse_months(t, &rest[i + 1..])?);
            rest = &rest[..i];
        }
        let mut list_name_contains = Vec::new();
        if let Some(i) = rest.find('~') {
            for part in rest[i + 1..].split('|') {
                let part = part.trim();
                if part.is_empty() {
                    return Err(err(t, "名单名称条件为空", "an empty list-name condition"));
                }
                list_name_contains.push(part.to_string());
            }
            rest = &rest[..i];
        }
        let mut min_severity = None;
        if let Some(i) = rest.find(">=") {
            let s = rest[i + 2..].trim();
            min_severity = Some(Severity::parse(s).ok_or_else(|| {
                err(
                    t,
                    format!("未知严重程度“{s}”（可用：slight、general、serious）"),
                    format!("unknown severity '{s}' (known: slight, general, serious)"),
                )
            })?);
            rest = &rest[..i];
        }
        let mut categories = Vec::new();
        for part in rest.split('|') {
            let part = part.trim();
            if part.is_empty() {
                return Err(err(t, "未写信息类别", "no record category named"));
            }
            let c = Category::parse(part).ok_or_else(|| {
                let known: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
                err(
                    t,
                    format!("未知信息类别“{part}”（可用：{}）", known.join("、")),
                    format!(
                        "unknown record category '{part}' (known: {})",
                        known.join(", ")
                    ),
                )
            })?;
            if !categories.contains(&c) {
                categories.push(c);
            }
        }
        Ok(Trigger::Record(RecordTrigger {
            applies_to,
            categories,
            min_severity,
            list_name_contains,
            within_months,
        }))
    }
}

fn write_roles(f: &mut std::fmt::Formatter<'_>, roles: &[PersonRole]) -> std::fmt::Result {
    if roles.is_empty() {
        return Ok(());
    }
    f.write_str("[")?;
    for (i, r) in roles.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        f.write_str(r.code())?;
    }
    f.write_str("]")
}

/// The canonical text form (codes, not Chinese names).
impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trigger::NoNegativeWithin { months } => write!(f, "absent:negative@{months}m"),
            Trigger::CreditClass { classes } => write!(f, "class:{}", classes.join("|")),
            Trigger::Record(r) => {
                match &r.applies_to {
                    AppliesTo::Subject => f.write_str("subject")?,
                    AppliesTo::LinkedPerson(roles) => {
                        f.write_str("person")?;
                        write_roles(f, roles)?;
                    }
                    AppliesTo::Either(roles) => {
                        f.write_str("either")?;
                        write_roles(f, roles)?;
                    }
                }
                f.write_str(":")?;
                for (i, c) in r.categories.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    f.write_str(c.code())?;
                }
                if let Some(s) = r.min_severity {
                    write!(f, ">={}", s.code())?;
                }
                if !r.list_name_contains.is_empty() {
                    write!(f, "~{}", r.list_name_contains.join("|"))?;
                }
                if let Some(m) = r.within_months {
                    write!(f, "@{m}m")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Trigger {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn roles_zh(roles: &[PersonRole]) -> String {
    if roles.is_empty() {
        "关联人员".to_string()
    } else {
        roles.iter().map(|r| r.zh()).collect::<Vec<_>>().join("或")
    }
}

impl Trigger {
    /// Splits a cell of triggers (separated by `;`, `；` or line breaks) and parses each; every bad
    /// trigger is reported.
    pub fn parse_list(cell: &str) -> Result<Vec<Trigger>, Vec<TriggerParseError>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for part in cell.split(LIST_SEPARATORS) {
            if part.trim().is_empty() {
                continue;
            }
            match part.parse::<Trigger>() {
                Ok(t) => {
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Joins triggers into one cell in canonical form.
    pub fn format_list(triggers: &[Trigger]) -> String {
        triggers
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(";")
    }

    /// A Chinese description, e.g. “法定代表人为失信被执行人”, “主体36个月内有行政处罚记录（严重程度不低于严重）”,
    /// “36个月内无失信记录”.
    pub fn describe_zh(&self) -> String {
        match self {
            Trigger::NoNegativeWithin { months } => format!("{months}个月内无失信记录"),
            Trigger::CreditClass { classes } => format!("信用等级为{}", classes.join("或")),
            Trigger::Record(r) => {
                let who = match &r.applies_to {
                    AppliesTo::Subject => "主体".to_string(),
                    AppliesTo::LinkedPerson(roles) => roles_zh(roles),
                    AppliesTo::Either(roles) => format!("主体或其{}", roles_zh(roles)),
                };
                let cats = r
                    .categories
                    .iter()
                    .map(|c| c.zh())
                    .collect::<Vec<_>>()
                    .join("或");
                let mut s = who;
                if let Some(m) = r.within_months {
                    s.push_str(&format!("{m}个月内"));
                }
                let listed = r.categories.iter().all(|c| c.is_list());
                if r.categories == [Category::DishonestDebtor] && r.within_months.is_none() {
                    s.push_str("为失信被执行人");
                } else if listed && r.within_months.is_none() {
                    s.push_str(&format!("列入{cats}"));
                } else {
                    s.push_str(&format!("有{cats}记录"));
                }
                if !r.list_name_contains.is_empty() {
                    s.push_str(&format!("（名单：{}）", r.list_name_contains.join("或")));
                }
                if let Some(sev) = r.min_severity {
                    s.push_str(&format!("（严重程度不低于{}）", sev.zh()));
                }
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (fuzz target `trigger`): a trigger read from a JSON catalogue (one string per
    /// trigger) could hold a separator, and the exported cell then imported as two triggers.
    #[test]
    fn one_trigger_holds_no_list_separator() {
        for text in [
            "class:ab6m；x:s",
            "class:A;B",
            "subject:serious_dishonest_list~重大税收违法\n拖欠",
            "subject:penalty~a\rb",
        ] {
            let e = text.parse::<Trigger>().expect_err(text);
            assert!(e.reason_en.contains("separate triggers"), "{text}: {e}");
        }
        let t: Trigger = "class:A|B".parse().expect("valid");
        let cell = Trigger::format_list(std::slice::from_ref(&t));
        assert_eq!(Trigger::parse_list(&cell), Ok(vec![t]));
        assert!(serde_json::from_str::<Trigger>("\"class:A;B\"").is_err());
    }
}
