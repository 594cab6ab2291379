//! Pure domain of creditloop (信用联合奖惩监管): identifiers, subjects, credit records, publicity rules and
//! the working-day calendar. Nothing here does I/O, so every rule can be tested alone.
//!
//! Later parts of the loop (delivery notes, credit classes, inspections, commitments, repair,
//! objections) add modules beside these and refer to records by [`record::RecordKey`] and to subjects by
//! [`subject::SubjectKey`].

pub mod access;
pub mod agency;
pub mod calendar;
pub mod catalogue;
pub mod feedback;
pub mod ids;
pub mod intake;
pub mod pii;
pub mod publicity;
pub mod record;
pub mod subject;
