//! 标识码 (identifiers) of credit subjects, validated by construction:
//!
//! - [`Uscc`] — 统一社会信用代码 (unified social credit code, GB 32100-2015), with the
//!   [`UsccExceptions`] list of legally valid codes that fail the checksum;
//! - [`OrgCode`] — 组织机构代码 (organisation code, GB 11714);
//! - [`RegistrationNumber`] — 工商注册号 (15-digit business registration number);
//! - [`ResidentId`] — 公民身份号码 (resident identity number, GB 11643-1999), masked when printed;
//! - [`SubjectCode`] — any of them, detected from the value's shape.
//!
//! Every parser first [`normalize`]s the value (规范化: spaces, full-width characters, lower case),
//! rejects empty markers ([`is_empty_marker`]), the 双公示 placeholder `00000000000000000X` and numbers
//! a spreadsheet turned into floats, and then names the rule that failed in an [`IdError`] (English
//! `Display`, Chinese [`IdError::zh`], stable [`IdError::rule`]). Invalid values are never repaired.
//!
//! The check-character functions ([`uscc_check_char`], [`org_code_check_char`],
//! [`reg_no_check_digit`], [`resident_id_check_char`]) serve generators and tests.

mod error;
mod exceptions;
mod normalize;
mod org_code;
mod reg_no;
mod resident_id;
mod subject;
mod uscc;
mod uscc_kinds;

pub use error::IdError;
pub use exceptions::{ExceptionListError, UsccExceptions, UsccWarning};
pub use normalize::{PLACEHOLDER, is_empty_marker, is_spreadsheet_number, normalize};
pub use org_code::{OrgCode, org_code_check_char};
pub use reg_no::{RegistrationNumber, reg_no_check_digit};
pub use resident_id::{ResidentId, resident_id_check_char};
pub use subject::SubjectCode;
pub use uscc::{USCC_CHARSET, Uscc, uscc_check_char};
