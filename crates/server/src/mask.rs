//! Masking of personal data in public views: resident numbers show their first and last four
//! characters only. Applied to the JSON of every public answer, so a new field named like the
//! identifier fields is masked without code of its own.

use serde_json::Value;

/// Field names whose values are personal identity numbers.
const PERSONAL_FIELDS: [&str; 4] = ["resident_id", "id_no", "legal_rep_id_no", "证件号码"];

/// Masks an identity number: `1201**********123X` for 18 characters; for shorter ones, all but the
/// first and last quarter.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let keep = if n >= 16 { 4 } else { n / 4 };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep || i >= n - keep { *c } else { '*' })
        .collect()
}

/// Masks a subject key of a natural person when it holds a resident number (keys of data written
/// before persons were pseudonymised); a pseudonym key (`P:` and 26 base32 characters) reveals
/// nothing and stays as it is, so it can be followed.
pub fn mask_key(k: &str) -> String {
    match k.strip_prefix("P:") {
        Some(id) if looks_personal(id) => format!("P:{}", mask_id(id)),
        _ => k.to_string(),
    }
}

/// Whether free text a caller typed (a check's subject) is a resident number, so it is masked too.
pub fn looks_personal(s: &str) -> bool {
    resident_shaped(&creditloop_domain::ids::normalize(s))
}

/// 18 or 15 digits, the last of 18 possibly `X`, in already normalised text, unless it is an
/// organisation's code and cannot be a resident number: an all-digit unified social credit code or
/// a 15-digit registration number is shown as it is, since hiding it would hide the business a
/// check was about. Where the value could be either, or is a mistyped resident number, it is
/// masked: a person's number must never show.
fn resident_shaped(s: &str) -> bool {
    use creditloop_domain::ids::{RegistrationNumber, ResidentId, Uscc};
    let shaped = (s.len() == 18 || s.len() == 15)
        && s.char_indices()
            .all(|(i, c)| c.is_ascii_digit() || (i == s.len() - 1 && (c == 'X' || c == 'x')));
    if !shaped {
        return false;
    }
    let organisation = if s.len() == 18 {
        Uscc::parse(s).is_ok()
    } else {
        RegistrationNumber::parse(s).is_ok()
    };
    // Any birth date up to the end of time: a number is masked however the clock is set.
    !organisation || ResidentId::parse(s, chrono::NaiveDate::MAX).is_ok()
}

/// Masks what a caller typed when it is a resident number; other text is returned as it is.
pub fn mask_query(s: &str) -> String {
    let normal = creditloop_domain::ids::normalize(s);
    if resident_shaped(&normal) {
        mask_id(&normal)
    } else {
        s.to_string()
    }
}

/// Walks a JSON value and masks personal identifiers in place.
pub fn mask_json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if let Value::String(s) = val {
                    if PERSONAL_FIELDS.contains(&k.as_str()) {
                        *s = mask_id(s);
                    } else if (k == "key" || k == "subject_key" || k == "subject")
                        && s.starts_with("P:")
                    {
                        *s = mask_key(s);
                    } else if (k == "subject_query" || k == "subject") && looks_personal(s) {
                        *s = mask_id(s);
                    }
                } else {
                    mask_json(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_resident_numbers_everywhere() {
        let mut v = serde_json::json!({
            "key": "P:11010519491231002X",
            "persons": [{"name": "张三", "resident_id": "11010519491231002X"}],
            "codes": {"uscc": "91330100716105852F"}
        });
        mask_json(&mut v);
        assert_eq!(v["key"], "P:1101**********002X");
        assert_eq!(v["persons"][0]["resident_id"], "1101**********002X");
        assert_eq!(v["codes"]["uscc"], "91330100716105852F");
    }

    #[test]
    fn masks_check_subjects() {
        let mut v = serde_json::json!({
            "subject": "P:11010519491231002X",
            "subject_query": "11010519491231002x",
            "other": {"subject": "11010519491231002X"},
            "company": {"subject": "U:91330100716105852F", "subject_query": "杭州某公司"}
        });
        mask_json(&mut v);
        assert_eq!(v["subject"], "P:1101**********002X");
        assert_eq!(v["subject_query"], "1101**********002x");
        assert_eq!(v["other"]["subject"], "1101**********002X");
        assert_eq!(v["company"]["subject"], "U:91330100716105852F");
        assert_eq!(v["company"]["subject_query"], "杭州某公司");
    }

    #[test]
    fn organisation_codes_of_digits_only_are_not_masked() {
        // An all-digit unified social credit code (its positions 7–14 even read as a date) and a
        // 15-digit registration number are businesses, not persons.
        for code in ["913301199001010425", "110108000000016"] {
            assert_eq!(mask_query(code), code);
            assert!(!looks_personal(code));
            let mut v = serde_json::json!({"subject_query": code});
            mask_json(&mut v);
            assert_eq!(v["subject_query"], code);
        }
        // Resident numbers, a legacy 15-digit one and a mistyped one (wrong check character)
        // are masked.
        for id in [
            "11010519491231002X",
            "110105491231002",
            "110105194912310021",
        ] {
            assert!(looks_personal(id), "{id}");
            assert_ne!(mask_query(id), id);
        }
    }
}
