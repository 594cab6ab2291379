//! Record submission over HTTP: the same readers, validation and pipeline as `creditloop import`, and
//! the same report.

use std::path::Path;

use creditloop_domain::access::Principal;
use creditloop_domain::ids;
use creditloop_domain::intake::RejectedRow;
use creditloop_domain::record::{AgencyRef, Category};
use creditloop_ingest::{
    Format, ImportOptions, ImportReport, ReadOptions, RejectsWriter, Validator, ValidatorConfig,
};
use serde_json::{Value, json};

use crate::AppState;
use crate::api::SubmitQuery;
use crate::error::ApiError;
use crate::mask;

/// The report of a submission as JSON: the counts at the top level (`accepted`, `rejected`,
/// `duplicates`, `late`, `new_versions`), then the details. The CLI's `--json` prints the same.
pub fn report_json(r: &ImportReport) -> Value {
    let mut v = json!({
        "accepted": r.counts.accepted,
        "rejected": r.counts.rejected,
        "duplicates": r.counts.duplicates,
        "late": r.counts.late,
        "new_versions": r.counts.new_versions,
        "rows_read": r.rows_read,
        "stored": r.stored,
        "batches": r.batches,
        "unknown_columns": r.unknown_columns,
        "warnings": r.warnings,
        "rejects": r.first_rejects,
        "elapsed_ms": r.elapsed.as_millis() as u64,
    });
    mask::mask_json(&mut v);
    v
}

/// The submitting agency as rows name it (数据来源单位 of rows that name none), from the agencies
/// table when it is there. Errors are (Chinese, English).
pub fn agency_ref(
    store: &dyn creditloop_store::Store,
    code: &str,
) -> Result<AgencyRef, (String, String)> {
    let code = ids::normalize(code);
    if let Err(e) = ids::Uscc::parse(&code) {
        return Err((
            format!("报送单位代码“{code}”无效：{}", e.zh()),
            format!("agency code `{code}` is invalid: {e}"),
        ));
    }
    let name = store
        .agencies()
        .map_err(|e| (format!("读取部门表失败：{e}"), e.to_string()))?
        .into_iter()
        .find(|a| a.code == code)
        .map(|a| a.name)
        .unwrap_or_else(|| code.clone());
    Ok(AgencyRef { name, code })
}

fn validator(
    state: &AppState,
    category: Option<Category>,
    agency: Option<&str>,
    by: &Principal,
) -> Result<Validator, ApiError> {
    let mut cfg = ValidatorConfig::new(state.today(), state.pii.clone());
    cfg.category = category;
    cfg.deadline_working_days = state.deadline_working_days;
    // An agency's users submit only their own agency's records: rows naming another source unit
    // are rejected row by row. The credit office may submit on behalf of any agency.
    if by.role.is_agency() {
        cfg.required_source = agency.map(ids::normalize);
    }
    if let Some(code) = agency {
        cfg.default_source_unit = Some(
            agency_ref(&*state.store, code).map_err(|(zh, en)| ApiError::bad_request(zh, en))?,
        );
    }
    Ok(Validator::new(cfg))
}

fn ingest_error(e: creditloop_ingest::IngestError) -> ApiError {
    use creditloop_ingest::IngestError as E;
    match e {
        E::Store { .. } | E::WriterStopped | E::Rejects(_) | E::Io(_) => {
            ApiError::Internal(e.to_string())
        }
        other => {
            let en = other.to_string();
            ApiError::bad_request(format!("无法读取提交的数据：{en}"), en)
        }
    }
}

/// The audit entry of a submission (报送): the batches written, the digest of the report and its
/// counts. The CLI's import appends the same.
pub fn submission_entry(report: &ImportReport, agency: Option<&str>) -> creditloop_audit::NewEntry {
    submission_entry_by(report, agency, crate::audit::ANONYMOUS)
}

/// [`submission_entry`] with the actor who submitted (the authenticated user or token).
pub fn submission_entry_by(
    report: &ImportReport,
    agency: Option<&str>,
    actor: &str,
) -> creditloop_audit::NewEntry {
    let mut entry =
        creditloop_audit::NewEntry::new(actor, creditloop_audit::Action::RecordSubmission)
            .object(report.batches.join(","))
            .result(&serde_json::to_vec(&report_json(report)).unwrap_or_default())
            .detail(json!({
                "accepted": report.counts.accepted, "rejected": report.counts.rejected,
                "duplicates": report.counts.duplicates, "late": report.counts.late,
                "new_versions": report.counts.new_versions,
            }));
    if let Some(a) = agency {
        entry = entry.agency(ids::normalize(a));
    }
    entry
}

/// Audits the submission (报送), then makes what was just committed visible to checks before the
/// submitter is answered, so a check right after a submission sees it. A refresh failure is
/// logged; the timer refresh catches up.
fn after_submission(
    state: &AppState,
    report: &ImportReport,
    agency: Option<&str>,
    by: &Principal,
) -> Result<(), ApiError> {
    let entry = submission_entry_by(report, agency, &by.user_id);
    crate::audit::append_blocking(&state.audit, entry).map_err(ApiError::Internal)?;
    if let Err(e) = state.read.refresh(&*state.store) {
        tracing::warn!(error = %e, "index refresh after a submission failed");
    }
    state.names.after_write(&*state.store);
    Ok(())
}

/// Submits JSON records (already parsed) as `by`, for `agency` (which the caller has checked `by`
/// may act for).
pub fn submit_json(
    state: &AppState,
    by: &Principal,
    value: Value,
    category: Option<Category>,
    agency: Option<String>,
    all_or_nothing: bool,
    body: &[u8],
) -> Result<Value, ApiError> {
    let rows = creditloop_ingest::read_json_value(value);
    let validator = validator(state, category, agency.as_deref(), by)?;
    let opts = ImportOptions {
        all_or_nothing,
        source_name: "api".into(),
        source_digest: creditloop_ingest::sha256_bytes(body),
        agency,
        ..ImportOptions::default()
    };
    let report = creditloop_ingest::import(rows, &validator, &*state.store, &opts, &mut |_| {})
        .map_err(ingest_error)?;
    after_submission(state, &report, opts.agency.as_deref(), by)?;
    Ok(report_json(&report))
}

/// Submits an uploaded file as `by`, for `q.agency` (checked by the caller).
pub fn submit_file(
    state: &AppState,
    by: &Principal,
    name: &str,
    bytes: &[u8],
    category: Option<Category>,
    q: &SubmitQuery,
) -> Result<Value, ApiError> {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv");
    let format = Format::parse(ext).ok_or_else(|| ApiError::UnsupportedMedia(ext.to_string()))?;
    let mut read = ReadOptions::default();
    if let Some(enc) = &q.encoding {
        read = read.with_encoding_name(enc).map_err(ingest_error)?;
    }
    read.sheet = q.sheet.clone();
    let rows =
        creditloop_ingest::read_bytes(bytes.to_vec(), format, &read).map_err(ingest_error)?;
    let validator = validator(state, category, q.agency.as_deref(), by)?;
    let opts = ImportOptions {
        all_or_nothing: q.all_or_nothing,
        source_name: name.to_string(),
        source_digest: creditloop_ingest::sha256_bytes(bytes),
        agency: q.agency.clone(),
        ..ImportOptions::default()
    };
    let report = creditloop_ingest::import(rows, &validator, &*state.store, &opts, &mut |_| {})
        .map_err(ingest_error)?;
    after_submission(state, &report, opts.agency.as_deref(), by)?;
    Ok(report_json(&report))
}

/// The rejected rows as the CSV the CLI's `--rejects` writes, ready to be corrected and sent again.
pub fn rejects_csv(rows: &[RejectedRow]) -> Result<Vec<u8>, ApiError> {
    let mut w = RejectsWriter::new(Vec::new()).map_err(ingest_error)?;
    for r in rows {
        w.write(r).map_err(ingest_error)?;
    }
    w.finish().map_err(ingest_error)
}
