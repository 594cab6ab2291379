//! Measures (联合奖惩措施) and the enumerations they use.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::scenario::Scenario;
use super::trigger::Trigger;

/// 措施类型: punishment (失信惩戒) or incentive (守信激励).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// 惩戒
    Punishment,
    /// 激励
    Incentive,
}

impl MeasureKind {
    pub fn code(self) -> &'static str {
        match self {
            MeasureKind::Punishment => "punishment",
            MeasureKind::Incentive => "incentive",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            MeasureKind::Punishment => "惩戒",
            MeasureKind::Incentive => "激励",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "punishment" | "惩戒" | "惩戒措施" | "失信惩戒" | "联合惩戒" => {
                MeasureKind::Punishment
            }
            "incentive" | "激励" | "激励措施" | "守信激励" | "联合激励" => {
                MeasureKind::Incentive
            }
            _ => return None,
        })
    }
}

/// 措施类别: what the measure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 禁止 (不予办理、禁入)
    Prohibit,
    /// 限制
    Restrict,
    /// 从严审核
    StrictReview,
    /// 重点监管
    KeySupervision,
    /// 优先办理
    Priority,
    /// 绿色通道 (容缺受理)
    GreenChannel,
    /// 简化程序 (告知承诺、减少检查)
    SimplifiedProcedure,
    /// 其他
    Other,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Prohibit,
        Action::Restrict,
        Action::StrictReview,
        Action::KeySupervision,
        Action::Priority,
        Action::GreenChannel,
        Action::SimplifiedProcedure,
        Action::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Prohibit => "prohibit",
            Action::Restrict => "restrict",
            Action::StrictReview => "strict_review",
            Action::KeySupervision => "key_supervision",
            Action::Priority => "priority",
            Action::GreenChannel => "green_channel",
            Action::SimplifiedProcedure => "simplified_procedure",
            Action::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Action::Prohibit => "禁止",
            Action::Restrict => "限制",
            Action::StrictReview => "从严审核",
            Action::KeySupervision => "重点监管",
            Action::Priority => "优先办理",
            Action::GreenChannel => "绿色通道",
            Action::SimplifiedProcedure => "简化程序",
            Action::Other => "其他",
        }
    }

    /// Accepts the code, the Chinese name and a few common synonyms.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(a) = Action::ALL
            .into_iter()
            .find(|a| a.code() == s || a.zh() == s)
        {
            return Some(a);
        }
        Some(match s {
            "不予办理" | "禁入" => Action::Prohibit,
            "从严办理" | "从严审查" | "严格审查" => Action::StrictReview,
            "重点监管对象" | "列为重点监管对象" => Action::KeySupervision,
            "优先" => Action::Priority,
            "容缺受理" => Action::GreenChannel,
            "简化" | "简化手续" => Action::SimplifiedProcedure,
            _ => return None,
        })
    }

    /// The action's effect on the check decision: key supervision is strict; green channel,
    /// simplified procedure and priority are priority; other is normal.
    pub fn effect(self) -> Decision {
        match self {
            Action::Prohibit => Decision::Prohibit,
            Action::Restrict => Decision::Restrict,
            Action::StrictReview | Action::KeySupervision => Decision::Strict,
            Action::Priority | Action::GreenChannel | Action::SimplifiedProcedure => {
                Decision::Priority
            }
            Action::Other => Decision::Normal,
        }
    }

    /// Whether a measure of this kind may carry this action: punishments never relax a decision,
    /// incentives never tighten one.
    pub fn fits(self, kind: MeasureKind) -> bool {
        match kind {
            MeasureKind::Punishment => self.effect() >= Decision::Normal,
            MeasureKind::Incentive => self.effect() <= Decision::Normal,
        }
    }
}

/// The overall answer of a credit check (查询结论), ordered from most lenient to strictest:
/// `Priority < Normal < Strict < Restrict < Prohibit`, so `max` is the strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 优先办理 (绿色通道、简化程序)
    Priority,
    /// 正常办理
    Normal,
    /// 从严办理 (从严审核、重点监管)
    Strict,
    /// 限制
    Restrict,
    /// 禁止 (不予办理)
    Prohibit,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Priority => "priority",
            Decision::Normal => "normal",
            Decision::Strict => "strict",
            Decision::Restrict => "restrict",
            Decision::Prohibit => "prohibit",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Decision::Priority => "优先办理",
            Decision::Normal => "正常办理",
            Decision::Strict => "从严办理",
            Decision::Restrict => "限制办理",
            Decision::Prohibit => "不予办理",
        }
    }
}

/// 法律依据: the document and the article that found the measure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LegalBasis {
    /// 法律依据文件, e.g. 《关于对失信被执行人实施联合惩戒的合作备忘录》（发改财金〔2016〕141号）
    pub document: String,
    /// 条款, e.g. 第二十二条, 二、（三）
    pub article: String,
}

/// One measure of the catalogue (联合奖惩措施). Build one with [`Measure::from_fields`] or from catalogue
/// JSON, which validate every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measure {
    /// 措施编码, e.g. `CJ-SX-001` (惩戒) or `JL-HM-001` (激励)
    pub code: String,
    /// 措施类型
    pub kind: MeasureKind,
    /// 认定机关 / 处理机关: the agency that identifies the subject (e.g. 人民法院 for 失信被执行人)
    pub handling_agency: String,
    /// 实施措施事由
    pub reason: String,
    /// 实施部门
    pub implementing_agency: String,
    /// 措施内容
    pub content: String,
    /// 措施类别
    pub action: Action,
    /// 适用场景 (at least one)
    pub scenarios: Vec<Scenario>,
    /// 证据要求
    pub evidence: String,
    /// 法律依据
    pub legal_basis: LegalBasis,
    /// 生效日期
    pub valid_from: NaiveDate,
    /// 失效日期 (inclusive); `None` = no end
    pub valid_to: Option<NaiveDate>,
    /// 触发条件 (any of them; at least one)
    pub triggers: Vec<Trigger>,
}

impl Measure {
    /// Whether the measure is in force on `on` (生效日期 ≤ on ≤ 失效日期).
    pub fn in_force(&self, on: NaiveDate) -> bool {
        self.valid_from <= on && self.valid_to.is_none_or(|to| on <= to)
    }
}
