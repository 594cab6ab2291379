//! Real files in a temporary directory: GBK and UTF-8 CSV as office software writes them, XLSX
//! workbooks, JSON Lines, and a large generated CSV read as a stream.

mod common;

use std::io::Read;
use std::path::Path;

use common::*;
use creditloop_domain::record::Detail;
use creditloop_ingest::{
    Format, IngestError, RawRow, RawRowResult, ReadError, ReadOptions, detect_format, read_bytes,
    read_csv, read_path,
};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};

fn rows_of(items: Vec<RawRowResult>) -> Vec<RawRow> {
    items
        .into_iter()
        .map(|r| match r {
            Ok(r) => r,
            Err(e) => panic!("unexpected read error {e:?}"),
        })
        .collect()
}

fn value<'a>(row: &'a RawRow, header: &str) -> &'a str {
    row.fields
        .iter()
        .find(|(h, _)| &**h == header)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no column {header} in {:?}", row.fields))
}

#[test]
fn formats_from_extensions() {
    for (name, f) in [
        ("a.csv", Format::Csv),
        ("a.TXT", Format::Csv),
        ("a.xlsx", Format::Xlsx),
        ("a.xlsm", Format::Xlsx),
        ("a.jsonl", Format::JsonLines),
        ("a.ndjson", Format::JsonLines),
        ("a.json", Format::Json),
    ] {
        assert_eq!(detect_format(Path::new(name)).ok(), Some(f), "{name}");
    }
    assert!(matches!(
        detect_format(Path::new("a.xls")),
        Err(IngestError::UnknownFormat(_))
    ));
}

#[test]
fn gbk_csv_from_excel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("处罚.csv");
    let mut second = penalty();
    set(&mut second, "行政处罚决定书文号", "杭市监罚〔2024〕13号");
    set(&mut second, "违法事实", "第一行\r\n第二行");
    let third = penalty();
    let mut text = String::from("杭州市行政处罚信息公示表,,,\r\n");
    // Full-width brackets and a stray space in headers, CRLF, no final newline.
    let body = csv_text(&[penalty(), second, third], "\r\n")
        .replace(
            "行政相对人代码_1(统一社会信用代码)",
            "行政相对人代码_1（统一社会信用代码）",
        )
        .replace("罚款金额（万元）", "罚款金额 （万元）");
    text.push_str(body.trim_end_matches("\r\n"));
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    std::fs::write(&path, &gbk).expect("write");

    let rows = read_path(&path, None, &ReadOptions::default()).expect("open");
    assert_eq!(rows.encoding(), Some("gb18030"));
    let rows = rows_of(rows.collect());
    assert_eq!(rows.len(), 3);
    // Title on row 1, header on row 2.
    assert_eq!(rows[0].row, 3);
    assert_eq!(rows[1].row, 4);
    assert_eq!(rows[2].row, 5);
    assert_eq!(value(&rows[1], "违法事实"), "第一行\r\n第二行");
    assert_eq!(
        value(&rows[0], "行政相对人代码_1（统一社会信用代码）"),
        SUBJECT_USCC
    );
    let v = validator();
    for r in &rows {
        let a = v.validate(r).expect("valid row");
        assert_eq!(a.row, r.row);
        let Detail::Penalty(p) = &a.record.detail else {
            panic!("penalty")
        };
        assert_eq!(p.fine_wan, Some(0.5));
    }

    // Forcing the encoding works too.
    let forced = ReadOptions::default()
        .with_encoding_name("gbk")
        .expect("gbk is known");
    let rows = rows_of(read_path(&path, None, &forced).expect("open").collect());
    assert_eq!(rows.len(), 3);
    assert!(ReadOptions::default().with_encoding_name("latin9").is_err());
}

#[test]
fn utf8_bom_csv() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(csv_text(&[licence()], "\n").as_bytes());
    let rows = read_bytes(bytes, Format::Csv, &ReadOptions::default()).expect("open");
    assert_eq!(rows.encoding(), Some("UTF-8"));
    let rows = rows_of(rows.collect());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].row, 2);
    assert_eq!(&*rows[0].fields[0].0, "行政相对人名称");
    validator().validate(&rows[0]).expect("valid licence");
}

#[test]
fn an_unclosed_quote_stops_the_file_instead_of_swallowing_it() {
    let mut text = csv_text(&[penalty()], "\n");
    text.push_str("\"never closed,");
    text.push_str(&"x,\n".repeat(500_000));
    let opts = ReadOptions {
        max_record_bytes: Some(512 * 1024),
        ..ReadOptions::default()
    };
    let rows: Vec<RawRowResult> = read_bytes(text.into_bytes(), Format::Csv, &opts)
        .expect("open")
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].is_ok());
    assert!(matches!(
        rows[1],
        Err(ReadError::Fatal(IngestError::RecordTooLarge(_)))
    ));
}

/// A CSV produced on the fly: a header and `n` rows, never held in memory.
struct Generated {
    n: u64,
    i: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.i == 0 {
                self.buf.extend_from_slice(
                    "行政相对人名称,行政处罚决定书文号,处罚决定日期,处罚机关\r\n".as_bytes(),
                );
            }
            while self.buf.len() < 8192 && self.i < self.n {
                self.i += 1;
                self.buf.extend_from_slice(
                    format!(
                        "某某公司{},杭市监罚〔2024〕{}号,2024-03-05,\"杭州市\r\n市场监管局\"\r\n",
                        self.i, self.i
                    )
                    .as_bytes(),
                );
            }
            if self.buf.is_empty() {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_large_csv_streams() {
    let n = 300_000;
    let source = Generated {
        n,
        i: 0,
        buf: Vec::new(),
        pos: 0,
    };
    let rows = read_csv(source, &ReadOptions::default()).expect("open");
    let mut count = 0u64;
    let mut last = 0;
    for r in rows {
        let r = r.expect("row");
        count += 1;
        assert_eq!(r.row, last + if last == 0 { 2 } else { 1 });
        last = r.row;
        if count == n {
            assert_eq!(r.fields[0].1, format!("某某公司{n}"));
            assert_eq!(r.fields[3].1, "杭州市\r\n市场监管局");
        }
    }
    assert_eq!(count, n);
    assert_eq!(last, n + 1);
}

fn write_workbook(path: &Path) {
    let mut wb = Workbook::new();
    let headers: Vec<String> = penalty().into_iter().map(|(h, _)| h).collect();
    let col = |name: &str| -> u16 {
        headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let date_format = XFormat::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name("行政处罚").expect("name");
    ws.merge_range(0, 0, 0, 5, "杭州市行政处罚信息", &XFormat::new())
        .expect("title");
    for (i, h) in headers.iter().enumerate() {
        ws.write_string(2, i as u16, h.as_str()).expect("header");
    }
    // Data rows 4..=7 (0-based 3..=6).
    for (r, doc) in [(3u32, "1号"), (4, "2号"), (5, "3号"), (6, "4号")] {
        for (i, (h, v)) in penalty().iter().enumerate() {
            if h == "处罚机关" && r == 6 {
                continue; // merged from the row above
            }
            ws.write_string(r, i as u16, v.as_str()).expect("cell");
        }
        ws.write_string(r, col("行政处罚决定书文号"), doc)
            .expect("doc");
        ws.write_datetime_with_format(
            r,
            col("处罚决定日期"),
            ExcelDateTime::from_ymd(2024, 3, 5).expect("date"),
            &date_format,
        )
        .expect("date cell");
        // A serial number in a date column, and a number in an amount column.
        ws.write_number(r, col("处罚有效期"), 45721.0)
            .expect("serial");
        ws.write_number(r, col("罚款金额（万元）"), 0.5)
            .expect("amount");
        ws.write_number(r, col("备注"), 12.0).expect("number");
    }
    // Row 5: a resident number that the spreadsheet turned into a float.
    ws.write_number(4, col("法定代表人证件号码"), 1.20102E+17)
        .expect("float id");
    // Row 6: a 15-digit registration number stored as a number keeps its digits.
    ws.write_number(5, col("行政相对人代码_2(工商注册号)"), 330100400015575.0)
        .expect("reg no");
    // Rows 6-7: the authority merged vertically.
    ws.merge_range(
        5,
        col("处罚机关"),
        6,
        col("处罚机关"),
        "杭州市市场监督管理局",
        &XFormat::new(),
    )
    .expect("merge");
    let other = wb.add_worksheet();
    other.set_name("其他").expect("name");
    other.write_string(0, 0, "行政相对人名称").expect("h");
    other.write_string(0, 1, "备注").expect("h");
    other.write_string(1, 0, "某公司").expect("v");
    other.write_number(1, 1, 3.25).expect("v");
    wb.save(path).expect("save");
}

#[test]
fn xlsx_workbook() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("处罚.xlsx");
    write_workbook(&path);

    let rows = rows_of(
        read_path(&path, None, &ReadOptions::default())
            .expect("open")
            .collect(),
    );
    assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), [4, 5, 6, 7]);
    assert_eq!(value(&rows[0], "处罚决定日期"), "2024-03-05");
    assert_eq!(value(&rows[0], "处罚有效期"), "2025-03-05");
    assert_eq!(value(&rows[0], "罚款金额（万元）"), "0.5");
    assert_eq!(value(&rows[0], "备注"), "12");
    assert_eq!(value(&rows[1], "法定代表人证件号码"), "1.20102E+17");
    assert_eq!(
        value(&rows[2], "行政相对人代码_2(工商注册号)"),
        "330100400015575"
    );
    assert_eq!(value(&rows[3], "处罚机关"), "杭州市市场监督管理局");

    let v = validator();
    let a = v.validate(&rows[0]).expect("row 4 valid");
    assert_eq!(a.record.decision_date, date(2024, 3, 5));
    let Detail::Penalty(p) = &a.record.detail else {
        panic!("penalty")
    };
    assert_eq!(p.valid_until, date(2025, 3, 5));
    let r = v.validate(&rows[1]).expect_err("row 5 has a float id");
    assert_eq!(r.row, 5);
    assert!(
        r.errors
            .iter()
            .any(|e| e.rule == "spreadsheet_number" && e.field == "法定代表人证件号码"),
        "{:#?}",
        r.errors
    );
    let a = v.validate(&rows[2]).expect("row 6 valid");
    assert_eq!(
        a.record.subject.codes.reg_no.as_ref().map(|r| r.as_str()),
        Some("330100400015575")
    );
    v.validate(&rows[3]).expect("row 7 valid");

    // A named sheet, from bytes.
    let bytes = std::fs::read(&path).expect("read");
    let opts = ReadOptions {
        sheet: Some("其他".into()),
        ..ReadOptions::default()
    };
    let rows = rows_of(
        read_bytes(bytes.clone(), Format::Xlsx, &opts)
            .expect("open")
            .collect(),
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(value(&rows[0], "备注"), "3.25");
    let missing = ReadOptions {
        sheet: Some("没有".into()),
        ..ReadOptions::default()
    };
    assert!(matches!(
        read_bytes(bytes, Format::Xlsx, &missing),
        Err(IngestError::SheetNotFound { .. })
    ));
    // Not a workbook at all.
    assert!(read_bytes(b"not a zip".to_vec(), Format::Xlsx, &ReadOptions::default()).is_err());
}

#[test]
fn json_lines_with_a_broken_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("records.jsonl");
    let english: serde_json::Map<String, serde_json::Value> = [
        ("subject_name", serde_json::json!("杭州某某科技有限公司")),
        ("counterpart_kind", serde_json::json!("法人及非法人组织")),
        ("uscc", serde_json::json!(SUBJECT_USCC)),
        ("legal_rep", serde_json::json!("张三")),
        ("doc_no", serde_json::json!("杭市监罚〔2024〕12号")),
        ("violation_type", serde_json::json!("未按规定公示年度报告")),
        ("violation_facts", serde_json::json!("未公示")),
        ("legal_basis", serde_json::json!("条例")),
        ("penalty_kinds", serde_json::json!("罚款")),
        ("content", serde_json::json!("罚款0.5万元")),
        ("fine_wan", serde_json::json!(0.5)),
        ("decision_date", serde_json::json!("2024-03-05")),
        ("valid_until", serde_json::json!("2025-03-05")),
        ("authority", serde_json::json!("杭州市市场监督管理局")),
        ("authority_code", serde_json::json!(AUTHORITY_USCC)),
        ("source_unit", serde_json::json!("杭州市市场监督管理局")),
        ("source_unit_code", serde_json::json!(SOURCE_USCC)),
        ("remarks", serde_json::Value::Null),
        (
            "persons",
            serde_json::json!([{"name": "王五", "role": "股东", "resident_id": RESIDENT_ID}]),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let line = serde_json::Value::Object(english).to_string();
    let text = format!("{line}\n{{\"subject_name\": \"坏\",\n\n{line}\n");
    std::fs::write(&path, text).expect("write");
    let items: Vec<RawRowResult> = read_path(&path, None, &ReadOptions::default())
        .expect("open")
        .collect();
    assert_eq!(items.len(), 3);
    let v = validator();
    let Ok(first) = &items[0] else {
        panic!("line 1 is valid")
    };
    let a = v.validate(first).expect("valid");
    assert_eq!(a.record.subject.persons.len(), 2);
    match &items[1] {
        Err(ReadError::Row(e)) => {
            assert_eq!(e.row, 2);
            assert!(e.reason_zh.contains("第2行"));
            assert!(e.reason_en.contains("line 2"));
        }
        other => panic!("line 2 should be a row error: {other:?}"),
    }
    let Ok(last) = &items[2] else {
        panic!("line 4 is valid")
    };
    assert_eq!(last.row, 4);
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn csv_reader_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            if let Ok(rows) = read_bytes(bytes, Format::Csv, &ReadOptions::default()) {
                let v = validator();
                for r in rows.flatten() {
                    let _ = v.validate(&r);
                }
            }
        }

        #[test]
        fn csv_reader_survives_quotes_and_breaks(text in "[a,\"\r\n行政相对人名称处罚机关文号 ]{0,400}") {
            if let Ok(rows) = read_bytes(text.into_bytes(), Format::Csv, &ReadOptions::default()) {
                let mut last = 0;
                for r in rows.flatten() {
                    prop_assert!(r.row > last);
                    last = r.row;
                }
            }
        }

        #[test]
        fn json_readers_survive_any_text(text in any::<String>()) {
            let _ = read_bytes(text.clone().into_bytes(), Format::JsonLines, &ReadOptions::default())
                .map(|rows| rows.count());
            let _ = read_bytes(text.into_bytes(), Format::Json, &ReadOptions::default())
                .map(|rows| rows.count());
        }

        #[test]
        fn xlsx_reader_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(rows) = read_bytes(bytes, Format::Xlsx, &ReadOptions::default()) {
                let _ = rows.count();
            }
        }
    }
}
