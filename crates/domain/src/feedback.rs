//! 反馈 (feedback): what an agency did after a credit check (事前信用查询), and when feedback is overdue.
//!
//! A check answers which measures apply; the acting agency then reports its outcome and the measures
//! it applied. Feedback is what closes the loop and what the assessment (考核) of agencies counts, so
//! its rules live here, free of storage: which outcomes exist, which measures may be named, and the
//! working-day deadline after which a check without feedback is listed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;

/// Working days after the check by which feedback is due, unless a province sets its own.
pub const DEFAULT_FEEDBACK_WORKING_DAYS: u32 = 5;

/// 办理结果: the agency's outcome after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackOutcome {
    /// 不予办理
    Refused,
    /// 从严办理
    Strict,
    /// 优先办理
    Priority,
    /// 正常办理
    Normal,
    /// 其他
    Other,
}

impl FeedbackOutcome {
    pub const ALL: [FeedbackOutcome; 5] = [
        FeedbackOutcome::Refused,
        FeedbackOutcome::Strict,
        FeedbackOutcome::Priority,
        FeedbackOutcome::Normal,
        FeedbackOutcome::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FeedbackOutcome::Refused => "refused",
            FeedbackOutcome::Strict => "strict",
            FeedbackOutcome::Priority => "priority",
            FeedbackOutcome::Normal => "normal",
            FeedbackOutcome::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            FeedbackOutcome::Refused => "不予办理",
            FeedbackOutcome::Strict => "从严办理",
            FeedbackOutcome::Priority => "优先办理",
            FeedbackOutcome::Normal => "正常办理",
            FeedbackOutcome::Other => "其他",
        }
    }

    /// By code or Chinese name.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        FeedbackOutcome::ALL
            .into_iter()
            .find(|o| o.code() == s || o.zh() == s)
    }
}

/// One feedback (反馈) on one check, as given by the agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub outcome: FeedbackOutcome,
    /// Codes of the measures the agency applied (措施编码); each must be one the check matched.
    #[serde(default)]
    pub measures: Vec<String>,
    /// 说明
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The agency that gave it (its unified code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    pub at: DateTime<Utc>,
}

/// Why a feedback is refused. Messages in Chinese and English, as every rejection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedbackError {
    #[error("measure `{0}` was not among the measures this check matched")]
    UnknownMeasure(String),
    #[error("measure `{0}` is named twice")]
    RepeatedMeasure(String),
    #[error("the note is longer than {max} characters")]
    NoteTooLong { max: usize },
}

impl FeedbackError {
    pub fn zh(&self) -> String {
        match self {
            FeedbackError::UnknownMeasure(m) => format!("措施“{m}”不在本次查询匹配的措施之中"),
            FeedbackError::RepeatedMeasure(m) => format!("措施“{m}”重复填写"),
            FeedbackError::NoteTooLong { max } => format!("说明超过 {max} 个字符"),
        }
    }
}

/// Longest note kept with a feedback.
pub const MAX_NOTE_CHARS: usize = 2000;

impl Feedback {
    /// Checks the feedback against the measures its check matched: an agency reports only measures
    /// the catalogue applied to this case (others have no legal basis here).
    pub fn validate(&self, matched: &[&str]) -> Result<(), FeedbackError> {
        for (i, m) in self.measures.iter().enumerate() {
            if !matched.contains(&m.as_str()) {
                return Err(FeedbackError::UnknownMeasure(m.clone()));
            }
            if self.measures[..i].contains(m) {
                return Err(FeedbackError::RepeatedMeasure(m.clone()));
            }
        }
        if self
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(FeedbackError::NoteTooLong {
                max: MAX_NOTE_CHARS,
            });
        }
        Ok(())
    }

    /// Same feedback apart from when it arrived: a repeated submission, not a conflicting one.
    pub fn same_content(&self, other: &Feedback) -> bool {
        self.outcome == other.outcome
            && self.measures == other.measures
            && self.note == other.note
            && self.agency == other.agency
    }
}

/// The last day on which feedback for a check made on `checked_on` is on time.
pub fn feedback_due(cal: &WorkingCalendar, checked_on: NaiveDate, working_days: u32) -> NaiveDate {
    cal.add_working_days(checked_on, working_days)
}

/// The latest check date whose feedback is overdue on `today`: checks made on or before it, without
/// feedback, are listed. It is the last day `d` with `feedback_due(d) < today`.
pub fn overdue_cutoff(cal: &WorkingCalendar, today: NaiveDate, working_days: u32) -> NaiveDate {
    // Walk back from today; at most a few weeks even over the Spring Festival.
    let mut d = today.pred_opt().unwrap_or(today);
    while feedback_due(cal, d, working_days) >= today {
        match d.pred_opt() {
            Some(p) => d = p,
            None => break,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn outcomes_parse_by_code_and_name() {
        for o in FeedbackOutcome::ALL {
            assert_eq!(FeedbackOutcome::parse(o.code()), Some(o));
            assert_eq!(FeedbackOutcome::parse(o.zh()), Some(o));
        }
        assert_eq!(
            FeedbackOutcome::parse("不予办理 "),
            Some(FeedbackOutcome::Refused)
        );
        assert_eq!(FeedbackOutcome::parse("办理"), None);
    }

    #[test]
    fn feedback_names_only_matched_measures() {
        let f = Feedback {
            outcome: FeedbackOutcome::Refused,
            measures: vec!["A".into(), "B".into()],
            note: None,
            agency: None,
            at: Utc::now(),
        };
        assert_eq!(f.validate(&["A", "B", "C"]), Ok(()));
        assert_eq!(
            f.validate(&["A"]),
            Err(FeedbackError::UnknownMeasure("B".into()))
        );
        let twice = Feedback {
            measures: vec!["A".into(), "A".into()],
            ..f
        };
        assert_eq!(
            twice.validate(&["A"]),
            Err(FeedbackError::RepeatedMeasure("A".into()))
        );
    }

    #[test]
    fn overdue_over_national_day() {
        let cal = WorkingCalendar::builtin();
        // Checked Friday 2024-09-27; 5 working days: 9-29 (Sun, make-up), 9-30, 10-08, 10-09, 10-10.
        assert_eq!(feedback_due(cal, d("2024-09-27"), 5), d("2024-10-10"));
        // On 10-11 that check is overdue; on 10-10 it is not.
        assert!(overdue_cutoff(cal, d("2024-10-11"), 5) >= d("2024-09-27"));
        assert!(overdue_cutoff(cal, d("2024-10-10"), 5) < d("2024-09-27"));
    }

    proptest! {
        /// The cutoff is exact: every day up to it is overdue, the day after it is not.
        #[test]
        fn cutoff_is_exact(days in 0i64..3000, n in 0u32..15) {
            let cal = WorkingCalendar::builtin();
            let today = d("2017-01-01") + chrono::Duration::days(days);
            let cut = overdue_cutoff(cal, today, n);
            prop_assert!(feedback_due(cal, cut, n) < today || cut == today);
            let next = cut.succ_opt().unwrap();
            prop_assert!(feedback_due(cal, next, n) >= today);
        }
    }
}
