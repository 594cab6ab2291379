//! The SQL yardstick: the synthetic population in a plain schema, and the credit check as the one
//! SQL statement a user would otherwise write — the subject's and its linked persons' in-force records
//! joined with the catalogue's triggers flattened into a table — asked of SQLite and of PostgreSQL.
//!
//! Schema (the same in both databases; dates are ISO text in SQLite and `date` in PostgreSQL):
//! - `subjects(key, name, established_on, credit_class)`: `established_on` is the registration date
//!   (the index's `established_on`), which the “no negative record within N months” incentives need;
//! - `records(subject_key, category, nature, severity, decision_date, publicity_until, status,
//!   list_name)`, indexed on `subject_key`; `severity` is its rank (0 none, 1 slight, 2 general,
//!   3 serious) so that “at least” is a comparison;
//! - `person_links(subject_key, role, person_key)`, indexed on `subject_key`;
//! - `measure_triggers`: one row per measure × scenario × trigger × category × whose records × list
//!   fragment, generated from the catalogue ([`trigger_rows`]).
//!
//! The overall decision is computed from the returned rows ([`answer_from_rows`]): the strictest
//! punishment, else the most favourable incentive, else normal.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use creditloop_domain::catalogue::{AppliesTo, Catalogue, Decision, FactRecord, Trigger};
use creditloop_domain::record::{Category, Severity};
use creditloop_domain::subject::PersonRole;
use creditloop_index::IndexItem;

use crate::BoxError;
use crate::sample::Answer;
use crate::synth::World;

/// Decisions by effect rank, the order of [`Decision`] (priority 0 … prohibit 4).
const BY_RANK: [Decision; 5] = [
    Decision::Priority,
    Decision::Normal,
    Decision::Strict,
    Decision::Restrict,
    Decision::Prohibit,
];

fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::None => 0,
        Severity::Slight => 1,
        Severity::General => 2,
        Severity::Serious => 3,
    }
}

/// One row of `measure_triggers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRow {
    pub measure_code: String,
    /// `punishment` | `incentive`
    pub kind: &'static str,
    /// The action's effect rank (priority 0 … prohibit 4).
    pub effect: i64,
    pub scenario: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// `record` | `absent` | `class`
    pub trigger_type: &'static str,
    /// Whose records: `subject`, a person role, or `*` for a linked person of any role.
    pub who: Option<String>,
    pub category: Option<&'static str>,
    /// Record triggers of punishments look at negative records, those of incentives at the others.
    pub negative: bool,
    pub min_severity: i64,
    pub list_contains: Option<String>,
    /// The look-back window of a record trigger, or the window of an absence trigger.
    pub within_months: Option<i64>,
    pub class: Option<String>,
}

/// The catalogue's triggers flattened into rows: a trigger matches a record when any of its rows
/// does (categories, roles and list fragments are each any-of).
pub fn trigger_rows(catalogue: &Catalogue) -> Vec<TriggerRow> {
    let mut out = Vec::new();
    for m in catalogue.measures() {
        let base = TriggerRow {
            measure_code: m.code.clone(),
            kind: m.kind.code(),
            effect: m.action.effect() as i64,
            scenario: String::new(),
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            trigger_type: "record",
            who: None,
            category: None,
            negative: m.kind == creditloop_domain::catalogue::MeasureKind::Punishment,
            min_severity: 0,
            list_contains: None,
            within_months: None,
            class: None,
        };
        for s in &m.scenarios {
            for t in &m.triggers {
                let row = TriggerRow {
                    scenario: s.as_str().to_string(),
                    ..base.clone()
                };
                match t {
                    Trigger::Record(r) => {
                        let roles = |roles: &[PersonRole]| -> Vec<String> {
                            if roles.is_empty() {
                                vec!["*".to_string()]
                            } else {
                                roles.iter().map(|r| r.code().to_string()).collect()
                            }
                        };
                        let whos: Vec<String> = match &r.applies_to {
                            AppliesTo::Subject => vec!["subject".to_string()],
                            AppliesTo::LinkedPerson(rs) => roles(rs),
                            AppliesTo::Either(rs) => {
                                let mut w = vec!["subject".to_string()];
                                w.extend(roles(rs));
                                w
                            }
                        };
                        let lists: Vec<Option<String>> = if r.list_name_contains.is_empty() {
                            vec![None]
                        } else {
                            r.list_name_contains.iter().cloned().map(Some).collect()
                        };
                        for who in &whos {
                            for c in &r.categories {
                                for l in &lists {
                                    out.push(TriggerRow {
                                        who: Some(who.clone()),
                                        category: Some(c.code()),
                                        min_severity: r.min_severity.map_or(0, severity_rank),
                                        list_contains: l.clone(),
                                        within_months: r.within_months.map(i64::from),
                                        ..row.clone()
                                    });
                                }
                            }
                        }
                    }
                    Trigger::NoNegativeWithin { months } => out.push(TriggerRow {
                        trigger_type: "absent",
                        within_months: Some(i64::from(*months)),
                        ..row
                    }),
                    Trigger::CreditClass { classes } => {
                        for c in classes {
                            out.push(TriggerRow {
                                trigger_type: "class",
                                class: Some(c.clone()),
                                ..row.clone()
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// The answer from the rows (measure code, kind, effect rank) the check statement returned.
pub fn answer_from_rows(rows: Vec<(String, String, i64)>) -> Answer {
    let punish = rows.iter().any(|r| r.1 == "punishment");
    let kind = if punish { "punishment" } else { "incentive" };
    let mut measures = Vec::new();
    let mut rank: Option<i64> = None;
    for (code, k, effect) in rows {
        if k != kind {
            continue;
        }
        rank = Some(match rank {
            None => effect,
            Some(r) if punish => r.max(effect),
            Some(r) => r.min(effect),
        });
        measures.push(code);
    }
    measures.sort_unstable();
    measures.dedup();
    let decision = rank
        .and_then(|r| usize::try_from(r).ok())
        .and_then(|r| BY_RANK.get(r).copied())
        .unwrap_or(Decision::Normal);
    Answer { decision, measures }
}

/// One row for the SQL tables, as [`feed`] derives them from the generator's items.
pub enum Row<'a> {
    Subject {
        key: &'a str,
        name: &'a str,
        established_on: Option<NaiveDate>,
    },
    Record {
        subject: &'a str,
        record: &'a FactRecord,
    },
    Link {
        subject: &'a str,
        role: PersonRole,
        person: &'a str,
    },
}

/// Streams the synthetic population as table rows. Relies on the generator's order: the first
/// `world.subjects` records introduce the subjects (an organisation's is its registration, whose
/// date is its `established_on`). Secondary codes are left out: the SQL check is asked by key.
/// Stops at the first error of `sink` and returns it.
pub fn feed(
    world: &World,
    seed: u64,
    mut sink: impl FnMut(Row<'_>) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let mut first_error: Option<BoxError> = None;
    let mut records_seen = 0usize;
    world.generate(seed, |item| {
        if first_error.is_some() {
            return;
        }
        let result = match &item {
            IndexItem::Record {
                subject,
                subject_name,
                record,
                ..
            } => {
                let introduce = if records_seen < world.subjects {
                    sink(Row::Subject {
                        key: subject.as_str(),
                        name: subject_name,
                        established_on: (record.category == Category::Registration)
                            .then_some(record.decision_date),
                    })
                } else {
                    Ok(())
                };
                records_seen += 1;
                introduce.and_then(|()| {
                    sink(Row::Record {
                        subject: subject.as_str(),
                        record,
                    })
                })
            }
            IndexItem::Person {
                subject,
                role,
                person,
            } => sink(Row::Link {
                subject: subject.as_str(),
                role: *role,
                person: person.as_str(),
            }),
            _ => Ok(()),
        };
        if let Err(e) = result {
            first_error = Some(e);
        }
    });
    first_error.map_or(Ok(()), Err)
}

/// Rows loaded and the time taken.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub subjects: u64,
    pub records: u64,
    pub links: u64,
    /// Generation + inserts/COPY.
    pub rows_time: Duration,
    /// Index creation and ANALYZE (VACUUM ANALYZE for PostgreSQL).
    pub index_time: Duration,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------------
// SQLite

const SQLITE_SCHEMA: &str = "
CREATE TABLE subjects (key TEXT PRIMARY KEY, name TEXT NOT NULL, established_on TEXT, credit_class TEXT);
CREATE TABLE records (
    subject_key TEXT NOT NULL, category TEXT NOT NULL, nature TEXT NOT NULL, severity INTEGER NOT NULL,
    decision_date TEXT NOT NULL, publicity_until TEXT NOT NULL, status TEXT NOT NULL, list_name TEXT);
CREATE TABLE person_links (subject_key TEXT NOT NULL, role TEXT NOT NULL, person_key TEXT NOT NULL);
CREATE TABLE measure_triggers (
    measure_code TEXT NOT NULL, kind TEXT NOT NULL, effect INTEGER NOT NULL, scenario TEXT NOT NULL,
    valid_from TEXT NOT NULL, valid_to TEXT, trigger_type TEXT NOT NULL, who TEXT, category TEXT,
    negative INTEGER NOT NULL, min_severity INTEGER NOT NULL, list_contains TEXT,
    within_months INTEGER, class TEXT);
";

const SQLITE_INDEXES: &str = "
CREATE INDEX records_subject ON records (subject_key);
CREATE INDEX person_links_subject ON person_links (subject_key);
CREATE INDEX measure_triggers_scenario ON measure_triggers (scenario);
ANALYZE;
";

/// The check: `?1` subject key, `?2` scenario, `?3` date (ISO). Month windows use SQLite's `floor`
/// modifier so that, like chrono, 31 March minus one month is 28/29 February.
pub const SQLITE_CHECK: &str = "
WITH facts AS (
    SELECT 'subject' AS who, r.category, r.nature, r.severity, r.decision_date, r.publicity_until,
           r.status, r.list_name
      FROM records r WHERE r.subject_key = ?1
    UNION ALL
    SELECT l.role, r.category, r.nature, r.severity, r.decision_date, r.publicity_until,
           r.status, r.list_name
      FROM person_links l JOIN records r ON r.subject_key = l.person_key
     WHERE l.subject_key = ?1
),
in_force AS (
    SELECT * FROM facts WHERE status = 'active' AND decision_date <= ?3 AND ?3 <= publicity_until
),
candidates AS (
    SELECT * FROM measure_triggers
     WHERE scenario = ?2 AND valid_from <= ?3 AND (valid_to IS NULL OR ?3 <= valid_to)
)
SELECT c.measure_code, c.kind, c.effect
  FROM candidates c JOIN in_force f
    ON c.trigger_type = 'record'
   AND f.category = c.category
   AND (f.who = c.who OR (c.who = '*' AND f.who <> 'subject'))
   AND (f.nature = 'negative') = c.negative
   AND f.severity >= c.min_severity
   AND (c.within_months IS NULL
        OR f.decision_date >= date(?3, '-' || c.within_months || ' months', 'floor'))
   AND (c.list_contains IS NULL OR instr(f.list_name, c.list_contains) > 0)
UNION
SELECT c.measure_code, c.kind, c.effect
  FROM candidates c JOIN subjects s ON s.key = ?1
 WHERE c.trigger_type = 'absent'
   AND (s.established_on IS NULL
        OR s.established_on <= date(?3, '-' || c.within_months || ' months', 'floor'))
   AND NOT EXISTS (
       SELECT 1 FROM in_force f
        WHERE f.who = 'subject' AND f.nature = 'negative'
          AND f.decision_date >= date(?3, '-' || c.within_months || ' months', 'floor'))
UNION
SELECT c.measure_code, c.kind, c.effect
  FROM candidates c JOIN subjects s ON s.key = ?1
 WHERE c.trigger_type = 'class' AND s.credit_class = c.class
ORDER BY 1
";

/// The population in an SQLite file, queried with default connection settings.
pub struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    /// Creates `path` afresh and loads the population into it in one transaction (journal and
    /// syncing off while loading: the file is scratch), then builds the indexes and reopens it with
    /// default settings for the checks.
    pub fn load(
        path: &std::path::Path,
        world: &World,
        seed: u64,
        catalogue: &Catalogue,
    ) -> Result<(Self, LoadReport), BoxError> {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut report = LoadReport::default();
        let t = Instant::now();
        {
            let mut conn = rusqlite::Connection::open(path)?;
            conn.execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
            )?;
            conn.execute_batch(SQLITE_SCHEMA)?;
            let tx = conn.transaction()?;
            {
                let mut subj = tx.prepare("INSERT INTO subjects VALUES (?1, ?2, ?3, NULL)")?;
                let mut rec =
                    tx.prepare("INSERT INTO records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
                let mut link = tx.prepare("INSERT INTO person_links VALUES (?1, ?2, ?3)")?;
                feed(world, seed, |row| {
                    match row {
                        Row::Subject {
                            key,
                            name,
                            established_on,
                        } => {
                            subj.execute(rusqlite::params![key, name, established_on.map(iso)])?;
                            report.subjects += 1;
                        }
                        Row::Record { subject, record: r } => {
                            rec.execute(rusqlite::params![
                                subject,
                                r.category.code(),
                                r.nature.code(),
                                severity_rank(r.severity),
                                iso(r.decision_date),
                                iso(r.publicity_until),
                                r.status.code(),
                                r.list_name,
                            ])?;
                            report.records += 1;
                        }
                        Row::Link {
                            subject,
                            role,
                            person,
                        } => {
                            link.execute(rusqlite::params![subject, role.code(), person])?;
                            report.links += 1;
                        }
                    }
                    Ok(())
                })?;
                let mut trig = tx.prepare(
                    "INSERT INTO measure_triggers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )?;
                for t in trigger_rows(catalogue) {
                    trig.execute(rusqlite::params![
                        t.measure_code,
                        t.kind,
                        t.effect,
                        t.scenario,
                        iso(t.valid_from),
                        t.valid_to.map(iso),
                        t.trigger_type,
                        t.who,
                        t.category,
                        t.negative,
                        t.min_severity,
                        t.list_contains,
                        t.within_months,
                        t.class,
                    ])?;
                }
            }
            tx.commit()?;
            report.rows_time = t.elapsed();
            let t = Instant::now();
            conn.execute_batch(SQLITE_INDEXES)?;
            report.index_time = t.elapsed();
        }
        let conn = rusqlite::Connection::open(path)?;
        Ok((Sqlite { conn }, report))
    }

    /// One check: the statement, then the decision from its rows.
    pub fn check(&self, key: &str, scenario: &str, on: &str) -> Result<Answer, BoxError> {
        let mut stmt = self.conn.prepare_cached(SQLITE_CHECK)?;
        let rows = stmt
            .query_map(rusqlite::params![key, scenario, on], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(answer_from_rows(rows))
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

const PG_SCHEMA: &str = "
CREATE TABLE subjects (key TEXT PRIMARY KEY, name TEXT NOT NULL, established_on DATE, credit_class TEXT);
CREATE TABLE records (
    subject_key TEXT NOT NULL, category TEXT NOT NULL, nature TEXT NOT NULL, severity SMALLINT NOT NULL,
    decision_date DATE NOT NULL, publicity_until DATE NOT NULL, status TEXT NOT NULL, list_name TEXT);
CREATE TABLE person_links (subject_key TEXT NOT NULL, role TEXT NOT NULL, person_key TEXT NOT NULL);
CREATE TABLE measure_triggers (
    measure_code TEXT NOT NULL, kind TEXT NOT NULL, effect INTEGER NOT NULL, scenario TEXT NOT NULL,
    valid_from DATE NOT NULL, valid_to DATE, trigger_type TEXT NOT NULL, who TEXT, category TEXT,
    negative BOOLEAN NOT NULL, min_severity INTEGER NOT NULL, list_contains TEXT,
    within_months INTEGER, class TEXT);
";

const PG_INDEXES: &str = "
SET maintenance_work_mem = '1GB';
CREATE INDEX records_subject ON records (subject_key);
CREATE INDEX person_links_subject ON person_links (subject_key);
CREATE INDEX measure_triggers_scenario ON measure_triggers (scenario);
";

/// The check: `$1` subject key, `$2` scenario, `$3` date. `date - interval 'N months'` clamps to the
/// month's end as chrono does.
///
/// The linked persons' records are fetched through a `LATERAL` subquery fenced with `OFFSET 0`: with
/// a plain join, PostgreSQL 15 estimated a merge join that walks the `records_subject` index from its
/// start up to the person's key (≈17 000 entries, 14 ms instead of 0.5 ms for one check, seen with
/// `EXPLAIN ANALYZE`), which is the first thing a user tuning this statement would fix.
pub const PG_CHECK: &str = "
WITH facts AS (
    SELECT 'subject'::text AS who, r.category, r.nature, r.severity, r.decision_date,
           r.publicity_until, r.status, r.list_name
      FROM records r WHERE r.subject_key = $1
    UNION ALL
    SELECT l.role, r.category, r.nature, r.severity, r.decision_date, r.publicity_until,
           r.status, r.list_name
      FROM person_links l
     CROSS JOIN LATERAL (SELECT * FROM records r0 WHERE r0.subject_key = l.person_key OFFSET 0) r
     WHERE l.subject_key = $1
),
in_force AS (
    SELECT * FROM facts WHERE status = 'active' AND decision_date <= $3 AND $3 <= publicity_until
),
candidates AS (
    SELECT * FROM measure_triggers
     WHERE scenario = $2 AND valid_from <= $3 AND (valid_to IS NULL OR $3 <= valid_to)
)
SELECT c.measure_code, c.kind, c.effect
  FROM candidates c JOIN in_force f
    ON c.trigger_type = 'record'
   AND f.category = c.category
   AND (f.who = c.who OR (c.who = '*' AND f.who <> 'subject'))
   AND (f.nature = 'negative') = c.negative
   AND f.severity >= c.min_severity
   AND (c.within_months IS NULL
        OR f.decision_date >= ($3 - make_interval(months => c.within_months))::date)
   AND (c.list_contains IS NULL OR strpos(f.list_name, c.list_contains) > 0)
UNION
SELECT c.measure_code, c.kind, c.effect
  FROM candidates c JOIN subjects s ON s.key = $1
 WHERE c.trigger_type = 'absent'
   AND (s.established_on IS NULL
        OR s.established_on <= ($3 - make_interval(months => c.within_months))::date)
   AND NOT EXISTS (
       SELECT 1 FROM in_force f
        WHERE f.who = 'subject' AND f.nature = 'negative'
          AND f.decision_date >= ($3 - make_interval(months => c.within_months))::date)
UNION
SELECT c.measure_code, c.kind, c.effect
  FROM candidates c JOIN subjects s ON s.key = $1
 WHERE c.trigger_type = 'class' AND s.credit_class = c.class
ORDER BY 1
";

/// Escapes a value for COPY's text format.
fn copy_text(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("\\N"),
        Some(s) => {
            for ch in s.chars() {
                match ch {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

fn copy_line(out: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        copy_text(out, *f);
    }
    out.push('\n');
}

/// The population in a PostgreSQL database created for the benchmark.
pub struct Postgres {
    client: postgres::Client,
    check: postgres::Statement,
}

impl Postgres {
    /// Drops and creates database `dbname` on the server of `url`, loads the population with COPY
    /// (records streamed while generated; subjects and links buffered and copied after), builds the
    /// indexes and prepares the check.
    pub fn load(
        url: &str,
        dbname: &str,
        world: &World,
        seed: u64,
        catalogue: &Catalogue,
    ) -> Result<(Self, LoadReport), BoxError> {
        let cfg: postgres::Config = url.parse()?;
        {
            let mut admin = cfg.connect(postgres::NoTls)?;
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {dbname}"))?;
            admin.batch_execute(&format!("CREATE DATABASE {dbname}"))?;
        }
        let mut cfg = cfg;
        cfg.dbname(dbname);
        let mut client = cfg.connect(postgres::NoTls)?;
        client.batch_execute(PG_SCHEMA)?;
        let mut report = LoadReport::default();
        let t = Instant::now();
        let mut subjects = String::new();
        let mut links = String::new();
        {
            let mut writer = client.copy_in(
                "COPY records (subject_key, category, nature, severity, decision_date, publicity_until, status, list_name) FROM STDIN",
            )?;
            let mut line = String::new();
            feed(world, seed, |row| {
                match row {
                    Row::Subject {
                        key,
                        name,
                        established_on,
                    } => {
                        let est = established_on.map(iso);
                        copy_line(&mut subjects, &[Some(key), Some(name), est.as_deref()]);
                        report.subjects += 1;
                    }
                    Row::Record { subject, record: r } => {
                        line.clear();
                        let sev = severity_rank(r.severity).to_string();
                        let (d, p) = (iso(r.decision_date), iso(r.publicity_until));
                        copy_line(
                            &mut line,
                            &[
                                Some(subject),
                                Some(r.category.code()),
                                Some(r.nature.code()),
                                Some(&sev),
                                Some(&d),
                                Some(&p),
                                Some(r.status.code()),
                                r.list_name.as_deref(),
                            ],
                        );
                        writer.write_all(line.as_bytes())?;
                        report.records += 1;
                    }
                    Row::Link {
                        subject,
                        role,
                        person,
                    } => {
                        copy_line(
                            &mut links,
                            &[Some(subject), Some(role.code()), Some(person)],
                        );
                        report.links += 1;
                    }
                }
                Ok(())
            })?;
            writer.finish()?;
        }
        let mut w = client.copy_in("COPY subjects (key, name, established_on) FROM STDIN")?;
        w.write_all(subjects.as_bytes())?;
        w.finish()?;
        drop(subjects);
        let mut w =
            client.copy_in("COPY person_links (subject_key, role, person_key) FROM STDIN")?;
        w.write_all(links.as_bytes())?;
        w.finish()?;
        drop(links);
        let mut triggers = String::new();
        for t in trigger_rows(catalogue) {
            let effect = t.effect.to_string();
            let (from, to) = (iso(t.valid_from), t.valid_to.map(iso));
            let negative = if t.negative { "t" } else { "f" };
            let sev = t.min_severity.to_string();
            let within = t.within_months.map(|m| m.to_string());
            copy_line(
                &mut triggers,
                &[
                    Some(&t.measure_code),
                    Some(t.kind),
                    Some(&effect),
                    Some(&t.scenario),
                    Some(&from),
                    to.as_deref(),
                    Some(t.trigger_type),
                    t.who.as_deref(),
                    t.category,
                    Some(negative),
                    Some(&sev),
                    t.list_contains.as_deref(),
                    within.as_deref(),
                    t.class.as_deref(),
                ],
            );
        }
        let mut w = client.copy_in("COPY measure_triggers FROM STDIN")?;
        w.write_all(triggers.as_bytes())?;
        w.finish()?;
        report.rows_time = t.elapsed();
        let t = Instant::now();
        client.batch_execute(PG_INDEXES)?;
        // VACUUM (outside a transaction block, hence alone) sets the hint bits of the freshly copied
        // rows, so the first checks that read them do not write pages back.
        client.batch_execute("VACUUM ANALYZE")?;
        report.index_time = t.elapsed();
        let check = client.prepare_typed(
            PG_CHECK,
            &[
                postgres::types::Type::TEXT,
                postgres::types::Type::TEXT,
                postgres::types::Type::DATE,
            ],
        )?;
        Ok((Postgres { client, check }, report))
    }

    /// One check: the prepared statement, then the decision from its rows.
    pub fn check(&mut self, key: &str, scenario: &str, on: NaiveDate) -> Result<Answer, BoxError> {
        let rows = self.client.query(&self.check, &[&key, &scenario, &on])?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    r.try_get::<_, String>(1)?,
                    i64::from(r.try_get::<_, i32>(2)?),
                ))
            })
            .collect::<Result<Vec<_>, postgres::Error>>()?;
        Ok(answer_from_rows(rows))
    }
}

/// A short description of a load for the report.
pub fn describe_load(name: &str, r: &LoadReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "{name}: loaded {} subjects, {} records, {} person links in {:.1}s (generation included), indexes + (VACUUM) ANALYZE {:.1}s",
        r.subjects,
        r.records,
        r.links,
        r.rows_time.as_secs_f64(),
        r.index_time.as_secs_f64()
    );
    s
}
