//! Errors that stop an import or a read as a whole. Problems of one row never do: they become a
//! [`creditloop_domain::intake::RejectedRow`].

use std::path::PathBuf;

use creditloop_store::StoreError;

/// An error that stops reading or importing a file.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading failed (disk, network upload …).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file's extension names no format creditloop reads.
    #[error(
        "unsupported file type `{0}`: use .csv, .txt, .xlsx, .xlsm, .jsonl, .ndjson or .json \
         (save .xls and .et files as .xlsx first)"
    )]
    UnknownFormat(String),
    /// The `--encoding` given is not one creditloop reads.
    #[error("unknown encoding `{0}`: use utf-8, gbk or gb18030")]
    UnknownEncoding(String),
    /// The `--standard-version` given is not 1.0 or 2.0.
    #[error("unknown standard version `{0}`: use 1.0 or 2.0")]
    UnknownStandardVersion(String),
    /// The CSV reader failed in a way that is not about one row.
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The workbook could not be read (not a zip, a broken sheet …).
    #[error("XLSX: {0}")]
    Xlsx(String),
    /// The sheet asked for does not exist.
    #[error("sheet `{name}` not found; the workbook has: {available}")]
    SheetNotFound { name: String, available: String },
    /// A JSON document (not JSON Lines) is not valid JSON.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// One record is larger than the limit: almost always a quote that is never closed, which would
    /// otherwise swallow the rest of the file.
    #[error(
        "a single record is larger than {0} bytes; the file probably has a quote (\") that is never \
         closed"
    )]
    RecordTooLarge(u64),
    /// The store failed; the batches listed were committed (durable) before the failure.
    #[error("storage failed after {} committed batch(es): {error}", committed.len())]
    Store {
        committed: Vec<String>,
        #[source]
        error: StoreError,
    },
    /// The storage thread stopped unexpectedly.
    #[error("the storage thread stopped unexpectedly")]
    WriterStopped,
    /// Writing the rejects file failed.
    #[error("writing the rejects file: {0}")]
    Rejects(String),
}
