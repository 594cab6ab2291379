//! Scenarios (适用场景): the administrative actions before which a credit check (事前信用查询) is run.
//!
//! The list is data (`data/catalogue/scenarios.json`), not an enum, so a province can add scenarios
//! without a new release: [`ScenarioRegistry::from_json`] reads a replacement list.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{CatalogueError, CatalogueRowError};

/// The shipped scenario list.
pub const DEFAULT_SCENARIOS_JSON: &str = include_str!("../../../../data/catalogue/scenarios.json");

/// A scenario code (场景编码) such as `government_procurement` (政府采购).
///
/// Obtain one from [`ScenarioRegistry::scenario`], which checks the code against the registry.
/// Deserialising does not check (an outcome stored years ago must load even if its scenario has
/// since been retired); input from users must go through the registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scenario(String);

impl Scenario {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One scenario of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// 场景编码: lower-case ASCII letters, digits and `_`.
    pub code: String,
    /// 场景名称, e.g. 政府采购, 评优评先/表彰奖励.
    pub zh: String,
    #[serde(default)]
    pub en: String,
    /// Other names accepted on input (评先评优, 招投标 …).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The scenarios a catalogue may name (适用场景目录).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioRegistry {
    entries: Vec<ScenarioInfo>,
    /// code, zh name and aliases → index into `entries`.
    lookup: HashMap<String, usize>,
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ScenarioRegistry {
    /// The shipped registry (`data/catalogue/scenarios.json`). The embedded data is checked by a test;
    /// should it ever fail to parse, the registry is empty and every scenario is reported unknown.
    pub fn builtin() -> &'static ScenarioRegistry {
        static REG: OnceLock<ScenarioRegistry> = OnceLock::new();
        REG.get_or_init(|| ScenarioRegistry::from_json(DEFAULT_SCENARIOS_JSON).unwrap_or_default())
    }

    /// Reads a registry: a JSON array of `{code, zh, en, aliases}`. Codes must be unique and names
    /// and aliases must not be claimed by two scenarios.
    pub fn from_json(text: &str) -> Result<Self, CatalogueError> {
        let entries: Vec<ScenarioInfo> =
            serde_json::from_str(text).map_err(|e| CatalogueError::Json(e.to_string()))?;
        Self::from_entries(entries)
    }

    /// Builds a registry from entries, checking every one.
    pub fn from_entries(entries: Vec<ScenarioInfo>) -> Result<Self, CatalogueError> {
        let mut errors = Vec::new();
        let mut lookup = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let row = i as u64 + 1;
            if !valid_code(&e.code) {
                errors.push(CatalogueRowError::new(
                    row,
                    "code",
                    &e.code,
                    "场景编码只能由小写字母、数字和下划线组成",
                    "a scenario code is lower-case ASCII letters, digits and '_'",
                ));
            }
            if e.zh.trim().is_empty() {
                errors.push(CatalogueRowError::new(
                    row,
                    "zh",
                    &e.zh,
                    "场景名称不能为空",
                    "the Chinese name is required",
                ));
            }
            let names = std::iter::once(&e.code)
                .chain(std::iter::once(&e.zh))
                .chain(e.aliases.iter());
            for name in names {
                let name = name.trim();
                if name.is_empty() {
                    continue;
                }
                match lookup.get(name) {
                    Some(&j) if j != i => errors.push(CatalogueRowError::new(
                        row,
                        "code",
                        name,
                        "场景编码或名称与其他场景重复",
                        "the code or name is already used by another scenario",
                    )),
                    _ => {
                        lookup.insert(name.to_string(), i);
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(ScenarioRegistry { entries, lookup })
        } else {
            Err(CatalogueError::Rows(errors))
        }
    }

    /// The scenario named by `code_or_name` (code, Chinese name or alias), or `None` when unknown.
    pub fn scenario(&self, code_or_name: &str) -> Option<Scenario> {
        self.lookup
            .get(code_or_name.trim())
            .and_then(|&i| self.entries.get(i))
            .map(|e| Scenario(e.code.clone()))
    }

    /// The registry entry of a scenario.
    pub fn info(&self, scenario: &Scenario) -> Option<&ScenarioInfo> {
        self.lookup
            .get(scenario.as_str())
            .and_then(|&i| self.entries.get(i))
    }

    /// All scenarios in registry order.
    pub fn entries(&self) -> &[ScenarioInfo] {
        &self.entries
    }

    /// All scenarios as [`Scenario`] values, in registry order.
    pub fn scenarios(&self) -> impl Iterator<Item = Scenario> + '_ {
        self.entries.iter().map(|e| Scenario(e.code.clone()))
    }
}
