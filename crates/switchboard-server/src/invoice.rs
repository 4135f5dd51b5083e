//! Billing arithmetic for the admin API, kept pure so it is tested without a server:
//! calendar dates (UTC, no date crate needed for whole days), money as integer micros
//! rendered as decimal strings, usage records aggregated into report and invoice
//! lines, and an invoice as JSON or RFC 4180 CSV.
//!
//! Money never touches floating point: prices are millionths of the currency
//! (`UsageRecord::price_micros`), sums are saturating integer additions, and only
//! the final rendering rounds to 4 decimal places (half away from zero).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};
use switchboard_core::civil;
use switchboard_store::UsageRecord;

const MS_PER_DAY: i64 = 86_400_000;

/// A calendar day in UTC (proleptic Gregorian), years 1970 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `n` ASCII digits at the start of `s`, as a number.
fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0')))
}

fn valid_year(year: u32) -> Option<i32> {
    (1970..=9999)
        .contains(&year)
        .then(|| i32::try_from(year).ok())
        .flatten()
}

impl Date {
    /// Parses exactly `YYYY-MM-DD`; `None` for anything else or a day that does not exist.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = valid_year(digits(&b[0..4])?)?;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        civil::days_from_civil(i64::from(self.year), self.month, self.day)
    }

    /// The day `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let (year, month, day) = civil::civil_from_days(days);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month,
            day,
        }
    }

    /// Midnight UTC of this day, in milliseconds since the epoch.
    pub fn to_ms(self) -> i64 {
        self.days() * MS_PER_DAY
    }

    /// The day that holds the instant `ms`.
    pub fn from_ms(ms: i64) -> Date {
        Date::from_days(ms.div_euclid(MS_PER_DAY))
    }

    pub fn month(self) -> Month {
        Month {
            year: self.year,
            month: self.month,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A calendar month in UTC, the period of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// Parses exactly `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' {
            return None;
        }
        let year = valid_year(digits(&b[0..4])?)?;
        let month = digits(&b[5..7])?;
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    pub fn first_day(self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// `[first day, first day of the next month)` in milliseconds.
    pub fn range_ms(self) -> (i64, i64) {
        (self.first_day().to_ms(), self.next().first_day().to_ms())
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The longest period a usage report covers, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The `[from, to)` days of a usage query. Defaults: `from` is the first day of the
/// current month (of the month before `to` when only `to` is given), `to` the first
/// day of the month after `from`. Errors name the bad value.
pub fn resolve_range(
    from: Option<&str>,
    to: Option<&str>,
    now_ms: i64,
) -> Result<(Date, Date), String> {
    let parse = |name: &str, s: &str| {
        Date::parse(s).ok_or_else(|| {
            let shown: String = s.chars().take(40).collect();
            format!("invalid {name} {shown:?}: use a date YYYY-MM-DD (UTC)")
        })
    };
    let to = to.map(|s| parse("to", s)).transpose()?;
    let from = match from {
        Some(s) => parse("from", s)?,
        None => match to {
            Some(to) => Date::from_days(to.days() - 1).month().first_day(),
            None => Date::from_ms(now_ms).month().first_day(),
        },
    };
    let to = to.unwrap_or_else(|| from.month().next().first_day());
    if to <= from {
        return Err(format!(
            "empty period: from {from} is not before to {to} (to is exclusive)"
        ));
    }
    if to.days() - from.days() > MAX_RANGE_DAYS {
        return Err(format!(
            "period {from} to {to} is longer than {MAX_RANGE_DAYS} days; ask for a shorter one"
        ));
    }
    Ok((from, to))
}

/// An instant as the reports show it: `YYYY-MM-DD` at midnight UTC, otherwise
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_instant(ms: i64) -> String {
    let date = Date::from_ms(ms);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    if in_day == 0 {
        return date.to_string();
    }
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{date}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Micros (millionths) as a decimal string with 4 places, rounded half away from
/// zero: `12_340_000` → `"12.3400"`, `50` → `"0.0001"`.
pub fn format_micros(micros: i64) -> String {
    // Units of 1/10,000, computed on the magnitude so i64::MIN cannot overflow.
    let q = (micros.unsigned_abs() + 50) / 100;
    let sign = if micros < 0 && q != 0 { "-" } else { "" };
    format!("{sign}{}.{:04}", q / 10_000, q % 10_000)
}

/// One field of a CSV record (RFC 4180): quoted when it holds a comma, a quote or a
/// line break, with quotes doubled.
pub fn csv_field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// A free-text field (a business name) for CSV: as [`csv_field`], but a value that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
/// leading `'` so that opening the invoice cannot execute anything.
pub fn csv_text(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(csv_field(&format!("'{s}")).into_owned())
    } else {
        csv_field(s)
    }
}

/// One line of a usage report: billable deliveries of one category to one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageLine {
    pub category: String,
    pub country: String,
    pub messages: u64,
    pub amount_micros: i64,
}

/// Usage of one period, summed; lines sorted by category, then country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSummary {
    pub currency: String,
    pub total_micros: i64,
    pub lines: Vec<UsageLine>,
}

/// The period holds usage priced in more than one currency (the price table's
/// currency changed): summing them would be wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "usage in this period is priced in several currencies ({0}); ask for periods before and after the change"
)]
pub struct MixedCurrencies(pub String);

/// The one currency of `records`, or `default` when there are none.
fn currency_of(records: &[UsageRecord], default: &str) -> Result<String, MixedCurrencies> {
    let mut seen: Vec<&str> = Vec::new();
    for r in records {
        if !seen.contains(&r.currency.as_str()) {
            seen.push(&r.currency);
        }
    }
    match seen.as_slice() {
        [] => Ok(default.to_owned()),
        [one] => Ok((*one).to_owned()),
        many => Err(MixedCurrencies(many.join(", "))),
    }
}

/// Sums usage records by category and country.
pub fn summarize(
    records: &[UsageRecord],
    default_currency: &str,
) -> Result<UsageSummary, MixedCurrencies> {
    let currency = currency_of(records, default_currency)?;
    let mut by_key: BTreeMap<(&str, &str), (u64, i64)> = BTreeMap::new();
    for r in records {
        let e = by_key.entry((&r.category, &r.country)).or_default();
        e.0 = e.0.saturating_add(1);
        e.1 = e.1.saturating_add(r.price_micros);
    }
    let lines: Vec<UsageLine> = by_key
        .into_iter()
        .map(
            |((category, country), (messages, amount_micros))| UsageLine {
                category: category.to_owned(),
                country: country.to_owned(),
                messages,
                amount_micros,
            },
        )
        .collect();
    let total_micros = lines
        .iter()
        .fold(0i64, |t, l| t.saturating_add(l.amount_micros));
    Ok(UsageSummary {
        currency,
        total_micros,
        lines,
    })
}

/// One invoice line: deliveries of one category to one country at one unit price
/// (a price change within the month gives two lines, so every line is exactly
/// `messages × unit price`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub category: String,
    pub country: String,
    pub messages: u64,
    pub unit_price_micros: i64,
    pub amount_micros: i64,
}

/// A monthly invoice of one business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub business_name: String,
    pub waba_id: String,
    pub period: Month,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub total_micros: i64,
}

impl Invoice {
    /// The invoice of `period` from that month's usage records.
    pub fn build(
        business_name: &str,
        waba_id: &str,
        period: Month,
        records: &[UsageRecord],
        default_currency: &str,
    ) -> Result<Invoice, MixedCurrencies> {
        let currency = currency_of(records, default_currency)?;
        let mut by_key: BTreeMap<(&str, &str, i64), u64> = BTreeMap::new();
        for r in records {
            let n = by_key
                .entry((&r.category, &r.country, r.price_micros))
                .or_default();
            *n = n.saturating_add(1);
        }
        let lines: Vec<InvoiceLine> = by_key
            .into_iter()
            .map(|((category, country, unit), messages)| InvoiceLine {
                category: category.to_owned(),
                country: country.to_owned(),
                messages,
                unit_price_micros: unit,
                amount_micros: unit.saturating_mul(i64::try_from(messages).unwrap_or(i64::MAX)),
            })
            .collect();
        let total_micros = lines
            .iter()
            .fold(0i64, |t, l| t.saturating_add(l.amount_micros));
        Ok(Invoice {
            business_name: business_name.to_owned(),
            waba_id: waba_id.to_owned(),
            period,
            currency,
            lines,
            total_micros,
        })
    }

    pub fn messages(&self) -> u64 {
        self.lines
            .iter()
            .fold(0u64, |n, l| n.saturating_add(l.messages))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "business_name": self.business_name,
            "waba_id": self.waba_id,
            "period": self.period.to_string(),
            "from": self.period.first_day().to_string(),
            "to": self.period.next().first_day().to_string(),
            "currency": self.currency,
            "lines": self.lines.iter().map(|l| json!({
                "category": l.category,
                "country": l.country,
                "messages": l.messages,
                "unit_price": format_micros(l.unit_price_micros),
                "unit_price_micros": l.unit_price_micros,
                "amount": format_micros(l.amount_micros),
                "amount_micros": l.amount_micros,
            })).collect::<Vec<_>>(),
            "messages": self.messages(),
            "total": format_micros(self.total_micros),
            "total_micros": self.total_micros,
        })
    }

    /// The invoice as CSV: a header row, one row per line, then a `total` row; every
    /// row repeats the business and period so each stands alone in a spreadsheet.
    pub fn to_csv(&self) -> String {
        const HEADER: &str =
            "business_name,waba_id,period,category,country,messages,unit_price,amount,currency";
        let mut out = String::with_capacity(128 * (self.lines.len() + 2));
        out.push_str(HEADER);
        out.push_str("\r\n");
        let name = csv_text(&self.business_name);
        let period = self.period.to_string();
        let mut row = |category: &str, country: &str, messages: u64, unit: &str, amount: &str| {
            let fields = [
                name.clone(),
                csv_field(&self.waba_id),
                csv_field(&period),
                csv_field(category),
                csv_field(country),
                Cow::Owned(messages.to_string()),
                csv_field(unit),
                csv_field(amount),
                csv_field(&self.currency),
            ];
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        };
        for l in &self.lines {
            row(
                &l.category,
                &l.country,
                l.messages,
                &format_micros(l.unit_price_micros),
                &format_micros(l.amount_micros),
            );
        }
        row(
            "total",
            "",
            self.messages(),
            "",
            &format_micros(self.total_micros),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(category: &str, country: &str, price: i64, currency: &str) -> UsageRecord {
        UsageRecord {
            waba_id: "100000000000001".into(),
            message_id: format!("m{category}{country}{price}"),
            category: category.into(),
            country: country.into(),
            price_micros: price,
            currency: currency.into(),
            ts: 0,
        }
    }

    #[test]
    fn dates_parse_strictly() {
        type Ymd = (i32, u32, u32);
        let cases: &[(&str, Option<Ymd>)] = &[
            ("2026-11-25", Some((2026, 11, 25))),
            ("1970-01-01", Some((1970, 1, 1))),
            ("2024-02-29", Some((2024, 2, 29))),
            ("2000-02-29", Some((2000, 2, 29))),
            ("1900-02-28", None),
            ("2100-02-29", None),
            ("2026-02-29", None),
            ("2026-04-31", None),
            ("2026-13-01", None),
            ("2026-00-10", None),
            ("2026-01-00", None),
            ("2026-1-01", None),
            ("2026-01-1", None),
            ("26-01-01", None),
            ("2026/01/01", None),
            ("2026-01-01T00:00", None),
            ("+026-01-01", None),
            ("١٩٧٠-01-01", None),
            ("", None),
        ];
        for &(s, want) in cases {
            let got = Date::parse(s).map(|d| (d.year, d.month, d.day));
            assert_eq!(got, want, "{s:?}");
            if let Some(d) = Date::parse(s) {
                assert_eq!(d.to_string(), s);
            }
        }
    }

    #[test]
    fn dates_convert_to_and_from_days() {
        let cases: &[(&str, i64)] = &[
            ("1970-01-01", 0),
            ("1970-01-02", 1),
            ("2000-03-01", 11_017),
            ("2026-11-25", 20_782),
            ("9999-12-31", 2_932_896),
        ];
        for &(s, days) in cases {
            let d = Date::parse(s).expect("a valid date");
            assert_eq!(d.days(), days, "{s}");
            assert_eq!(Date::from_days(days), d, "{s}");
            assert_eq!(Date::from_ms(d.to_ms() + MS_PER_DAY - 1), d, "{s}");
        }
        // Every day of a leap-year span round-trips.
        for days in 10_000..12_000 {
            let d = Date::from_days(days);
            assert_eq!(d.days(), days);
            assert_eq!(Date::parse(&d.to_string()), Some(d));
        }
    }

    #[test]
    fn months() {
        let m = Month::parse("2026-12").expect("valid");
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.next().to_string(), "2027-01");
        let (from, to) = m.range_ms();
        assert_eq!(Date::from_ms(from).to_string(), "2026-12-01");
        assert_eq!(Date::from_ms(to).to_string(), "2027-01-01");
        assert_eq!((to - from) / MS_PER_DAY, 31);
        for bad in [
            "2026-13", "2026-00", "2026-1", "2026-011", "1969-12", "abcd-01", "",
        ] {
            assert_eq!(Month::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            Date::parse("2024-02-10").map(|d| d.month().to_string()),
            Some("2024-02".into())
        );
    }

    #[test]
    fn ranges() {
        let now = Date::parse("2026-11-25").expect("valid").to_ms() + 5_000;
        let check = |from: Option<&str>, to: Option<&str>, want: Result<(&str, &str), &str>| {
            let got = resolve_range(from, to, now).map(|(f, t)| (f.to_string(), t.to_string()));
            match want {
                Ok((f, t)) => assert_eq!(got, Ok((f.to_owned(), t.to_owned())), "{from:?} {to:?}"),
                Err(part) => {
                    let e = got.expect_err("an error");
                    assert!(e.contains(part), "{e}");
                }
            }
        };
        check(None, None, Ok(("2026-11-01", "2026-12-01")));
        check(Some("2026-12-15"), None, Ok(("2026-12-15", "2027-01-01")));
        check(None, Some("2026-03-01"), Ok(("2026-02-01", "2026-03-01")));
        check(None, Some("2026-03-02"), Ok(("2026-03-01", "2026-03-02")));
        check(
            Some("2025-01-01"),
            Some("2026-01-02"),
            Ok(("2025-01-01", "2026-01-02")),
        );
        check(
            Some("2025-01-01"),
            Some("2026-01-03"),
            Err("longer than 366 days"),
        );
        check(Some("2026-01-01"), Some("2026-01-01"), Err("empty period"));
        check(Some("2026-01-02"), Some("2026-01-01"), Err("empty period"));
        check(Some("2026-1-1"), None, Err("invalid from \"2026-1-1\""));
        check(None, Some("tomorrow"), Err("invalid to"));
    }

    #[test]
    fn instants() {
        assert_eq!(format_instant(0), "1970-01-01");
        assert_eq!(
            format_instant(MS_PER_DAY + 3_723_004),
            "1970-01-02T01:02:03.004Z"
        );
        assert_eq!(format_instant(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn money_formats_with_four_places() {
        let cases: &[(i64, &str)] = &[
            (0, "0.0000"),
            (12_340_000, "12.3400"),
            (1, "0.0000"),
            (49, "0.0000"),
            (50, "0.0001"),
            (149, "0.0001"),
            (150, "0.0002"),
            (1_000_000, "1.0000"),
            (25_000, "0.0250"),
            (123_456_789, "123.4568"),
            (-50, "-0.0001"),
            (-49, "0.0000"),
            (-12_340_000, "-12.3400"),
            (i64::MAX, "9223372036854.7758"),
            (i64::MIN, "-9223372036854.7758"),
        ];
        for &(micros, want) in cases {
            assert_eq!(format_micros(micros), want, "{micros}");
        }
    }

    #[test]
    fn csv_quoting() {
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("", ""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\r", "\"cr\r\""),
            ("ünïcödé", "ünïcödé"),
        ];
        for &(input, want) in cases {
            assert_eq!(csv_field(input), want, "{input:?}");
        }
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_text("+1 Shop"), "'+1 Shop");
        assert_eq!(csv_text("@home, inc"), "\"'@home, inc\"");
        assert_eq!(csv_text("Lufthansa"), "Lufthansa");
    }

    #[test]
    fn summaries_group_and_sort() {
        let records = vec![
            record("utility", "49", 20_000, "EUR"),
            record("marketing", "49", 130_000, "EUR"),
            record("marketing", "1", 25_000, "EUR"),
            record("marketing", "49", 130_000, "EUR"),
        ];
        let s = summarize(&records, "USD").expect("one currency");
        assert_eq!(s.currency, "EUR");
        assert_eq!(s.total_micros, 305_000);
        let got: Vec<_> = s
            .lines
            .iter()
            .map(|l| {
                (
                    l.category.as_str(),
                    l.country.as_str(),
                    l.messages,
                    l.amount_micros,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("marketing", "1", 1, 25_000),
                ("marketing", "49", 2, 260_000),
                ("utility", "49", 1, 20_000)
            ]
        );
        let empty = summarize(&[], "USD").expect("nothing to mix");
        assert_eq!((empty.currency.as_str(), empty.total_micros), ("USD", 0));
        assert!(empty.lines.is_empty());
        let mixed = [
            record("utility", "49", 1, "EUR"),
            record("utility", "49", 1, "USD"),
        ];
        assert_eq!(
            summarize(&mixed, "USD"),
            Err(MixedCurrencies("EUR, USD".into()))
        );
    }

    #[test]
    fn invoices_render_as_json_and_csv() {
        let records = vec![
            record("marketing", "49", 130_000, "EUR"),
            record("marketing", "49", 130_000, "EUR"),
            // The price changed mid-month: a line of its own.
            record("marketing", "49", 140_000, "EUR"),
            record("authentication", "1", 13_500, "EUR"),
        ];
        let month = Month::parse("2026-11").expect("valid");
        let inv = Invoice::build(
            "Acme, \"The\" Shop",
            "100000000000001",
            month,
            &records,
            "USD",
        )
        .expect("one currency");
        assert_eq!(inv.total_micros, 413_500);
        assert_eq!(inv.messages(), 4);
        let j = inv.to_json();
        assert_eq!(j["period"], "2026-11");
        assert_eq!(j["from"], "2026-11-01");
        assert_eq!(j["to"], "2026-12-01");
        assert_eq!(j["currency"], "EUR");
        assert_eq!(j["total"], "0.4135");
        assert_eq!(j["lines"][0]["category"], "authentication");
        assert_eq!(j["lines"][0]["unit_price"], "0.0135");
        assert_eq!(j["lines"][1]["amount"], "0.2600");
        assert_eq!(j["lines"][2]["unit_price"], "0.1400");
        let csv = inv.to_csv();
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            rows,
            [
                "business_name,waba_id,period,category,country,messages,unit_price,amount,currency",
                "\"Acme, \"\"The\"\" Shop\",100000000000001,2026-11,authentication,1,1,0.0135,0.0135,EUR",
                "\"Acme, \"\"The\"\" Shop\",100000000000001,2026-11,marketing,49,2,0.1300,0.2600,EUR",
                "\"Acme, \"\"The\"\" Shop\",100000000000001,2026-11,marketing,49,1,0.1400,0.1400,EUR",
                "\"Acme, \"\"The\"\" Shop\",100000000000001,2026-11,total,,4,,0.4135,EUR",
                "",
            ]
        );
        let empty = Invoice::build("Shop", "1", month, &[], "USD").expect("empty");
        assert_eq!(
            empty.to_csv(),
            "business_name,waba_id,period,category,country,messages,unit_price,amount,currency\r\n\
             Shop,1,2026-11,total,,0,,0.0000,USD\r\n"
        );
    }
}
