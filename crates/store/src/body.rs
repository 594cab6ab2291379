//! The stored form of a record body (the JSON of the [`creditloop_domain::record::CreditRecord`]) and
//! of a check's answer in both stores: a zstd frame compressed with a dictionary shipped with the
//! code.
//!
//! Why: a body is ~1 KB of JSON whose keys, enumerations, agency names and legal phrases repeat from
//! record to record; with the dictionary it shrinks about sevenfold (one frame per record, so any one
//! record is read alone). The body was two thirds of the database and of every byte an import
//! writes (twice, WAL and then the database file). The content digest stays the SHA-256 of the JSON,
//! so duplicates and versions are judged as before, and bodies stored as text by earlier versions
//! are read as they are. A check's answer (~1.2 KB: the measures' texts, legal bases, catalogue
//! digest) shrinks about fivefold with its own dictionary; on the check path every byte written
//! costs CPU twice (WAL, then checkpoint), and the writer is a third of a check's cost.
//!
//! A frame names its dictionary by id; a dictionary, once shipped, never changes. A better one is
//! trained (`scripts/train-body-dict.sh`, `scripts/train-answer-dict.sh`) under a new id and added
//! to [`DICTIONARIES`].

use std::cell::RefCell;
use std::sync::LazyLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::StoreError;

/// zstd level: 3 compresses these bodies ~5 % smaller than 1 for ~1.5 times the time; the
/// compression runs on the import's helper thread, beside the writer.
const LEVEL: i32 = 1;

/// What a dictionary was trained on, and so what it compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A record's body.
    RecordBody,
    /// A check's answer as given.
    CheckAnswer,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::RecordBody, Kind::CheckAnswer];

    fn what(self) -> &'static str {
        match self {
            Kind::RecordBody => "record body",
            Kind::CheckAnswer => "check answer",
        }
    }
}

/// The dictionaries, by the id their frames carry. The last one of a kind compresses new values.
const DICTIONARIES: &[(u32, Kind, &[u8])] = &[
    (
        32769,
        Kind::RecordBody,
        include_bytes!("../dict/record-body-1.zdict"),
    ),
    (
        49153,
        Kind::CheckAnswer,
        include_bytes!("../dict/check-answer-1.zdict"),
    ),
];

/// Largest value accepted on decompression, so a corrupt frame cannot ask for gigabytes.
const MAX_BODY: usize = 16 << 20;

/// The newest dictionary of each kind, which compresses new values.
static ENCODERS: LazyLock<Vec<(Kind, EncoderDictionary<'static>)>> = LazyLock::new(|| {
    Kind::ALL
        .into_iter()
        .filter_map(|kind| {
            let (_, _, bytes) = DICTIONARIES.iter().rev().find(|d| d.1 == kind)?;
            Some((kind, EncoderDictionary::copy(bytes, LEVEL)))
        })
        .collect()
});

static DECODERS: LazyLock<Vec<(u32, DecoderDictionary<'static>)>> = LazyLock::new(|| {
    DICTIONARIES
        .iter()
        .map(|&(id, _, bytes)| (id, DecoderDictionary::copy(bytes)))
        .collect()
});

thread_local! {
    // One context per thread and kind: creating one costs more than compressing a value.
    static COMPRESSORS: RefCell<Vec<(Kind, Compressor<'static>)>> = const { RefCell::new(Vec::new()) };
    static DECOMPRESSORS: RefCell<Vec<(u32, Decompressor<'static>)>> = const { RefCell::new(Vec::new()) };
}

/// Appends the compressed form of a record body's `json` to `out`.
pub(crate) fn compress_into(json: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    compress_kind_into(Kind::RecordBody, json, out)
}

/// Appends the stored form of a check's answer text to `out` (see [`answer_text`]).
pub(crate) fn compress_answer_into(text: &str, out: &mut Vec<u8>) -> Result<(), StoreError> {
    compress_kind_into(Kind::CheckAnswer, text.as_bytes(), out).map_err(StoreError::Other)
}

/// Appends the compressed form of `value` to `out`, with the newest dictionary of `kind`.
fn compress_kind_into(kind: Kind, value: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    COMPRESSORS.with(|cell| {
        let mut all = cell.borrow_mut();
        let k = match all.iter().position(|(k, _)| *k == kind) {
            Some(k) => k,
            None => {
                let dict = ENCODERS
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .ok_or_else(|| format!("no dictionary for a {}", kind.what()))?;
                let c = Compressor::with_prepared_dictionary(&dict.1)
                    .map_err(|e| format!("zstd compressor: {e}"))?;
                all.push((kind, c));
                all.len() - 1
            }
        };
        let frame = all[k]
            .1
            .compress(value)
            .map_err(|e| format!("zstd compression: {e}"))?;
        out.extend_from_slice(&frame);
        Ok(())
    })
}

/// The JSON of a stored body: a zstd frame is decompressed with the dictionary it names; anything
/// else is taken as the JSON text itself (bodies written before compression).
pub fn body_json(stored: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, StoreError> {
    decompress(Kind::RecordBody, stored)
}

/// The answer text of a check as a store holds it: a zstd frame (see [`compress_answer_into`]) or,
/// written before answers were compressed, the text itself.
pub(crate) fn answer_text(stored: &[u8]) -> Result<String, StoreError> {
    let bytes = decompress(Kind::CheckAnswer, stored)?;
    String::from_utf8(bytes.into_owned())
        .map_err(|_| StoreError::Corrupt("check answer: not UTF-8".into()))
}

/// `stored` decompressed when it is a zstd frame, else as it is; `kind` names it in errors.
fn decompress(kind: Kind, stored: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, StoreError> {
    const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    if !stored.starts_with(&MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(stored));
    }
    let id = zstd::zstd_safe::get_dict_id_from_frame(stored).map_or(0, |n| n.get());
    let corrupt = |what: String| StoreError::Corrupt(format!("{}: {what}", kind.what()));
    let dict = DECODERS
        .iter()
        .find(|(i, _)| *i == id)
        .ok_or_else(|| corrupt(format!("compressed with unknown dictionary {id}")))?;
    DECOMPRESSORS.with(|cell| {
        let mut all = cell.borrow_mut();
        let k = match all.iter().position(|(i, _)| *i == id) {
            Some(k) => k,
            None => {
                let d = Decompressor::with_prepared_dictionary(&dict.1)
                    .map_err(|e| corrupt(format!("zstd decompressor: {e}")))?;
                all.push((id, d));
                all.len() - 1
            }
        };
        let size = zstd::zstd_safe::get_frame_content_size(stored)
            .ok()
            .flatten()
            .map_or(MAX_BODY, |n| (n as usize).min(MAX_BODY));
        all[k]
            .1
            .decompress(stored, size)
            .map(std::borrow::Cow::Owned)
            .map_err(|e| corrupt(format!("zstd: {e}")))
    })
}

/// The list name (名单名称) in a stored record body, for the check index.
pub(crate) fn list_name(stored: &[u8]) -> Result<Option<String>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Body {
        detail: Option<Detail>,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        list_name: Option<String>,
    }
    let json = body_json(stored)?;
    let body: Body = serde_json::from_slice(&json)
        .map_err(|e| StoreError::Corrupt(format!("record body: {e}")))?;
    Ok(body.detail.and_then(|d| d.list_name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_json_is_read_as_it_is() {
        let json = br#"{"key":{"source":"x"}}"#;
        assert_eq!(&*body_json(json).expect("plain"), json);
    }

    #[test]
    fn a_typical_body_shrinks_severalfold() {
        let json = r#"{"key":{"source":"11120101839708290P","category":"penalty","doc_no":"和平市监罚〔2019〕153号"},"subject":{"name":"天津市和平区泰朗田企业管理咨询有限责任公司","kind":"enterprise","codes":{"uscc":"91120101MAG3JCU30J"},"persons":[{"name":"朱丽","role":"legal_representative","person":{"pseudonym":"GEGE47YMYVBCOMBUZFTI5CMHNP","masked":"1201**********1785"}}]},"counterpart":"organisation","nature":"negative","severity":"general","decision_date":"2019-12-16","title":"没收违法所得人民币28210元，罚款人民币146800元","authority":{"name":"天津市和平区市场监督管理局","code":"11120101839708290P"},"source_unit":{"name":"天津市和平区市场监督管理局","code":"11120101839708290P"},"publicity_until":"2020-12-16","status":"expired","detail":{"type":"penalty","violation_type":"销售不合格产品","violation_facts":"当事人于2019年9月1日销售的产品经抽样检验不合格，货值金额12260元","legal_basis":"《中华人民共和国产品质量法》第四十九条","kinds":["confiscation","fine"],"content":"没收违法所得人民币28210元，罚款人民币146800元","fine_wan":14.68,"confiscated_wan":2.821,"valid_until":"2020-12-15"}}"#;
        let mut out = Vec::new();
        compress_into(json.as_bytes(), &mut out).expect("compress");
        assert!(
            out.len() * 3 < json.len(),
            "{} of {}",
            out.len(),
            json.len()
        );
        assert_eq!(&*body_json(&out).expect("decode"), json.as_bytes());
    }

    #[test]
    fn an_unknown_dictionary_or_a_broken_frame_is_an_error_not_a_panic() {
        let mut out = Vec::new();
        compress_into(br#"{"a":1}"#, &mut out).expect("compress");
        // Dictionary id field of the frame header (after magic and descriptor) rewritten.
        let mut other = out.clone();
        other[5] ^= 0x55;
        assert!(body_json(&other).is_err());
        let mut cut = out.clone();
        cut.truncate(out.len() - 2);
        assert!(body_json(&cut).is_err());
    }

    #[test]
    fn a_typical_answer_shrinks_severalfold_and_old_text_is_read_as_it_is() {
        let answer = r#"{"decision":"prohibit","scenario":"public_bidding","checked_on":"2025-06-30","subject":"U:5212010100000PQLK5","subject_known":true,"measures":[{"code":"CJ-SX-002","kind":"punishment","action":"prohibit","effect":"prohibit","implementing_agency":"发展改革、住房城乡建设、交通运输、水利等招标投标行政监督部门，招标人及招标代理机构","content":"限制失信被执行人的投标活动，依法不得参与依法必须进行招标的工程建设项目投标","legal_basis":{"document":"《关于在招标投标活动中对失信被执行人实施联合惩戒的通知》（法〔2016〕285号）","article":"二、联合惩戒对象和措施"},"triggering":[{"source":"111200040000000NK6","category":"dishonest_debtor","doc_no":"津0101执〔2015〕4033605号"}],"explanation":"主体为失信被执行人"}],"suppressed":[],"disregarded":[],"catalogue_version":{"number":1,"status":"published","digest":"bc1abc73ff90edf2081a889f70034683ab4941480c1ba05dc7002e8d7a5c38da"},"receipt":"CK202612031530249324e7c71ac001388","checked_at":"2026-12-03T15:30:24.932113997Z","data_version":1,"summary_zh":"不予办理：适用惩戒措施1项","agency":"11120000MB19674671","case_ref":null}"#;
        let mut out = Vec::new();
        compress_answer_into(answer, &mut out).expect("compress");
        assert!(
            out.len() * 3 < answer.len(),
            "{} of {}",
            out.len(),
            answer.len()
        );
        assert_eq!(answer_text(&out).expect("decode"), answer);
        assert_eq!(answer_text(answer.as_bytes()).expect("text"), answer);
        assert!(answer_text(&[0xff, 0xfe]).is_err());
    }

    proptest! {
        #[test]
        fn any_answer_round_trips(s in ".{0,400}") {
            let mut out = Vec::new();
            compress_answer_into(&s, &mut out).expect("compress");
            prop_assert_eq!(answer_text(&out).expect("decode"), s);
        }

        #[test]
        fn any_json_round_trips(s in ".{0,400}") {
            let json = serde_json::to_vec(&serde_json::json!({ "text": s })).expect("json");
            let mut out = vec![7u8; 3];
            compress_into(&json, &mut out).expect("compress");
            prop_assert_eq!(&out[..3], &[7u8, 7, 7]);
            prop_assert_eq!(&*body_json(&out[3..]).expect("decode"), json.as_slice());
        }
    }
}
