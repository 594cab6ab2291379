//! Signed tree heads (签名树头) and the keys that sign them.
//!
//! The signing key lives in a key file outside the database, never in it: whoever can rewrite the
//! tables (a DBA, an intruder with the database password) must still not be able to produce a
//! head that verifies. Ed25519 is the default; SM2 (GM/T 0003-2012, 国密 SM2 with the default
//! distinguishing id `1234567812345678`) is offered for deployments that must use national
//! algorithms.
//!
//! Key file format (one line, text): `<algorithm> <hex secret>`, e.g. `ed25519 9f…` (the 32-byte
//! seed) or `sm2 3a…` (the 32-byte secret scalar). A public key file is `<algorithm> <hex public>`
//! with the `.pub` suffix convention; the verifier accepts either.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::merkle::{Hash, HashAlgorithm};
use crate::{Error, Result};

/// The default SM2 distinguishing identifier of GM/T 0009-2012.
const SM2_DISTID: &str = "1234567812345678";

/// The signature scheme of a tree head.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureAlgorithm {
    /// Ed25519 (RFC 8032). The default.
    #[default]
    Ed25519,
    /// SM2 digital signature (GM/T 0003-2012) with SM3, deterministic nonce (RFC 6979 style).
    Sm2,
}

impl SignatureAlgorithm {
    /// The stable code used in key files and the database.
    pub fn code(self) -> &'static str {
        match self {
            SignatureAlgorithm::Ed25519 => "ed25519",
            SignatureAlgorithm::Sm2 => "sm2",
        }
    }

    /// Parses [`SignatureAlgorithm::code`].
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ed25519" => Some(SignatureAlgorithm::Ed25519),
            "sm2" => Some(SignatureAlgorithm::Sm2),
            _ => None,
        }
    }
}

/// Something that signs tree heads. A trait so that a hardware module (密码机) can stand in for
/// the key file later.
pub trait Signer: Send + Sync {
    /// The scheme.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The id of the public key (see [`key_id`]).
    fn key_id(&self) -> String;
    /// Signs `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// Something that checks tree-head signatures.
pub trait Verifier: Send + Sync {
    /// The scheme.
    fn algorithm(&self) -> SignatureAlgorithm;
    /// The id of the public key (see [`key_id`]).
    fn key_id(&self) -> String;
    /// Whether `signature` is a valid signature of `message` by this key.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;
}

/// The key id: the first 16 hex digits of SHA-256 over the algorithm code, a NUL and the public
/// key bytes. Short enough to print, long enough to tell keys apart after rotation.
pub fn key_id(algorithm: SignatureAlgorithm, public: &[u8]) -> String {
    let d = HashAlgorithm::Sha256.digest(&[algorithm.code().as_bytes(), &[0], public]);
    hex::encode(&d[..8])
}

/// A secret signing key loaded from a key file.
// One long-lived value per process: the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum SigningKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// SM2.
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey({}, {})",
            self.algorithm().code(),
            self.key_id()
        )
    }
}

/// A public verifying key.
#[derive(Clone, Debug)]
pub enum VerifyingKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// SM2.
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(algorithm: SignatureAlgorithm) -> Result<Self> {
        let mut rng = rand::rngs::OsRng;
        loop {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            // An SM2 scalar must be non-zero and below the group order; retry the rare misses.
            if let Ok(k) = Self::from_secret(algorithm, &seed) {
                return Ok(k);
            }
        }
    }

    /// The key for a 32-byte secret (Ed25519 seed or SM2 scalar).
    pub fn from_secret(algorithm: SignatureAlgorithm, secret: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = secret.try_into().map_err(|_| {
            Error::Invalid(format!("a secret key has 32 bytes, not {}", secret.len()))
        })?;
        match algorithm {
            SignatureAlgorithm::Ed25519 => Ok(SigningKey::Ed25519(
                ed25519_dalek::SigningKey::from_bytes(&bytes),
            )),
            SignatureAlgorithm::Sm2 => sm2::dsa::SigningKey::from_slice(SM2_DISTID, &bytes)
                .map(|k| SigningKey::Sm2(Box::new(k)))
                .map_err(|_| Error::Invalid("not a valid SM2 secret scalar".into())),
        }
    }

    fn secret_bytes(&self) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => k.to_bytes().to_vec(),
            SigningKey::Sm2(k) => k.to_bytes().to_vec(),
        }
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
            SigningKey::Sm2(k) => VerifyingKey::Sm2(Box::new(k.verifying_key().clone())),
        }
    }
}

impl Signer for SigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            SigningKey::Ed25519(_) => SignatureAlgorithm::Ed25519,
            SigningKey::Sm2(_) => SignatureAlgorithm::Sm2,
        }
    }

    fn key_id(&self) -> String {
        self.verifying_key().key_id()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        use ed25519_dalek::Signer as _;
        match self {
            SigningKey::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
            SigningKey::Sm2(k) => {
                let sig: sm2::dsa::Signature =
                    sm2::dsa::signature::Signer::try_sign(k.as_ref(), message)
                        .map_err(|e| Error::Invalid(format!("SM2 signing failed: {e}")))?;
                Ok(sig.to_bytes().to_vec())
            }
        }
    }
}

impl VerifyingKey {
    /// The public key bytes: 32 for Ed25519, 65 (SEC1 uncompressed) for SM2.
    pub fn public_bytes(&self) -> Vec<u8> {
        match self {
            VerifyingKey::Ed25519(k) => k.to_bytes().to_vec(),
            VerifyingKey::Sm2(k) => k.to_sec1_bytes().to_vec(),
        }
    }

    /// Parses public key bytes.
    pub fn from_public(algorithm: SignatureAlgorithm, public: &[u8]) -> Result<Self> {
        match algorithm {
            SignatureAlgorithm::Ed25519 => {
                let bytes: [u8; 32] = public
                    .try_into()
                    .map_err(|_| Error::Invalid("an Ed25519 public key has 32 bytes".into()))?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(VerifyingKey::Ed25519)
                    .map_err(|_| Error::Invalid("not a valid Ed25519 public key".into()))
            }
            SignatureAlgorithm::Sm2 => sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public)
                .map(|k| VerifyingKey::Sm2(Box::new(k)))
                .map_err(|_| Error::Invalid("not a valid SM2 public key".into())),
        }
    }
}

impl Verifier for VerifyingKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            VerifyingKey::Ed25519(_) => SignatureAlgorithm::Ed25519,
            VerifyingKey::Sm2(_) => SignatureAlgorithm::Sm2,
        }
    }

    fn key_id(&self) -> String {
        key_id(self.algorithm(), &self.public_bytes())
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            VerifyingKey::Ed25519(k) => match ed25519_dalek::Signature::from_slice(sig) {
                // Strict: rejects malleable and small-order encodings.
                Ok(s) => k.verify_strict(message, &s).is_ok(),
                Err(_) => false,
            },
            VerifyingKey::Sm2(k) => match sm2::dsa::Signature::from_slice(sig) {
                Ok(s) => sm2::dsa::signature::Verifier::verify(k.as_ref(), message, &s).is_ok(),
                Err(_) => false,
            },
        }
    }
}

impl VerifyingKey {
    /// See [`Verifier::key_id`]; inherent so callers need not import the trait.
    pub fn key_id(&self) -> String {
        Verifier::key_id(self)
    }
}

fn key_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Key {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Creates a new key file at `path` (which must not exist) with mode 0600, and writes the public
/// key next to it as `PATH.pub`. Returns the public key, to be handed to auditors.
pub fn generate_key_file(path: &Path, algorithm: SignatureAlgorithm) -> Result<VerifyingKey> {
    let key = SigningKey::generate(algorithm)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = opts.open(path).map_err(io)?;
    writeln!(
        f,
        "{} {}",
        algorithm.code(),
        hex::encode(key.secret_bytes())
    )
    .map_err(io)?;
    f.sync_all().map_err(io)?;
    let public = key.verifying_key();
    write_public_key_file(&public_key_path(path), &public)?;
    Ok(public)
}

/// `PATH.pub`.
pub fn public_key_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".pub");
    PathBuf::from(s)
}

/// Writes `<algorithm> <hex public key>` to `path`.
pub fn write_public_key_file(path: &Path, key: &VerifyingKey) -> Result<()> {
    let text = format!(
        "{} {}\n",
        key.algorithm().code(),
        hex::encode(key.public_bytes())
    );
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

fn read_key_line(path: &Path) -> Result<(SignatureAlgorithm, Vec<u8>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let line = text.trim();
    let (alg, hex_part) = line
        .split_once(char::is_whitespace)
        .ok_or_else(|| key_err(path, "expected `<algorithm> <hex>` on one line"))?;
    let alg = SignatureAlgorithm::from_code(alg.trim())
        .ok_or_else(|| key_err(path, format!("unknown algorithm `{alg}` (ed25519 or sm2)")))?;
    let bytes = hex::decode(hex_part.trim()).map_err(|e| key_err(path, format!("bad hex: {e}")))?;
    Ok((alg, bytes))
}

/// Loads a secret key file. Refuses a file that group or others can read: a key that leaked is
/// no evidence of anything.
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(key_err(
                path,
                format!("mode {mode:o} lets others read the secret key; chmod 600 it"),
            ));
        }
    }
    let (alg, bytes) = read_key_line(path)?;
    SigningKey::from_secret(alg, &bytes).map_err(|e| key_err(path, e.to_string()))
}

/// Loads a verifying key from a public key file, or derives it from a secret key file.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey> {
    let (alg, bytes) = read_key_line(path)?;
    let secret_len = 32;
    if bytes.len() == secret_len && alg == SignatureAlgorithm::Sm2 {
        // 32 bytes cannot be an SM2 public key (33 or 65 bytes): it is the secret.
        return SigningKey::from_secret(alg, &bytes)
            .map(|k| k.verifying_key())
            .map_err(|e| key_err(path, e.to_string()));
    }
    if alg == SignatureAlgorithm::Ed25519 && !path.to_string_lossy().ends_with(".pub") {
        // An Ed25519 seed and public key are both 32 bytes; the `.pub` name tells them apart.
        return SigningKey::from_secret(alg, &bytes)
            .map(|k| k.verifying_key())
            .map_err(|e| key_err(path, e.to_string()));
    }
    VerifyingKey::from_public(alg, &bytes).map_err(|e| key_err(path, e.to_string()))
}

/// A signed tree head: "the log had `size` entries whose Merkle root was `root`", signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// Number of entries covered (`seq` 1..=size).
    pub size: u64,
    /// Hex Merkle tree hash of those entries.
    pub root: String,
    /// When it was signed (microsecond precision).
    pub at: DateTime<Utc>,
    /// The log's hash function.
    pub hash_algorithm: HashAlgorithm,
    /// The signature scheme.
    pub algorithm: SignatureAlgorithm,
    /// Which key signed.
    pub key_id: String,
    /// Hex signature over [`TreeHead::signed_message`].
    pub signature: String,
}

impl TreeHead {
    /// Signs a head for `size` entries with root `root`.
    pub fn sign(
        signer: &dyn Signer,
        hash_algorithm: HashAlgorithm,
        size: u64,
        root: &Hash,
        at: DateTime<Utc>,
    ) -> Result<Self> {
        use chrono::SubsecRound;
        let mut head = TreeHead {
            size,
            root: hex::encode(root),
            at: at.trunc_subsecs(6),
            hash_algorithm,
            algorithm: signer.algorithm(),
            key_id: signer.key_id(),
            signature: String::new(),
        };
        head.signature = hex::encode(signer.sign(&head.signed_message())?);
        Ok(head)
    }

    /// `at` as stored and signed.
    pub fn at_text(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// The exact bytes signed: a versioned, line-oriented text that any language can rebuild.
    pub fn signed_message(&self) -> Vec<u8> {
        format!(
            "creditloop-audit-tree-head/v1\nhash={}\nsize={}\nroot={}\nat={}\nalgorithm={}\nkey_id={}\n",
            self.hash_algorithm.code(),
            self.size,
            self.root,
            self.at_text(),
            self.algorithm.code(),
            self.key_id
        )
        .into_bytes()
    }

    /// Whether the signature is valid for `key` (and made by that key).
    pub fn verify_signature(&self, key: &dyn Verifier) -> bool {
        if self.key_id != key.key_id() || self.algorithm != key.algorithm() {
            return false;
        }
        match hex::decode(&self.signature) {
            Ok(sig) => key.verify(&self.signed_message(), &sig),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_1_verifies() {
        let sk = SigningKey::from_secret(
            SignatureAlgorithm::Ed25519,
            &hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap(),
        )
        .unwrap();
        let vk = sk.verifying_key();
        assert_eq!(
            hex::encode(vk.public_bytes()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = sk.sign(b"").unwrap();
        assert_eq!(
            hex::encode(&sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert!(vk.verify(b"", &sig));
        assert!(!vk.verify(b"x", &sig));
    }

    #[test]
    fn heads_sign_and_verify_with_both_schemes() {
        for alg in [SignatureAlgorithm::Ed25519, SignatureAlgorithm::Sm2] {
            let sk = SigningKey::generate(alg).unwrap();
            let vk = sk.verifying_key();
            let head = TreeHead::sign(&sk, HashAlgorithm::Sm3, 5, &[7u8; 32], Utc::now()).unwrap();
            assert!(head.verify_signature(&vk), "{alg:?}");
            let mut forged = head.clone();
            forged.size = 6;
            assert!(!forged.verify_signature(&vk));
            let other = SigningKey::generate(alg).unwrap().verifying_key();
            assert!(!head.verify_signature(&other));
        }
    }

    #[test]
    fn key_files_round_trip_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        for alg in [SignatureAlgorithm::Ed25519, SignatureAlgorithm::Sm2] {
            let path = dir.path().join(format!("audit-{}.key", alg.code()));
            let public = generate_key_file(&path, alg).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600);
            }
            let sk = load_signing_key(&path).unwrap();
            assert_eq!(sk.key_id(), public.key_id());
            assert_eq!(load_verifying_key(&path).unwrap().key_id(), public.key_id());
            let pubf = load_verifying_key(&public_key_path(&path)).unwrap();
            assert_eq!(pubf.key_id(), public.key_id());
            assert!(
                generate_key_file(&path, alg).is_err(),
                "never overwrites a key"
            );
        }
    }
}
