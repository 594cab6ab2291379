//! The import pipeline against the SQLite store: batches, counts, the rejects file and its
//! correction, all-or-nothing imports.

mod common;

use std::path::Path;

use common::*;
use creditloop_domain::intake::RejectedRow;
use creditloop_ingest::{
    ImportOptions, IngestError, Progress, RawRowResult, ReadError, ReadOptions, RejectsWriter,
    import, import_with_rejects, read_path, sha256_file,
};
use creditloop_store::Store;

fn store(dir: &Path) -> Box<dyn Store> {
    creditloop_store::open(&format!("sqlite://{}", dir.join("db.sqlite").display()))
        .expect("open the SQLite store")
}

fn file_with_bad_rows(dir: &Path) -> std::path::PathBuf {
    let mut rows = Vec::new();
    for i in 1..=5 {
        let mut f = penalty();
        set(
            &mut f,
            "行政处罚决定书文号",
            &format!("杭市监罚〔2024〕{i}号"),
        );
        if i == 2 {
            set(
                &mut f,
                "行政相对人代码_1(统一社会信用代码)",
                "91350100M000100Y4Z",
            );
        }
        if i == 4 {
            set(&mut f, "处罚决定日期", "2023-02-30");
            set(&mut f, "罚款金额（万元）", "-3");
        }
        rows.push(f);
    }
    let path = dir.join("处罚.csv");
    std::fs::write(&path, csv_text(&rows, "\r\n")).expect("write");
    path
}

fn options(path: &Path, batch_size: usize) -> ImportOptions {
    ImportOptions {
        batch_size,
        all_or_nothing: false,
        source_name: path.display().to_string(),
        source_digest: sha256_file(path).expect("digest"),
        agency: Some(SOURCE_USCC.into()),
        bulk: true,
        ..ImportOptions::default()
    }
}

#[test]
fn import_write_rejects_correct_them_and_import_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path());
    let path = file_with_bad_rows(dir.path());
    let v = validator();
    let rejects_path = dir.path().join("rejects.csv");
    let mut rejects = RejectsWriter::create(&rejects_path).expect("rejects file");
    let mut progress: Vec<Progress> = Vec::new();
    let report = import_with_rejects(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &v,
        store.as_ref(),
        &options(&path, 2),
        Some(&mut rejects),
        &mut |p| progress.push(p),
    )
    .expect("import");
    rejects.finish().expect("flush");

    assert_eq!(report.rows_read, 5);
    assert_eq!(report.counts.accepted, 3);
    assert_eq!(report.counts.rejected, 2);
    assert_eq!(report.counts.late, 3);
    assert_eq!(report.batches.len(), 3);
    assert!(report.stored);
    assert_eq!(report.first_rejects.len(), 2);
    assert_eq!(report.first_rejects[0].row, 3);
    assert_eq!(report.first_rejects[1].row, 5);
    assert_eq!(report.first_rejects[1].errors.len(), 2);
    assert!(report.unknown_columns.is_empty());
    let last = progress.last().copied().expect("progress reported");
    assert_eq!(last.batches_written, 3);
    assert_eq!(last.rows_read, 5);

    let totals = store.totals().expect("totals");
    assert_eq!(totals.records, 3);
    assert_eq!(totals.batches, 3);
    let stored: Vec<RejectedRow> = report
        .batches
        .iter()
        .flat_map(|b| store.rejects(b).expect("rejects"))
        .collect();
    assert_eq!(stored.len(), 2);

    // The rejects file: UTF-8 with BOM, the original columns and the four error columns.
    let bytes = std::fs::read(&rejects_path).expect("read rejects");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8(bytes).expect("utf-8");
    let header = text.lines().next().expect("header");
    assert!(header.ends_with("错误行号,错误字段,错误原因,error_reason"));
    assert!(text.contains("处罚决定日期：日期“2023-02-30”不存在"));
    assert!(text.contains("；"));

    // Correct the values in place and import the file again.
    let fixed = text
        .replace("91350100M000100Y4Z", SUBJECT_USCC)
        .replace("2023-02-30", "2024-03-06")
        .replace(",-3,", ",3,");
    let fixed_path = dir.path().join("rejects-fixed.csv");
    std::fs::write(&fixed_path, fixed).expect("write");
    let report = import(
        read_path(&fixed_path, None, &ReadOptions::default()).expect("open"),
        &v,
        store.as_ref(),
        &options(&fixed_path, 100),
        &mut |_| {},
    )
    .expect("import corrected");
    assert_eq!(report.counts.rejected, 0, "{:#?}", report.first_rejects);
    assert_eq!(report.counts.accepted, 2);
    assert!(
        report.unknown_columns.is_empty(),
        "{:?}",
        report.unknown_columns
    );
    assert_eq!(store.totals().expect("totals").records, 5);

    // The first file again: nothing new.
    let report = import(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &v,
        store.as_ref(),
        &options(&path, 100),
        &mut |_| {},
    )
    .expect("import again");
    assert_eq!(report.counts.duplicates, 3);
    assert_eq!(report.counts.accepted, 0);
}

#[test]
fn all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path());
    let path = file_with_bad_rows(dir.path());
    let v = validator();
    let mut opts = options(&path, 2);
    opts.all_or_nothing = true;
    let report = import(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &v,
        store.as_ref(),
        &opts,
        &mut |_| {},
    )
    .expect("import");
    assert!(!report.stored);
    assert_eq!(report.counts.accepted, 0);
    assert_eq!(report.counts.rejected, 2);
    assert_eq!(report.batches.len(), 1);
    assert!(report.warnings.iter().any(|w| w.rule == "all_or_nothing"));
    assert_eq!(store.totals().expect("totals").records, 0);

    // A clean file goes in as one batch.
    let clean = dir.path().join("clean.csv");
    let mut second = penalty();
    set(&mut second, "行政处罚决定书文号", "杭市监罚〔2024〕99号");
    std::fs::write(&clean, csv_text(&[penalty(), second], "\n")).expect("write");
    let mut opts = options(&clean, 1);
    opts.all_or_nothing = true;
    let report = import(
        read_path(&clean, None, &ReadOptions::default()).expect("open"),
        &v,
        store.as_ref(),
        &opts,
        &mut |_| {},
    )
    .expect("import");
    assert!(report.stored, "{:#?}", report.first_rejects);
    assert_eq!(report.batches.len(), 1);
    assert_eq!(report.counts.accepted, 2);
}

#[test]
fn a_fatal_read_error_stops_after_the_committed_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path());
    let v = validator();
    let mut items: Vec<RawRowResult> = Vec::new();
    for i in 1..=3 {
        let mut f = penalty();
        set(&mut f, "行政处罚决定书文号", &format!("X{i}"));
        items.push(Ok(raw(i + 1, f)));
    }
    items.push(Err(ReadError::Fatal(IngestError::Xlsx("broken".into()))));
    items.push(Ok(raw(9, penalty())));
    let opts = ImportOptions {
        batch_size: 2,
        source_name: "test".into(),
        ..ImportOptions::default()
    };
    let err =
        import(items.into_iter(), &v, store.as_ref(), &opts, &mut |_| {}).expect_err("fatal error");
    assert!(matches!(err, IngestError::Xlsx(_)));
    // The first batch (2 rows) was committed before the failure.
    assert_eq!(store.totals().expect("totals").records, 2);
}

#[test]
fn unknown_columns_and_warnings_are_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path());
    let mut rows = Vec::new();
    for i in 1..=3 {
        let mut f = penalty();
        set(&mut f, "行政处罚决定书文号", &format!("W{i}"));
        set(
            &mut f,
            "行政相对人代码_1(统一社会信用代码)",
            "91350100M0001TGQXM",
        );
        f.push(("内部编号".into(), format!("{i}")));
        rows.push(f);
    }
    let path = dir.path().join("w.csv");
    std::fs::write(&path, csv_text(&rows, "\n")).expect("write");
    let report = import(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &validator(),
        store.as_ref(),
        &options(&path, 10),
        &mut |_| {},
    )
    .expect("import");
    assert_eq!(report.unknown_columns, ["内部编号"]);
    assert_eq!(report.warnings.len(), 3);
    assert_eq!(report.counts.accepted, 3);
}

/// Everything a SQLite store holds at rest: the database file and its write-ahead log.
fn raw_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(dir.join("db.sqlite")).expect("database file");
    if let Ok(wal) = std::fs::read(dir.join("db.sqlite-wal")) {
        bytes.extend(wal);
    }
    bytes
}

#[test]
fn resident_numbers_are_not_stored_in_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path());
    // Accepted rows name the legal representative; rejected rows carry the number in their raw
    // columns: neither may reach the database in clear.
    let path = file_with_bad_rows(dir.path());
    let report = import(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &validator(),
        store.as_ref(),
        &options(&path, 2),
        &mut |_| {},
    )
    .expect("import");
    assert_eq!(report.counts.accepted, 3);
    assert_eq!(report.counts.rejected, 2);
    let masked = "1101**********002X";
    for r in &report.first_rejects {
        let v = &r
            .raw
            .iter()
            .find(|(h, _)| h == "法定代表人证件号码")
            .expect("column")
            .1;
        assert_eq!(v, masked);
    }
    let key = person(RESIDENT_ID).key();
    let sealed = store
        .sealed_identity(&key)
        .expect("read")
        .expect("sealed copy stored");
    assert_eq!(
        creditloop_pii::test_key()
            .open(&sealed)
            .expect("opens")
            .as_str(),
        RESIDENT_ID
    );
    drop(store);
    let text = String::from_utf8_lossy(&raw_bytes(dir.path())).into_owned();
    assert!(
        !text.contains(RESIDENT_ID),
        "resident number in clear at rest"
    );
    assert!(text.contains(masked));
    assert!(
        text.contains(key.as_str()),
        "persons are filed by pseudonym"
    );
}

#[test]
fn a_store_written_with_another_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path());
    let path = file_with_bad_rows(dir.path());
    import(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &validator(),
        store.as_ref(),
        &options(&path, 100),
        &mut |_| {},
    )
    .expect("first import binds the key");
    let mut cfg = config();
    cfg.pii = std::sync::Arc::new(creditloop_pii::PiiKey::from_master(
        &[1u8; 32],
        creditloop_pii::Cipher::Sm4Gcm,
    ));
    let other = creditloop_ingest::Validator::new(cfg);
    let err = import(
        read_path(&path, None, &ReadOptions::default()).expect("open"),
        &other,
        store.as_ref(),
        &options(&path, 100),
        &mut |_| {},
    )
    .expect_err("another key");
    assert!(
        matches!(
            err,
            IngestError::Store {
                error: creditloop_store::StoreError::PiiKeyMismatch { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        store.totals().expect("totals").records,
        3,
        "nothing written"
    );
}

/// Rows of a file larger than the chunks the pipeline validates and encodes at a time: distinct
/// records, a correction of an earlier row now and then, a bad row now and then.
fn many_rows(n: u64) -> Vec<RawRowResult> {
    (1..=n)
        .map(|i| {
            let mut f = penalty();
            // Every 50th row corrects the row before it (same document number, another fine).
            let doc = if i % 50 == 0 { i - 1 } else { i };
            set(
                &mut f,
                "行政处罚决定书文号",
                &format!("杭市监罚〔2024〕{doc}号"),
            );
            set(&mut f, "罚款金额（万元）", &format!("{}.5", i % 7));
            set(&mut f, "处罚内容", &format!("警告并处罚款{}.5万元", i % 7));
            if i % 97 == 0 {
                set(&mut f, "处罚决定日期", "2023-02-30");
            }
            Ok(raw(i + 1, f))
        })
        .collect()
}

/// Encoding on threads of the pipeline's own (any number of them) or in the store changes nothing
/// an agency or a reader can see: the same report, batches, rejected rows, versions and records.
#[test]
fn encoder_threads_change_nothing_but_who_encodes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v = validator();
    let mut seen = Vec::new();
    for encoders in [0, 1, 3] {
        let sub = dir.path().join(format!("e{encoders}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let store = store(&sub);
        let opts = ImportOptions {
            batch_size: 700,
            source_name: "many.csv".into(),
            source_digest: "many".into(),
            bulk: true,
            encoders: Some(encoders),
            ..ImportOptions::default()
        };
        let report = import(
            many_rows(1_700).into_iter(),
            &v,
            store.as_ref(),
            &opts,
            &mut |_| {},
        )
        .expect("import");
        let rejected: Vec<u64> = report.first_rejects.iter().map(|r| r.row).collect();
        let corrected = store
            .record_history(&creditloop_domain::record::RecordKey {
                source: SOURCE_USCC.into(),
                category: creditloop_domain::record::Category::Penalty,
                doc_no: "杭市监罚〔2024〕1249号".into(),
            })
            .expect("history");
        let t = store.totals().expect("totals");
        seen.push((
            report.counts,
            report.batches.len(),
            rejected,
            report.warnings.len(),
            report.rows_read,
            corrected
                .iter()
                .map(|r| (r.version, r.record.clone()))
                .collect::<Vec<_>>(),
            (t.records, t.versions, t.batches, t.rejected_rows),
        ));
    }
    let (counts, batches, rejected, _, read, corrected, totals) = &seen[0];
    assert_eq!(*read, 1_700);
    assert_eq!(counts.rejected, 17);
    assert_eq!(rejected.len(), 17);
    assert_eq!(rejected[0], 98);
    assert_eq!(counts.new_versions, 33);
    assert_eq!(*batches, 3);
    assert_eq!(corrected.len(), 2);
    assert_eq!(totals.1, counts.accepted);
    for other in &seen[1..] {
        assert_eq!(other, &seen[0]);
    }

    // A fatal read error past the first chunks: the batches before it are kept, whoever encodes.
    let mut kept = Vec::new();
    for encoders in [0, 2] {
        let sub = dir.path().join(format!("fatal{encoders}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let store = store(&sub);
        let mut items = many_rows(1_300);
        items.insert(
            1_200,
            Err(ReadError::Fatal(IngestError::Xlsx("broken".into()))),
        );
        let opts = ImportOptions {
            batch_size: 500,
            source_name: "fatal".into(),
            encoders: Some(encoders),
            ..ImportOptions::default()
        };
        let err = import(items.into_iter(), &v, store.as_ref(), &opts, &mut |_| {})
            .expect_err("fatal error");
        assert!(matches!(err, IngestError::Xlsx(_)));
        kept.push(store.totals().expect("totals").batches);
    }
    assert_eq!(kept, [2, 2]);
}
