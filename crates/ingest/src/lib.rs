//! 归集 (collection) of credit records from the agencies' files and the HTTP API.
//!
//! - [`read`]: streaming readers for CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX and JSON Lines,
//!   yielding [`RawRow`]s with the row number a person sees in the file;
//! - [`fields`]: the column names of the 双公示 standard (2.0 and 1.0) and of `docs/fields.md`,
//!   resolved once per file into a [`Layout`];
//! - [`validate`]: the [`Validator`], turning a raw row into a
//!   [`CreditRecord`](creditloop_domain::record::CreditRecord) or a rejected row naming every
//!   problem in Chinese and English;
//! - [`pipeline`]: [`import`], validating on one thread and writing batches to the store on another;
//! - [`rejects`]: the rejects file ([`RejectsWriter`]), which can be corrected and imported again;
//! - [`digest`]: SHA-256 of a source file.

pub mod digest;
pub mod error;
pub mod fields;
pub mod pipeline;
pub mod read;
pub mod rejects;
pub mod validate;
pub mod value;

pub use digest::{sha256_bytes, sha256_file, sha256_reader};
pub use error::IngestError;
pub use fields::{Field, FieldKind, Layout, StandardVersion, normalize_header};
pub use pipeline::{ImportOptions, ImportReport, Progress, import, import_with_rejects};
pub use read::{
    Format, RawRow, RawRowResult, ReadError, ReadOptions, RowReadError, Rows, detect_format,
    parse_encoding, read_bytes, read_csv, read_json_lines, read_json_value, read_path, read_stream,
    read_xlsx,
};
pub use rejects::{REJECT_COLUMNS, RejectSink, RejectsWriter};
pub use validate::{Validator, ValidatorConfig};
