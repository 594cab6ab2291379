//! Audit entries (审计记录): who did what to which subject, when, and what the answer was.
//!
//! The leaf of the Merkle tree is the entry's canonical serialization: compact JSON of
//! [`AuditEntry`] with its fields in declaration order (serde keeps struct order), `seq`
//! included. The exact bytes are stored in the database and hashed as stored, so verification
//! never depends on re-serializing them the same way.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// What was done. The snake_case codes are stable (they are inside hashed, signed entries);
/// add new variants, never rename old ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 报送: an agency submitted credit records (归集).
    RecordSubmission,
    /// 查询: a credit check before an administrative act (联合奖惩 核查).
    Check,
    /// 反馈: the result of applying a measure was reported back.
    Feedback,
    /// 递送: a delivery note (推送) was sent to an agency.
    DeliverySend,
    /// 受理: the receiving agency accepted the delivery note.
    DeliveryAccept,
    /// 办结: the receiving agency completed it.
    DeliveryComplete,
    /// 退回: the receiving agency returned it.
    DeliveryReturn,
    /// 登录.
    Login,
    /// 权限变更: a user's roles or agency changed.
    PermissionChange,
    /// 目录变更: the measure catalogue (联合奖惩措施清单) changed.
    CatalogueChange,
    /// 查看明文个人信息: unmasked personal data was read (个人信息保护法 requires a record).
    UnmaskedRead,
    /// Anything else (其他); say what in `detail`.
    Other,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 12] = [
        Action::RecordSubmission,
        Action::Check,
        Action::Feedback,
        Action::DeliverySend,
        Action::DeliveryAccept,
        Action::DeliveryComplete,
        Action::DeliveryReturn,
        Action::Login,
        Action::PermissionChange,
        Action::CatalogueChange,
        Action::UnmaskedRead,
        Action::Other,
    ];

    /// The stable code, as serialized.
    pub fn code(self) -> &'static str {
        match self {
            Action::RecordSubmission => "record_submission",
            Action::Check => "check",
            Action::Feedback => "feedback",
            Action::DeliverySend => "delivery_send",
            Action::DeliveryAccept => "delivery_accept",
            Action::DeliveryComplete => "delivery_complete",
            Action::DeliveryReturn => "delivery_return",
            Action::Login => "login",
            Action::PermissionChange => "permission_change",
            Action::CatalogueChange => "catalogue_change",
            Action::UnmaskedRead => "unmasked_read",
            Action::Other => "other",
        }
    }

    /// The Chinese name shown to users.
    pub fn name_zh(self) -> &'static str {
        match self {
            Action::RecordSubmission => "报送",
            Action::Check => "查询",
            Action::Feedback => "反馈",
            Action::DeliverySend => "递送",
            Action::DeliveryAccept => "受理",
            Action::DeliveryComplete => "办结",
            Action::DeliveryReturn => "退回",
            Action::Login => "登录",
            Action::PermissionChange => "权限变更",
            Action::CatalogueChange => "目录变更",
            Action::UnmaskedRead => "查看明文个人信息",
            Action::Other => "其他",
        }
    }

    /// Parses [`Action::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One logged event, as hashed into the tree. Field order is part of the format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps. Inside the hashed bytes, so an entry cannot be
    /// moved to another position without its leaf hash changing.
    pub seq: u64,
    /// When the event happened (microsecond precision).
    pub at: DateTime<Utc>,
    /// The user id, or `"anonymous"`.
    pub actor: String,
    /// The actor's agency code (部门编码), when acting for one.
    pub agency: Option<String>,
    /// What was done.
    pub action: Action,
    /// The subject key (统一社会信用代码 or the keyed hash of a citizen number), when one is concerned.
    pub subject: Option<String>,
    /// The object acted on: receipt id, batch id, delivery note id…
    pub object: Option<String>,
    /// Hex SHA-256 of the answer or result given, so the answer itself can be proven later
    /// without storing personal data in the log (see [`digest_hex`]).
    pub result_digest: String,
    /// The catalogue version that applied, for checks and measures.
    pub catalogue_version: Option<String>,
    /// The data version (snapshot) that answered, for checks.
    pub data_version: Option<u64>,
    /// Anything else worth keeping (kept as given; avoid floats, whose text may not round-trip).
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// The canonical bytes: the leaf data of the Merkle tree.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Serializing a struct of strings, integers, an enum and a `Value` cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// An entry before the log has given it a `seq`: what callers hand to the appender.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    /// See [`AuditEntry::at`]; [`NewEntry::new`] sets it to now.
    pub at: DateTime<Utc>,
    /// See [`AuditEntry::actor`].
    pub actor: String,
    /// See [`AuditEntry::agency`].
    pub agency: Option<String>,
    /// See [`AuditEntry::action`].
    pub action: Action,
    /// See [`AuditEntry::subject`].
    pub subject: Option<String>,
    /// See [`AuditEntry::object`].
    pub object: Option<String>,
    /// See [`AuditEntry::result_digest`].
    pub result_digest: String,
    /// See [`AuditEntry::catalogue_version`].
    pub catalogue_version: Option<String>,
    /// See [`AuditEntry::data_version`].
    pub data_version: Option<u64>,
    /// See [`AuditEntry::detail`].
    pub detail: serde_json::Value,
}

impl NewEntry {
    /// An entry for `actor` doing `action` now, with everything else empty.
    pub fn new(actor: impl Into<String>, action: Action) -> Self {
        NewEntry {
            at: Utc::now(),
            actor: actor.into(),
            agency: None,
            action,
            subject: None,
            object: None,
            result_digest: String::new(),
            catalogue_version: None,
            data_version: None,
            detail: serde_json::Value::Null,
        }
    }

    /// Sets the agency code.
    pub fn agency(mut self, code: impl Into<String>) -> Self {
        self.agency = Some(code.into());
        self
    }

    /// Sets the subject key.
    pub fn subject(mut self, key: impl Into<String>) -> Self {
        self.subject = Some(key.into());
        self
    }

    /// Sets the object id.
    pub fn object(mut self, id: impl Into<String>) -> Self {
        self.object = Some(id.into());
        self
    }

    /// Sets the result digest to the hex SHA-256 of `result` (the answer's bytes).
    pub fn result(mut self, result: &[u8]) -> Self {
        self.result_digest = digest_hex(result);
        self
    }

    /// Sets the catalogue version.
    pub fn catalogue_version(mut self, v: impl Into<String>) -> Self {
        self.catalogue_version = Some(v.into());
        self
    }

    /// Sets the data version.
    pub fn data_version(mut self, v: u64) -> Self {
        self.data_version = Some(v);
        self
    }

    /// Sets the free-form detail.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// The entry at position `seq`. Time is cut to microseconds so that every database and
    /// every language reading the log sees the same instant.
    pub fn with_seq(self, seq: u64) -> AuditEntry {
        AuditEntry {
            seq,
            at: self.at.trunc_subsecs(6),
            actor: self.actor,
            agency: self.agency,
            action: self.action,
            subject: self.subject,
            object: self.object,
            result_digest: self.result_digest,
            catalogue_version: self.catalogue_version,
            data_version: self.data_version,
            detail: self.detail,
        }
    }
}

/// Hex SHA-256 of `bytes`: the digest callers put in [`AuditEntry::result_digest`].
pub fn digest_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// An entry as stored, with its hashes.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEntry {
    /// The parsed entry.
    pub entry: AuditEntry,
    /// Hex leaf hash `H(0x00 || canonical bytes)`.
    pub leaf_hash: String,
    /// Hex hash-chain value `H(chain(seq-1) || leaf)`.
    pub chain_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_codes_round_trip_and_match_serde() {
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.code())
            );
            assert!(!a.name_zh().is_empty());
        }
    }

    #[test]
    fn canonical_bytes_are_stable_and_include_seq() {
        let e = NewEntry::new("u1", Action::Check)
            .agency("A01")
            .subject("91120000XXXXXXXXXX")
            .result(b"answer")
            .detail(serde_json::json!({"b": 1, "a": [true, null]}))
            .with_seq(7);
        let bytes = e.canonical_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\"seq\":7,\"at\":\""), "{text}");
        let back: AuditEntry = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.canonical_bytes(), bytes);
    }
}
