//! JSON Lines (one object a line, keys Chinese or English; values strings, numbers, null, or for
//! `persons` an array of `{name, role, resident_id}`) and JSON documents for the HTTP API (one
//! object, an array, or `{"records": [...]}`).

use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::decode::DecodeReader;
use super::{RawRow, RawRowResult, ReadError, RowReadError, shorten};
use crate::error::IngestError;

/// The longest line read; a longer one is rejected (and skipped) rather than held.
pub const MAX_LINE: u64 = 16 * 1024 * 1024;

/// Rows of a JSON Lines stream; the row number is the line number.
pub struct JsonLinesRows<R: Read> {
    reader: Option<BufReader<DecodeReader<R>>>,
    open_error: Option<std::io::Error>,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

/// Reads JSON Lines. The text is decoded like CSV (UTF-8, or GBK when it is not UTF-8). An error
/// reading the first bytes is yielded as the first item.
pub fn read_json_lines<R: Read>(reader: R) -> JsonLinesRows<R> {
    let (reader, open_error) = match DecodeReader::new(reader, None) {
        Ok(d) => (
            Some(BufReader::with_capacity(64 * 1024, d.with_limit(u64::MAX))),
            None,
        ),
        Err(e) => (None, Some(e)),
    };
    JsonLinesRows {
        reader,
        open_error,
        line: 0,
        buf: Vec::new(),
        done: false,
    }
}

impl<R: Read> Iterator for JsonLinesRows<R> {
    type Item = RawRowResult;

    fn next(&mut self) -> Option<RawRowResult> {
        if let Some(e) = self.open_error.take() {
            self.done = true;
            return Some(Err(ReadError::Fatal(IngestError::Io(e))));
        }
        loop {
            if self.done {
                return None;
            }
            let Some(reader) = self.reader.as_mut() else {
                self.done = true;
                return None;
            };
            self.buf.clear();
            let n = match reader.take(MAX_LINE).read_until(b'\n', &mut self.buf) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(ReadError::Fatal(IngestError::Io(e))));
                }
            };
            if n == 0 {
                self.done = true;
                return None;
            }
            self.line += 1;
            if self.buf.last() != Some(&b'\n') && n as u64 >= MAX_LINE {
                // Skip the rest of the over-long line.
                if let Err(e) = reader.skip_until(b'\n') {
                    self.done = true;
                    return Some(Err(ReadError::Fatal(IngestError::Io(e))));
                }
                return Some(Err(ReadError::Row(RowReadError {
                    row: self.line,
                    rule: "line_too_long",
                    value: shorten(
                        &String::from_utf8_lossy(self.buf.get(..200).unwrap_or(&self.buf)),
                        100,
                    ),
                    reason_zh: format!("第{}行超过{}字节，未读取", self.line, MAX_LINE),
                    reason_en: format!("line {} is longer than {} bytes", self.line, MAX_LINE),
                    raw: Vec::new(),
                })));
            }
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            return Some(parse_line(self.line, text));
        }
    }
}

fn parse_line(line: u64, text: &[u8]) -> RawRowResult {
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(map)) => Ok(RawRow {
            row: line,
            fields: object_fields(map),
        }),
        Ok(other) => Err(ReadError::Row(RowReadError {
            row: line,
            rule: "not_an_object",
            value: shorten(&other.to_string(), 100),
            reason_zh: format!("第{line}行不是JSON对象（应为一行一个 {{…}}）"),
            reason_en: format!("line {line} is not a JSON object (one {{…}} per line expected)"),
            raw: Vec::new(),
        })),
        Err(e) => Err(ReadError::Row(RowReadError {
            row: line,
            rule: "json",
            value: shorten(&String::from_utf8_lossy(text), 100),
            reason_zh: format!(
                "第{line}行不是有效的JSON（第{}列附近：{}）",
                e.column(),
                json_error_zh(&e)
            ),
            reason_en: format!("line {line} is not valid JSON: {e}"),
            raw: Vec::new(),
        })),
    }
}

fn json_error_zh(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "内容不完整",
        Category::Syntax => "语法错误",
        Category::Data => "数据类型错误",
        Category::Io => "读取错误",
    }
}

/// The fields of one JSON object: strings as they are, numbers as written, `null` as empty, arrays
/// and objects (such as `persons`) as JSON text for the validator to read.
pub fn object_fields(map: Map<String, Value>) -> Vec<(Arc<str>, String)> {
    map.into_iter()
        .map(|(k, v)| (Arc::from(k), value_text(v)))
        .collect()
}

fn value_text(v: Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Rows of a JSON value already parsed (the HTTP API's body).
pub struct JsonValueRows {
    items: std::vec::IntoIter<Value>,
    index: u64,
}

/// Reads one object, an array of objects, or `{"records": [...]}`. The row number is the position
/// in the array (1-based).
pub fn read_json_value(value: Value) -> JsonValueRows {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("records") {
            Some(Value::Array(items)) => items,
            Some(other) => {
                map.insert("records".into(), other);
                vec![Value::Object(map)]
            }
            None => vec![Value::Object(map)],
        },
        other => vec![other],
    };
    JsonValueRows {
        items: items.into_iter(),
        index: 0,
    }
}

impl Iterator for JsonValueRows {
    type Item = RawRowResult;

    fn next(&mut self) -> Option<RawRowResult> {
        let v = self.items.next()?;
        self.index += 1;
        let row = self.index;
        Some(match v {
            Value::Object(map) => Ok(RawRow {
                row,
                fields: object_fields(map),
            }),
            other => Err(ReadError::Row(RowReadError {
                row,
                rule: "not_an_object",
                value: shorten(&other.to_string(), 100),
                reason_zh: format!("第{row}条记录不是JSON对象"),
                reason_en: format!("record {row} is not a JSON object"),
                raw: Vec::new(),
            })),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// Reads a `.json` file: one document (object, array or `{"records": [...]}`), held in memory; a
/// file that is really JSON Lines is read as such.
pub(crate) fn read_json_document<R: Read + Send + 'static>(
    mut reader: R,
) -> Result<Box<dyn Iterator<Item = RawRowResult> + Send>, IngestError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let body = bytes
        .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
        .unwrap_or(&bytes)
        .trim_ascii();
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(Box::new(read_json_value(v))),
        Err(e) => {
            let lines = body
                .split(|&b| b == b'\n')
                .filter(|l| !l.trim_ascii().is_empty())
                .count();
            if body.first() == Some(&b'{') && lines > 1 {
                Ok(Box::new(read_json_lines(Cursor::new(bytes))))
            } else {
                Err(IngestError::Json(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_values_and_broken_lines() {
        let text = "{\"subject_name\":\"A\",\"fine_wan\":1.5,\"remarks\":null}\n\n{broken\n[1]\n{\"persons\":[{\"name\":\"张三\",\"role\":\"股东\"}]}";
        let items: Vec<RawRowResult> = read_json_lines(text.as_bytes()).collect();
        assert_eq!(items.len(), 4);
        let Ok(first) = &items[0] else {
            panic!("first line is valid")
        };
        assert_eq!(first.row, 1);
        assert!(first.fields.contains(&("fine_wan".into(), "1.5".into())));
        assert!(first.fields.contains(&("remarks".into(), "".into())));
        match &items[1] {
            Err(ReadError::Row(e)) => {
                assert_eq!(e.row, 3);
                assert_eq!(e.rule, "json");
                assert!(e.reason_zh.contains("第3行"));
            }
            other => panic!("expected a row error, got {other:?}"),
        }
        assert!(
            matches!(&items[2], Err(ReadError::Row(e)) if e.rule == "not_an_object" && e.row == 4)
        );
        let Ok(last) = &items[3] else {
            panic!("last line is valid")
        };
        assert!(last.fields[0].1.starts_with('['));
    }

    #[test]
    fn values_of_the_api() {
        let v: Value = serde_json::json!({"records": [{"a": "1"}, 5]});
        let items: Vec<RawRowResult> = read_json_value(v).collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert!(matches!(&items[1], Err(ReadError::Row(e)) if e.row == 2));
        assert_eq!(read_json_value(serde_json::json!({"a": 1})).count(), 1);
        assert_eq!(
            read_json_value(serde_json::json!([{"a": 1}, {"a": 2}])).count(),
            2
        );
    }

    #[test]
    fn json_documents_and_json_lines_in_a_json_file() {
        let doc = read_json_document(Cursor::new(b"[{\"a\":1},{\"a\":2}]".to_vec())).expect("doc");
        assert_eq!(doc.count(), 2);
        let lines =
            read_json_document(Cursor::new(b"{\"a\":1}\n{\"a\":2}\n".to_vec())).expect("jsonl");
        assert_eq!(lines.count(), 2);
        assert!(read_json_document(Cursor::new(b"[1,".to_vec())).is_err());
    }
}
