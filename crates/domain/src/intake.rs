//! What collection (归集) produces from one input row: an accepted record with its timeliness, or a
//! rejection that names the row, the field, the value and the reason in Chinese and English.

use serde::{Deserialize, Serialize};

use crate::pii::SealedIdentity;
use crate::record::{CreditRecord, Timeliness};

/// A row that passed validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptedRow {
    /// 1-based row number in the source (the data row, header excluded; for JSON Lines the line).
    pub row: u64,
    pub record: CreditRecord,
    pub timeliness: Timeliness,
    /// The resident numbers the record names (subject and linked persons), sealed: the record
    /// itself holds only their pseudonyms and masked forms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<SealedIdentity>,
}

/// One reason a row was rejected. A row may have several; each is one `RowError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: u64,
    /// The field as the source named it (the column header), or the canonical name.
    pub field: String,
    pub value: String,
    /// A stable code of the rule that failed (`required`, `length`, `check_character`, `date`, …).
    pub rule: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// A rejected row: its errors and its raw columns, kept so it can be corrected and submitted again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub row: u64,
    pub errors: Vec<RowError>,
    /// The columns as read (header, value), in source order.
    pub raw: Vec<(String, String)>,
}

/// Counts of one submission, the report an agency gets back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeCounts {
    /// Rows stored as new records or new versions.
    pub accepted: u64,
    /// Of `accepted`, those that were corrections of a record already held.
    pub new_versions: u64,
    /// Rows identical to a record already held: nothing changed.
    pub duplicates: u64,
    /// Rows rejected by validation (kept for correction).
    pub rejected: u64,
    /// Of `accepted`, those submitted past the deadline (7 working days after the decision by default).
    pub late: u64,
}

impl IntakeCounts {
    pub fn add(&mut self, o: &IntakeCounts) {
        self.accepted += o.accepted;
        self.new_versions += o.new_versions;
        self.duplicates += o.duplicates;
        self.rejected += o.rejected;
        self.late += o.late;
    }
}
