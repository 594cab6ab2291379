//! 错误数据回执 (the rejects file): rejected rows as CSV in UTF-8 with BOM (so Excel opens it), with
//! the original columns followed by `错误行号`, `错误字段`, `错误原因` (Chinese reasons joined with
//! "；") and `error_reason` (English). The importer ignores those four columns, so the file can be
//! corrected and imported again as it is.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use creditloop_domain::intake::RejectedRow;

use crate::error::IngestError;
use crate::fields::{Field, field_for};

/// The columns the rejects file adds.
pub const REJECT_COLUMNS: [&str; 4] = ["错误行号", "错误字段", "错误原因", "error_reason"];

/// Where rejected rows go during an import.
pub trait RejectSink {
    fn reject(&mut self, row: &RejectedRow) -> Result<(), IngestError>;
}

/// Writes rejected rows as CSV. The original columns are those of the first row written (a rejects
/// file of an earlier import loses its old error columns); a later row with other columns is written
/// by column name, and its columns the first row did not have are dropped.
pub struct RejectsWriter<W: Write> {
    csv: csv::Writer<W>,
    columns: Option<Vec<String>>,
    rows: u64,
}

fn werr(e: impl std::fmt::Display) -> IngestError {
    IngestError::Rejects(e.to_string())
}

impl RejectsWriter<BufWriter<File>> {
    /// Creates (or truncates) a rejects file.
    pub fn create(path: &Path) -> Result<Self, IngestError> {
        let f = File::create(path).map_err(|source| IngestError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        RejectsWriter::new(BufWriter::new(f))
    }
}

impl<W: Write> RejectsWriter<W> {
    /// Starts a rejects file on `w`: writes the UTF-8 byte-order mark.
    pub fn new(mut w: W) -> Result<Self, IngestError> {
        w.write_all(b"\xEF\xBB\xBF").map_err(werr)?;
        Ok(RejectsWriter {
            csv: csv::WriterBuilder::new().flexible(true).from_writer(w),
            columns: None,
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes one rejected row.
    pub fn write(&mut self, r: &RejectedRow) -> Result<(), IngestError> {
        let columns = match &self.columns {
            Some(c) => c,
            None => {
                let cols: Vec<String> = r
                    .raw
                    .iter()
                    .map(|(h, _)| h.clone())
                    .filter(|h| field_for(h, None) != Some(Field::Ignored))
                    .collect();
                let mut header = cols.clone();
                header.extend(REJECT_COLUMNS.iter().map(|s| s.to_string()));
                self.csv.write_record(&header).map_err(werr)?;
                self.columns.insert(cols)
            }
        };
        let same_shape = r.raw.len() == columns.len()
            && r.raw.iter().zip(columns.iter()).all(|((h, _), c)| h == c);
        let mut record: Vec<&str> = if same_shape {
            r.raw.iter().map(|(_, v)| v.as_str()).collect()
        } else {
            columns
                .iter()
                .map(|c| {
                    r.raw
                        .iter()
                        .find(|(h, _)| h == c)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("")
                })
                .collect()
        };
        let row = r.row.to_string();
        let mut fields: Vec<&str> = Vec::new();
        for e in &r.errors {
            if !fields.contains(&e.field.as_str()) {
                fields.push(&e.field);
            }
        }
        let fields = fields.join("；");
        let zh = r
            .errors
            .iter()
            .map(|e| format!("{}：{}", e.field, e.reason_zh))
            .collect::<Vec<_>>()
            .join("；");
        let en = r
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason_en))
            .collect::<Vec<_>>()
            .join("; ");
        record.push(&row);
        record.push(&fields);
        record.push(&zh);
        record.push(&en);
        self.csv.write_record(&record).map_err(werr)?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, IngestError> {
        self.csv.into_inner().map_err(werr)
    }
}

impl<W: Write> RejectSink for RejectsWriter<W> {
    fn reject(&mut self, row: &RejectedRow) -> Result<(), IngestError> {
        self.write(row)
    }
}

impl RejectSink for Vec<RejectedRow> {
    fn reject(&mut self, row: &RejectedRow) -> Result<(), IngestError> {
        self.push(row.clone());
        Ok(())
    }
}
