//! Subjects (行政相对人) and persons, regenerated from their index on demand: subject `i` is always
//! the same name, kind, codes and legal representative, and nothing about subjects is kept in memory.
//!
//! Person `p` (a natural-person subject, or a legal representative, shareholder or manager of an
//! organisation) has a resident number that is unique among all persons: it comes from a keyed
//! permutation of `p`. Organisation codes, registration numbers and most names come from keyed
//! permutations of the subject index too, so they do not repeat.

use chrono::{Datelike, Days, NaiveDate};
use creditloop_domain::ids::{
    USCC_CHARSET, org_code_check_char, reg_no_check_digit, resident_id_check_char, uscc_check_char,
};
use creditloop_domain::subject::{CounterpartKind, PersonRole};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::rng::{Keys, Purpose, permute, pick_weighted};
use crate::words::{
    COOP_PRODUCTS, DISTRICT_WEIGHTS, DISTRICTS, FORMS, FOUNDATION_KINDS, GIVEN_FEMALE, GIVEN_MALE,
    GROUP_SUFFIXES, GROUP_TOPICS, INDUSTRIES, INSTITUTION_KINDS, NONPROFIT_KINDS, SHOPS, STREETS,
    SURNAMES, TRADE,
};

/// The kind of a generated subject, finer than the domain's: individual businesses with and without
/// a unified code, and the three kinds of social organisation, differ in their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// 企业 (91)
    Enterprise,
    /// 个体工商户 with a unified code (92)
    IndividualBusiness,
    /// 个体工商户 without one: the placeholder code and a registration number
    IndividualNoCode,
    /// 农民专业合作社 (93)
    FarmerCoop,
    /// 社会团体 (51)
    SocialGroup,
    /// 民办非企业单位 (52)
    NonProfit,
    /// 基金会 (53)
    Foundation,
    /// 事业单位 (12)
    PublicInstitution,
    /// 律师事务所 (31)
    LawFirm,
    /// 自然人
    NaturalPerson,
}

/// Kinds and their weights in ten thousand.
const KIND_TABLE: [(Kind, u64); 10] = [
    (Kind::Enterprise, 5_680),
    (Kind::IndividualBusiness, 2_125),
    (Kind::IndividualNoCode, 375),
    (Kind::FarmerCoop, 200),
    (Kind::SocialGroup, 30),
    (Kind::NonProfit, 80),
    (Kind::Foundation, 10),
    (Kind::PublicInstitution, 90),
    (Kind::LawFirm, 30),
    (Kind::NaturalPerson, 1_380),
];

/// Salts of the per-index hashes and permutations.
mod salt {
    pub const KIND: u64 = 1;
    pub const NAME2: u64 = 2;
    pub const NAME3: u64 = 3;
    pub const SHOP: u64 = 4;
    pub const COOP: u64 = 5;
    pub const NONPROFIT: u64 = 6;
    pub const FOUNDATION: u64 = 7;
    pub const INSTITUTION: u64 = 8;
    pub const LAW: u64 = 9;
    pub const ORG_LETTERS: u64 = 10;
    pub const ORG_DIGITS: u64 = 11;
    pub const REG_NO: u64 = 12;
    pub const RESIDENT: u64 = 13;
    pub const CERT: u64 = 14;
    pub const GROUP: u64 = 15;
    pub const PERSONS: u64 = 16;
}

impl Kind {
    /// Positions 1–2 of its unified code; `None` for kinds without one.
    pub(crate) fn uscc_kind(self) -> Option<&'static str> {
        Some(match self {
            Kind::Enterprise => "91",
            Kind::IndividualBusiness => "92",
            Kind::FarmerCoop => "93",
            Kind::SocialGroup => "51",
            Kind::NonProfit => "52",
            Kind::Foundation => "53",
            Kind::PublicInstitution => "12",
            Kind::LawFirm => "31",
            Kind::IndividualNoCode | Kind::NaturalPerson => return None,
        })
    }

    /// 行政相对人类别.
    pub(crate) fn counterpart(self) -> CounterpartKind {
        match self {
            Kind::IndividualBusiness | Kind::IndividualNoCode => {
                CounterpartKind::IndividualBusiness
            }
            Kind::NaturalPerson => CounterpartKind::NaturalPerson,
            _ => CounterpartKind::Organisation,
        }
    }

    /// Whether subjects of this kind carry a unified social credit code.
    pub(crate) fn has_uscc(self) -> bool {
        self.uscc_kind().is_some()
    }

    /// Market entities (市场主体): enterprises, individual businesses, cooperatives.
    pub(crate) fn is_market_entity(self) -> bool {
        matches!(
            self,
            Kind::Enterprise | Kind::IndividualBusiness | Kind::IndividualNoCode | Kind::FarmerCoop
        )
    }

    /// The type named in registration records.
    pub(crate) fn registration_type(self) -> &'static str {
        match self {
            Kind::Enterprise => "有限责任公司",
            Kind::IndividualBusiness | Kind::IndividualNoCode => "个体工商户",
            Kind::FarmerCoop => "农民专业合作社",
            Kind::SocialGroup => "社会团体",
            Kind::NonProfit => "民办非企业单位",
            Kind::Foundation => "基金会",
            Kind::PublicInstitution => "事业单位",
            Kind::LawFirm => "律师事务所",
            Kind::NaturalPerson => "自然人",
        }
    }
}

/// The kind of subject `index`: a cheap keyed hash, so the kind can be tested before the subject is
/// built.
pub(crate) fn kind_of(keys: &Keys, index: u64) -> Kind {
    let mut x = keys.hash(salt::KIND, index) % 10_000;
    for (k, w) in KIND_TABLE {
        if x < w {
            return k;
        }
        x -= w;
    }
    Kind::Enterprise
}

/// A natural person: name, resident identity number and sex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    pub name: String,
    pub id: String,
}

/// Birth dates run from this day on …
const BIRTH_FIRST: NaiveDate = match NaiveDate::from_ymd_opt(1950, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
/// … for this many days (to 2004-12-31).
const BIRTH_DAYS: u64 = 20_089;

/// Person `p`: persons of subject `i` are `8·i` (the person itself, or the legal representative)
/// and `8·i + 1 …` (shareholders, managers).
pub(crate) fn person(keys: &Keys, p: u64) -> Person {
    let space = DISTRICTS.len() as u64 * BIRTH_DAYS * 999;
    let j = permute(p % space, space, keys.hash ^ salt::RESIDENT);
    let district = &DISTRICTS[(j % DISTRICTS.len() as u64) as usize];
    let rest = j / DISTRICTS.len() as u64;
    let seq = rest % 999 + 1;
    let birth = BIRTH_FIRST
        .checked_add_days(Days::new(rest / 999))
        .unwrap_or(BIRTH_FIRST);
    let body = format!(
        "{}{:04}{:02}{:02}{:03}",
        district.code,
        birth.year(),
        birth.month(),
        birth.day(),
        seq
    );
    let check = resident_id_check_char(&body).unwrap_or('0');
    let male = seq % 2 == 1;
    let mut rng = keys.stream(Purpose::Person, p);
    let name = person_name(&mut rng, male);
    Person {
        name,
        id: format!("{body}{check}"),
    }
}

/// A Chinese name: a common surname (the frequent ones more often) and one or two given characters.
fn person_name(rng: &mut ChaCha8Rng, male: bool) -> String {
    let u: f64 = rng.r#gen();
    let s = ((u * u) * SURNAMES.len() as f64) as usize;
    let mut name = String::with_capacity(9);
    name.push_str(SURNAMES[s.min(SURNAMES.len() - 1)]);
    let given: &[&str] = if male { &GIVEN_MALE } else { &GIVEN_FEMALE };
    let n = if rng.gen_bool(0.3) { 1 } else { 2 };
    for _ in 0..n {
        name.push_str(given[rng.gen_range(0..given.len())]);
    }
    name
}

/// A generated subject.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub index: u64,
    pub kind: Kind,
    pub name: String,
    /// Index into [`DISTRICTS`]: where it is registered or lives.
    pub district: usize,
    /// 统一社会信用代码, valid; `None` for natural persons and individual businesses without one.
    pub uscc: Option<String>,
    /// 工商注册号 of an individual business without a unified code.
    pub reg_no: Option<String>,
    /// 事业单位证书号
    pub institution_cert: Option<String>,
    /// 社会组织登记证号
    pub social_org_cert: Option<String>,
    /// The natural person a natural-person subject is.
    pub person: Option<Person>,
    /// Legal representative (法定代表人 / 负责人 / 经营者) of any other subject.
    pub rep: Option<Person>,
    /// Date of establishment (成立日期).
    pub founded: NaiveDate,
    /// Registered capital or funds, in 万元.
    pub capital_wan: u32,
}

/// Trade-name characters at permuted position `j` (two of them: `j % 40 000`).
fn push_trade2(name: &mut String, j: u64) {
    let n = TRADE.len() as u64;
    name.push_str(TRADE[(j % n) as usize]);
    name.push_str(TRADE[((j / n) % n) as usize]);
}

/// Chinese numeral for 1..=99 (第二十三中学).
fn chinese_number(n: u64) -> String {
    const D: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (t, u) = ((n / 10) as usize % 10, (n % 10) as usize);
    match t {
        0 => D[u].to_string(),
        1 => format!("十{}", D[u]),
        _ => format!("{}十{}", D[t], D[u]),
    }
}

/// Base-31 digits of `v` in the unified-code character set, `len` of them.
fn charset_digits(mut v: u64, len: usize) -> String {
    let cs = USCC_CHARSET.as_bytes();
    let mut out = vec![b'0'; len];
    for slot in out.iter_mut().rev() {
        *slot = cs[(v % 31) as usize];
        v /= 31;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A valid unified code: kind, region, an 8-character organisation-code body, and both checks.
fn make_uscc(kind: &str, region: &str, body8: &str) -> Option<String> {
    let org_check = org_code_check_char(body8)?;
    let body17 = format!("{kind}{region}{body8}{org_check}");
    let check = uscc_check_char(&body17)?;
    Some(format!("{body17}{check}"))
}

/// Builds subject `index` (below `subjects`). `today` bounds the date of establishment.
pub(crate) fn subject(keys: &Keys, index: u64, today: NaiveDate) -> Subject {
    let kind = kind_of(keys, index);
    let mut rng = keys.stream(Purpose::Subject, index);
    let mut district = pick_weighted(&mut rng, &DISTRICT_WEIGHTS);
    let h = keys.hash;
    let mut name = String::with_capacity(48);
    match kind {
        Kind::Enterprise => {
            let d = &DISTRICTS[district];
            let style = rng.gen_range(0..100);
            let three = rng.gen_bool(0.3) || index >= 40_000 * INDUSTRIES.len() as u64;
            let ind_n = INDUSTRIES.len() as u64;
            let (trade_j, industry) = if three {
                let space = 8_000_000 * ind_n;
                let j = permute(index % space, space, h ^ salt::NAME3);
                (j / ind_n, (j % ind_n) as usize)
            } else {
                let space = 40_000 * ind_n;
                let j = permute(index % space, space, h ^ salt::NAME2);
                (j / ind_n, (j % ind_n) as usize)
            };
            let mut trade = String::with_capacity(9);
            push_trade2(&mut trade, trade_j);
            if three {
                trade.push_str(TRADE[((trade_j / 40_000) % 200) as usize]);
            }
            let form = FORMS[pick_weighted(&mut rng, &FORMS.map(|f| f.1))].0;
            match style {
                0..35 => {
                    name.push_str("天津市");
                    name.push_str(d.name);
                }
                35..70 => name.push_str("天津市"),
                70..88 => name.push_str("天津"),
                _ => {}
            }
            name.push_str(&trade);
            if style >= 88 {
                name.push_str("（天津）");
            }
            name.push_str(INDUSTRIES[industry]);
            name.push_str(form);
        }
        Kind::IndividualBusiness | Kind::IndividualNoCode => {
            let space = 16 * 40_000 * SHOPS.len() as u64;
            let j = permute(index % space, space, h ^ salt::SHOP);
            district = (j % 16) as usize;
            let shop = SHOPS[((j / 16) % SHOPS.len() as u64) as usize];
            if rng.gen_bool(0.3) {
                name.push_str("天津市");
            }
            name.push_str(DISTRICTS[district].name);
            // Some shops are named after the owner (张记面馆); such names may repeat across the
            // city, as they do in reality. Trade names do not.
            if rng.gen_bool(0.2) {
                let u: f64 = rng.r#gen();
                name.push_str(SURNAMES[((u * u) * 100.0) as usize % 100]);
                name.push_str(if rng.gen_bool(0.7) { "记" } else { "氏" });
            } else {
                push_trade2(&mut name, j / 16 / SHOPS.len() as u64);
            }
            name.push_str(shop);
        }
        Kind::FarmerCoop => {
            let space = 16 * 40_000 * COOP_PRODUCTS.len() as u64;
            let j = permute(index % space, space, h ^ salt::COOP);
            district = (j % 16) as usize;
            name.push_str("天津市");
            name.push_str(DISTRICTS[district].name);
            push_trade2(&mut name, j / 16 / COOP_PRODUCTS.len() as u64);
            name.push_str(COOP_PRODUCTS[((j / 16) % COOP_PRODUCTS.len() as u64) as usize]);
            name.push_str("专业合作社");
        }
        Kind::SocialGroup => {
            let space = 17 * (GROUP_TOPICS.len() * GROUP_SUFFIXES.len()) as u64;
            let j = permute(index % space, space, h ^ salt::GROUP);
            name.push_str("天津市");
            if j % 17 < 16 {
                district = (j % 17) as usize;
                name.push_str(DISTRICTS[district].name);
            }
            let t = (j / 17) as usize;
            name.push_str(GROUP_TOPICS[t % GROUP_TOPICS.len()]);
            name.push_str(GROUP_SUFFIXES[(t / GROUP_TOPICS.len()) % GROUP_SUFFIXES.len()]);
        }
        Kind::NonProfit => {
            let space = 16 * 40_000 * NONPROFIT_KINDS.len() as u64;
            let j = permute(index % space, space, h ^ salt::NONPROFIT);
            district = (j % 16) as usize;
            name.push_str("天津市");
            name.push_str(DISTRICTS[district].name);
            push_trade2(&mut name, j / 16 / NONPROFIT_KINDS.len() as u64);
            name.push_str(NONPROFIT_KINDS[((j / 16) % NONPROFIT_KINDS.len() as u64) as usize]);
        }
        Kind::Foundation => {
            let space = 40_000 * FOUNDATION_KINDS.len() as u64;
            let j = permute(index % space, space, h ^ salt::FOUNDATION);
            name.push_str("天津市");
            push_trade2(&mut name, j / FOUNDATION_KINDS.len() as u64);
            name.push_str(FOUNDATION_KINDS[(j % FOUNDATION_KINDS.len() as u64) as usize]);
        }
        Kind::PublicInstitution => {
            let space = 16 * 99 * INSTITUTION_KINDS.len() as u64 + 16 * STREETS.len() as u64;
            let j = permute(index % space, space, h ^ salt::INSTITUTION);
            district = (j % 16) as usize;
            name.push_str("天津市");
            name.push_str(DISTRICTS[district].name);
            let r = j / 16;
            let numbered = 99 * INSTITUTION_KINDS.len() as u64;
            if r < numbered {
                name.push('第');
                name.push_str(&chinese_number(r % 99 + 1));
                name.push_str(INSTITUTION_KINDS[(r / 99) as usize % INSTITUTION_KINDS.len()]);
            } else {
                name.push_str(STREETS[((r - numbered) as usize) % STREETS.len()]);
                name.push_str("社区卫生服务中心");
            }
        }
        Kind::LawFirm => {
            let j = permute(index % 40_000, 40_000, h ^ salt::LAW);
            if rng.gen_bool(0.15) {
                name.push_str("北京");
                push_trade2(&mut name, j);
                name.push_str("（天津）律师事务所");
            } else {
                name.push_str("天津");
                push_trade2(&mut name, j);
                name.push_str("律师事务所");
            }
        }
        Kind::NaturalPerson => {}
    }

    // Codes.
    let mut uscc = None;
    let mut reg_no = None;
    let mut institution_cert = None;
    let mut social_org_cert = None;
    let city_level = rng.gen_bool(match kind {
        Kind::Enterprise | Kind::FarmerCoop => 0.2,
        Kind::IndividualBusiness | Kind::IndividualNoCode => 0.0,
        _ => 0.5,
    });
    let region = if city_level {
        "120000"
    } else {
        DISTRICTS[district].code
    };
    if let Some(k) = kind.uscc_kind() {
        let letters = match kind {
            Kind::Enterprise | Kind::IndividualBusiness | Kind::FarmerCoop => rng.gen_bool(0.7),
            Kind::SocialGroup | Kind::NonProfit | Kind::Foundation => rng.gen_bool(0.8),
            _ => false,
        };
        let body = if letters {
            let space = 31u64.pow(6);
            let v = permute(index % space, space, h ^ salt::ORG_LETTERS);
            let prefix = if matches!(kind, Kind::SocialGroup | Kind::NonProfit | Kind::Foundation) {
                "MJ"
            } else {
                "MA"
            };
            format!("{prefix}{}", charset_digits(v, 6))
        } else {
            let v = permute(index % 100_000_000, 100_000_000, h ^ salt::ORG_DIGITS);
            format!("{v:08}")
        };
        uscc = make_uscc(k, region, &body);
    }
    match kind {
        Kind::IndividualNoCode => {
            let v = permute(index % 10_000_000, 10_000_000, h ^ salt::REG_NO);
            let body = format!("{}6{v:07}", DISTRICTS[district].code);
            reg_no = reg_no_check_digit(&body).map(|c| format!("{body}{c}"));
        }
        Kind::PublicInstitution => {
            let v = permute(index % 1_000_000, 1_000_000, h ^ salt::CERT);
            institution_cert = Some(format!("事证第1{region}{v:06}号"));
        }
        Kind::SocialGroup | Kind::NonProfit | Kind::Foundation => {
            let v = permute(index % 1_000_000, 1_000_000, h ^ salt::CERT);
            social_org_cert = Some(format!("津民证字第{v:06}号"));
        }
        _ => {}
    }

    let (person_self, rep) = if kind == Kind::NaturalPerson {
        let p = person(keys, index.saturating_mul(8));
        name.push_str(&p.name);
        district = DISTRICTS
            .iter()
            .position(|d| p.id.starts_with(d.code))
            .unwrap_or(district);
        (Some(p), None)
    } else {
        (None, Some(person(keys, index.saturating_mul(8))))
    };

    let founded = founding_date(&mut rng, today);
    let capital_wan = match kind {
        Kind::Enterprise => {
            [10, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000][rng.gen_range(0..10)]
        }
        Kind::IndividualBusiness | Kind::IndividualNoCode => {
            [1, 2, 3, 5, 10, 20][rng.gen_range(0..6)]
        }
        Kind::FarmerCoop => [10, 30, 50, 100, 200, 500][rng.gen_range(0..6)],
        _ => [3, 10, 30, 50, 100, 200][rng.gen_range(0..6)],
    };

    Subject {
        index,
        kind,
        name,
        district,
        uscc,
        reg_no,
        institution_cert,
        social_org_cert,
        person: person_self,
        rep,
        founded,
        capital_wan,
    }
}

/// Establishment dates: about half since 2016, the rest from 1998; at least a month before `today`.
fn founding_date(rng: &mut ChaCha8Rng, today: NaiveDate) -> NaiveDate {
    let latest = today.checked_sub_days(Days::new(30)).unwrap_or(today);
    let (lo, hi) = if rng.gen_bool(0.55) {
        (NaiveDate::from_ymd_opt(2016, 1, 1), Some(latest))
    } else {
        (
            NaiveDate::from_ymd_opt(1998, 1, 1),
            NaiveDate::from_ymd_opt(2015, 12, 31).map(|d| d.min(latest)),
        )
    };
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return latest;
    };
    random_date(rng, lo.min(hi), hi)
}

/// A date uniformly in `lo..=hi` (`lo` when the range is empty).
pub(crate) fn random_date<R: Rng>(rng: &mut R, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let span = (hi - lo).num_days();
    if span <= 0 {
        return lo;
    }
    lo.checked_add_days(Days::new(rng.gen_range(0..=span) as u64))
        .unwrap_or(lo)
}

impl Subject {
    /// The persons a registration names: the legal representative, then shareholders and senior
    /// managers of companies (a shareholder is often the legal representative himself).
    pub(crate) fn persons(&self, keys: &Keys) -> Vec<(PersonRole, Person)> {
        let mut out = Vec::new();
        let Some(rep) = &self.rep else {
            return out;
        };
        out.push((PersonRole::LegalRepresentative, rep.clone()));
        if self.kind != Kind::Enterprise {
            return out;
        }
        let h = keys.hash(salt::PERSONS, self.index);
        let shareholders = 1 + h % 3;
        let managers = (h >> 8) % 3;
        let base = self.index.saturating_mul(8);
        for s in 0..shareholders {
            if s == 0 && (h >> 16).is_multiple_of(2) {
                out.push((PersonRole::Shareholder, rep.clone()));
            } else {
                out.push((PersonRole::Shareholder, person(keys, base + 1 + s)));
            }
        }
        for m in 0..managers {
            out.push((PersonRole::SeniorManager, person(keys, base + 4 + m)));
        }
        out
    }

    /// A street address in its district.
    pub(crate) fn address<R: Rng>(&self, rng: &mut R) -> String {
        format!(
            "天津市{}{}{}号",
            DISTRICTS[self.district].name,
            STREETS[rng.gen_range(0..STREETS.len())],
            rng.gen_range(1..=999)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use creditloop_domain::ids::{RegistrationNumber, ResidentId, Uscc};
    use std::collections::BTreeSet;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
    }

    #[test]
    fn subjects_are_reproducible_and_valid() {
        let keys = Keys::new(9);
        let mut names = BTreeSet::new();
        let mut codes = BTreeSet::new();
        let mut ids = BTreeSet::new();
        let n = 20_000;
        let mut kinds = BTreeSet::new();
        for i in 0..n {
            let s = subject(&keys, i, today());
            let again = subject(&keys, i, today());
            assert_eq!(s.name, again.name);
            assert_eq!(s.uscc, again.uscc);
            assert!(!s.name.is_empty());
            kinds.insert(format!("{:?}", s.kind));
            if let Some(u) = &s.uscc {
                let parsed = Uscc::parse(u).unwrap_or_else(|e| panic!("{u}: {e}"));
                assert_eq!(Some(parsed.entity_kind_code()), s.kind.uscc_kind());
                assert!(codes.insert(u.clone()), "duplicate code {u}");
            }
            if let Some(r) = &s.reg_no {
                RegistrationNumber::parse(r).unwrap_or_else(|e| panic!("{r}: {e}"));
            }
            for p in s.person.iter().chain(s.rep.iter()) {
                ResidentId::parse(&p.id, today()).unwrap_or_else(|e| panic!("{}: {e}", p.id));
                assert!(p.id.starts_with("1201"));
                assert!(ids.insert(p.id.clone()), "duplicate id {}", p.id);
            }
            let owner_named = s.name.contains('记') || s.name.contains('氏');
            if matches!(
                s.kind,
                Kind::Enterprise
                    | Kind::IndividualBusiness
                    | Kind::IndividualNoCode
                    | Kind::FarmerCoop
                    | Kind::LawFirm
            ) && !owner_named
            {
                assert!(names.insert(s.name.clone()), "duplicate name {}", s.name);
            }
            for (_, p) in s.persons(&keys) {
                ResidentId::parse(&p.id, today()).unwrap();
            }
        }
        assert_eq!(kinds.len(), 10, "{kinds:?}");
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(chinese_number(1), "一");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(23), "二十三");
        assert_eq!(chinese_number(90), "九十");
    }
}
