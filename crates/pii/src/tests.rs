use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

fn id(s: &str) -> ResidentId {
    ResidentId::parse(s, NaiveDate::MAX).expect("valid resident number")
}

/// Valid 18-digit numbers: address, a birth date from 1900 to 2019, sequence, computed check.
fn valid_id() -> impl Strategy<Value = ResidentId> {
    ("[1-8][0-9]{5}", 0u32..43_800, "[0-9]{3}").prop_map(|(address, day, seq)| {
        let birth = NaiveDate::from_ymd_opt(1900, 1, 1).expect("date")
            + chrono::Duration::days(i64::from(day));
        let body = format!("{address}{}{seq}", birth.format("%Y%m%d"));
        let check = creditloop_domain::ids::resident_id_check_char(&body).expect("17 digits");
        id(&format!("{body}{check}"))
    })
}

#[test]
fn legacy_number_maps_to_the_same_key() {
    let k = test_key();
    // 15-digit 110105491231002 is 11010519491231002X with the century and check added.
    assert_eq!(
        k.key_of(&id("110105491231002")),
        k.key_of(&id("11010519491231002X"))
    );
    assert_eq!(
        k.key_of(&id("11010519491231002x")),
        k.key_of(&id("11010519491231002X"))
    );
}

#[test]
fn key_shape_and_no_clear_number() {
    let k = test_key();
    let key = k.key_of(&id("11010519491231002X"));
    assert!(key.as_str().starts_with("P:"));
    assert_eq!(key.as_str().len(), 2 + PSEUDONYM_LEN);
    assert!(!key.as_str().contains("11010519491231002X"));
    let p = k.person(&id("11010519491231002X"));
    assert_eq!(p.masked, "1101**********002X");
    assert_eq!(p.key(), key);
}

#[test]
fn other_master_key_other_pseudonym_and_check_value() {
    let a = test_key();
    let b = PiiKey::from_master(&[8u8; 32], Cipher::Aes256Gcm);
    let n = id("11010519491231002X");
    assert_ne!(a.pseudonym(&n), b.pseudonym(&n));
    assert_ne!(a.check_value(), b.check_value());
    assert_eq!(a.check_value(), test_key().check_value());
    let sealed = a.seal(&n);
    assert!(matches!(b.open(&sealed), Err(PiiError::Open)));
}

#[test]
fn sealed_number_under_another_key_does_not_open() {
    let k = test_key();
    let mut s = k.seal(&id("11010519491231002X"));
    s.key = k.key_of(&id("120101198001010012"));
    assert!(matches!(k.open(&s), Err(PiiError::Open)));
}

#[test]
fn hex_keys_and_key_files() {
    let hex_key = "07".repeat(32);
    let k = PiiKey::from_hex(&hex_key, Cipher::Aes256Gcm).expect("hex key");
    assert_eq!(k.check_value(), test_key().check_value());
    assert!(PiiKey::from_hex("abcd", Cipher::Aes256Gcm).is_err());
    assert!(PiiKey::from_hex("zz", Cipher::Aes256Gcm).is_err());

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.db.pii-key");
    let created = PiiKey::load_or_create(&path, Cipher::Sm4Gcm).expect("created");
    let again = PiiKey::load_or_create(&path, Cipher::Sm4Gcm).expect("loaded");
    assert_eq!(created.check_value(), again.check_value());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&path, "not a key").expect("write");
    assert!(matches!(
        PiiKey::load(&path, Cipher::Aes256Gcm),
        Err(PiiError::KeyFile { .. })
    ));
}

#[test]
fn resolve_prefers_file_then_env_then_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("a.db");
    let url = format!("sqlite://{}", db.display());
    let env = "07".repeat(32);
    let k = resolve_key(None, Some(&env), &url, Cipher::Aes256Gcm, true).expect("env key");
    assert_eq!(k.check_value(), test_key().check_value());
    assert!(!default_key_path(&url).exists(), "env key needs no file");
    assert!(resolve_key(None, None, &url, Cipher::Aes256Gcm, false).is_err());
    let d = resolve_key(None, None, &url, Cipher::Aes256Gcm, true).expect("default file");
    assert!(default_key_path(&url).exists());
    let f = resolve_key(
        Some(&default_key_path(&url)),
        Some(&env),
        &url,
        Cipher::Aes256Gcm,
        false,
    )
    .expect("file key");
    assert_eq!(d.check_value(), f.check_value());
}

proptest! {
    #[test]
    fn pseudonym_is_deterministic_and_distinct(a in valid_id(), b in valid_id()) {
        let k = test_key();
        prop_assert_eq!(k.pseudonym(&a), k.pseudonym(&a));
        prop_assert_eq!(k.pseudonym(&a).len(), PSEUDONYM_LEN);
        if a != b {
            prop_assert_ne!(k.pseudonym(&a), k.pseudonym(&b));
        }
    }

    #[test]
    fn seal_open_round_trip(n in valid_id(), sm4 in any::<bool>()) {
        let k = test_key();
        let cipher = if sm4 { Cipher::Sm4Gcm } else { Cipher::Aes256Gcm };
        let s = k.seal_with(&n, cipher);
        prop_assert_eq!(&s.cipher, cipher.code());
        prop_assert!(!s.sealed.windows(18).any(|w| w == n.as_str().as_bytes()));
        prop_assert_eq!(k.open(&s).expect("opens"), n.clone());
        // Random nonces: sealing twice gives different bytes.
        prop_assert_ne!(k.seal_with(&n, cipher).sealed, s.sealed);
    }

    #[test]
    fn tampered_cipher_text_fails(n in valid_id(), at in 0usize..46, bit in 0u8..8) {
        let k = test_key();
        let mut s = k.seal(&n);
        let i = at % s.sealed.len();
        s.sealed[i] ^= 1 << bit;
        prop_assert!(matches!(k.open(&s), Err(PiiError::Open)));
    }
}

#[test]
fn sm4_is_the_standard_cipher() {
    // GB/T 32907-2016 Appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210.
    use sm4::cipher::{BlockEncrypt, KeyInit as _, generic_array::GenericArray};
    let bytes = hex::decode("0123456789abcdeffedcba9876543210").expect("hex");
    let c = sm4::Sm4::new(GenericArray::from_slice(&bytes));
    let mut block = GenericArray::clone_from_slice(&bytes);
    c.encrypt_block(&mut block);
    assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
}
