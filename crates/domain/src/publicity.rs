//! Publicity periods (公示期) and when repair may be applied for (信用修复).
//!
//! A record is judged by the rules in force when it was decided, so periods are data keyed by regime and
//! severity. The defaults follow STANDARDS.md; a province may replace the table.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::record::{Category, PenaltyKind, Severity};

/// One rule: for decisions from `from` (inclusive) of the given severity, the minimum publicity
/// (after which repair may be applied for) and the maximum (after which display ends by itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodRule {
    pub regime: String,
    pub from: NaiveDate,
    pub severity: Severity,
    pub min_months: u32,
    pub max_months: u32,
}

/// The table of publicity periods.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicityRules {
    pub rules: Vec<PeriodRule>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Default for PublicityRules {
    fn default() -> Self {
        let r = |regime: &str, from, severity, min_months, max_months| PeriodRule {
            regime: regime.into(),
            from,
            severity,
            min_months,
            max_months,
        };
        let n2019 = date(2019, 7, 16);
        let m2023 = date(2023, 5, 1);
        let o2026 = date(2026, 4, 1);
        PublicityRules {
            rules: vec![
                // 发改办财金〔2019〕527号; it also governs older decisions, which had no better rule.
                r("2019通知", NaiveDate::MIN, Severity::Slight, 0, 3),
                r("2019通知", NaiveDate::MIN, Severity::General, 3, 12),
                r("2019通知", NaiveDate::MIN, Severity::Serious, 6, 36),
                r("2019通知", n2019, Severity::Slight, 0, 3),
                r("2019通知", n2019, Severity::General, 3, 12),
                r("2019通知", n2019, Severity::Serious, 6, 36),
                // 失信行为纠正后的信用信息修复管理办法（试行）, 2023
                r("2023办法", m2023, Severity::Slight, 0, 3),
                r("2023办法", m2023, Severity::General, 3, 12),
                r("2023办法", m2023, Severity::Serious, 12, 36),
                // 信用修复管理办法 (国家发展改革委令第36号), from 2026-04-01
                r("2026办法", o2026, Severity::Slight, 0, 3),
                r("2026办法", o2026, Severity::General, 3, 12),
                r("2026办法", o2026, Severity::Serious, 12, 36),
            ],
        }
    }
}

/// The publicity window of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub regime: String,
    /// Repair may be applied for from this day.
    pub repair_from: NaiveDate,
    /// Public display ends after this day.
    pub until: NaiveDate,
}

impl PublicityRules {
    /// The rule in force for a decision of this date and severity: the latest regime that began on
    /// or before the decision.
    pub fn rule_for(&self, decided: NaiveDate, severity: Severity) -> Option<&PeriodRule> {
        self.rules
            .iter()
            .filter(|r| r.severity == severity && r.from <= decided)
            .max_by_key(|r| r.from)
    }

    /// The window for a record decided on `decided`. Records without dishonesty (`Severity::None`)
    /// stay public while they are valid: `valid_until`, or indefinitely when absent.
    pub fn window(
        &self,
        decided: NaiveDate,
        severity: Severity,
        valid_until: Option<NaiveDate>,
    ) -> Window {
        match self.rule_for(decided, severity) {
            Some(rule) if severity != Severity::None => Window {
                regime: rule.regime.clone(),
                repair_from: add_months(decided, rule.min_months),
                until: add_months(decided, rule.max_months),
            },
            _ => Window {
                regime: "有效期".into(),
                repair_from: decided,
                until: valid_until.unwrap_or(date(2099, 12, 31)),
            },
        }
    }
}

fn add_months(d: NaiveDate, m: u32) -> NaiveDate {
    d.checked_add_months(Months::new(m)).unwrap_or(d)
}

/// The severity a penalty has when the feed does not say: warnings and public criticism alone are
/// slight; closure, revocation, suspension, practice bans and detention are serious; the rest general.
/// Lists of serious dishonesty are serious by nature.
pub fn default_severity(category: Category, kinds: &[PenaltyKind]) -> Severity {
    match category {
        Category::Penalty => {
            if kinds.is_empty() {
                return Severity::General;
            }
            if kinds
                .iter()
                .all(|k| matches!(k, PenaltyKind::Warning | PenaltyKind::PublicCriticism))
            {
                Severity::Slight
            } else if kinds.iter().any(|k| {
                matches!(
                    k,
                    PenaltyKind::LicenceSuspendedOrRevoked
                        | PenaltyKind::OrderedClosure
                        | PenaltyKind::RestrictPractice
                        | PenaltyKind::SuspendProduction
                        | PenaltyKind::Detention
                )
            }) {
                Severity::Serious
            } else {
                Severity::General
            }
        }
        Category::DishonestDebtor | Category::SeriousDishonestList => Severity::Serious,
        Category::AbnormalOperation => Severity::General,
        _ => Severity::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regime_in_force_at_the_decision_applies() {
        let rules = PublicityRules::default();
        let w = rules.window(date(2026, 3, 31), Severity::Serious, None);
        assert_eq!(w.regime, "2023办法");
        assert_eq!(w.until, date(2029, 3, 31));
        let w = rules.window(date(2026, 4, 1), Severity::General, None);
        assert_eq!(w.regime, "2026办法");
        assert_eq!(w.repair_from, date(2026, 7, 1));
        assert_eq!(w.until, date(2027, 4, 1));
        let w = rules.window(date(2020, 1, 10), Severity::Serious, None);
        assert_eq!(w.repair_from, date(2020, 7, 10));
        let w = rules.window(date(2020, 1, 10), Severity::None, Some(date(2025, 1, 1)));
        assert_eq!(w.until, date(2025, 1, 1));
    }

    #[test]
    fn severity_defaults_from_penalty_kinds() {
        use PenaltyKind::*;
        assert_eq!(
            default_severity(Category::Penalty, &[Warning]),
            Severity::Slight
        );
        assert_eq!(
            default_severity(Category::Penalty, &[Warning, Fine]),
            Severity::General
        );
        assert_eq!(
            default_severity(Category::Penalty, &[Fine, LicenceSuspendedOrRevoked]),
            Severity::Serious
        );
        assert_eq!(default_severity(Category::RedList, &[]), Severity::None);
    }
}
