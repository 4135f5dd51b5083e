//! Statistics: daily counters per business, in the business's local days.
//!
//! The app worker counts what passes through the business's stream and writes each
//! window's counts atomically with its cursor, so a count is never lost or doubled;
//! API actions (resolving a conversation) add theirs with a versioned update.
//!
//! This module turns stored day records into the report the API answers (days
//! without a record count as zeros) and its CSV form.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::hours::parse_date;

/// Counter names of a day's stats record.
pub mod metric {
    /// Messages the business sent (any device: app, agents, API, automation).
    pub const SENT: &str = "sent";
    /// Business messages that reached a customer device.
    pub const DELIVERED: &str = "delivered";
    /// Business messages a customer read.
    pub const READ: &str = "read";
    /// Messages customers sent to the business.
    pub const RECEIVED: &str = "received";
    /// Sum and count of first-response times (customer waiting → first human reply).
    pub const FIRST_RESPONSE_MS: &str = "first_response_ms";
    pub const FIRST_RESPONSES: &str = "first_responses";
    /// Sum and count of resolution times (conversation opened → resolved).
    pub const RESOLUTION_MS: &str = "resolution_ms";
    pub const RESOLUTIONS: &str = "resolutions";
}

/// Record kind of the per-customer receipt watermarks statistics keep; key: the
/// customer's user id.
pub const PROGRESS_KIND: &str = "stats_progress";
/// The longest range a report covers, in days (both ends included).
pub const MAX_DAYS: usize = 366;
/// The default range: the last 30 days, today included.
pub const DEFAULT_DAYS: usize = 30;

/// A day's counters as stored: metric → amount.
pub type Counters = BTreeMap<String, i64>;

/// The counters every report shows, in column order.
pub const SERIES: &[&str] = &[
    metric::SENT,
    metric::DELIVERED,
    metric::READ,
    metric::RECEIVED,
    metric::FIRST_RESPONSES,
    metric::RESOLUTIONS,
];

/// The report's days: `from`/`to` (`YYYY-MM-DD`, both optional) checked against
/// `today` (the business's local date). Defaults: `to` today, `from` 29 days before
/// `to`. 400 when a date is malformed, `from > to`, or the range is over 366 days.
pub fn range(from: Option<&str>, to: Option<&str>, today: Date) -> AppResult<Vec<Date>> {
    let to = match to {
        Some(s) => parse_date("to", s)?,
        None => today,
    };
    let from = match from {
        Some(s) => parse_date("from", s)?,
        None => back(to, DEFAULT_DAYS - 1),
    };
    if from > to {
        return Err(AppError::invalid(
            "invalid_range",
            format!("from ({from}) is after to ({to})"),
        ));
    }
    let mut days = Vec::new();
    let mut d = from;
    while d <= to {
        if days.len() == MAX_DAYS {
            return Err(AppError::invalid(
                "range_too_long",
                format!("{from} to {to} is more than {MAX_DAYS} days; ask for a shorter range"),
            ));
        }
        days.push(d);
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    Ok(days)
}

fn back(d: Date, n: usize) -> Date {
    (0..n).fold(d, |d, _| d.yesterday().unwrap_or(d))
}

/// The figures of one day or of a whole range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub received: i64,
    pub first_responses: i64,
    /// Integer milliseconds; `null` without responses.
    pub avg_first_response_ms: Option<i64>,
    pub resolutions: i64,
    pub avg_resolution_ms: Option<i64>,
}

impl Figures {
    fn of(sums: &Counters) -> Figures {
        let get = |m: &str| sums.get(m).copied().unwrap_or(0);
        let avg = |sum: &str, n: &str| {
            let n = get(n);
            (n > 0).then(|| get(sum) / n)
        };
        Figures {
            sent: get(metric::SENT),
            delivered: get(metric::DELIVERED),
            read: get(metric::READ),
            received: get(metric::RECEIVED),
            first_responses: get(metric::FIRST_RESPONSES),
            avg_first_response_ms: avg(metric::FIRST_RESPONSE_MS, metric::FIRST_RESPONSES),
            resolutions: get(metric::RESOLUTIONS),
            avg_resolution_ms: avg(metric::RESOLUTION_MS, metric::RESOLUTIONS),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub metric: &'static str,
    /// `[date, amount]` per day.
    pub points: Vec<(String, i64)>,
}

/// The statistics of a range of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub days: Vec<Day>,
    pub totals: Figures,
    pub series: Vec<Series>,
}

/// The report of `days` from the stored day records (`date` → counters); missing
/// days are zeros, averages are sums over counts (totals: over the whole range).
pub fn report(days: &[Date], stored: &BTreeMap<String, Counters>) -> Report {
    let empty = Counters::new();
    let mut totals = Counters::new();
    let mut out = Vec::with_capacity(days.len());
    let mut series: Vec<Series> = SERIES
        .iter()
        .map(|m| Series {
            metric: m,
            points: Vec::with_capacity(days.len()),
        })
        .collect();
    for d in days {
        let date = d.to_string();
        let counters = stored.get(&date).unwrap_or(&empty);
        for (m, n) in counters {
            *totals.entry(m.clone()).or_insert(0) += n;
        }
        for s in &mut series {
            s.points
                .push((date.clone(), counters.get(s.metric).copied().unwrap_or(0)));
        }
        out.push(Day {
            date,
            figures: Figures::of(counters),
        });
    }
    Report {
        days: out,
        totals: Figures::of(&totals),
        series,
    }
}

/// The report's days as CSV: a header row, then one row per day (empty averages
/// when there is nothing to average).
pub fn csv(report: &Report) -> String {
    let mut out = String::from(
        "date,sent,delivered,read,received,first_responses,avg_first_response_ms,resolutions,avg_resolution_ms\n",
    );
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    for d in &report.days {
        let f = &d.figures;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            d.date,
            f.sent,
            f.delivered,
            f.read,
            f.received,
            f.first_responses,
            opt(f.avg_first_response_ms),
            f.resolutions,
            opt(f.avg_resolution_ms)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().expect("date")
    }

    #[test]
    fn ranges() {
        let today = date("2026-11-25");
        let r = range(None, None, today).expect("default");
        assert_eq!((r.len(), r[0], r[29]), (30, date("2026-10-27"), today));
        let r = range(Some("2026-02-27"), Some("2026-03-01"), today).expect("ok");
        assert_eq!(r.len(), 3);
        let code = |f: &str, t: &str| {
            range(Some(f), Some(t), today)
                .map(|r| r.len())
                .map_err(|e| e.code())
        };
        assert_eq!(code("2026-11-26", "2026-11-25"), Err("invalid_range"));
        assert_eq!(code("2025-01-01", "2026-01-01"), Ok(366));
        assert_eq!(code("2025-01-01", "2026-01-02"), Err("range_too_long"));
        assert_eq!(code("2026-13-01", "2026-11-25"), Err("invalid_date"));
        assert_eq!(code("yesterday", "2026-11-25"), Err("invalid_date"));
    }

    #[test]
    fn reports_fill_gaps_and_average() {
        let days = range(Some("2026-11-01"), Some("2026-11-03"), date("2026-11-25")).expect("ok");
        let mut stored = BTreeMap::new();
        stored.insert(
            "2026-11-01".to_owned(),
            Counters::from([
                ("sent".into(), 3),
                ("first_responses".into(), 2),
                ("first_response_ms".into(), 3001),
            ]),
        );
        stored.insert(
            "2026-11-03".to_owned(),
            Counters::from([
                ("sent".into(), 1),
                ("first_responses".into(), 1),
                ("first_response_ms".into(), 1000),
            ]),
        );
        let r = report(&days, &stored);
        assert_eq!(r.days.len(), 3);
        assert_eq!(r.days[0].figures.avg_first_response_ms, Some(1500));
        assert_eq!(r.days[1].figures, Figures::default());
        assert_eq!(r.totals.sent, 4);
        assert_eq!(r.totals.avg_first_response_ms, Some(1333));
        assert_eq!(r.totals.avg_resolution_ms, None);
        assert_eq!(r.series[0].metric, "sent");
        assert_eq!(r.series[0].points[2], ("2026-11-03".to_owned(), 1));
        let csv = csv(&r);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1], "2026-11-01,3,0,0,0,2,1500,0,");
        assert_eq!(lines[2], "2026-11-02,0,0,0,0,0,,0,");
    }
}
