//! The 工作日 (working-day) calendar that every deadline counts in.
//!
//! A working day is Monday to Friday, minus the public holidays the State Council announces each year
//! (国务院办公厅关于XXXX年部分节假日安排的通知), plus the weekend days it declares as make-up working days
//! (调休上班). The announcements are data, one file a year under `data/calendar/`, embedded here at build
//! time; [`WorkingCalendar::builtin`] is the calendar made from them.
//!
//! Outside the years a calendar covers, working days are plain Monday to Friday: a deadline that runs
//! into such a year is still computed, and [`Deadline::crosses_uncovered_year`] says so, so that the
//! caller can warn that holidays were not known.
//!
//! Counting is O(1) per call: a per-day cumulative count over the covered years, arithmetic on weeks
//! outside them. It runs once per imported record, millions of times.

mod parse;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

pub use parse::{CalendarError, LineError};

/// `("YYYY.txt", text)` for the file of year `YYYY` under `data/calendar/`.
macro_rules! year_file {
    ($year:literal) => {
        (
            concat!($year, ".txt"),
            include_str!(concat!("../../../../data/calendar/", $year, ".txt")),
        )
    };
}

/// The embedded calendar files: name and text. To add a year, add its file here.
const EMBEDDED: &[(&str, &str)] = &[
    year_file!("2016"),
    year_file!("2017"),
    year_file!("2018"),
    year_file!("2019"),
    year_file!("2020"),
    year_file!("2021"),
    year_file!("2022"),
    year_file!("2023"),
    year_file!("2024"),
    year_file!("2025"),
    year_file!("2026"),
];

static BUILTIN: LazyLock<WorkingCalendar> = LazyLock::new(|| load_embedded(EMBEDDED));

/// One year's holidays and make-up working days (调休上班日), as read from its file by
/// [`WorkingCalendar::parse_year`]. Only a checked file makes one: every date lies in the year, every
/// make-up working day is a Saturday or Sunday, and no day is both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCalendar {
    year: i32,
    notice: String,
    holidays: BTreeMap<NaiveDate, String>,
    workdays: BTreeMap<NaiveDate, String>,
}

impl YearCalendar {
    /// The calendar year the file holds.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The first comment line of the file: the notice it transcribes.
    pub fn notice(&self) -> &str {
        &self.notice
    }

    /// The public holidays (放假日) in date order, each with the name of its holiday.
    pub fn holidays(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.holidays.iter().map(|(d, n)| (*d, n.as_str()))
    }

    /// The make-up working days (调休上班日) in date order, each with the name the file gives it.
    pub fn workdays(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.workdays.iter().map(|(d, n)| (*d, n.as_str()))
    }
}

/// A deadline counted in working days, with whether the count relied on years the calendar lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// The last day of the period: the n-th working day after the start.
    pub date: NaiveDate,
    /// Some counted day lies in a year without holiday data, where plain Monday to Friday was used;
    /// the date may then be too early, and the caller should warn.
    pub crosses_uncovered_year: bool,
}

/// The official working-day (工作日) calendar over a run of consecutive years.
///
/// Build it from year files with [`WorkingCalendar::parse_year`] and [`WorkingCalendar::from_years`],
/// or use the embedded one, [`WorkingCalendar::builtin`]. Dates outside the covered years count as
/// working days when they fall Monday to Friday.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    years: RangeInclusive<i32>,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    year_calendars: Vec<YearCalendar>,
    /// Day number (see [`day_number`]) of 1 January of the first covered year.
    first: i64,
    /// Day number of 31 December of the last covered year.
    last: i64,
    /// `cumulative[i]`: working days among the first `i` covered days; one entry more than days.
    cumulative: Vec<u32>,
    /// Offsets from `first` of the covered working days, in order: the k-th is at `k - 1`.
    working_offsets: Vec<u32>,
    /// Rank (see [`WorkingCalendar::rank`]) of the day before the covered span.
    rank_before: i64,
    /// What to add to the plain Monday-to-Friday count after the covered span.
    shift_after: i64,
}

impl WorkingCalendar {
    /// Reads one year's calendar file.
    ///
    /// The format is line based; `#` starts a comment and the first comment line names the notice:
    ///
    /// ```text
    /// # 国务院办公厅关于2024年部分节假日安排的通知 (国办发明电〔2023〕7号)
    /// year 2024
    /// holiday 2024-01-01 元旦
    /// holiday 2024-02-10..2024-02-17 春节
    /// workday 2024-02-04 春节调休
    /// ```
    ///
    /// `holiday` takes a date or an inclusive range `A..B`; `workday` (a make-up working day, 调休上班)
    /// must fall on a Saturday or Sunday. Errors name the line and the reason: a bad date, a range that
    /// ends before it starts, a date outside the file's year, a make-up day on a weekday, a day both
    /// holiday and make-up day, a day listed twice.
    pub fn parse_year(text: &str) -> Result<YearCalendar, CalendarError> {
        parse::parse_year(text)
    }

    /// Assembles a calendar from years that follow one another, in any order.
    ///
    /// Fails when no year is given, a year is given twice, or a year is missing in between: a gap would
    /// silently count that year's holidays as working days.
    pub fn from_years(mut years: Vec<YearCalendar>) -> Result<Self, CalendarError> {
        years.sort_by_key(|y| y.year);
        let (Some(first_year), Some(last_year)) = (years.first(), years.last()) else {
            return Err(CalendarError::NoYears);
        };
        let (first_year, last_year) = (first_year.year, last_year.year);
        for pair in years.windows(2) {
            if let [a, b] = pair {
                if a.year == b.year {
                    return Err(CalendarError::DuplicateYear(a.year));
                }
                if b.year != a.year + 1 {
                    return Err(CalendarError::MissingYearInRange {
                        missing: a.year + 1,
                    });
                }
            }
        }
        // parse_year only accepts years whose whole span chrono represents.
        let (Some(start), Some(end)) = (
            NaiveDate::from_ymd_opt(first_year, 1, 1),
            NaiveDate::from_ymd_opt(last_year, 12, 31),
        ) else {
            return Err(CalendarError::YearOutOfRange(first_year));
        };

        let holidays: BTreeSet<NaiveDate> = years
            .iter()
            .flat_map(|y| y.holidays.keys().copied())
            .collect();
        let workdays: BTreeSet<NaiveDate> = years
            .iter()
            .flat_map(|y| y.workdays.keys().copied())
            .collect();

        let mut cumulative = vec![0u32];
        let mut working_offsets = Vec::new();
        let mut count = 0u32;
        for (offset, date) in (0u32..).zip(start.iter_days().take_while(|d| *d <= end)) {
            let working = if holidays.contains(&date) {
                false
            } else {
                workdays.contains(&date) || is_mon_to_fri(date)
            };
            if working {
                count += 1;
                working_offsets.push(offset);
            }
            cumulative.push(count);
        }

        let first = day_number(start);
        let last = day_number(end);
        let rank_before = weekdays_through(first - 1);
        let shift_after = rank_before + i64::from(count) - weekdays_through(last);
        Ok(Self {
            years: first_year..=last_year,
            holidays,
            workdays,
            year_calendars: years,
            first,
            last,
            cumulative,
            working_offsets,
            rank_before,
            shift_after,
        })
    }

    /// The calendar of the official notices embedded in this crate (2016 to 2026 at the time of
    /// writing; see [`WorkingCalendar::years`]).
    ///
    /// # Panics
    ///
    /// On first use, if the embedded files do not parse. They are checked by this crate's tests, so
    /// this is a build defect, never an input error.
    pub fn builtin() -> &'static WorkingCalendar {
        &BUILTIN
    }

    /// The years the calendar has holiday data for.
    pub fn years(&self) -> RangeInclusive<i32> {
        self.years.clone()
    }

    /// The per-year data, in year order (for showing the notices and holidays).
    pub fn year_calendars(&self) -> &[YearCalendar] {
        &self.year_calendars
    }

    /// Whether `d` lies in a covered year, so that its holidays are known.
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.years.contains(&d.year())
    }

    /// Whether `d` is a working day (工作日): Monday to Friday and not a public holiday, or a make-up
    /// working day (调休上班日). Outside the covered years: Monday to Friday.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.covered_index(day_number(d)) {
            Some(i) => self.cumulative[i + 1] != self.cumulative[i],
            None => is_mon_to_fri(d),
        }
    }

    /// Whether `d` is a public holiday (放假日) of a covered year, including the weekend days that a
    /// notice's holiday range spans. Always false outside the covered years.
    pub fn is_holiday(&self, d: NaiveDate) -> bool {
        self.holidays.contains(&d)
    }

    /// Whether `d` is a weekend day declared a working day (调休上班日).
    pub fn is_makeup_workday(&self, d: NaiveDate) -> bool {
        self.workdays.contains(&d)
    }

    /// The name the data gives `d` when it is a holiday or a make-up working day (for example 春节 or
    /// 春节调休).
    pub fn label(&self, d: NaiveDate) -> Option<&str> {
        let year = self.year_calendars.get(self.year_index(d.year())?)?;
        year.holidays
            .get(&d)
            .or_else(|| year.workdays.get(&d))
            .map(String::as_str)
    }

    /// The date of the `n`-th working day strictly after `from`; `from` itself when `n` is 0.
    ///
    /// `add_working_days(decision_date, 7)` is the last day of a "within 7 working days" period.
    /// Saturates at [`NaiveDate::MAX`] when the result is beyond chrono's range; see
    /// [`WorkingCalendar::checked_add_working_days`].
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        self.checked_add_working_days(from, n)
            .unwrap_or(NaiveDate::MAX)
    }

    /// Like [`WorkingCalendar::add_working_days`], but `None` when the result is beyond chrono's range.
    pub fn checked_add_working_days(&self, from: NaiveDate, n: u32) -> Option<NaiveDate> {
        if n == 0 {
            return Some(from);
        }
        let target = self.rank(day_number(from)) + i64::from(n);
        date_from_number(self.unrank(target))
    }

    /// The number of working days `d` with `from < d <= to`; when `to` is before `from`, the negative
    /// of the count the other way.
    ///
    /// Consistent with [`WorkingCalendar::add_working_days`]:
    /// `working_days_between(d, add_working_days(d, n)) == n`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        self.rank(day_number(to)) - self.rank(day_number(from))
    }

    /// The deadline `n` working days after `from`, and whether any counted day (after `from`, up to
    /// the deadline) lies outside the covered years.
    pub fn deadline(&self, from: NaiveDate, n: u32) -> Deadline {
        let date = self.add_working_days(from, n);
        let crosses_uncovered_year =
            n > 0 && (day_number(from) + 1 < self.first || day_number(date) > self.last);
        Deadline {
            date,
            crosses_uncovered_year,
        }
    }

    /// Index into the per-day arrays when day number `u` is covered.
    fn covered_index(&self, u: i64) -> Option<usize> {
        if u < self.first || u > self.last {
            return None;
        }
        usize::try_from(u - self.first).ok()
    }

    fn year_index(&self, year: i32) -> Option<usize> {
        if !self.years.contains(&year) {
            return None;
        }
        usize::try_from(year - self.years.start()).ok()
    }

    /// A count of working days up to and including day `u`, from a fixed origin: the difference of two
    /// ranks is the number of working days between them. Non-decreasing, rising by one exactly on
    /// working days.
    fn rank(&self, u: i64) -> i64 {
        if u < self.first {
            weekdays_through(u)
        } else if let Some(i) = self.covered_index(u) {
            self.rank_before + i64::from(self.cumulative[i + 1])
        } else {
            weekdays_through(u) + self.shift_after
        }
    }

    /// The first day whose rank reaches `target`; that day is a working day.
    fn unrank(&self, target: i64) -> i64 {
        if target <= self.rank_before {
            return first_reaching_weekdays(target);
        }
        // The k-th covered working day, k >= 1, if the covered span holds that many.
        let k = target - self.rank_before;
        match usize::try_from(k - 1)
            .ok()
            .and_then(|i| self.working_offsets.get(i))
        {
            Some(offset) => self.first + i64::from(*offset),
            None => first_reaching_weekdays(target - self.shift_after),
        }
    }
}

/// Day number with Monday of 0001-01-01 as 0, so that `rem_euclid(7)` is days since Monday.
fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) - 1
}

fn date_from_number(u: i64) -> Option<NaiveDate> {
    i32::try_from(u + 1)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

fn is_mon_to_fri(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Mondays to Fridays in `0..=u` (for negative `u`, minus those in `u+1..=-1`), so that
/// `weekdays_through(b) - weekdays_through(a)` counts them in `a+1..=b`.
fn weekdays_through(u: i64) -> i64 {
    5 * u.div_euclid(7) + (u.rem_euclid(7) + 1).min(5)
}

/// The least `u` with `weekdays_through(u) >= target`: a Monday-to-Friday day.
fn first_reaching_weekdays(target: i64) -> i64 {
    let k = target - 1;
    7 * k.div_euclid(5) + k.rem_euclid(5)
}

/// Builds the calendar from embedded files, panicking with the file and reason on a defect.
fn load_embedded(files: &[(&str, &str)]) -> WorkingCalendar {
    match try_load_embedded(files) {
        Ok(calendar) => calendar,
        Err(message) => panic!("embedded working-day calendar is invalid: {message}"),
    }
}

fn try_load_embedded(files: &[(&str, &str)]) -> Result<WorkingCalendar, String> {
    let mut years = Vec::with_capacity(files.len());
    for (name, text) in files {
        let year =
            WorkingCalendar::parse_year(text).map_err(|e| format!("data/calendar/{name}: {e}"))?;
        if name.strip_suffix(".txt") != Some(year.year().to_string().as_str()) {
            return Err(format!(
                "data/calendar/{name} holds year {}, not the year its name says",
                year.year()
            ));
        }
        years.push(year);
    }
    WorkingCalendar::from_years(years).map_err(|e| format!("data/calendar: {e}"))
}
