//! The Rego yardstick: the catalogue as data plus a fixed rule set (`rego/catalogue.rego`) that
//! interprets its triggers, evaluated by the `regorus` interpreter — what a generic policy engine
//! gives for the same question `decide` answers.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use creditloop_domain::catalogue::{AppliesTo, Catalogue, MeasureKind, Trigger};
use creditloop_domain::record::{Nature, Severity};
use regorus::{Engine, Value};
use serde_json::json;

use crate::BoxError;
use crate::sample::{Answer, Case, decision_from_code};

/// The fixed rule set; the catalogue comes in as data.
pub const POLICY: &str = include_str!("../rego/catalogue.rego");

/// The rule evaluated per check.
pub const RESULT_RULE: &str = "data.creditloop.check.result";

fn severity_rank(s: Option<Severity>) -> u8 {
    match s {
        None | Some(Severity::None) => 0,
        Some(Severity::Slight) => 1,
        Some(Severity::General) => 2,
        Some(Severity::Serious) => 3,
    }
}

/// The natures a record trigger of this kind of measure looks at: punishments negative records,
/// incentives the others (as `decide`).
fn natures(kind: MeasureKind) -> Vec<&'static str> {
    let all = [Nature::Positive, Nature::Neutral, Nature::Negative];
    all.into_iter()
        .filter(|n| (*n == Nature::Negative) == (kind == MeasureKind::Punishment))
        .map(Nature::code)
        .collect()
}

/// `data.creditloop_catalogue` for a catalogue (see the header of `rego/catalogue.rego`): generated,
/// so the policy always answers for the catalogue `decide` uses.
pub fn catalogue_data(catalogue: &Catalogue) -> serde_json::Value {
    let mut windows: Vec<u32> = Vec::new();
    let mut measures = serde_json::Map::new();
    let mut by_scenario: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for m in catalogue.measures() {
        let triggers: Vec<serde_json::Value> = m
            .triggers
            .iter()
            .map(|t| match t {
                Trigger::Record(r) => {
                    if let Some(w) = r.within_months
                        && !windows.contains(&w)
                    {
                        windows.push(w);
                    }
                    let (on_subject, on_persons, roles) = match &r.applies_to {
                        AppliesTo::Subject => (true, false, Vec::new()),
                        AppliesTo::LinkedPerson(roles) => (false, true, roles.clone()),
                        AppliesTo::Either(roles) => (true, true, roles.clone()),
                    };
                    json!({
                        "type": "record",
                        "on_subject": on_subject,
                        "on_persons": on_persons,
                        "roles": roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
                        "categories": r.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
                        "natures": natures(m.kind),
                        "min_severity": severity_rank(r.min_severity),
                        "lists": r.list_name_contains,
                        "within_months": r.within_months,
                    })
                }
                Trigger::NoNegativeWithin { months } => {
                    if !windows.contains(months) {
                        windows.push(*months);
                    }
                    json!({"type": "absent", "months": months})
                }
                Trigger::CreditClass { classes } => json!({"type": "class", "classes": classes}),
            })
            .collect();
        let effect = m.action.effect() as u8;
        measures.insert(
            m.code.clone(),
            json!({"kind": m.kind.code(), "effect": effect}),
        );
        let entry = json!({
            "code": m.code,
            "kind": m.kind.code(),
            "effect": effect,
            "valid_from": m.valid_from,
            "valid_to": m.valid_to,
            "triggers": triggers,
        });
        for s in &m.scenarios {
            by_scenario
                .entry(s.as_str().to_string())
                .or_default()
                .push(entry.clone());
        }
    }
    json!({"creditloop_catalogue": {
        "windows": windows,
        "measures": measures,
        "by_scenario": by_scenario,
    }})
}

/// The input document of one check: scenario, date and the subject's facts as `decide` sees them.
pub fn input(case: &Case, on: NaiveDate) -> Result<Value, BoxError> {
    let v = json!({
        "scenario": case.scenario.as_str(),
        "on": on,
        "facts": serde_json::to_value(&case.facts)?,
    });
    Ok(Value::from(v))
}

/// A regorus engine loaded with the policy and a catalogue.
pub struct RegoChecker {
    engine: Engine,
    rule: String,
}

impl RegoChecker {
    pub fn new(catalogue: &Catalogue) -> Result<Self, BoxError> {
        let mut engine = Engine::new();
        engine.add_policy("catalogue.rego".to_string(), POLICY.to_string())?;
        engine.add_data(Value::from(catalogue_data(catalogue)))?;
        Ok(RegoChecker {
            engine,
            rule: RESULT_RULE.to_string(),
        })
    }

    /// Evaluates one check; the input is prepared by [`input`] so that timing covers the engine only.
    pub fn eval(&mut self, input: Value) -> Result<Value, BoxError> {
        self.engine.set_input(input);
        Ok(self.engine.eval_rule(self.rule.clone())?)
    }
}

/// Reads the policy's result object into an [`Answer`].
pub fn answer(v: &Value) -> Result<Answer, BoxError> {
    let code = v["decision"].as_string()?;
    let decision =
        decision_from_code(code).ok_or_else(|| format!("the policy answered decision {code}"))?;
    let measures = v["measures"]
        .as_array()?
        .iter()
        .map(|m| m.as_string().map(|s| s.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Answer { decision, measures })
}
