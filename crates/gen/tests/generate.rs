//! End-to-end tests of the generator: determinism, validity of every code, exact bad-row and late
//! counts, encodings and formats.

mod common;

use std::path::Path;

use chrono::NaiveDate;
use creditloop_gen::{
    Category, Encoding, FileKind, Format, GenConfig, GenReport, XLSX_MAX_DATA_ROWS, generate,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

fn small(dir: &Path) -> GenConfig {
    GenConfig {
        seed: 7,
        subjects: 400,
        records: 4_000,
        bad_share: 0.05,
        late_share: 0.1,
        out_dir: dir.to_path_buf(),
        format: Format::Csv,
        encoding: Encoding::Utf8,
        categories: None,
        today: today(),
        quirks: false,
    }
}

fn run(cfg: &GenConfig) -> GenReport {
    let mut calls = 0;
    let report = generate(cfg, &mut |_| calls += 1).expect("generate");
    assert!(calls >= 1, "progress is reported at least once");
    report
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn same_seed_and_config_write_identical_bytes() {
    for (format, quirks) in [
        (Format::Csv, true),
        (Format::JsonLines, false),
        (Format::Xlsx, true),
    ] {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut cfg = small(a.path());
        cfg.format = format;
        cfg.quirks = quirks;
        let ra = run(&cfg);
        cfg.out_dir = b.path().to_path_buf();
        let rb = run(&cfg);
        assert_eq!(ra.records, rb.records);
        let (fa, fb) = (files_of(a.path()), files_of(b.path()));
        assert_eq!(fa.len(), 6, "{format:?}");
        for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
            assert_eq!(na, nb);
            assert!(ba == bb, "{na} differs between two runs ({format:?})");
        }
        // Another seed gives other data.
        let c = tempfile::tempdir().unwrap();
        cfg.out_dir = c.path().to_path_buf();
        cfg.seed = 8;
        run(&cfg);
        let fc = files_of(c.path());
        assert!(fa.iter().zip(&fc).skip(1).any(|(x, y)| x.1 != y.1));
    }
}

/// Checks every record file of a report with the independent checker: exactly the bad rows are
/// invalid, exactly the late rows are late, and codes were seen.
fn check_report(report: &GenReport, format: Format, today: NaiveDate) {
    let (mut usccs, mut ids, mut late) = (0, 0, 0);
    let mut defects = std::collections::BTreeSet::new();
    for (path, rows, bad) in &report.files {
        let Some(kind) = common::kind_of_path(path) else {
            continue;
        };
        let recs = match format {
            Format::Csv => common::read_csv(kind, path),
            Format::JsonLines => common::read_jsonl(path),
            Format::Xlsx => common::read_xlsx(kind, path),
        };
        let c = common::check(kind, &recs, today);
        assert_eq!(c.rows, *rows, "{}", path.display());
        assert_eq!(
            c.invalid,
            *bad,
            "{}: invalid rows differ from bad rows; first reasons: {:#?}",
            path.display(),
            c.reasons
        );
        usccs += c.usccs;
        ids += c.resident_ids;
        late += c.late;
        defects.extend(c.defects);
    }
    if report.bad_rows >= 100 {
        assert_eq!(
            defects.into_iter().collect::<Vec<_>>(),
            [
                "fine missing",
                "future decision date",
                "impossible date",
                "missing required field",
                "spreadsheet resident id",
                "unknown value",
                "validity inverted",
                "wrong check character",
            ],
            "every kind of defect occurs, and nothing else"
        );
    }
    assert_eq!(late, report.late_rows, "late rows");
    assert!(
        usccs > 100 && ids > 100,
        "codes checked: {usccs} uscc, {ids} ids"
    );
}

#[test]
fn valid_rows_validate_and_bad_rows_are_exactly_the_bad_share() {
    for quirks in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = small(dir.path());
        cfg.quirks = quirks;
        let report = run(&cfg);
        assert_eq!(report.agencies, 44);
        assert_eq!(report.records, 4_000);
        for (path, rows, bad) in report.files.iter().skip(1) {
            let want = (*rows as f64 * cfg.bad_share).round() as u64;
            assert!(
                bad.abs_diff(want) <= 1,
                "{}: {bad} bad of {rows}",
                path.display()
            );
        }
        assert_eq!(
            report.bad_rows,
            report.files.iter().map(|f| f.2).sum::<u64>()
        );
        check_report(&report, Format::Csv, cfg.today);
    }
}

#[test]
fn with_no_bad_rows_every_row_uscc_and_resident_id_validates() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small(dir.path());
    cfg.bad_share = 0.0;
    cfg.late_share = 0.0;
    cfg.quirks = true;
    let report = run(&cfg);
    assert_eq!(report.bad_rows, 0);
    assert_eq!(report.late_rows, 0);
    check_report(&report, Format::Csv, cfg.today);
}

#[test]
fn json_lines_and_xlsx_validate_too() {
    for format in [Format::JsonLines, Format::Xlsx] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = small(dir.path());
        cfg.format = format;
        cfg.quirks = format == Format::Xlsx;
        let report = run(&cfg);
        check_report(&report, format, cfg.today);
    }
}

#[test]
fn ten_thousand_json_lines_parse_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small(dir.path());
    cfg.format = Format::JsonLines;
    cfg.records = 33_334; // 30% penalties = 10,000
    cfg.subjects = 2_000;
    cfg.categories = Some(vec![Category::Penalty]);
    let report = run(&cfg);
    assert_eq!(report.files.len(), 2);
    let (path, rows, _) = &report.files[1];
    assert!(path.ends_with("penalties.jsonl"));
    assert_eq!(*rows, 10_000);
    let keys: Vec<&str> = FileKind::Penalties.columns().iter().map(|c| c.en).collect();
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect(line);
        let obj = v.as_object().expect("one object a line");
        assert_eq!(obj["category"], "penalty");
        for k in obj.keys() {
            assert!(
                k == "category" || keys.contains(&k.as_str()),
                "unknown key {k}"
            );
        }
        if let Some(f) = obj.get("fine_wan") {
            assert!(f.is_number() || f.is_string());
        }
        n += 1;
    }
    assert_eq!(n, 10_000);
}

#[test]
fn gbk_csv_decodes_back_to_the_utf8_text() {
    let (u, g) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut cfg = small(u.path());
    run(&cfg);
    cfg.out_dir = g.path().to_path_buf();
    cfg.encoding = Encoding::Gbk;
    run(&cfg);
    for ((name, utf8), (_, gbk)) in files_of(u.path()).iter().zip(files_of(g.path())) {
        let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&gbk);
        assert!(!had_errors, "{name}");
        let want = String::from_utf8(utf8.clone())
            .unwrap()
            .replace('\n', "\r\n");
        assert!(text == want, "{name} differs after GBK round trip");
    }
    // With quirks every character still has a GBK form (no numeric character references).
    let q = tempfile::tempdir().unwrap();
    cfg.out_dir = q.path().to_path_buf();
    cfg.quirks = true;
    let report = run(&cfg);
    for (name, bytes) in files_of(q.path()) {
        let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
        assert!(!had_errors && !text.contains("&#"), "{name}");
        if let Some(kind) = common::kind_of_path(Path::new(&name)) {
            let recs = common::read_csv_text(kind, &text);
            let c = common::check(kind, &recs, cfg.today);
            let (_, _, bad) = report.files.iter().find(|f| f.0.ends_with(&name)).unwrap();
            assert_eq!(c.invalid, *bad, "{name}: {:#?}", c.reasons);
        }
    }
}

#[test]
fn utf8_bom_starts_with_the_mark() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small(dir.path());
    cfg.encoding = Encoding::Utf8Bom;
    cfg.records = 100;
    let report = run(&cfg);
    for (path, _, _) in &report.files {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{}", path.display());
    }
}

#[test]
fn shares_of_categories_follow_the_plan() {
    let cfg = GenConfig::demo();
    let counts = cfg.planned_counts().unwrap();
    let get = |c: Category| counts.iter().find(|x| x.0 == c).unwrap().1;
    assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 8_000);
    assert_eq!(get(Category::Penalty), 2_400);
    assert_eq!(get(Category::Licence), 3_200);
    let reg = get(Category::Registration);
    assert!(
        (800..=1_000).contains(&reg),
        "one registration per organisation: {reg}"
    );
    for c in Category::ALL {
        assert!(get(c) > 0, "{c:?}");
    }
    // Selecting categories keeps their counts.
    let only = GenConfig {
        categories: Some(vec![Category::Penalty, Category::RedList]),
        ..GenConfig::demo()
    };
    let sel = only.planned_counts().unwrap();
    for (c, n) in sel {
        match c {
            Category::Penalty | Category::RedList => assert_eq!(n, get(c)),
            _ => assert_eq!(n, 0),
        }
    }
}

#[test]
fn category_selection_writes_only_those_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small(dir.path());
    cfg.categories = Some(vec![Category::Registration]);
    cfg.bad_share = 0.0;
    let report = run(&cfg);
    let names: Vec<_> = files_of(dir.path()).into_iter().map(|f| f.0).collect();
    assert_eq!(names, ["agencies.csv", "others.csv"]);
    let recs = common::read_csv(FileKind::Others, &dir.path().join("others.csv"));
    assert_eq!(recs.len() as u64, report.records);
    assert!(recs.iter().all(|r| r["category"] == "登记注册"));
    // Registrations go through the subjects in order: no subject is registered twice.
    let mut names: Vec<_> = recs.iter().map(|r| r["subject_name"].clone()).collect();
    names.sort();
    names.dedup();
    assert!(names.len() as u64 >= report.records * 98 / 100);
}

#[test]
fn xlsx_refuses_more_rows_than_a_sheet_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small(dir.path());
    cfg.format = Format::Xlsx;
    cfg.records = 4_000_000; // 1.2 M penalties
    let err = generate(&cfg, &mut |_| {}).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("penalties.xlsx"), "{err}");
    assert!(
        err.to_string().contains(&(XLSX_MAX_DATA_ROWS).to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn invalid_configurations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for broken in [
        GenConfig {
            bad_share: 1.5,
            ..small(dir.path())
        },
        GenConfig {
            late_share: -0.1,
            ..small(dir.path())
        },
        GenConfig {
            subjects: 0,
            ..small(dir.path())
        },
        GenConfig {
            categories: Some(vec![]),
            ..small(dir.path())
        },
    ] {
        let err = generate(&broken, &mut |_| {}).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[test]
fn agencies_file_lists_the_44_agencies() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small(dir.path());
    cfg.records = 0;
    let report = run(&cfg);
    assert_eq!(report.records, 0);
    let mut rdr = csv::Reader::from_path(dir.path().join("agencies.csv")).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["code", "name", "level", "region", "parent"]
    );
    let rows: Vec<_> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 44);
    let codes: Vec<_> = rows.iter().map(|r| r[0].to_string()).collect();
    for r in &rows {
        creditloop_domain::ids::Uscc::parse(&r[0]).unwrap();
        if !r[4].is_empty() {
            assert!(codes.contains(&r[4].to_string()));
        }
    }
    assert!(rows.iter().any(|r| &r[1] == "天津市第一中级人民法院"));
}
