//! Benchmarks of the credit check (DESIGN.md §5 read path) at province scale, kept out of the
//! product crates: the synthetic population ([`synth`]), the in-memory index benchmark
//! (`check_bench`) and its yardsticks (`yardsticks`): the same question asked as plain SQL of SQLite
//! and PostgreSQL ([`sql`]) and of the default catalogue written as a Rego policy ([`rego`]).

pub mod rego;
pub mod sample;
pub mod stats;
pub mod synth;

/// The error of the benchmark's fallible steps (database and engine calls, bad options).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub mod sql;
