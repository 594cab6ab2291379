//! `creditloop calendar`: deadlines in working days (工作日) from the official holiday calendar.

use crate::out::outln;
use std::process::ExitCode;

use chrono::{Datelike, NaiveDate};
use clap::Subcommand;
use creditloop_domain::calendar::WorkingCalendar;

use crate::parse_date;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The date of the N-th working day after --from; the date is the last line printed.
    Deadline {
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        #[arg(long)]
        working_days: u32,
    },
    /// Working days after --from up to and including --to.
    Between {
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        #[arg(long, value_parser = parse_date)]
        to: NaiveDate,
    },
    /// Whether a date is a working day, and why.
    Day {
        #[arg(value_parser = parse_date)]
        date: NaiveDate,
    },
    /// The years the built-in calendar covers.
    Years,
}

fn weekday_zh(d: NaiveDate) -> &'static str {
    [
        "星期一",
        "星期二",
        "星期三",
        "星期四",
        "星期五",
        "星期六",
        "星期日",
    ][d.weekday().num_days_from_monday() as usize]
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cal = WorkingCalendar::builtin();
    match args.command {
        Cmd::Deadline { from, working_days } => {
            let d = cal.deadline(from, working_days);
            if d.crosses_uncovered_year {
                eprintln!(
                    "警告 warning: the calendar covers {}–{} only; days outside count Monday to Friday",
                    cal.years().start(),
                    cal.years().end()
                );
            }
            outln!(
                "from {from} ({}), {working_days} working days / {working_days} 个工作日:",
                weekday_zh(from)
            );
            outln!("{}", d.date);
        }
        Cmd::Between { from, to } => {
            outln!("{}", cal.working_days_between(from, to));
        }
        Cmd::Day { date } => {
            let why = if cal.is_holiday(date) {
                "法定节假日 public holiday"
            } else if cal.is_working_day(date) && date.weekday().num_days_from_monday() >= 5 {
                "调休上班 make-up working day"
            } else if cal.is_working_day(date) {
                "工作日 working day"
            } else {
                "周末 weekend"
            };
            outln!("{date} {} {why}", weekday_zh(date));
            return Ok(if cal.is_working_day(date) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        Cmd::Years => {
            outln!("{}-{}", cal.years().start(), cal.years().end());
        }
    }
    Ok(ExitCode::SUCCESS)
}
