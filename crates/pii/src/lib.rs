//! Protection of personal data (个人信息保护) for resident numbers (公民身份号码).
//!
//! From one 32-byte master key, HKDF-SHA256 derives with distinct labels:
//! - a hash key: a person's subject key is `P:` and HMAC-SHA256(hash key, 18-digit number), its
//!   first 130 bits in base32 (26 characters). Deterministic, so a lookup by resident number
//!   computes the key; a legacy 15-digit number is converted to 18 digits first and maps to the
//!   same key;
//! - an AES-256 key and an SM4 key that seal the number at rest (GCM, random 96-bit nonce, the
//!   subject key as associated data);
//! - a check key whose HMAC over a fixed label is the key check value a database keeps, so that
//!   opening it with another key is refused rather than silently filing persons twice.
//!
//! The master key comes from a key file or from configuration, never from the database.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use creditloop_domain::ids::ResidentId;
use creditloop_domain::pii::{PERSON_KEY_PREFIX, PersonId, SealedIdentity};
use creditloop_domain::subject::SubjectKey;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroize;

type HmacSha256 = Hmac<Sha256>;
/// SM4 in GCM mode (GB/T 36624 names SM4-GCM), built from the generic GCM of `aes-gcm`.
type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

const NONCE_LEN: usize = 12;
/// Length of the pseudonym in base32 characters (130 bits).
pub const PSEUDONYM_LEN: usize = 26;

/// Errors of key handling and sealing.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    #[error("personal data key: {0}")]
    BadKey(String),
    #[error("personal data key file {path}: {error}")]
    KeyFile { path: String, error: String },
    #[error("unknown cipher `{0}` (expected aes-256-gcm or sm4-gcm)")]
    UnknownCipher(String),
    /// Wrong key, tampered ciphertext, or a sealed number filed under another key.
    #[error("the sealed resident number does not open (wrong key or altered data)")]
    Open,
}

/// The cipher that seals resident numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cipher {
    #[default]
    Aes256Gcm,
    /// 国密 SM4 in GCM mode.
    Sm4Gcm,
}

impl Cipher {
    pub fn code(self) -> &'static str {
        match self {
            Cipher::Aes256Gcm => "aes-256-gcm",
            Cipher::Sm4Gcm => "sm4-gcm",
        }
    }

    pub fn parse(s: &str) -> Result<Cipher, PiiError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "aes-256-gcm" | "aes" | "aes256gcm" => Ok(Cipher::Aes256Gcm),
            "sm4-gcm" | "sm4" => Ok(Cipher::Sm4Gcm),
            other => Err(PiiError::UnknownCipher(other.to_string())),
        }
    }
}

/// The derived keys. Debug output never shows them.
pub struct PiiKey {
    hash: [u8; 32],
    aes: [u8; 32],
    sm4: [u8; 16],
    check: [u8; 32],
    cipher: Cipher,
}

impl std::fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PiiKey(check {}, {})",
            self.check_value(),
            self.cipher.code()
        )
    }
}

impl Drop for PiiKey {
    fn drop(&mut self) {
        self.hash.zeroize();
        self.aes.zeroize();
        self.sm4.zeroize();
        self.check.zeroize();
    }
}

fn derive<const N: usize>(master: &[u8; 32], label: &str) -> [u8; N] {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"creditloop-pii"), master);
    let mut out = [0u8; N];
    // N is at most 32 here, far below HKDF-SHA256's limit of 8160 bytes, so expand cannot fail.
    if hk.expand(label.as_bytes(), &mut out).is_err() {
        unreachable!("HKDF output length within limit");
    }
    out
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        if out.len() >= chars {
            break;
        }
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < chars {
            bits -= 5;
            out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
        }
        // Fewer than 5 bits are left over, so the accumulator never overflows.
        acc &= (1 << bits) - 1;
    }
    out
}

impl PiiKey {
    /// Derives the keys from a 32-byte master key; numbers are sealed with `cipher`.
    pub fn from_master(master: &[u8; 32], cipher: Cipher) -> PiiKey {
        PiiKey {
            hash: derive(master, "creditloop pii pseudonym v1"),
            aes: derive(master, "creditloop pii aes-256-gcm v1"),
            sm4: derive(master, "creditloop pii sm4-gcm v1"),
            check: derive(master, "creditloop pii key check v1"),
            cipher,
        }
    }

    /// A master key given as 64 hex digits (the `CREDITLOOP_PII_KEY` form).
    pub fn from_hex(hex_key: &str, cipher: Cipher) -> Result<PiiKey, PiiError> {
        let mut bytes = hex::decode(hex_key.trim())
            .map_err(|e| PiiError::BadKey(format!("not hexadecimal: {e}")))?;
        let key = master_from(&bytes);
        bytes.zeroize();
        let mut master = key?;
        let k = PiiKey::from_master(&master, cipher);
        master.zeroize();
        Ok(k)
    }

    /// Reads a key file: 64 hex digits (surrounding whitespace ignored).
    pub fn load(path: &Path, cipher: Cipher) -> Result<PiiKey, PiiError> {
        let file_err = |error: String| PiiError::KeyFile {
            path: path.display().to_string(),
            error,
        };
        let mut text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
        let k = PiiKey::from_hex(&text, cipher).map_err(|e| file_err(e.to_string()));
        text.zeroize();
        k
    }

    /// Reads the key file, first creating it with a fresh random key (mode 0600) when missing.
    pub fn load_or_create(path: &Path, cipher: Cipher) -> Result<PiiKey, PiiError> {
        if !path.exists() {
            generate_key_file(path)?;
        }
        PiiKey::load(path, cipher)
    }

    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    /// The key check value a database stores: reveals nothing of the keys, changes with them.
    pub fn check_value(&self) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.check)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"creditloop pii key check");
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The pseudonym of a resident number (26 base32 characters).
    pub fn pseudonym(&self, id: &ResidentId) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.hash)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        // ResidentId holds the 18-digit form even when parsed from a legacy 15-digit number.
        mac.update(id.as_str().as_bytes());
        base32(&mac.finalize().into_bytes(), PSEUDONYM_LEN)
    }

    /// The person as stored: pseudonym and masked number.
    pub fn person(&self, id: &ResidentId) -> PersonId {
        PersonId {
            pseudonym: self.pseudonym(id),
            masked: id.masked(),
        }
    }

    /// The subject key of a resident number.
    pub fn key_of(&self, id: &ResidentId) -> SubjectKey {
        SubjectKey(format!("{PERSON_KEY_PREFIX}{}", self.pseudonym(id)))
    }

    /// Seals a resident number under its subject key with this key's cipher.
    pub fn seal(&self, id: &ResidentId) -> SealedIdentity {
        self.seal_with(id, self.cipher)
    }

    pub fn seal_with(&self, id: &ResidentId, cipher: Cipher) -> SealedIdentity {
        let key = self.key_of(id);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: id.as_str().as_bytes(),
            aad: key.as_str().as_bytes(),
        };
        let n = Nonce::from_slice(&nonce);
        let ct = match cipher {
            Cipher::Aes256Gcm => {
                Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&self.aes)).encrypt(n, payload)
            }
            Cipher::Sm4Gcm => {
                Sm4Gcm::new(aes_gcm::Key::<Sm4Gcm>::from_slice(&self.sm4)).encrypt(n, payload)
            }
        }
        // Encryption of a short message with a valid key and nonce length does not fail.
        .unwrap_or_else(|_| unreachable!("GCM encryption of 18 bytes"));
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ct);
        SealedIdentity {
            key,
            cipher: cipher.code().to_string(),
            sealed,
            masked: id.masked(),
        }
    }

    /// Opens a sealed number: fails on a wrong key, altered bytes or a sealed number filed under
    /// another subject key.
    pub fn open(&self, s: &SealedIdentity) -> Result<ResidentId, PiiError> {
        let cipher = Cipher::parse(&s.cipher)?;
        if s.sealed.len() < NONCE_LEN {
            return Err(PiiError::Open);
        }
        let (nonce, ct) = s.sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ct,
            aad: s.key.as_str().as_bytes(),
        };
        let n = Nonce::from_slice(nonce);
        let mut clear = match cipher {
            Cipher::Aes256Gcm => {
                Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&self.aes)).decrypt(n, payload)
            }
            Cipher::Sm4Gcm => {
                Sm4Gcm::new(aes_gcm::Key::<Sm4Gcm>::from_slice(&self.sm4)).decrypt(n, payload)
            }
        }
        .map_err(|_| PiiError::Open)?;
        let text = std::str::from_utf8(&clear).map_err(|_| PiiError::Open)?;
        let id = ResidentId::parse(text, chrono::NaiveDate::MAX).map_err(|_| PiiError::Open);
        clear.zeroize();
        let id = id?;
        // The pseudonym binds the number to its key: a number sealed under another key is refused.
        if self.key_of(&id) != s.key {
            return Err(PiiError::Open);
        }
        Ok(id)
    }
}

fn master_from(bytes: &[u8]) -> Result<[u8; 32], PiiError> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| PiiError::BadKey(format!("{} bytes, expected 32", bytes.len())))
}

/// Writes a new random master key (64 hex digits) to `path`, readable by its owner only.
pub fn generate_key_file(path: &Path) -> Result<(), PiiError> {
    let file_err = |error: std::io::Error| PiiError::KeyFile {
        path: path.display().to_string(),
        error: error.to_string(),
    };
    let mut master = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut master);
    let mut text = hex::encode(master);
    master.zeroize();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = opts.open(path).and_then(|mut f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    text.zeroize();
    result.map_err(file_err)
}

/// The default key file for a store URL: `X.db.pii-key` beside a SQLite file, else
/// `creditloop-pii.key` in the working directory (as the audit signing key is placed).
pub fn default_key_path(store_url: &str) -> std::path::PathBuf {
    match store_url.strip_prefix("sqlite://") {
        Some(path) => std::path::PathBuf::from(format!("{path}.pii-key")),
        None => std::path::PathBuf::from("creditloop-pii.key"),
    }
}

/// Where the key comes from, in order: an explicit key file, the `CREDITLOOP_PII_KEY` value (hex),
/// else the default key file for the store (created when missing and `create` is set).
pub fn resolve_key(
    key_file: Option<&Path>,
    env_hex: Option<&str>,
    store_url: &str,
    cipher: Cipher,
    create: bool,
) -> Result<PiiKey, PiiError> {
    if let Some(p) = key_file {
        return PiiKey::load(p, cipher);
    }
    if let Some(h) = env_hex.filter(|h| !h.trim().is_empty()) {
        return PiiKey::from_hex(h, cipher);
    }
    if store_url == "sqlite::memory:" {
        return Err(PiiError::BadKey(
            "an in-memory store needs --pii-key-file or CREDITLOOP_PII_KEY".into(),
        ));
    }
    let path = default_key_path(store_url);
    if create {
        PiiKey::load_or_create(&path, cipher)
    } else {
        PiiKey::load(&path, cipher)
    }
}

/// A fixed key for tests and examples only.
pub fn test_key() -> PiiKey {
    PiiKey::from_master(&[7u8; 32], Cipher::Aes256Gcm)
}

#[cfg(test)]
mod tests;
