//! Every identifier parser on arbitrary text (docs/fuzzing.md, target `ids`).
//!
//! Invariants: no panic; `normalize` is idempotent and leaves no whitespace or lower-case ASCII; a
//! parsed value re-parses to itself from its stored form (and from its `Display` form where that is
//! not masked); the subject-code classifier agrees with the parser of the kind it picked, and its
//! key reads back.
#![no_main]

use chrono::NaiveDate;
use creditloop_domain::ids::{
    OrgCode, RegistrationNumber, ResidentId, SubjectCode, Uscc, UsccExceptions, is_empty_marker,
    is_spreadsheet_number, normalize,
};
use libfuzzer_sys::fuzz_target;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 1).expect("fixed date")
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let today = today();

    let n = normalize(s);
    assert_eq!(normalize(&n), n, "normalize not idempotent on {s:?}");
    assert!(
        !n.chars()
            .any(|c| c.is_whitespace() || c.is_ascii_lowercase()),
        "normalize left whitespace or lower case: {n:?}"
    );
    let _ = is_empty_marker(s);
    let _ = is_spreadsheet_number(s);

    if let Ok(u) = Uscc::parse(s) {
        assert_eq!(u.as_str().len(), 18);
        assert_eq!(Uscc::parse(u.as_str()).as_ref(), Ok(&u), "uscc {s:?}");
        assert_eq!(Uscc::parse(&u.to_string()).as_ref(), Ok(&u));
        assert_eq!(
            OrgCode::parse(u.org_code().as_str()).as_ref(),
            Ok(&u.org_code())
        );
        let _ = (u.registration_authority(), u.entity_kind_zh(), u.division());
    }
    let exceptions = UsccExceptions::builtin_ref();
    if let Ok((u, _)) = Uscc::parse_with(s, exceptions) {
        let (again, _) = Uscc::parse_with(u.as_str(), exceptions).expect("listed code re-parses");
        assert_eq!(again, u);
    }
    if let Ok(r) = RegistrationNumber::parse(s) {
        assert_eq!(r.as_str().len(), 15);
        assert_eq!(
            RegistrationNumber::parse(r.as_str()).as_ref(),
            Ok(&r),
            "reg no {s:?}"
        );
        let _ = (r.registrar(), r.sequence());
    }
    if let Ok(o) = OrgCode::parse(s) {
        assert_eq!(o.as_str().len(), 9);
        assert_eq!(
            OrgCode::parse(o.as_str()).as_ref(),
            Ok(&o),
            "org code {s:?}"
        );
        assert_eq!(OrgCode::parse(&o.hyphenated()).as_ref(), Ok(&o));
    }
    if let Ok(p) = ResidentId::parse(s, today) {
        assert_eq!(p.as_str().len(), 18);
        assert!(p.birth_date() <= today);
        assert_eq!(
            ResidentId::parse(p.as_str(), today).as_ref(),
            Ok(&p),
            "resident id"
        );
        assert_eq!(p.masked().chars().count(), 18);
        let _ = p.is_male();
    }
    if let Ok(code) = SubjectCode::detect(s, today) {
        assert_eq!(
            SubjectCode::detect(code.as_str(), today).as_ref(),
            Ok(&code),
            "detect {s:?}"
        );
        match &code {
            SubjectCode::Uscc(u) => assert_eq!(Uscc::parse(s).as_ref(), Ok(u)),
            SubjectCode::RegNo(r) => assert_eq!(RegistrationNumber::parse(s).as_ref(), Ok(r)),
            SubjectCode::OrgCode(o) => assert_eq!(OrgCode::parse(s).as_ref(), Ok(o)),
            SubjectCode::ResidentId(p) => assert_eq!(ResidentId::parse(s, today).as_ref(), Ok(p)),
        }
        assert_eq!(SubjectCode::from_key(&code.key()).as_ref(), Some(&code));
    }
    if let Ok((code, _)) = SubjectCode::detect_with(s, today, exceptions) {
        assert_eq!(
            SubjectCode::from_key(&code.key()).as_ref(),
            Some(&code),
            "key {s:?}"
        );
    }
    let _ = SubjectCode::from_key(s);
});
