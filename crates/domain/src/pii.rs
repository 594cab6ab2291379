//! Personal data (个人信息) as the rest of the system holds it: a person is known by a keyed
//! pseudonym of the resident number (公民身份号码) and its masked form; the number itself exists only
//! sealed (encrypted) in a [`SealedIdentity`]. Computing pseudonyms and sealing is done by the
//! `creditloop-pii` crate, which holds the key; this module only describes the values.

use serde::{Deserialize, Serialize};

use crate::subject::SubjectKey;

/// A natural person as stored and shown: the keyed pseudonym of the resident number (26 base32
/// characters) and the number masked as STANDARDS.md masks it (`1101**********002X`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PersonId {
    pub pseudonym: String,
    pub masked: String,
}

impl PersonId {
    /// The subject key of the person: `P:` and the pseudonym.
    pub fn key(&self) -> SubjectKey {
        SubjectKey(format!("{}{}", PERSON_KEY_PREFIX, self.pseudonym))
    }

    pub fn masked(&self) -> &str {
        &self.masked
    }
}

/// The prefix of a person's subject key.
pub const PERSON_KEY_PREFIX: &str = "P:";

/// A resident number encrypted at rest, filed under the person's subject key. `sealed` is the
/// nonce followed by the ciphertext and its tag; the key is bound in as associated data, so a
/// sealed number moved to another person does not open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedIdentity {
    pub key: SubjectKey,
    /// `aes-256-gcm` or `sm4-gcm`.
    pub cipher: String,
    pub sealed: Vec<u8>,
    /// Masked form, kept in clear for display.
    pub masked: String,
}
