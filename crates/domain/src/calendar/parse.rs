//! Reading one year's calendar file, and the errors that reading and assembling calendars can raise.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::YearCalendar;

/// Why a calendar file or a set of years was refused.
///
/// Calendar files are law for deadline computation, so nothing doubtful is accepted: every error names
/// what is wrong, and for a file the line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// A line of a calendar file is wrong; `line` counts from 1.
    #[error("line {line}: {reason}")]
    Line {
        /// Line number in the file, from 1.
        line: usize,
        /// What is wrong with it.
        reason: LineError,
    },
    /// The file has no `year` line.
    #[error("no `year` line: a calendar file must say which year it holds")]
    MissingYear,
    /// The file has no comment naming the notice it transcribes.
    #[error("no comment line naming the notice (国务院办公厅关于…年部分节假日安排的通知)")]
    MissingNotice,
    /// [`WorkingCalendar::from_years`](super::WorkingCalendar::from_years) was given no year.
    #[error("no years given: a working calendar needs at least one year")]
    NoYears,
    /// The same year was given twice.
    #[error("year {0} is given twice")]
    DuplicateYear(i32),
    /// A year whose days chrono cannot represent.
    #[error("year {0} is outside the supported date range")]
    YearOutOfRange(i32),
    /// The years given leave a gap: the covered years must follow one another.
    #[error("year {missing} is missing: the years of a working calendar must follow one another")]
    MissingYearInRange {
        /// The first year of the gap.
        missing: i32,
    },
}

/// What is wrong with one line of a calendar file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// Not a real date written `YYYY-MM-DD` (for example `2023-02-30` or `2024-2-4`).
    #[error("`{text}` is not a date written YYYY-MM-DD")]
    BadDate {
        /// The text found.
        text: String,
    },
    /// A range `A..B` whose end comes before its start.
    #[error("the range ends on {end}, before its start {start}")]
    RangeEndBeforeStart {
        /// First date of the range.
        start: NaiveDate,
        /// Last date of the range.
        end: NaiveDate,
    },
    /// A date that does not lie in the year the file declares.
    #[error("{date} is outside the file's year {year}")]
    OutsideYear {
        /// The date found.
        date: NaiveDate,
        /// The year of the file.
        year: i32,
    },
    /// A make-up working day (调休上班日) on a weekday: only a Saturday or Sunday can be made one.
    #[error("make-up working day (调休上班日) {date} is a {}, not a Saturday or Sunday", weekday_name(.weekday))]
    WorkdayNotWeekend {
        /// The date found.
        date: NaiveDate,
        /// Its day of the week.
        weekday: Weekday,
    },
    /// A day listed both as a holiday and as a make-up working day.
    #[error(
        "{date} is both a holiday and a make-up working day (调休上班日); see also line {other_line}"
    )]
    HolidayOnWorkday {
        /// The date found.
        date: NaiveDate,
        /// The line that listed it the other way.
        other_line: usize,
    },
    /// A day listed twice in the same way.
    #[error("{date} is listed twice (first on line {first_line})")]
    Duplicate {
        /// The date found.
        date: NaiveDate,
        /// The line that listed it first.
        first_line: usize,
    },
    /// A `year` line whose value is not one year.
    #[error("`{text}` is not a year")]
    BadYear {
        /// The text found after `year`.
        text: String,
    },
    /// A second `year` line.
    #[error("a second `year` line (the first is line {first_line})")]
    RepeatedYear {
        /// The line of the first `year` line.
        first_line: usize,
    },
    /// A `holiday` or `workday` line before the `year` line.
    #[error("`{keyword}` line before the `year` line")]
    EntryBeforeYear {
        /// `holiday` or `workday`.
        keyword: String,
    },
    /// A `holiday` or `workday` line without a date.
    #[error("`{keyword}` line without a date")]
    MissingDate {
        /// `holiday` or `workday`.
        keyword: String,
    },
    /// A `holiday` or `workday` line without the name of the holiday it belongs to.
    #[error("`{keyword}` line without the name of its holiday (for example 春节 or 春节调休)")]
    MissingName {
        /// `holiday` or `workday`.
        keyword: String,
    },
    /// A line that starts with none of `year`, `holiday`, `workday`.
    #[error("unknown keyword `{keyword}`: expected `year`, `holiday` or `workday`")]
    UnknownKeyword {
        /// The first word of the line.
        keyword: String,
    },
}

fn weekday_name(weekday: &Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday (星期一)",
        Weekday::Tue => "Tuesday (星期二)",
        Weekday::Wed => "Wednesday (星期三)",
        Weekday::Thu => "Thursday (星期四)",
        Weekday::Fri => "Friday (星期五)",
        Weekday::Sat => "Saturday (星期六)",
        Weekday::Sun => "Sunday (星期日)",
    }
}

/// A listed day while parsing: its name and the line that listed it.
type Listed = BTreeMap<NaiveDate, (String, usize)>;

/// Parses one year's file; see [`WorkingCalendar::parse_year`](super::WorkingCalendar::parse_year).
pub(super) fn parse_year(text: &str) -> Result<YearCalendar, CalendarError> {
    let mut notice: Option<String> = None;
    let mut year: Option<(i32, usize)> = None;
    let mut holidays = Listed::new();
    let mut workdays = Listed::new();

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let at = |reason| CalendarError::Line { line, reason };
        let trimmed = raw.trim_start_matches('\u{feff}').trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if notice.is_none() && !comment.is_empty() {
                notice = Some(comment.to_owned());
            }
            continue;
        }
        // A trailing comment may follow an entry; names never contain `#`.
        let content = trimmed.split('#').next().unwrap_or_default().trim_end();
        if content.is_empty() {
            continue;
        }
        let (keyword, rest) = next_word(content);
        match keyword {
            "year" => {
                if let Some((_, first_line)) = year {
                    return Err(at(LineError::RepeatedYear { first_line }));
                }
                let value = parse_year_value(rest).ok_or_else(|| {
                    at(LineError::BadYear {
                        text: rest.to_owned(),
                    })
                })?;
                year = Some((value, line));
            }
            "holiday" | "workday" => {
                let Some((file_year, _)) = year else {
                    return Err(at(LineError::EntryBeforeYear {
                        keyword: keyword.to_owned(),
                    }));
                };
                let (dates, name) = next_word(rest);
                if dates.is_empty() {
                    return Err(at(LineError::MissingDate {
                        keyword: keyword.to_owned(),
                    }));
                }
                if name.is_empty() {
                    return Err(at(LineError::MissingName {
                        keyword: keyword.to_owned(),
                    }));
                }
                let (start, end) = parse_range(dates).map_err(at)?;
                for date in [start, end] {
                    if date.year() != file_year {
                        return Err(at(LineError::OutsideYear {
                            date,
                            year: file_year,
                        }));
                    }
                }
                let is_holiday = keyword == "holiday";
                let (same, other) = if is_holiday {
                    (&mut holidays, &workdays)
                } else {
                    (&mut workdays, &holidays)
                };
                // Both ends lie in one year, so this walks at most 366 days.
                for date in start.iter_days().take_while(|d| *d <= end) {
                    if !is_holiday && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                        return Err(at(LineError::WorkdayNotWeekend {
                            date,
                            weekday: date.weekday(),
                        }));
                    }
                    if let Some((_, other_line)) = other.get(&date) {
                        return Err(at(LineError::HolidayOnWorkday {
                            date,
                            other_line: *other_line,
                        }));
                    }
                    if let Some((_, first_line)) = same.get(&date) {
                        return Err(at(LineError::Duplicate {
                            date,
                            first_line: *first_line,
                        }));
                    }
                    same.insert(date, (name.to_owned(), line));
                }
            }
            other => {
                return Err(at(LineError::UnknownKeyword {
                    keyword: other.to_owned(),
                }));
            }
        }
    }

    let (year, _) = year.ok_or(CalendarError::MissingYear)?;
    let notice = notice.ok_or(CalendarError::MissingNotice)?;
    let names = |listed: Listed| {
        listed
            .into_iter()
            .map(|(date, (name, _))| (date, name))
            .collect()
    };
    Ok(YearCalendar {
        year,
        notice,
        holidays: names(holidays),
        workdays: names(workdays),
    })
}

/// Splits off the first whitespace-separated word; the rest is trimmed.
fn next_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim()),
        None => (text, ""),
    }
}

/// A year whose whole span chrono can represent, written as digits only.
fn parse_year_value(text: &str) -> Option<i32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text.parse().ok()?;
    NaiveDate::from_ymd_opt(year, 1, 1)?;
    NaiveDate::from_ymd_opt(year, 12, 31)?;
    Some(year)
}

/// `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD` (inclusive).
fn parse_range(text: &str) -> Result<(NaiveDate, NaiveDate), LineError> {
    let (start, end) = match text.split_once("..") {
        Some((a, b)) => (parse_date(a)?, parse_date(b)?),
        None => {
            let date = parse_date(text)?;
            (date, date)
        }
    };
    if end < start {
        return Err(LineError::RangeEndBeforeStart { start, end });
    }
    Ok((start, end))
}

/// Exactly `YYYY-MM-DD` with zero padding, and a real date. chrono's own parser is more lenient
/// (single-digit months, signs), which a legal calendar should not be.
fn parse_date(text: &str) -> Result<NaiveDate, LineError> {
    let bad = || LineError::BadDate {
        text: text.to_owned(),
    };
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(bad());
    }
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(bad());
    };
    let year = i32::try_from(year).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}
