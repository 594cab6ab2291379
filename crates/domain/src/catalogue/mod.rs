//! The joint rewards and punishments catalogue (联合奖惩措施目录) and the credit check decision
//! (事前信用查询 → 奖惩措施), DESIGN.md §1 step 3.
//!
//! - [`Measure`]: one coded measure (措施编码) with its kind (惩戒/激励), 认定机关, 实施措施事由, 实施部门,
//!   措施内容, [`Action`] (禁止, 限制, 从严审核, 重点监管, 优先办理, 绿色通道, 简化程序, 其他), 适用场景
//!   ([`Scenario`], checked against a [`ScenarioRegistry`] kept as data), 证据要求, 法律依据
//!   ([`LegalBasis`]), validity dates and [`Trigger`]s — data, in a compact text form described in
//!   [`trigger`].
//! - [`Catalogue`]: measures under a [`CatalogueVersion`] (number, 草稿/已发布, SHA-256 of the canonical
//!   JSON). Imported from JSON ([`Catalogue::from_json`]) or rows of CSV/XLSX cells
//!   ([`Measure::from_fields`], [`Catalogue::from_rows`]) with every row validated and every error
//!   named; exported with [`Catalogue::to_json`] and [`Measure::to_fields`]. The shipped default is
//!   `data/catalogue/default.json` ([`Catalogue::default_catalogue`]), modelled on the national joint
//!   punishment and incentive memoranda (联合惩戒/联合激励合作备忘录).
//! - [`decide`]: given a [`CompiledCatalogue`], a scenario, a subject's [`SubjectFacts`] and a date, the
//!   [`CheckOutcome`]: the overall [`Decision`] (禁止 > 限制 > 从严 > 正常 > 优先), each applying measure
//!   with its triggering records, implementing agency and legal basis, incentives suppressed by a
//!   punishment, the records disregarded (异议中, 已修复, 已撤销, 已失效, 不在公示期) and the catalogue
//!   version that answered.
//!
//! Nothing here does I/O: the data files are embedded with `include_str!`.

mod decide;
mod fields;
mod measure;
mod scenario;
pub mod trigger;
mod versioned;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use decide::{
    CheckOutcome, CompiledCatalogue, DisregardReason, Disregarded, FactRecord, MatchedMeasure,
    RecordFilter, RecordTraits, SubjectFacts, decide,
};
pub use fields::{COLUMNS, CatalogueRowError, MeasureRow, parse_date};
pub use measure::{Action, Decision, LegalBasis, Measure, MeasureKind};
pub use scenario::{DEFAULT_SCENARIOS_JSON, Scenario, ScenarioInfo, ScenarioRegistry};
pub use trigger::{AppliesTo, RecordTrigger, Trigger, TriggerParseError};
pub use versioned::{
    Catalogue, CatalogueError, CatalogueVersion, DEFAULT_CATALOGUE_JSON, VersionStatus,
};
