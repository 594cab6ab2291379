use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use proptest::prelude::*;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("test date is valid")
}

fn cal() -> &'static WorkingCalendar {
    WorkingCalendar::builtin()
}

fn line_error(text: &str) -> (usize, LineError) {
    match WorkingCalendar::parse_year(text) {
        Err(CalendarError::Line { line, reason }) => (line, reason),
        other => panic!("expected a line error, got {other:?}"),
    }
}

/// A reference that walks day by day over the raw sets: slow and obviously right.
struct Naive {
    years: RangeInclusive<i32>,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl Naive {
    fn of(calendar: &WorkingCalendar) -> Self {
        let years = calendar.year_calendars();
        Naive {
            years: calendar.years(),
            holidays: years
                .iter()
                .flat_map(|y| y.holidays().map(|(d, _)| d))
                .collect(),
            workdays: years
                .iter()
                .flat_map(|y| y.workdays().map(|(d, _)| d))
                .collect(),
        }
    }

    fn is_working(&self, day: NaiveDate) -> bool {
        let weekday = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        if !self.years.contains(&day.year()) {
            return weekday;
        }
        self.workdays.contains(&day) || (weekday && !self.holidays.contains(&day))
    }

    fn add(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().expect("within range");
            if self.is_working(day) {
                left -= 1;
            }
        }
        day
    }

    fn between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let count = a
            .iter_days()
            .skip(1)
            .take_while(|day| *day <= b)
            .filter(|day| self.is_working(*day))
            .count();
        sign * i64::try_from(count).expect("small")
    }
}

// ---- the embedded data ----

#[test]
fn builtin_covers_2016_to_2026_with_one_file_each() {
    assert_eq!(cal().years(), 2016..=2026);
    let years: Vec<i32> = cal()
        .year_calendars()
        .iter()
        .map(YearCalendar::year)
        .collect();
    assert_eq!(years, (2016..=2026).collect::<Vec<_>>());
    for year in cal().year_calendars() {
        assert!(
            year.notice()
                .contains(&format!("{}年部分节假日安排的通知", year.year())),
            "{}: notice line is `{}`",
            year.year(),
            year.notice()
        );
    }
}

#[test]
fn every_makeup_workday_is_a_weekend_day_and_not_a_holiday() {
    for year in cal().year_calendars() {
        for (day, name) in year.workdays() {
            assert!(
                matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
                "{day} {name}"
            );
            assert!(!cal().is_holiday(day), "{day}");
            assert!(cal().is_working_day(day), "{day}");
        }
    }
}

/// Each year the notices take away as many weekdays, net of make-up days, as there are statutory
/// holidays (全国年节及纪念日放假办法): 11 until 2024, 13 from 2025. 2020 lost two more: the
/// extended Spring Festival added Friday 31 January and cancelled the make-up Saturday 1 February.
/// This catches a mistyped date in any file.
#[test]
fn each_year_loses_the_statutory_number_of_weekdays() {
    for year in cal().years() {
        let days: Vec<NaiveDate> = d(year, 1, 1)
            .iter_days()
            .take_while(|day| day.year() == year)
            .collect();
        let weekdays = days
            .iter()
            .filter(|day| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
            .count();
        let working = days
            .iter()
            .filter(|day| cal().is_working_day(**day))
            .count();
        let expected = match year {
            2020 => 13,
            ..=2024 => 11,
            _ => 13,
        };
        assert_eq!(weekdays - working, expected, "year {year}");
    }
}

#[test]
fn working_days_in_a_year_match_hand_counts() {
    // Counted by hand from the notices: 262 weekdays − 19 holidays + 8 make-up days in 2024,
    // 261 − 18 + 5 in 2025.
    assert_eq!(
        cal().working_days_between(d(2023, 12, 31), d(2024, 12, 31)),
        251
    );
    assert_eq!(
        cal().working_days_between(d(2024, 12, 31), d(2025, 12, 31)),
        248
    );
}

#[test]
fn embedded_file_names_match_their_years() {
    for (name, text) in EMBEDDED {
        let year = WorkingCalendar::parse_year(text).expect("embedded file parses");
        assert_eq!(*name, format!("{}.txt", year.year()));
    }
}

#[test]
#[should_panic(expected = "data/calendar/2099.txt: line 3")]
fn a_bad_embedded_file_panics_naming_file_and_line() {
    // 2099-01-05 is a Monday.
    load_embedded(&[("2099.txt", "# 通知\nyear 2099\nworkday 2099-01-05 调休\n")]);
}

#[test]
#[should_panic(expected = "not the year its name says")]
fn an_embedded_file_under_the_wrong_name_panics() {
    load_embedded(&[("2098.txt", "# 通知\nyear 2099\n")]);
}

#[test]
fn known_days() {
    let c = cal();
    assert!(c.is_holiday(d(2024, 2, 12)));
    assert!(!c.is_working_day(d(2024, 2, 12)));
    assert!(c.is_makeup_workday(d(2024, 2, 4)));
    assert!(c.is_working_day(d(2024, 2, 4)));
    assert_eq!(c.label(d(2024, 2, 4)), Some("春节调休"));
    assert_eq!(c.label(d(2024, 2, 12)), Some("春节"));
    assert_eq!(c.label(d(2024, 2, 19)), None);
    // The eve of the 2024 Spring Festival was only recommended as a rest day.
    assert!(c.is_working_day(d(2024, 2, 9)));
    // The 2019 New Year notice reached back into 2018.
    assert!(c.is_working_day(d(2018, 12, 29)));
    assert!(!c.is_working_day(d(2018, 12, 31)));
    // 2020: the extension made Saturday 1 February a holiday instead of a make-up day.
    assert!(!c.is_working_day(d(2020, 2, 1)));
    assert!(!c.is_working_day(d(2020, 1, 31)));
    assert!(c.is_working_day(d(2020, 1, 19)));
    assert_eq!(c.add_working_days(d(2020, 1, 23), 1), d(2020, 2, 3));
    // Outside the covered years: plain Monday to Friday.
    assert!(!c.covers(d(2027, 1, 1)));
    assert!(c.is_working_day(d(2027, 1, 1)));
    assert!(!c.is_holiday(d(2027, 1, 1)));
    assert!(c.is_working_day(d(2015, 10, 1)));
}

// ---- counting ----

#[test]
fn national_day_2024_with_makeup_days_on_both_sides() {
    // 9/29 (Sun) make-up, 9/30, 10/8..10/11, 10/12 (Sat) make-up.
    assert_eq!(cal().add_working_days(d(2024, 9, 27), 7), d(2024, 10, 12));
}

#[test]
fn makeup_sunday_before_spring_festival_2025() {
    assert_eq!(cal().add_working_days(d(2025, 1, 24), 1), d(2025, 1, 26));
}

#[test]
fn deadline_across_spring_festival_2026() {
    // 2/14 (Sat) make-up, 2/15..2/23 holiday, 2/24..2/27, 2/28 (Sat) make-up, 3/2.
    let deadline = cal().deadline(d(2026, 2, 13), 7);
    assert_eq!(
        deadline,
        Deadline {
            date: d(2026, 3, 2),
            crosses_uncovered_year: false
        }
    );
    assert_eq!(cal().add_working_days(d(2026, 2, 12), 3), d(2026, 2, 24));
}

#[test]
fn deadline_into_an_uncovered_year_is_flagged() {
    let deadline = cal().deadline(d(2026, 12, 28), 7);
    // 12/29, 12/30, 12/31, then 2027 as plain weekdays: 1/1 (Fri), 1/4, 1/5, 1/6.
    assert_eq!(deadline.date, d(2027, 1, 6));
    assert!(deadline.crosses_uncovered_year);
    assert!(cal().deadline(d(2015, 12, 30), 1).crosses_uncovered_year);
    // Counting starts the day after `from`: 2015-12-31 itself is not counted.
    assert!(!cal().deadline(d(2015, 12, 31), 1).crosses_uncovered_year);
    assert!(!cal().deadline(d(2030, 1, 1), 0).crosses_uncovered_year);
    assert!(!cal().deadline(d(2026, 12, 30), 1).crosses_uncovered_year);
}

#[test]
fn zero_days_is_the_start_even_on_a_holiday() {
    assert_eq!(cal().add_working_days(d(2024, 10, 3), 0), d(2024, 10, 3));
}

#[test]
fn between_is_antisymmetric_and_agrees_with_add() {
    let from = d(2024, 9, 27);
    let to = d(2024, 10, 12);
    assert_eq!(cal().working_days_between(from, to), 7);
    assert_eq!(cal().working_days_between(to, from), -7);
    assert_eq!(cal().working_days_between(from, from), 0);
    // A holiday end: the count stops at the last working day before it.
    assert_eq!(cal().working_days_between(from, d(2024, 10, 5)), 2);
}

#[test]
fn long_spans_cross_the_covered_range_both_ways() {
    let c = cal();
    let naive = Naive::of(c);
    for (from, n) in [
        (d(2010, 3, 3), 3000),
        (d(2015, 12, 31), 2728),
        (d(2016, 1, 1), 2727),
        (d(2026, 12, 31), 1),
        (d(2026, 12, 31), 400),
        (d(2012, 6, 1), 5000),
    ] {
        let end = c.add_working_days(from, n);
        assert_eq!(end, naive.add(from, n), "add({from}, {n})");
        assert_eq!(c.working_days_between(from, end), i64::from(n));
    }
    assert_eq!(
        c.working_days_between(d(2010, 1, 1), d(2030, 12, 31)),
        naive.between(d(2010, 1, 1), d(2030, 12, 31))
    );
}

#[test]
fn extremes_saturate_instead_of_panicking() {
    let c = cal();
    assert_eq!(c.checked_add_working_days(d(2024, 1, 1), u32::MAX), None);
    assert_eq!(c.add_working_days(d(2024, 1, 1), u32::MAX), NaiveDate::MAX);
    assert!(c.deadline(d(2024, 1, 1), u32::MAX).crosses_uncovered_year);
    let near_end = NaiveDate::MAX
        .checked_sub_days(Days::new(10))
        .expect("in range");
    assert_eq!(c.add_working_days(near_end, 100), NaiveDate::MAX);
    let next = c.add_working_days(NaiveDate::MIN, 1);
    assert!(next > NaiveDate::MIN && c.is_working_day(next));
    assert_eq!(c.working_days_between(NaiveDate::MIN, next), 1);
    let big = c.add_working_days(d(2016, 1, 1), 1_000_000);
    assert_eq!(c.working_days_between(d(2016, 1, 1), big), 1_000_000);
}

#[test]
fn day_numbers_start_on_monday() {
    for day in [
        d(1, 1, 1),
        d(1969, 12, 31),
        d(2024, 2, 29),
        NaiveDate::MIN,
        NaiveDate::MAX,
    ] {
        assert_eq!(
            day_number(day).rem_euclid(7),
            i64::from(day.weekday().num_days_from_monday()),
            "{day}"
        );
        assert_eq!(date_from_number(day_number(day)), Some(day));
    }
}

#[test]
fn is_working_day_matches_the_reference_over_the_whole_span() {
    let naive = Naive::of(cal());
    for day in d(2014, 1, 1)
        .iter_days()
        .take_while(|x| *x <= d(2028, 12, 31))
    {
        assert_eq!(cal().is_working_day(day), naive.is_working(day), "{day}");
    }
}

// ---- parsing ----

const SAMPLE: &str = "\
# 国务院办公厅关于2024年部分节假日安排的通知 (国办发明电〔2023〕7号)
year 2024

holiday 2024-01-01 元旦
holiday 2024-02-10..2024-02-17 春节   # 共8天
workday 2024-02-04 春节调休
workday 2024-02-18 春节调休
";

#[test]
fn parses_a_year_file() {
    let year = WorkingCalendar::parse_year(SAMPLE).expect("sample parses");
    assert_eq!(year.year(), 2024);
    assert_eq!(
        year.notice(),
        "国务院办公厅关于2024年部分节假日安排的通知 (国办发明电〔2023〕7号)"
    );
    assert_eq!(year.holidays().count(), 9);
    assert_eq!(year.holidays().nth(1), Some((d(2024, 2, 10), "春节")));
    assert_eq!(
        year.workdays().collect::<Vec<_>>(),
        vec![(d(2024, 2, 4), "春节调休"), (d(2024, 2, 18), "春节调休")]
    );
    // CRLF line ends and a byte-order mark, as office tools write them.
    let windows = format!("\u{feff}{}", SAMPLE.replace('\n', "\r\n"));
    assert_eq!(WorkingCalendar::parse_year(&windows), Ok(year));
}

#[test]
fn a_parse_error_names_its_line() {
    let text = "# 通知\nyear 2024\n\nholiday 2024-02-30 春节\n";
    let err = WorkingCalendar::parse_year(text).expect_err("bad date");
    assert_eq!(
        err,
        CalendarError::Line {
            line: 4,
            reason: LineError::BadDate {
                text: "2024-02-30".into()
            }
        }
    );
    assert!(err.to_string().starts_with("line 4: "), "{err}");
}

#[test]
fn parse_errors_say_why() {
    let head = "# 通知\nyear 2024\n";
    let case = |body: &str| line_error(&format!("{head}{body}"));

    for bad in [
        "2024-2-4",
        "2024/02/04",
        "+2024-02-04",
        "2024-02-04x",
        "二〇二四",
    ] {
        assert!(
            matches!(
                case(&format!("holiday {bad} 春节\n")),
                (3, LineError::BadDate { .. })
            ),
            "{bad}"
        );
    }
    assert_eq!(
        case("holiday 2024-02-17..2024-02-10 春节\n"),
        (
            3,
            LineError::RangeEndBeforeStart {
                start: d(2024, 2, 17),
                end: d(2024, 2, 10)
            }
        )
    );
    assert_eq!(
        case("holiday 2023-12-30..2024-01-01 元旦\n"),
        (
            3,
            LineError::OutsideYear {
                date: d(2023, 12, 30),
                year: 2024
            }
        )
    );
    let (line, reason) = case("workday 2024-02-05 春节调休\n");
    assert_eq!(
        (line, &reason),
        (
            3,
            &LineError::WorkdayNotWeekend {
                date: d(2024, 2, 5),
                weekday: Weekday::Mon
            }
        )
    );
    assert!(reason.to_string().contains("Monday (星期一)"), "{reason}");
    assert_eq!(
        case("holiday 2024-02-10..2024-02-17 春节\nworkday 2024-02-11 春节调休\n"),
        (
            4,
            LineError::HolidayOnWorkday {
                date: d(2024, 2, 11),
                other_line: 3
            }
        )
    );
    assert_eq!(
        case("workday 2024-02-11 春节调休\nholiday 2024-02-10..2024-02-17 春节\n"),
        (
            4,
            LineError::HolidayOnWorkday {
                date: d(2024, 2, 11),
                other_line: 3
            }
        )
    );
    assert_eq!(
        case("holiday 2024-02-10..2024-02-17 春节\nholiday 2024-02-17 春节\n"),
        (
            4,
            LineError::Duplicate {
                date: d(2024, 2, 17),
                first_line: 3
            }
        )
    );
    assert_eq!(
        case("year 2025\n"),
        (3, LineError::RepeatedYear { first_line: 2 })
    );
    assert!(matches!(
        case("holiday 2024-01-01\n"),
        (3, LineError::MissingName { .. })
    ));
    assert!(matches!(
        case("holiday\n"),
        (3, LineError::MissingDate { .. })
    ));
    assert!(matches!(
        case("holliday 2024-01-01 元旦\n"),
        (3, LineError::UnknownKeyword { .. })
    ));
    assert!(matches!(
        line_error("# 通知\nholiday 2024-01-01 元旦\nyear 2024\n"),
        (2, LineError::EntryBeforeYear { .. })
    ));
    for bad in ["twenty", "2024 2025", "-5", "999999"] {
        assert!(
            matches!(
                line_error(&format!("# 通知\nyear {bad}\n")),
                (2, LineError::BadYear { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn a_file_needs_its_year_and_its_notice() {
    assert_eq!(
        WorkingCalendar::parse_year("# 通知\n"),
        Err(CalendarError::MissingYear)
    );
    assert_eq!(
        WorkingCalendar::parse_year("year 2024\nholiday 2024-01-01 元旦\n"),
        Err(CalendarError::MissingNotice)
    );
}

#[test]
fn from_years_needs_consecutive_distinct_years() {
    let year = |y: i32| {
        WorkingCalendar::parse_year(&format!("# 通知\nyear {y}\n")).expect("minimal file parses")
    };
    assert_eq!(
        WorkingCalendar::from_years(vec![]).err(),
        Some(CalendarError::NoYears)
    );
    assert_eq!(
        WorkingCalendar::from_years(vec![year(2024), year(2024)]).err(),
        Some(CalendarError::DuplicateYear(2024))
    );
    assert_eq!(
        WorkingCalendar::from_years(vec![year(2026), year(2024)]).err(),
        Some(CalendarError::MissingYearInRange { missing: 2025 })
    );
    let c = WorkingCalendar::from_years(vec![year(2025), year(2024)]).expect("consecutive years");
    assert_eq!(c.years(), 2024..=2025);
    assert_eq!(
        c.working_days_between(d(2023, 12, 31), d(2025, 12, 31)),
        262 + 261
    );
}

#[test]
fn a_small_calendar_counts_the_same_as_the_reference() {
    let text =
        "# 通知\nyear 2024\nholiday 2024-02-10..2024-02-17 春节\nworkday 2024-02-04 春节调休\n";
    let c = WorkingCalendar::from_years(vec![WorkingCalendar::parse_year(text).expect("parses")])
        .expect("one year");
    let naive = Naive::of(&c);
    for n in 0..300 {
        for from in [d(2023, 11, 30), d(2024, 2, 3), d(2024, 12, 27)] {
            assert_eq!(
                c.add_working_days(from, n),
                naive.add(from, n),
                "{from} + {n}"
            );
        }
    }
}

// ---- properties ----

fn covered_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..4018).prop_map(|k| d(2016, 1, 1) + Days::new(k))
}

fn wider_date() -> impl Strategy<Value = NaiveDate> {
    (0u64..(366 * 22)).prop_map(|k| d(2010, 1, 1) + Days::new(k))
}

proptest! {
    #[test]
    fn add_then_count_gives_back_n(from in covered_date(), n in 0u32..400) {
        let end = cal().add_working_days(from, n);
        prop_assert_eq!(cal().working_days_between(from, end), i64::from(n));
        prop_assert_eq!(cal().working_days_between(end, from), -i64::from(n));
    }

    #[test]
    fn add_is_monotone_and_lands_on_working_days(from in covered_date(), n in 0u32..400) {
        let end = cal().add_working_days(from, n);
        let next = cal().add_working_days(from, n + 1);
        prop_assert!(end < next);
        prop_assert!(cal().is_working_day(next));
        if n > 0 {
            prop_assert!(end > from);
            prop_assert!(cal().is_working_day(end));
            // No working day is skipped: the day before the result is at most the (n-1)-th.
            let before = end.pred_opt().expect("in range");
            prop_assert_eq!(cal().working_days_between(from, before), i64::from(n) - 1);
        }
    }

    #[test]
    fn fast_counting_matches_the_day_by_day_reference(
        from in wider_date(),
        to in wider_date(),
        n in 0u32..400,
    ) {
        let naive = Naive::of(cal());
        prop_assert_eq!(cal().add_working_days(from, n), naive.add(from, n));
        prop_assert_eq!(cal().working_days_between(from, to), naive.between(from, to));
    }
}
