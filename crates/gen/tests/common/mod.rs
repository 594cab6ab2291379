//! An independent checker of generated files: it reads them back (CSV, JSON Lines, XLSX) and applies
//! the importer's rules of docs/fields.md with the domain's parsers, so tests can count the rows
//! that must be rejected and the valid rows that are late.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use creditloop_domain::calendar::WorkingCalendar;
use creditloop_domain::ids::{
    PLACEHOLDER, RegistrationNumber, ResidentId, Uscc, is_empty_marker, normalize,
};
use creditloop_domain::record::{Category, LicenceKind, PenaltyKind};
use creditloop_domain::subject::CounterpartKind;
use creditloop_gen::FileKind;

/// One row as English key → cleaned value (empty markers and surrounding spaces removed).
pub type Rec = BTreeMap<String, String>;

/// What a file holds by the checker's rules.
#[derive(Debug, Default)]
pub struct Checked {
    pub rows: u64,
    pub invalid: u64,
    pub late: u64,
    /// The first few reasons, for messages.
    pub reasons: Vec<String>,
    pub usccs: u64,
    pub resident_ids: u64,
    /// The kinds of defect met (classified from the first problem of each invalid row).
    pub defects: std::collections::BTreeSet<&'static str>,
}

/// The kind of defect a problem message names.
fn classify(problem: &str) -> &'static str {
    if problem.starts_with("missing") {
        "missing required field"
    } else if problem.starts_with("uscc") {
        "wrong check character"
    } else if problem.starts_with("id_no") {
        "spreadsheet resident id"
    } else if problem.contains("after submission") {
        "future decision date"
    } else if problem.starts_with("decision_date") {
        "impossible date"
    } else if problem.starts_with("valid_to") || problem.starts_with("removed_on") {
        "validity inverted"
    } else if problem.starts_with("fine missing") {
        "fine missing"
    } else if ["penalty kind", "licence kind", "list type", "category"]
        .iter()
        .any(|p| problem.starts_with(p))
    {
        "unknown value"
    } else {
        "other"
    }
}

fn clean(v: &str) -> String {
    let t = v.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if is_empty_marker(t) {
        String::new()
    } else {
        t.to_string()
    }
}

fn header_key(kind: FileKind, h: &str) -> Option<&'static str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '（' => '(',
                '）' => ')',
                o => o,
            })
            .collect()
    };
    let h = norm(h);
    kind.columns()
        .into_iter()
        .find(|c| norm(c.zh) == h || c.en == h)
        .map(|c| c.en)
}

/// Reads a CSV file (UTF-8, with or without BOM), skipping a title line.
pub fn read_csv_text(kind: FileKind, text: &str) -> Vec<Rec> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut header: Option<Vec<Option<&'static str>>> = None;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("csv record");
        match &header {
            None => {
                let keys: Vec<_> = rec.iter().map(|h| header_key(kind, h)).collect();
                if keys.iter().filter(|k| k.is_some()).count() >= 5 {
                    header = Some(keys);
                }
            }
            Some(keys) => {
                let mut r = Rec::new();
                for (k, v) in keys.iter().zip(rec.iter()) {
                    if let Some(k) = k {
                        r.insert(k.to_string(), clean(v));
                    }
                }
                out.push(r);
            }
        }
    }
    out
}

pub fn read_csv(kind: FileKind, path: &Path) -> Vec<Rec> {
    let text = std::fs::read_to_string(path).expect("utf-8 csv");
    read_csv_text(kind, &text)
}

pub fn read_jsonl(path: &Path) -> Vec<Rec> {
    let text = std::fs::read_to_string(path).expect("jsonl");
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            let obj = v.as_object().expect("object").clone();
            obj.into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(s) => clean(&s),
                        serde_json::Value::Array(a) => a
                            .iter()
                            .map(|p| {
                                format!(
                                    "{}:{}:{}",
                                    p["role"].as_str().unwrap_or(""),
                                    p["name"].as_str().unwrap_or(""),
                                    p["resident_id"].as_str().unwrap_or("")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(";"),
                        other => other.to_string(),
                    };
                    (k, s)
                })
                .collect()
        })
        .collect()
}

pub fn read_xlsx(kind: FileKind, path: &Path) -> Vec<Rec> {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).expect("xlsx");
    let range = wb.worksheet_range_at(0).expect("sheet").expect("range");
    let mut header: Option<Vec<Option<&'static str>>> = None;
    let mut out = Vec::new();
    for row in range.rows() {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Data::String(s) => s.clone(),
                Data::Float(f) => f.to_string(),
                Data::Int(i) => i.to_string(),
                Data::Empty => String::new(),
                other => other.to_string(),
            })
            .collect();
        match &header {
            None => {
                let keys: Vec<_> = cells.iter().map(|h| header_key(kind, h)).collect();
                if keys.iter().filter(|k| k.is_some()).count() >= 5 {
                    header = Some(keys);
                }
            }
            Some(keys) => {
                let mut r = Rec::new();
                for (k, v) in keys.iter().zip(cells.iter()) {
                    if let Some(k) = k {
                        r.insert(k.to_string(), clean(v));
                    }
                }
                out.push(r);
            }
        }
    }
    out
}

/// Dates in the forms docs/fields.md accepts.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.split_whitespace().next()?;
    let nums: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let (y, m, d) = match nums.as_slice() {
        [all] if all.len() == 8 => (&all[..4], &all[4..6], &all[6..]),
        [y, m, d] => (*y, *m, *d),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn get<'a>(r: &'a Rec, k: &str) -> &'a str {
    r.get(k).map(String::as_str).unwrap_or("")
}

/// The reasons `r` (a row of `kind`) must be rejected; empty when valid.
pub fn problems(kind: FileKind, r: &Rec, today: NaiveDate, stats: &mut Checked) -> Vec<String> {
    let mut p = Vec::new();
    let required: &[&str] = match kind {
        FileKind::Penalties => &[
            "subject_name",
            "counterpart_kind",
            "doc_no",
            "violation_type",
            "violation_facts",
            "legal_basis",
            "penalty_kinds",
            "content",
            "decision_date",
            "valid_until",
            "authority",
            "authority_code",
            "source_unit",
            "source_unit_code",
        ],
        FileKind::Licences => &[
            "subject_name",
            "counterpart_kind",
            "document_name",
            "doc_no",
            "licence_kind",
            "content",
            "decision_date",
            "valid_from",
            "valid_to",
            "authority",
            "authority_code",
            "licence_status",
            "source_unit",
            "source_unit_code",
        ],
        FileKind::DishonestDebtors => &[
            "subject_name",
            "court",
            "doc_no",
            "obligation",
            "performance",
            "conduct",
            "decision_date",
            "source_unit",
            "source_unit_code",
        ],
        FileKind::Lists => &[
            "subject_name",
            "list_type",
            "list_name",
            "reason",
            "authority",
            "authority_code",
            "doc_no",
            "decision_date",
            "source_unit",
            "source_unit_code",
        ],
        FileKind::Others => &[
            "category",
            "subject_name",
            "doc_no",
            "title",
            "decision_date",
            "authority",
            "authority_code",
            "source_unit",
            "source_unit_code",
        ],
    };
    for k in required {
        if get(r, k).is_empty() {
            p.push(format!("missing {k}"));
        }
    }
    // Subject identity.
    let ck = get(r, "counterpart_kind");
    let person = if kind == FileKind::DishonestDebtors {
        get(r, "uscc").is_empty()
    } else {
        CounterpartKind::parse(ck) == Some(CounterpartKind::NaturalPerson)
    };
    if !ck.is_empty() && CounterpartKind::parse(ck).is_none() {
        p.push(format!("counterpart {ck}"));
    }
    if person {
        match ResidentId::parse(get(r, "id_no"), today) {
            Ok(_) => stats.resident_ids += 1,
            Err(e) => p.push(format!("id_no {}: {e}", get(r, "id_no"))),
        }
    } else {
        let u = get(r, "uscc");
        if normalize(u) == PLACEHOLDER || u.is_empty() {
            if let Err(e) = RegistrationNumber::parse(get(r, "reg_no")) {
                p.push(format!("reg_no {}: {e}", get(r, "reg_no")));
            }
        } else {
            match Uscc::parse(u) {
                Ok(_) => stats.usccs += 1,
                Err(e) => p.push(format!("uscc {u}: {e}")),
            }
        }
        if kind != FileKind::DishonestDebtors && get(r, "legal_rep").is_empty() {
            p.push("missing legal_rep".into());
        }
    }
    let rep_id = get(r, "legal_rep_id_no");
    if !rep_id.is_empty() {
        match ResidentId::parse(rep_id, today) {
            Ok(_) => stats.resident_ids += 1,
            Err(e) => p.push(format!("legal_rep_id_no {rep_id}: {e}")),
        }
    }
    for person in get(r, "persons").split(';').filter(|s| !s.is_empty()) {
        let id = person.rsplit(':').next().unwrap_or("");
        match ResidentId::parse(id, today) {
            Ok(_) => stats.resident_ids += 1,
            Err(e) => p.push(format!("persons {id}: {e}")),
        }
    }
    for k in ["authority_code", "source_unit_code"] {
        let c = get(r, k);
        if !c.is_empty() && Uscc::parse(c).is_err() {
            p.push(format!("{k} {c}"));
        }
    }
    // Dates.
    let submitted = get(r, "submitted_on");
    let submitted = if submitted.is_empty() {
        Some(today)
    } else {
        parse_date(submitted)
    };
    if submitted.is_none() || submitted > Some(today) {
        p.push(format!("submitted_on {}", get(r, "submitted_on")));
    }
    let decision = get(r, "decision_date");
    let decision = if decision.is_empty() {
        None
    } else {
        let d = parse_date(decision);
        if d.is_none() {
            p.push(format!("decision_date {decision}"));
        }
        if let (Some(d), Some(s)) = (d, submitted)
            && (d > s || d > today)
        {
            p.push(format!("decision_date {d} after submission {s}"));
        }
        d
    };
    let mut date = |k: &str| -> Option<NaiveDate> {
        let v = get(r, k);
        if v.is_empty() {
            return None;
        }
        let d = parse_date(v);
        if d.is_none() {
            p.push(format!("{k} {v}"));
        }
        d
    };
    let valid_from = date("valid_from");
    let valid_to = date("valid_to");
    let removed = date("removed_on");
    let _ = (
        date("valid_until"),
        date("filed_on"),
        date("publicity_until"),
    );
    if let (Some(f), Some(t)) = (valid_from, valid_to)
        && t < f
    {
        p.push(format!("valid_to {t} before valid_from {f}"));
    }
    if let (Some(d), Some(rm)) = (decision, removed)
        && rm < d
    {
        p.push(format!("removed_on {rm} before decision {d}"));
    }
    // Category-specific values.
    match kind {
        FileKind::Penalties => {
            let k = get(r, "penalty_kinds");
            if !k.is_empty() {
                match PenaltyKind::parse_list(k) {
                    Ok(kinds) => {
                        let fine = get(r, "fine_wan");
                        if kinds.contains(&PenaltyKind::Fine)
                            && fine.parse::<f64>().map_or(true, |f| f <= 0.0)
                        {
                            p.push(format!("fine missing: {fine:?}"));
                        }
                    }
                    Err(e) => p.push(format!("penalty kind {e}")),
                }
            }
        }
        FileKind::Licences => {
            let k = get(r, "licence_kind");
            if !k.is_empty() && LicenceKind::parse(k).is_none() {
                p.push(format!("licence kind {k}"));
            }
            let s = get(r, "licence_status");
            if !s.is_empty() && s != "有效" && s != "无效" {
                p.push(format!("status {s}"));
            }
        }
        FileKind::Lists => {
            let t = get(r, "list_type");
            if !t.is_empty() && !Category::parse(t).is_some_and(Category::is_list) {
                p.push(format!("list type {t}"));
            }
        }
        FileKind::Others => {
            let c = get(r, "category");
            if !c.is_empty() && Category::parse(c).is_none() {
                p.push(format!("category {c}"));
            }
        }
        FileKind::DishonestDebtors => {}
    }
    p
}

/// Checks all rows; counts invalid ones and, among valid ones, late ones.
pub fn check(kind: FileKind, rows: &[Rec], today: NaiveDate) -> Checked {
    let cal = WorkingCalendar::builtin();
    let mut c = Checked::default();
    for r in rows {
        c.rows += 1;
        let p = problems(kind, r, today, &mut c);
        if p.is_empty() {
            let d = parse_date(get(r, "decision_date")).expect("valid decision date");
            let s = parse_date(get(r, "submitted_on")).expect("valid submission date");
            if s > cal.add_working_days(d, 7) {
                c.late += 1;
            }
        } else {
            c.invalid += 1;
            c.defects.insert(classify(&p[0]));
            if c.reasons.len() < 10 {
                c.reasons.push(p.join("; "));
            }
        }
    }
    c
}

/// The record kind of a generated file, from its stem.
pub fn kind_of_path(path: &Path) -> Option<FileKind> {
    let stem = path.file_stem()?.to_str()?;
    FileKind::ALL.into_iter().find(|f| f.stem() == stem)
}
