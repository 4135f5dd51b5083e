//! Opening hours in the business's time zone, and local days for statistics.
//!
//! Hours are wall-clock intervals per weekday in an IANA time zone: "07:00–18:00"
//! means 07:00 to 18:00 on the shop's clock, whatever the UTC offset that day. On a
//! daylight-saving switch an interval through the missing hour is one hour shorter,
//! one through the doubled hour one hour longer, exactly as the shop experiences it.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Intervals per day.
pub const MAX_INTERVALS: usize = 3;
/// Dates the business is closed on (holidays).
pub const MAX_CLOSED_DATES: usize = 50;
const DAY_MINUTES: u16 = 24 * 60;

/// Opening hours, as stored under `hours` in the business profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
    #[serde(default)]
    pub weekly: Weekly,
    /// Local dates (`YYYY-MM-DD`) the business is closed all day, sorted.
    #[serde(default)]
    pub closed_dates: Vec<String>,
}

/// Intervals per weekday; a day without intervals is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weekly {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<Interval>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<Interval>,
}

impl Weekly {
    fn day(&self, d: Weekday) -> &[Interval] {
        match d {
            Weekday::Monday => &self.mon,
            Weekday::Tuesday => &self.tue,
            Weekday::Wednesday => &self.wed,
            Weekday::Thursday => &self.thu,
            Weekday::Friday => &self.fri,
            Weekday::Saturday => &self.sat,
            Weekday::Sunday => &self.sun,
        }
    }

    fn days_mut(&mut self) -> [(&'static str, &mut Vec<Interval>); 7] {
        [
            ("mon", &mut self.mon),
            ("tue", &mut self.tue),
            ("wed", &mut self.wed),
            ("thu", &mut self.thu),
            ("fri", &mut self.fri),
            ("sat", &mut self.sat),
            ("sun", &mut self.sun),
        ]
    }
}

/// Open from `open` until `close` (`HH:MM`, local; `close` may be `24:00`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub open: String,
    pub close: String,
}

impl Interval {
    /// Minutes since local midnight, `[open, close)`; `None` if malformed (a checked
    /// interval never is).
    fn minutes(&self) -> Option<(u16, u16)> {
        Some((minutes(&self.open, false)?, minutes(&self.close, true)?))
    }
}

/// `HH:MM` as minutes since midnight; `24:00` only when `end`.
fn minutes(s: &str, end: bool) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let t = h * 60 + m;
    let ok = m < 60 && (t < DAY_MINUTES || (end && t == DAY_MINUTES));
    ok.then_some(t)
}

/// The time zone of an IANA name: 400 `invalid_timezone` if unknown.
pub fn time_zone(name: &str) -> AppResult<TimeZone> {
    let bad = || {
        AppError::invalid(
            "invalid_timezone",
            format!("unknown time zone {name:?}; use an IANA name such as Europe/Berlin"),
        )
    };
    // Only names: a POSIX rule or an offset would be accepted by jiff but is not a
    // zone a shop lives in.
    if name.is_empty() || name.len() > 64 || name.starts_with(['+', '-']) {
        return Err(bad());
    }
    TimeZone::get(name).map_err(|_| bad())
}

/// Checks and normalises opening hours: a known zone, `HH:MM` times, `open <
/// close`, at most 3 non-overlapping intervals a day (sorted), at most 50 valid
/// closed dates (sorted, without repeats).
pub fn check(mut hours: Hours) -> AppResult<Hours> {
    hours.timezone = hours.timezone.trim().to_owned();
    time_zone(&hours.timezone)?;
    for (day, list) in hours.weekly.days_mut() {
        check_day(day, list)?;
    }
    if hours.closed_dates.len() > MAX_CLOSED_DATES {
        return Err(AppError::invalid(
            "too_many_closed_dates",
            format!(
                "{} closed dates; the limit is {MAX_CLOSED_DATES}",
                hours.closed_dates.len()
            ),
        ));
    }
    let mut dates = Vec::with_capacity(hours.closed_dates.len());
    for d in &hours.closed_dates {
        dates.push(parse_date("closed_dates", d)?);
    }
    dates.sort();
    dates.dedup();
    hours.closed_dates = dates.iter().map(Date::to_string).collect();
    Ok(hours)
}

fn check_day(day: &str, list: &mut [Interval]) -> AppResult<()> {
    if list.len() > MAX_INTERVALS {
        return Err(AppError::invalid(
            "too_many_intervals",
            format!(
                "{day} has {} intervals; the limit is {MAX_INTERVALS}",
                list.len()
            ),
        ));
    }
    for i in list.iter() {
        let (open, close) = i.minutes().ok_or_else(|| {
            AppError::invalid(
                "invalid_time",
                format!(
                    "{day}: {:?}–{:?} is not HH:MM to HH:MM (00:00 to 24:00)",
                    i.open, i.close
                ),
            )
        })?;
        if open >= close {
            return Err(AppError::invalid(
                "invalid_interval",
                format!(
                    "{day}: opens at {} but closes at {}; open must be before close",
                    i.open, i.close
                ),
            ));
        }
    }
    list.sort_by_key(|i| i.minutes());
    for pair in list.windows(2) {
        if let [a, b] = pair
            && let (Some((_, a_close)), Some((b_open, _))) = (a.minutes(), b.minutes())
            && b_open < a_close
        {
            return Err(AppError::invalid(
                "overlapping_intervals",
                format!(
                    "{day}: {}–{} overlaps {}–{}",
                    a.open, a.close, b.open, b.close
                ),
            ));
        }
    }
    Ok(())
}

/// A `YYYY-MM-DD` date: 400 `invalid_date` otherwise.
pub fn parse_date(field: &str, s: &str) -> AppResult<Date> {
    let s = s.trim();
    let shaped =
        s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(7) == Some(&b'-');
    match s.parse::<Date>() {
        Ok(d) if shaped => Ok(d),
        _ => Err(AppError::invalid(
            "invalid_date",
            format!("{field}: {s:?} is not a date; use YYYY-MM-DD"),
        )),
    }
}

/// Whether the business is open at `ts_ms` (milliseconds since the epoch), on its
/// own wall clock. Unknown zones (never stored) count as closed.
pub fn is_open(hours: &Hours, ts_ms: i64) -> bool {
    let (Ok(tz), Ok(ts)) = (
        TimeZone::get(&hours.timezone),
        Timestamp::from_millisecond(ts_ms),
    ) else {
        return false;
    };
    let local = ts.to_zoned_datetime(tz);
    let date = local.date().to_string();
    if hours.closed_dates.contains(&date) {
        return false;
    }
    let time = local.time();
    let now =
        u16::try_from(time.hour()).unwrap_or(0) * 60 + u16::try_from(time.minute()).unwrap_or(0);
    hours
        .weekly
        .day(local.weekday())
        .iter()
        .filter_map(Interval::minutes)
        .any(|(open, close)| open <= now && now < close)
}

/// The local date of `ts_ms` in time zone `tz` (IANA name); UTC when unset or
/// unknown.
pub fn local_date(tz: Option<&str>, ts_ms: i64) -> String {
    local_day(tz, ts_ms).to_string()
}

/// [`local_date`] as a date.
pub fn local_day(tz: Option<&str>, ts_ms: i64) -> Date {
    let zone = tz
        .and_then(|name| TimeZone::get(name).ok())
        .unwrap_or(TimeZone::UTC);
    match Timestamp::from_millisecond(ts_ms) {
        Ok(ts) => ts.to_zoned_datetime(zone).date(),
        Err(_) => {
            let (y, m, d) = switchboard_core::civil::civil_from_days(ts_ms.div_euclid(86_400_000));
            let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
            Date::new(
                i16::try_from(clamp(y, -9999, 9999)).unwrap_or(1970),
                i8::try_from(clamp(i64::from(m), 1, 12)).unwrap_or(1),
                i8::try_from(clamp(i64::from(d), 1, 28)).unwrap_or(1),
            )
            .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(open: &str, close: &str) -> Interval {
        Interval {
            open: open.into(),
            close: close.into(),
        }
    }

    fn berlin(weekly: Weekly) -> Hours {
        Hours {
            timezone: "Europe/Berlin".into(),
            weekly,
            closed_dates: vec![],
        }
    }

    fn ms(utc: &str) -> i64 {
        utc.parse::<Timestamp>()
            .expect("timestamp")
            .as_millisecond()
    }

    fn check_code(h: Hours) -> Result<Hours, &'static str> {
        check(h).map_err(|e| e.code())
    }

    #[test]
    fn validation() {
        let ok = check(berlin(Weekly {
            mon: vec![iv("13:00", "18:00"), iv("07:00", "12:00")],
            sun: vec![iv("20:00", "24:00")],
            ..Weekly::default()
        }))
        .expect("valid");
        assert_eq!(ok.weekly.mon[0].open, "07:00", "sorted");
        let day = |v: Vec<Interval>| {
            berlin(Weekly {
                tue: v,
                ..Weekly::default()
            })
        };
        assert_eq!(
            check_code(day(vec![iv("25:00", "26:00")])),
            Err("invalid_time")
        );
        assert_eq!(
            check_code(day(vec![iv("9:00", "10:00")])),
            Err("invalid_time")
        );
        assert_eq!(
            check_code(day(vec![iv("24:00", "24:00")])),
            Err("invalid_time")
        );
        assert_eq!(
            check_code(day(vec![iv("10:60", "11:00")])),
            Err("invalid_time")
        );
        assert_eq!(
            check_code(day(vec![iv("10:00", "10:00")])),
            Err("invalid_interval")
        );
        assert_eq!(
            check_code(day(vec![iv("08:00", "12:00"), iv("11:00", "14:00")])),
            Err("overlapping_intervals")
        );
        assert!(check(day(vec![iv("08:00", "12:00"), iv("12:00", "14:00")])).is_ok());
        assert_eq!(
            check_code(day(vec![
                iv("01:00", "02:00"),
                iv("03:00", "04:00"),
                iv("05:00", "06:00"),
                iv("07:00", "08:00")
            ])),
            Err("too_many_intervals")
        );
        let mut h = berlin(Weekly::default());
        h.timezone = "Mars/Olympus".into();
        assert_eq!(check_code(h), Err("invalid_timezone"));
        let mut h = berlin(Weekly::default());
        h.closed_dates = vec![
            "2026-12-26".into(),
            "2026-12-25".into(),
            "2026-12-25".into(),
        ];
        assert_eq!(
            check(h).expect("ok").closed_dates,
            ["2026-12-25", "2026-12-26"]
        );
        let mut h = berlin(Weekly::default());
        h.closed_dates = vec!["2026-02-30".into()];
        assert_eq!(check_code(h), Err("invalid_date"));
        let mut h = berlin(Weekly::default());
        h.closed_dates = (0..51)
            .map(|i| format!("2027-01-{:02}", i % 28 + 1))
            .collect();
        assert_eq!(check_code(h), Err("too_many_closed_dates"));
    }

    #[test]
    fn open_on_the_local_clock() {
        let h = berlin(Weekly {
            wed: vec![iv("09:00", "17:00")],
            ..Weekly::default()
        });
        // 2026-11-25 is a Wednesday; Berlin is UTC+1 in winter.
        assert!(!is_open(&h, ms("2026-11-25T07:59:00Z")));
        assert!(is_open(&h, ms("2026-11-25T08:00:00Z")));
        assert!(is_open(&h, ms("2026-11-25T15:59:00Z")));
        assert!(!is_open(&h, ms("2026-11-25T16:00:00Z")));
        assert!(!is_open(&h, ms("2026-11-26T10:00:00Z")), "thursday");
        let mut closed = h.clone();
        closed.closed_dates = vec!["2026-11-25".into()];
        assert!(!is_open(&closed, ms("2026-11-25T10:00:00Z")));
    }

    #[test]
    fn spring_forward_skips_an_hour() {
        // 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let h = berlin(Weekly {
            sun: vec![iv("01:00", "04:00")],
            ..Weekly::default()
        });
        assert!(!is_open(&h, ms("2026-03-28T23:59:00Z")), "00:59 CET");
        assert!(is_open(&h, ms("2026-03-29T00:00:00Z")), "01:00 CET");
        assert!(is_open(&h, ms("2026-03-29T00:59:00Z")), "01:59 CET");
        assert!(is_open(&h, ms("2026-03-29T01:00:00Z")), "03:00 CEST");
        assert!(is_open(&h, ms("2026-03-29T01:59:00Z")), "03:59 CEST");
        assert!(
            !is_open(&h, ms("2026-03-29T02:00:00Z")),
            "04:00 CEST: two real hours"
        );
    }

    #[test]
    fn fall_back_doubles_an_hour() {
        // 2026-10-25 (Sunday): 03:00 CEST falls back to 02:00 CET (01:00 UTC).
        let h = berlin(Weekly {
            sun: vec![iv("02:00", "03:00")],
            ..Weekly::default()
        });
        assert!(!is_open(&h, ms("2026-10-24T23:59:00Z")), "01:59 CEST");
        assert!(is_open(&h, ms("2026-10-25T00:00:00Z")), "02:00 CEST");
        assert!(is_open(&h, ms("2026-10-25T00:59:00Z")), "02:59 CEST");
        assert!(is_open(&h, ms("2026-10-25T01:00:00Z")), "02:00 CET, again");
        assert!(is_open(&h, ms("2026-10-25T01:59:00Z")), "02:59 CET");
        assert!(
            !is_open(&h, ms("2026-10-25T02:00:00Z")),
            "03:00 CET: two real hours"
        );
    }

    #[test]
    fn local_dates() {
        let late = ms("2026-11-25T23:30:00Z");
        assert_eq!(local_date(None, late), "2026-11-25");
        assert_eq!(local_date(Some("Europe/Berlin"), late), "2026-11-26");
        assert_eq!(local_date(Some("America/New_York"), late), "2026-11-25");
        assert_eq!(local_date(Some("Nowhere/Else"), late), "2026-11-25");
        assert_eq!(
            local_date(Some("Europe/Berlin"), ms("2026-03-28T23:30:00Z")),
            "2026-03-29"
        );
    }
}
