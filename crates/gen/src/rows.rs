//! Row generation: one record at a time, from a file's random stream, with at most one deliberate
//! defect and, on request, the harmless quirks of real files.

use std::fmt::Write as _;

use chrono::{Datelike, Days, Months, NaiveDate};
use creditloop_domain::calendar::WorkingCalendar;
use creditloop_domain::ids::{PLACEHOLDER, USCC_CHARSET};
use creditloop_domain::record::{Category, PenaltyKind};
use creditloop_domain::subject::CounterpartKind;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::agencies::{AgencyInfo, Group, MARKET};
use crate::catalog::{LICENCES, LISTS, OTHERS, VIOLATIONS, Who, debtor};
use crate::rng::{Keys, pick, pick_weighted};
use crate::schema::{Column, F, FileKind, N_FIELDS};
use crate::subjects::{Kind, Subject, kind_of, random_date, subject};
use crate::text::{
    DateStyle, QUIRK_STYLES, fill_template, full_width, push_date, push_wan, push_ymd,
    spreadsheet_float,
};

/// The deliberate defects of bad rows; each bad row has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defect {
    /// 统一社会信用代码 with a wrong check character
    WrongUsccCheck,
    /// A decision date that does not exist (2023-02-30)
    ImpossibleDate,
    /// A decision date after today (and after the submission date)
    FutureDecisionDate,
    /// A required field left empty
    MissingRequired,
    /// An unknown 处罚类别 / 许可类别 / 名单类别 / 信息类别
    UnknownValue,
    /// A resident number a spreadsheet turned into a float (`1.20102E+17`)
    SpreadsheetId,
    /// 有效期至 before 有效期自 (licences), 移出日期 before 列入日期 (lists)
    ValidityInverted,
    /// 处罚类别 罚款 without 罚款金额
    FineMissing,
}

impl Defect {
    /// The defects that can occur in rows of `file`.
    fn for_file(file: FileKind) -> &'static [Defect] {
        use Defect::*;
        match file {
            FileKind::Penalties => &[
                WrongUsccCheck,
                ImpossibleDate,
                FutureDecisionDate,
                MissingRequired,
                UnknownValue,
                SpreadsheetId,
                FineMissing,
            ],
            FileKind::Licences | FileKind::Lists => &[
                WrongUsccCheck,
                ImpossibleDate,
                FutureDecisionDate,
                MissingRequired,
                UnknownValue,
                SpreadsheetId,
                ValidityInverted,
            ],
            FileKind::DishonestDebtors => &[
                WrongUsccCheck,
                ImpossibleDate,
                FutureDecisionDate,
                MissingRequired,
                SpreadsheetId,
            ],
            FileKind::Others => &[
                WrongUsccCheck,
                ImpossibleDate,
                FutureDecisionDate,
                MissingRequired,
                UnknownValue,
                SpreadsheetId,
            ],
        }
    }

    /// What the subject of a row with this defect must have.
    fn need(self) -> Need {
        match self {
            Defect::WrongUsccCheck => Need::Uscc,
            Defect::SpreadsheetId => Need::Person,
            _ => Need::Nothing,
        }
    }
}

/// A requirement on the subject of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Nothing,
    Uscc,
    Person,
    UsccOrPerson,
}

impl Need {
    fn of(defect: Option<Defect>) -> Need {
        defect.map_or(Need::Nothing, Defect::need)
    }

    fn ok(self, k: Kind) -> bool {
        match self {
            Need::Nothing => true,
            Need::Uscc => k.has_uscc(),
            Need::Person => k == Kind::NaturalPerson,
            Need::UsccOrPerson => k.has_uscc() || k == Kind::NaturalPerson,
        }
    }

    /// Both requirements (the stricter one; the ones used together never conflict).
    fn and(self, other: Need) -> Need {
        match (self, other) {
            (Need::Nothing, o) => o,
            (s, Need::Nothing | Need::UsccOrPerson) => s,
            (_, o) => o,
        }
    }
}

/// Whether a subject of kind `k` fits `who`.
fn who_ok(who: Who, k: Kind) -> bool {
    match who {
        Who::Any => true,
        Who::Org => k != Kind::NaturalPerson,
        Who::Person => k == Kind::NaturalPerson,
        Who::Market => k.is_market_entity(),
    }
}

/// Whether an entry for `who` can have a subject meeting `need`.
fn compatible(who: Who, need: Need) -> bool {
    match need {
        Need::Person => matches!(who, Who::Any | Who::Person),
        Need::Uscc => who != Who::Person,
        Need::Nothing | Need::UsccOrPerson => true,
    }
}

/// Everything rows are made from, shared by all files of a run.
#[derive(Debug)]
pub(crate) struct World {
    pub keys: Keys,
    pub subjects: u64,
    pub today: NaiveDate,
    /// Earliest decision date of records other than registrations.
    pub start: NaiveDate,
    pub agencies: Vec<AgencyInfo>,
    pub calendar: &'static WorkingCalendar,
    pub quirks: bool,
    /// Output in GBK: quirks use only characters GBK has.
    pub gbk: bool,
    /// Output in JSON Lines: English codes for enumerations, empty fields left out.
    pub json: bool,
    /// First year of the document-number counters.
    base_year: i32,
    years: usize,
}

impl World {
    pub(crate) fn new(
        seed: u64,
        subjects: u64,
        today: NaiveDate,
        quirks: bool,
        gbk: bool,
        json: bool,
    ) -> Self {
        let start = NaiveDate::from_ymd_opt(2016, 1, 1)
            .filter(|d| *d <= today.checked_sub_days(Days::new(365)).unwrap_or(today))
            .or_else(|| today.checked_sub_days(Days::new(730)))
            .unwrap_or(today);
        let base_year = 1995.min(start.year());
        let years = usize::try_from(today.year() + 3 - base_year)
            .unwrap_or(1)
            .max(1);
        World {
            keys: Keys::new(seed),
            subjects,
            today,
            start,
            agencies: crate::agencies::table(),
            calendar: WorkingCalendar::builtin(),
            quirks,
            gbk,
            json,
            base_year,
            years,
        }
    }

    /// The municipal agency of `group`.
    fn agency_of(&self, group: Group) -> usize {
        self.agencies
            .iter()
            .position(|a| a.group == group && a.district.is_none())
            .unwrap_or(MARKET)
    }

    /// The district market bureau of district `d`.
    fn district_bureau(&self, d: usize) -> usize {
        self.agencies
            .iter()
            .position(|a| a.district == Some(d))
            .unwrap_or(MARKET)
    }
}

/// The values of one row, one per field ([`F`]); a file writes the fields of its columns.
#[derive(Debug)]
pub(crate) struct Row {
    vals: Vec<String>,
}

impl Row {
    fn new() -> Self {
        Row {
            vals: vec![String::new(); N_FIELDS],
        }
    }

    fn clear(&mut self) {
        self.vals.iter_mut().for_each(String::clear);
    }

    /// The value of `f`, emptied for writing.
    fn set(&mut self, f: F) -> &mut String {
        let s = &mut self.vals[f as usize];
        s.clear();
        s
    }

    fn put(&mut self, f: F, v: &str) {
        self.set(f).push_str(v);
    }

    /// The value of `f`.
    pub(crate) fn get(&self, f: F) -> &str {
        &self.vals[f as usize]
    }
}

/// Adds months, clamping at the end of the month; saturates instead of failing.
fn add_months(d: NaiveDate, m: u32) -> NaiveDate {
    d.checked_add_months(Months::new(m)).unwrap_or(d)
}

fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(d)
}

fn sub_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(d)
}

/// A random amount in `lo..=hi` rounded down to a multiple of `step` (at least `step`).
fn amount<R: Rng>(rng: &mut R, lo: u32, hi: u32, step: u64) -> u64 {
    let v = u64::from(rng.gen_range(lo.min(hi)..=hi));
    (v / step * step).max(step)
}

/// Generates the rows of one file.
pub(crate) struct RowGen<'w> {
    w: &'w World,
    file: FileKind,
    cols: Vec<Column>,
    rng: ChaCha8Rng,
    /// Document-number counters per agency and year.
    counters: Vec<u32>,
    /// Next subject to register (registrations go through the subjects in order).
    reg_cursor: u64,
    row: Row,
    style: DateStyle,
    decision: NaiveDate,
}

impl<'w> RowGen<'w> {
    pub(crate) fn new(w: &'w World, file: FileKind, rng: ChaCha8Rng) -> Self {
        RowGen {
            w,
            file,
            cols: file.columns(),
            rng,
            counters: vec![0; w.agencies.len() * w.years],
            reg_cursor: 0,
            row: Row::new(),
            style: DateStyle::Iso,
            decision: w.today,
        }
    }

    /// The row last generated.
    pub(crate) fn row(&self) -> &Row {
        &self.row
    }

    /// Generates the next row: a record of `cat`; with one defect when `bad`; submitted after the
    /// deadline of 7 working days when `late` (ignored for bad rows).
    pub(crate) fn fill(&mut self, cat: Category, bad: bool, late: bool) {
        self.row.clear();
        self.style = if self.w.quirks && self.rng.gen_bool(0.15) {
            pick(&mut self.rng, &QUIRK_STYLES)
                .copied()
                .unwrap_or(DateStyle::Iso)
        } else {
            DateStyle::Iso
        };
        let mut defect = if bad {
            pick(&mut self.rng, Defect::for_file(self.file)).copied()
        } else {
            None
        };
        match cat {
            Category::Penalty => self.penalty(&mut defect, late),
            Category::Licence => self.licence(&mut defect, late),
            Category::DishonestDebtor => self.debtor(&mut defect, late),
            Category::SeriousDishonestList | Category::AbnormalOperation | Category::RedList => {
                self.listing(cat, &mut defect, late)
            }
            Category::Registration => self.registration(&mut defect, late),
            Category::Commitment | Category::Inspection | Category::Other => {
                self.other(cat, &mut defect, late)
            }
        }
        if let Some(d) = defect {
            self.apply_defect(d, cat);
        }
        if self.w.quirks {
            self.apply_quirks();
        }
    }

    // ----- choosing -----

    /// An entry by weight among those `ok` accepts.
    fn choose<T>(
        &mut self,
        items: &[T],
        weight: impl Fn(&T) -> u32,
        ok: impl Fn(&T) -> bool,
    ) -> Option<usize> {
        let total: u32 = items.iter().map(&weight).sum();
        if total > 0 {
            for _ in 0..64 {
                let mut x = self.rng.gen_range(0..total);
                for (i, it) in items.iter().enumerate() {
                    let w = weight(it);
                    if x < w {
                        if ok(it) {
                            return Some(i);
                        }
                        break;
                    }
                    x -= w;
                }
            }
        }
        items.iter().position(|it| weight(it) > 0 && ok(it))
    }

    /// A random subject of a kind that fits `who` and `need`.
    fn find_subject(&mut self, who: Who, need: Need) -> Option<Subject> {
        if self.w.subjects == 0 {
            return None;
        }
        for _ in 0..256 {
            let i = self.rng.gen_range(0..self.w.subjects);
            let k = kind_of(&self.w.keys, i);
            if who_ok(who, k) && need.ok(k) {
                return Some(subject(&self.w.keys, i, self.w.today));
            }
        }
        None
    }

    /// A subject for an entry of `who` in a file that needs `file_need`, fitting the defect. When no
    /// such subject turns up, the defect becomes a missing required field; then the entry's
    /// requirement is dropped (only in tiny data sets).
    fn subject_for(
        &mut self,
        who: Who,
        file_need: Need,
        defect: &mut Option<Defect>,
    ) -> Option<Subject> {
        let need = Need::of(*defect).and(file_need);
        if let Some(s) = self.find_subject(who, need) {
            return Some(s);
        }
        if need != file_need {
            *defect = Some(Defect::MissingRequired);
            if let Some(s) = self.find_subject(who, file_need) {
                return Some(s);
            }
        }
        self.find_subject(Who::Any, file_need)
            .or_else(|| self.find_subject(Who::Any, Need::Nothing))
    }

    /// The agency of `group` that decides about `s`: district bureaus decide most market cases of
    /// their district; courts share the cases.
    fn agency_for(&mut self, group: Group, s: Option<&Subject>) -> usize {
        match group {
            Group::Market => match s {
                Some(s) if !self.rng.gen_bool(0.3) => self.w.district_bureau(s.district),
                _ => MARKET,
            },
            Group::Court => {
                let courts: Vec<usize> = (0..self.w.agencies.len())
                    .filter(|&i| self.w.agencies[i].group == Group::Court)
                    .collect();
                let i = pick_weighted(&mut self.rng, &[10, 45, 45]);
                courts.get(i).or(courts.first()).copied().unwrap_or(MARKET)
            }
            g => self.w.agency_of(g),
        }
    }

    /// The unit that submits what `agency` decided: itself, or the parent collecting for it.
    fn source_for(&mut self, agency: usize) -> usize {
        match self.w.agencies.get(agency).and_then(|a| a.parent) {
            Some(p) if self.rng.gen_bool(0.4) => p,
            _ => agency,
        }
    }

    /// The next number of `agency`'s documents of `year`: numbers rise with gaps (not every
    /// document of an agency is a published record) from an offset of their own, so they are
    /// unique per agency and year.
    fn next_seq(&mut self, agency: usize, year: i32) -> u32 {
        let y = usize::try_from(year - self.w.base_year)
            .unwrap_or(0)
            .min(self.w.years - 1);
        let i = agency * self.w.years + y;
        let step = self.rng.gen_range(1..=3);
        match self.counters.get_mut(i) {
            Some(c) => {
                if *c == 0 {
                    *c = (self.w.keys.hash(0x5E9, i as u64) % 300) as u32;
                }
                *c += step;
                *c
            }
            None => 1,
        }
    }

    /// Decision and submission dates. The decision lies in `lo..=today` (or is `fixed`); the
    /// submission follows within 7 working days, or 8 to 60 working days when `late`, and is never
    /// after today. With `future` the decision is moved after today (the submission stays).
    fn dates(
        &mut self,
        lo: NaiveDate,
        fixed: Option<NaiveDate>,
        late: bool,
        future: bool,
    ) -> (NaiveDate, NaiveDate) {
        let today = self.w.today;
        let k: u32 = if late {
            self.rng.gen_range(8..=60)
        } else {
            self.rng.gen_range(0..=7)
        };
        let mut d = match fixed {
            Some(d) => d.min(today),
            None => random_date(&mut self.rng, lo.min(today), today),
        };
        let cal = self.w.calendar;
        let mut sub = cal.add_working_days(d, k);
        for _ in 0..1000 {
            if sub <= today {
                break;
            }
            let over = (sub - today).num_days().max(1) as u64;
            d = sub_days(d, over);
            sub = cal.add_working_days(d, k);
        }
        if future {
            d = add_days(today, self.rng.gen_range(1..=400));
        }
        self.decision = d;
        (d, sub)
    }

    // ----- shared fields -----

    fn put_date(&mut self, f: F, d: NaiveDate) {
        push_date(self.row.set(f), d, self.style);
    }

    /// The subject columns.
    fn put_subject(&mut self, s: &Subject) {
        let json = self.w.json;
        self.row.put(F::SubjectName, &s.name);
        let ck = s.kind.counterpart();
        self.row.put(
            F::CounterpartKind,
            if json {
                match ck {
                    CounterpartKind::Organisation => "organisation",
                    CounterpartKind::NaturalPerson => "natural_person",
                    CounterpartKind::IndividualBusiness => "individual_business",
                }
            } else {
                ck.zh()
            },
        );
        match (&s.uscc, s.kind) {
            (Some(u), _) => self.row.put(F::Uscc, u),
            (None, Kind::IndividualNoCode) => self.row.put(F::Uscc, PLACEHOLDER),
            _ => {}
        }
        if let Some(r) = &s.reg_no {
            self.row.put(F::RegNo, r);
        }
        if let Some(c) = &s.institution_cert {
            self.row.put(F::InstitutionCert, c);
        }
        if let Some(c) = &s.social_org_cert {
            self.row.put(F::SocialOrgCert, c);
        }
        if let Some(rep) = &s.rep {
            self.row.put(F::LegalRep, &rep.name);
            if self.rng.gen_bool(0.4) {
                self.row.put(F::LegalRepIdType, "身份证");
                self.row.put(F::LegalRepIdNo, &rep.id);
            }
        }
        if let Some(p) = &s.person {
            self.row.put(F::IdType, "身份证");
            self.row.put(F::IdNo, &p.id);
        }
    }

    /// Authority (or court) and source unit with their codes.
    fn put_agencies(&mut self, authority_field: F, agency: usize, source: usize) {
        let w = self.w;
        if let Some(a) = w.agencies.get(agency) {
            self.row.put(authority_field, &a.name);
            self.row.put(F::AuthorityCode, &a.code);
        }
        if let Some(a) = w.agencies.get(source) {
            self.row.put(F::SourceUnit, &a.name);
            self.row.put(F::SourceUnitCode, &a.code);
        }
    }

    fn category_text(&self, cat: Category) -> &'static str {
        if self.w.json { cat.code() } else { cat.zh() }
    }

    // ----- categories -----

    fn penalty(&mut self, defect: &mut Option<Defect>, late: bool) {
        let need = Need::of(*defect);
        let vi = self
            .choose(VIOLATIONS, |v| v.weight, |v| compatible(v.who, need))
            .unwrap_or(0);
        let Some(v) = VIOLATIONS.get(vi) else { return };
        let Some(s) = self.subject_for(v.who, Need::Nothing, defect) else {
            return;
        };
        let future = *defect == Some(Defect::FutureDecisionDate);
        let (decision, submitted) = self.dates(self.w.start.max(s.founded), None, late, future);
        let agency = self.agency_for(v.group, Some(&s));
        let source = self.source_for(agency);
        self.put_subject(&s);

        let seq = self.next_seq(agency, decision.year());
        let abbr = &self.w.agencies[agency].abbr;
        let _ = write!(
            self.row.set(F::DocNo),
            "{abbr}罚〔{}〕{seq}号",
            decision.year()
        );
        self.row.put(F::ViolationType, v.name);
        let before = sub_days(decision, self.rng.gen_range(10..=120));
        let n = self.rng.gen_range(1..=50);
        let x = amount(&mut self.rng, 1_000, 500_000, 10);
        fill_template(self.row.set(F::ViolationFacts), v.facts, before, n, x);
        self.row.put(F::LegalBasis, v.basis);

        let mut kinds: Vec<PenaltyKind> = pick(&mut self.rng, v.kinds)
            .map(|k| k.to_vec())
            .unwrap_or_else(|| vec![PenaltyKind::Warning]);
        let fine_missing = *defect == Some(Defect::FineMissing);
        if fine_missing && !kinds.contains(&PenaltyKind::Fine) {
            kinds.push(PenaltyKind::Fine);
        }
        let fine = kinds
            .contains(&PenaltyKind::Fine)
            .then(|| amount(&mut self.rng, v.fine.0, v.fine.1, 100));
        let confiscated = kinds
            .contains(&PenaltyKind::Confiscation)
            .then(|| amount(&mut self.rng, 500, (v.fine.1 / 2).max(1_000), 10));
        let sep = if self.w.quirks && self.rng.gen_bool(0.3) {
            "、"
        } else {
            ";"
        };
        let text = self.row.set(F::PenaltyKinds);
        for (i, k) in kinds.iter().enumerate() {
            if i > 0 {
                text.push_str(sep);
            }
            text.push_str(k.zh());
        }

        // 处罚内容
        let days = self.rng.gen_range(3..=15);
        let content = self.row.set(F::Content);
        for (i, k) in kinds.iter().enumerate() {
            if i > 0 {
                content.push('，');
            }
            let _ = match k {
                PenaltyKind::Warning => write!(content, "警告"),
                PenaltyKind::Fine => write!(content, "罚款人民币{}元", fine.unwrap_or(0)),
                PenaltyKind::Confiscation => {
                    write!(content, "没收违法所得人民币{}元", confiscated.unwrap_or(0))
                }
                PenaltyKind::LicenceSuspendedOrRevoked => write!(content, "吊销{}", v.licence),
                PenaltyKind::SuspendProduction => write!(content, "责令停产停业{days}日"),
                PenaltyKind::Detention => write!(content, "行政拘留{days}日"),
                PenaltyKind::PublicCriticism => write!(content, "通报批评"),
                PenaltyKind::QualificationDowngrade => write!(content, "降低资质等级"),
                PenaltyKind::RestrictBusiness => write!(content, "限制开展生产经营活动{days}日"),
                PenaltyKind::OrderedClosure => write!(content, "责令关闭"),
                PenaltyKind::RestrictPractice => write!(content, "三年内不得从事相关业务"),
                PenaltyKind::Other => write!(content, "责令限期改正"),
            };
        }
        if let Some(f) = fine.filter(|_| !fine_missing) {
            push_wan(self.row.set(F::FineWan), f);
        }
        if let Some(c) = confiscated {
            push_wan(self.row.set(F::ConfiscatedWan), c);
        }
        if kinds.contains(&PenaltyKind::LicenceSuspendedOrRevoked) {
            let number = match (&s.uscc, &s.reg_no) {
                _ if v.licence != "营业执照" => {
                    format!("{}{:07}", "JY1", self.rng.gen_range(0..10_000_000u32))
                }
                (Some(u), _) => u.clone(),
                (None, Some(r)) => r.clone(),
                (None, None) => String::new(),
            };
            let _ = write!(
                self.row.set(F::LicenceAffected),
                "{}（{number}）",
                v.licence
            );
        }
        self.put_date(F::DecisionDate, decision);

        // 处罚有效期: light penalties 3 months, heavy ones 3 years, others 1 year.
        let light = kinds
            .iter()
            .all(|k| matches!(k, PenaltyKind::Warning | PenaltyKind::PublicCriticism))
            || (kinds == [PenaltyKind::Fine] && fine.unwrap_or(0) <= 10_000);
        let heavy = kinds.iter().any(|k| {
            matches!(
                k,
                PenaltyKind::LicenceSuspendedOrRevoked
                    | PenaltyKind::SuspendProduction
                    | PenaltyKind::OrderedClosure
                    | PenaltyKind::RestrictPractice
                    | PenaltyKind::QualificationDowngrade
            )
        }) || fine.unwrap_or(0) >= 200_000;
        let months = if light {
            3
        } else if heavy {
            36
        } else {
            12
        };
        self.put_date(F::ValidUntil, sub_days(add_months(decision, months), 1));
        self.put_agencies(F::Authority, agency, source);
        self.put_date(F::SubmittedOn, submitted);
        if self.rng.gen_bool(0.08) {
            self.row.put(F::Remarks, "当事人已履行处罚决定");
        }
    }

    fn licence(&mut self, defect: &mut Option<Defect>, late: bool) {
        let need = Need::of(*defect);
        let li = self
            .choose(LICENCES, |l| l.weight, |l| compatible(l.who, need))
            .unwrap_or(0);
        let Some(lt) = LICENCES.get(li) else { return };
        let Some(s) = self.subject_for(lt.who, Need::Nothing, defect) else {
            return;
        };
        let future = *defect == Some(Defect::FutureDecisionDate);
        let (decision, submitted) = self.dates(self.w.start.max(s.founded), None, late, future);
        let agency = self.agency_for(lt.group, Some(&s));
        let source = self.source_for(agency);
        self.put_subject(&s);
        self.row.put(F::DocumentName, lt.document);
        let seq = self.next_seq(agency, decision.year());
        let abbr = &self.w.agencies[agency].abbr;
        let _ = write!(
            self.row.set(F::DocNo),
            "{abbr}许〔{}〕{seq}号",
            decision.year()
        );
        self.row.put(F::LicenceKind, lt.kind.zh());
        self.row.put(F::CertificateName, lt.certificate);
        let serial = format!("{:06}", self.rng.gen_range(0..1_000_000u32));
        let region = crate::words::DISTRICTS[s.district].code;
        let number = lt
            .number
            .replace("{r}", region)
            .replace("{y}", &decision.year().to_string())
            .replace("{s}", &serial);
        self.row.put(F::LicenceNo, &number);
        self.row.put(F::Content, lt.content);
        self.put_date(F::DecisionDate, decision);
        self.put_date(F::ValidFrom, decision);
        let mut valid_to = if lt.years == 0 {
            NaiveDate::from_ymd_opt(2099, 12, 31).unwrap_or(decision)
        } else {
            sub_days(add_months(decision, lt.years * 12), 1)
        };
        if *defect == Some(Defect::ValidityInverted) {
            valid_to = sub_days(decision, self.rng.gen_range(1..=365));
        }
        self.put_date(F::ValidTo, valid_to);
        self.put_agencies(F::Authority, agency, source);
        let in_force = valid_to >= self.w.today && !self.rng.gen_bool(0.03);
        self.row
            .put(F::LicenceStatus, if in_force { "有效" } else { "无效" });
        self.put_date(F::SubmittedOn, submitted);
        if !in_force && valid_to >= self.w.today {
            self.row.put(F::Remarks, "许可已注销");
        }
    }

    fn debtor(&mut self, defect: &mut Option<Defect>, late: bool) {
        let court = self.agency_for(Group::Court, None);
        let Some(s) = self.subject_for(Who::Any, Need::UsccOrPerson, defect) else {
            return;
        };
        let future = *defect == Some(Defect::FutureDecisionDate);
        let (decision, submitted) = self.dates(self.w.start.max(s.founded), None, late, future);
        let filed = sub_days(decision, self.rng.gen_range(20..=400));
        self.row.put(F::SubjectName, &s.name);
        if let Some(u) = &s.uscc {
            self.row.put(F::Uscc, u);
        }
        if let Some(p) = &s.person {
            self.row.put(F::IdType, "身份证");
            self.row.put(F::IdNo, &p.id);
        }
        if let Some(rep) = &s.rep {
            self.row.put(F::LegalRep, &rep.name);
        }
        let seq = self.next_seq(court, filed.year());
        let abbr = &self.w.agencies[court].abbr;
        let _ = write!(
            self.row.set(F::DocNo),
            "（{}）{abbr}执{seq}号",
            filed.year()
        );
        self.put_date(F::FiledOn, filed);
        let basis_year = filed.year() - self.rng.gen_range(0..=1);
        let marker = pick(&mut self.rng, debtor::BASIS)
            .copied()
            .unwrap_or("民初");
        let n = self.rng.gen_range(1..=20_000);
        let district = &crate::words::DISTRICTS[s.district].code[2..];
        let _ = if marker == "劳人仲案字" {
            write!(
                self.row.set(F::BasisDoc),
                "津劳人仲案字〔{basis_year}〕第{n}号"
            )
        } else {
            write!(
                self.row.set(F::BasisDoc),
                "（{basis_year}）津{district}{marker}{n}号"
            )
        };
        let x = amount(&mut self.rng, 5_000, 2_000_000, 100);
        let obligation = pick(&mut self.rng, debtor::OBLIGATIONS)
            .copied()
            .unwrap_or("");
        fill_template(self.row.set(F::Obligation), obligation, decision, 0, x);
        let perf = pick(&mut self.rng, debtor::PERFORMANCE)
            .copied()
            .unwrap_or("");
        self.row.put(F::Performance, perf);
        let conduct = pick(&mut self.rng, debtor::CONDUCT).copied().unwrap_or("");
        self.row.put(F::Conduct, conduct);
        self.put_date(F::DecisionDate, decision);
        self.put_agencies(F::Court, court, court);
        self.put_date(F::SubmittedOn, submitted);
    }

    fn listing(&mut self, cat: Category, defect: &mut Option<Defect>, late: bool) {
        let need = Need::of(*defect);
        let mut li = self.choose(
            LISTS,
            |l| if l.category == cat { l.weight } else { 0 },
            |l| compatible(l.who, need),
        );
        if li.is_none() {
            // No list of this category fits the defect's subject: make it another defect.
            *defect = Some(Defect::MissingRequired);
            li = self.choose(
                LISTS,
                |l| if l.category == cat { l.weight } else { 0 },
                |_| true,
            );
        }
        let Some(lt) = li.and_then(|i| LISTS.get(i)) else {
            return;
        };
        let Some(s) = self.subject_for(lt.who, Need::Nothing, defect) else {
            return;
        };
        let future = *defect == Some(Defect::FutureDecisionDate);
        let (decision, submitted) = self.dates(self.w.start.max(s.founded), None, late, future);
        let agency = self.agency_for(lt.group, Some(&s));
        let source = self.source_for(agency);
        self.put_subject(&s);
        self.row.put(F::ListType, self.category_text(cat));
        self.row.put(F::ListName, lt.name);
        let reason = pick(&mut self.rng, lt.reasons).copied().unwrap_or("");
        self.row.put(F::Reason, reason);
        let seq = self.next_seq(agency, decision.year());
        let marker = match cat {
            Category::SeriousDishonestList => "严列",
            Category::AbnormalOperation => "异列",
            _ => "荣",
        };
        let abbr = &self.w.agencies[agency].abbr;
        let _ = write!(
            self.row.set(F::DocNo),
            "{abbr}{marker}〔{}〕{seq}号",
            decision.year()
        );
        self.put_date(F::DecisionDate, decision);
        // A removal is only told once it happened, so only rows submitted some time after the
        // listing (late ones) carry one.
        let removed = if *defect == Some(Defect::ValidityInverted) {
            Some(sub_days(decision, self.rng.gen_range(1..=200)))
        } else if late && submitted > decision && self.rng.gen_bool(0.4) {
            Some(random_date(&mut self.rng, add_days(decision, 1), submitted))
        } else {
            None
        };
        if let Some(r) = removed {
            self.put_date(F::RemovedOn, r);
            let why = pick(&mut self.rng, lt.removals).copied().unwrap_or("");
            self.row.put(F::RemovalReason, why);
        }
        self.put_agencies(F::Authority, agency, source);
        self.put_date(F::SubmittedOn, submitted);
    }

    fn registration(&mut self, defect: &mut Option<Defect>, late: bool) {
        // The next subject that is not a natural person; past the end, any organisation.
        let mut found = None;
        while self.reg_cursor < self.w.subjects {
            let i = self.reg_cursor;
            self.reg_cursor += 1;
            if kind_of(&self.w.keys, i) != Kind::NaturalPerson {
                found = Some(subject(&self.w.keys, i, self.w.today));
                break;
            }
        }
        let s = match found {
            Some(s) => s,
            None => match self.find_subject(Who::Org, Need::Nothing) {
                Some(s) => s,
                None => match self.find_subject(Who::Any, Need::Nothing) {
                    Some(s) => s,
                    None => return,
                },
            },
        };
        if matches!(defect, Some(d) if !d.need().ok(s.kind)) {
            *defect = Some(Defect::MissingRequired);
        }
        let future = *defect == Some(Defect::FutureDecisionDate);
        let (decision, submitted) = self.dates(s.founded, Some(s.founded), late, future);
        let agency = match s.kind {
            Kind::SocialGroup | Kind::NonProfit | Kind::Foundation => {
                self.w.agency_of(Group::CivilAffairs)
            }
            Kind::PublicInstitution => self.w.agency_of(Group::InstitutionRegistry),
            Kind::LawFirm => self.w.agency_of(Group::Justice),
            _ => self.agency_for(Group::Market, Some(&s)),
        };
        let source = self.source_for(agency);
        self.row
            .put(F::Category, self.category_text(Category::Registration));
        self.put_subject(&s);
        let persons = s.persons(&self.w.keys);
        let text = self.row.set(F::Persons);
        for (i, (role, p)) in persons.iter().enumerate() {
            if i > 0 {
                text.push(';');
            }
            let _ = write!(text, "{}:{}:{}", role.zh(), p.name, p.id);
        }
        let seq = self.next_seq(agency, decision.year());
        let abbr = &self.w.agencies[agency].abbr;
        let _ = write!(
            self.row.set(F::DocNo),
            "{abbr}登字〔{}〕第{seq:06}号",
            decision.year()
        );
        let address = s.address(&mut self.rng);
        let money = match s.kind {
            Kind::Enterprise | Kind::FarmerCoop => "注册资本",
            Kind::IndividualBusiness | Kind::IndividualNoCode => "资金数额",
            _ => "开办资金",
        };
        let _ = write!(
            self.row.set(F::Title),
            "设立登记：{}；{money}{}万元人民币；住所：{address}",
            s.kind.registration_type(),
            s.capital_wan
        );
        self.put_date(F::DecisionDate, decision);
        self.put_agencies(F::Authority, agency, source);
        if s.kind == Kind::Enterprise && self.rng.gen_bool(0.5) {
            let years = if self.rng.gen_bool(0.5) { 20 } else { 30 };
            self.put_date(F::ValidUntil, sub_days(add_months(decision, years * 12), 1));
        }
        self.put_date(F::SubmittedOn, submitted);
    }

    fn other(&mut self, cat: Category, defect: &mut Option<Defect>, late: bool) {
        let need = Need::of(*defect);
        let weight = |o: &crate::catalog::OtherType| if o.category == cat { o.weight } else { 0 };
        let mut oi = self.choose(OTHERS, weight, |o| compatible(o.who, need));
        if oi.is_none() {
            *defect = Some(Defect::MissingRequired);
            oi = self.choose(OTHERS, weight, |_| true);
        }
        let Some(ot) = oi.and_then(|i| OTHERS.get(i)) else {
            return;
        };
        let Some(s) = self.subject_for(ot.who, Need::Nothing, defect) else {
            return;
        };
        let future = *defect == Some(Defect::FutureDecisionDate);
        let (decision, submitted) = self.dates(self.w.start.max(s.founded), None, late, future);
        let agency = self.agency_for(ot.group, Some(&s));
        let source = self.source_for(agency);
        self.row.put(F::Category, self.category_text(cat));
        self.put_subject(&s);
        let seq = self.next_seq(agency, decision.year());
        let abbr = &self.w.agencies[agency].abbr;
        let _ = write!(
            self.row.set(F::DocNo),
            "{abbr}{}〔{}〕{seq}号",
            ot.marker,
            decision.year()
        );
        let outcome = pick(&mut self.rng, ot.outcomes).copied().unwrap_or("");
        let title = self.row.set(F::Title);
        fill_template(title, ot.title, decision, 0, 0);
        title.push_str(outcome);
        self.put_date(F::DecisionDate, decision);
        self.put_agencies(F::Authority, agency, source);
        if ot.months > 0 {
            self.put_date(F::ValidUntil, sub_days(add_months(decision, ot.months), 1));
        }
        self.put_date(F::SubmittedOn, submitted);
    }

    // ----- defects and quirks -----

    /// The fields a record of `cat` cannot do without (docs/fields.md).
    fn required(cat: Category) -> &'static [F] {
        match cat {
            Category::Penalty => &[
                F::SubjectName,
                F::DocNo,
                F::ViolationType,
                F::ViolationFacts,
                F::LegalBasis,
                F::PenaltyKinds,
                F::Content,
                F::DecisionDate,
                F::ValidUntil,
                F::Authority,
                F::AuthorityCode,
            ],
            Category::Licence => &[
                F::SubjectName,
                F::DocumentName,
                F::DocNo,
                F::LicenceKind,
                F::Content,
                F::DecisionDate,
                F::ValidFrom,
                F::ValidTo,
                F::Authority,
                F::AuthorityCode,
                F::LicenceStatus,
            ],
            Category::DishonestDebtor => &[
                F::SubjectName,
                F::Court,
                F::DocNo,
                F::Obligation,
                F::Performance,
                F::Conduct,
                F::DecisionDate,
            ],
            Category::SeriousDishonestList | Category::AbnormalOperation | Category::RedList => &[
                F::SubjectName,
                F::ListName,
                F::Reason,
                F::Authority,
                F::AuthorityCode,
                F::DocNo,
                F::DecisionDate,
            ],
            _ => &[
                F::SubjectName,
                F::DocNo,
                F::Title,
                F::DecisionDate,
                F::Authority,
                F::AuthorityCode,
            ],
        }
    }

    fn apply_defect(&mut self, d: Defect, cat: Category) {
        match d {
            Defect::WrongUsccCheck => {
                let code = self.row.get(F::Uscc).to_string();
                let Some(last) = code.chars().last() else {
                    return;
                };
                let cs: Vec<char> = USCC_CHARSET.chars().collect();
                let v = cs.iter().position(|&c| c == last).unwrap_or(0);
                let wrong = cs[(v + self.rng.gen_range(1..cs.len())) % cs.len()];
                let mut bad = code;
                bad.pop();
                bad.push(wrong);
                self.row.put(F::Uscc, &bad);
            }
            Defect::ImpossibleDate => {
                const IMPOSSIBLE: [(u32, u32); 7] = [
                    (2, 30),
                    (2, 31),
                    (4, 31),
                    (6, 31),
                    (9, 31),
                    (11, 31),
                    (13, 1),
                ];
                let (m, d) = pick(&mut self.rng, &IMPOSSIBLE).copied().unwrap_or((2, 30));
                push_ymd(
                    self.row.set(F::DecisionDate),
                    self.decision.year(),
                    m,
                    d,
                    self.style,
                );
            }
            Defect::MissingRequired => {
                if let Some(&f) = pick(&mut self.rng, Self::required(cat)) {
                    self.row.set(f);
                }
            }
            Defect::UnknownValue => {
                let (field, values): (F, &[&str]) = match self.file {
                    FileKind::Penalties => {
                        (F::PenaltyKinds, &["责令改正", "批评教育", "罚金", "训诫"])
                    }
                    FileKind::Licences => (F::LicenceKind, &["临时", "特殊", "备案"]),
                    FileKind::Lists => (F::ListType, &["灰名单", "重点关注名单", "观察名单"]),
                    FileKind::Others => (F::Category, &["信用评价结果", "资质等级", "监管信息"]),
                    FileKind::DishonestDebtors => (F::Court, &[""]),
                };
                let v = pick(&mut self.rng, values).copied().unwrap_or("");
                self.row.put(field, v);
            }
            Defect::SpreadsheetId => {
                let id = self.row.get(F::IdNo).to_string();
                self.row.put(F::IdNo, &spreadsheet_float(&id));
            }
            Defect::FutureDecisionDate | Defect::ValidityInverted | Defect::FineMissing => {}
        }
    }

    /// Quirks of real files that must still validate: full-width, lower-case or space-padded
    /// codes, empty markers in empty optional fields, dates in other forms (chosen in
    /// [`RowGen::fill`]), a line break inside a long text.
    fn apply_quirks(&mut self) {
        const CODES: [F; 4] = [F::Uscc, F::RegNo, F::IdNo, F::LegalRepIdNo];
        let r = self.rng.gen_range(0..100);
        match r {
            0..5 => {
                for f in CODES {
                    let v = full_width(self.row.get(f));
                    self.row.put(f, &v);
                }
            }
            5..10 => {
                for f in CODES {
                    let v = self.row.get(f).to_lowercase();
                    self.row.put(f, &v);
                }
            }
            10..15 => {
                let pad = if self.w.gbk { '\u{3000}' } else { '\u{a0}' };
                for f in [F::SubjectName, F::Uscc, F::IdNo] {
                    if self.row.get(f).is_empty() {
                        continue;
                    }
                    let v = format!(" {}{pad}", self.row.get(f));
                    self.row.put(f, &v);
                }
            }
            _ => {}
        }
        if !self.w.json && self.rng.gen_bool(0.2) {
            const OPTIONAL: [F; 24] = [
                F::Uscc,
                F::RegNo,
                F::OrgCode,
                F::TaxNo,
                F::InstitutionCert,
                F::SocialOrgCert,
                F::LegalRep,
                F::LegalRepIdType,
                F::LegalRepIdNo,
                F::IdType,
                F::IdNo,
                F::Persons,
                F::FineWan,
                F::ConfiscatedWan,
                F::LicenceAffected,
                F::PublicityUntil,
                F::Remarks,
                F::CertificateName,
                F::LicenceNo,
                F::FiledOn,
                F::BasisDoc,
                F::RemovedOn,
                F::RemovalReason,
                F::ValidUntil,
            ];
            let marker = pick(&mut self.rng, &["无", "-", "/"])
                .copied()
                .unwrap_or("无");
            for i in 0..self.cols.len() {
                let f = self.cols[i].field;
                if OPTIONAL.contains(&f) && self.row.get(f).is_empty() {
                    self.row.put(f, marker);
                }
            }
        }
        if self.rng.gen_bool(0.01) {
            for f in [F::ViolationFacts, F::Title, F::Obligation] {
                let v = self.row.get(f);
                if let Some(pos) = v.find('，') {
                    let with_break = format!(
                        "{}\n{}",
                        &v[..pos + '，'.len_utf8()],
                        &v[pos + '，'.len_utf8()..]
                    );
                    self.row.put(f, &with_break);
                    break;
                }
            }
        }
    }
}
