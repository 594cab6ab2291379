//! The sample of checks every method of the yardsticks answers: subjects drawn from the synthetic
//! population with a scenario each, their facts as `decide` sees them, and `decide`'s answer, against
//! which every other method's answer is compared.

use chrono::NaiveDate;
use creditloop_domain::catalogue::{
    CheckOutcome, CompiledCatalogue, Decision, Scenario, SubjectFacts, decide,
};
use creditloop_domain::subject::SubjectKey;
use creditloop_index::CheckIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::synth::World;

/// What the methods are compared on: the overall decision and the codes of the measures that apply
/// (punishments, or incentives when no punishment applies), sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub decision: Decision,
    pub measures: Vec<String>,
}

impl Answer {
    pub fn of(outcome: &CheckOutcome) -> Self {
        Answer {
            decision: outcome.decision,
            measures: outcome.measures.iter().map(|m| m.code.clone()).collect(),
        }
    }
}

/// The decision named by its code (`prohibit`, `restrict`, …).
pub fn decision_from_code(code: &str) -> Option<Decision> {
    [
        Decision::Priority,
        Decision::Normal,
        Decision::Strict,
        Decision::Restrict,
        Decision::Prohibit,
    ]
    .into_iter()
    .find(|d| d.code() == code)
}

/// One check of the sample.
#[derive(Debug, Clone)]
pub struct Case {
    /// Subject number in the synthetic population.
    pub subject: usize,
    pub key: SubjectKey,
    /// The code as a user types it (no key prefix), what `CheckIndex::check` is given.
    pub code: String,
    pub scenario: Scenario,
    /// The facts the index gathers for the subject, the input of `decide` and of the Rego policy.
    pub facts: SubjectFacts,
    /// `decide`'s answer: the reference.
    pub expected: Answer,
}

/// Draws `n` checks (uniform subjects, uniform scenarios) deterministically from `seed`, gathers each
/// subject's facts from `index` and decides them.
pub fn draw(
    world: &World,
    index: &CheckIndex,
    catalogue: &CompiledCatalogue,
    scenarios: &[Scenario],
    n: usize,
    seed: u64,
    on: NaiveDate,
) -> Vec<Case> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7a2d_57c0);
    (0..n)
        .map(|_| {
            let subject = rng.gen_range(0..world.subjects);
            let scenario = scenarios[rng.gen_range(0..scenarios.len())].clone();
            let key = world.key(subject);
            let facts = index
                .facts(&key)
                .expect("every generated subject is in the index built from the same data");
            let expected = Answer::of(&decide(catalogue, &scenario, &facts, on));
            Case {
                subject,
                code: world.code(subject),
                key,
                scenario,
                facts,
                expected,
            }
        })
        .collect()
}

/// How many of a method's answers agree with `decide`'s, and the first disagreements for the report.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    pub checked: usize,
    /// Same decision.
    pub decision: usize,
    /// Same decision and the same applying measures.
    pub full: usize,
    /// (case index, expected, got) of the first few disagreements.
    pub examples: Vec<(usize, Answer, Answer)>,
}

impl Agreement {
    pub fn record(&mut self, case: usize, expected: &Answer, got: &Answer) {
        self.checked += 1;
        if expected.decision == got.decision {
            self.decision += 1;
        }
        if expected == got {
            self.full += 1;
        } else if self.examples.len() < 5 {
            self.examples.push((case, expected.clone(), got.clone()));
        }
    }
}
