//! Statistics: a date range, totals, average first-response and resolution times,
//! line charts drawn on the server as inline SVG (with a title, a description and a
//! table of every day for screen readers) and a CSV download.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{api_base, business_name, page_url, pass_file, tr};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::pages::{Peer, encode, html, signed_in};
use crate::session;

/// The chart's drawing area, in SVG units (the SVG scales to its box).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;

/// One day of the report.
pub struct Day {
    pub date: String,
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    pub received: u64,
    pub first_responses: u64,
    pub resolutions: u64,
}

impl Day {
    fn of(v: &Value) -> Day {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        Day {
            date: v["date"].as_str().unwrap_or_default().to_owned(),
            sent: n("sent"),
            delivered: n("delivered"),
            read: n("read"),
            received: n("received"),
            first_responses: n("first_responses"),
            resolutions: n("resolutions"),
        }
    }

    fn metric(&self, m: &str) -> u64 {
        match m {
            "sent" => self.sent,
            "delivered" => self.delivered,
            "read" => self.read,
            "received" => self.received,
            "first_responses" => self.first_responses,
            "resolutions" => self.resolutions,
            _ => 0,
        }
    }
}

/// A label on an axis at `pos` (x or y, SVG units).
pub struct Tick {
    pub pos: String,
    pub label: String,
    /// How the label sits at `pos` (`start`, `middle`, `end`): the first and last
    /// dates stay inside the drawing.
    pub anchor: &'static str,
}

/// A dot of a line, with its value for a tooltip.
pub struct Dot {
    pub x: String,
    pub y: String,
    pub title: String,
}

pub struct Line {
    /// The metric (the CSS class draws it).
    pub metric: &'static str,
    pub name: String,
    pub points: String,
    pub dots: Vec<Dot>,
}

/// A line chart, ready to be drawn by the template.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub desc: String,
    pub lines: Vec<Line>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
}

impl Chart {
    pub fn width(&self) -> f64 {
        WIDTH
    }
    pub fn height(&self) -> f64 {
        HEIGHT
    }
    pub fn left(&self) -> f64 {
        LEFT
    }
    pub fn right(&self) -> f64 {
        WIDTH - RIGHT
    }
    pub fn bottom(&self) -> f64 {
        HEIGHT - BOTTOM
    }
}

/// The smallest "round" number (1, 2, 5 × 10ⁿ) at or above `max` (at least 1).
fn nice_max(max: u64) -> u64 {
    let mut unit = 1u64;
    loop {
        for m in [1, 2, 5] {
            let v = unit.saturating_mul(m);
            if v >= max || v == u64::MAX {
                return v.max(1);
            }
        }
        unit = unit.saturating_mul(10);
    }
}

/// Where day `i` of `n` is drawn.
fn x_of(i: usize, n: usize) -> f64 {
    let width = WIDTH - LEFT - RIGHT;
    if n <= 1 {
        LEFT + width / 2.0
    } else {
        LEFT + width * i as f64 / (n - 1) as f64
    }
}

/// Where `v` is drawn on a scale up to `max`.
fn y_of(v: u64, max: u64) -> f64 {
    let height = HEIGHT - TOP - BOTTOM;
    TOP + height - height * v as f64 / max.max(1) as f64
}

/// `11-25` of `2026-11-25`.
fn short_date(d: &str) -> String {
    d.get(5..).unwrap_or(d).to_owned()
}

/// A chart of `metrics` (metric, name) over `days`.
fn chart(
    id: &'static str,
    title: String,
    days: &[Day],
    metrics: &[(&'static str, String)],
) -> Chart {
    let n = days.len();
    let max = days
        .iter()
        .flat_map(|d| metrics.iter().map(|(m, _)| d.metric(m)))
        .max()
        .unwrap_or(0);
    let top = nice_max(max);
    let mut y_values = vec![0, top];
    if top.is_multiple_of(2) {
        y_values.insert(1, top / 2);
    }
    let y_ticks = y_values
        .into_iter()
        .map(|v| Tick {
            pos: format!("{:.1}", y_of(v, top)),
            label: v.to_string(),
            anchor: "end",
        })
        .collect();
    let mut idx = vec![0, n / 2, n.saturating_sub(1)];
    idx.dedup();
    let x_ticks = idx
        .into_iter()
        .filter_map(|i| days.get(i).map(|d| (i, d)))
        .map(|(i, d)| Tick {
            pos: format!("{:.1}", x_of(i, n)),
            label: short_date(&d.date),
            anchor: match i {
                _ if n <= 1 => "middle",
                0 => "start",
                i if i + 1 == n => "end",
                _ => "middle",
            },
        })
        .collect();
    let lines = metrics
        .iter()
        .map(|(m, name)| {
            let coords: Vec<(f64, f64, &Day)> = days
                .iter()
                .enumerate()
                .map(|(i, d)| (x_of(i, n), y_of(d.metric(m), top), d))
                .collect();
            Line {
                metric: m,
                name: name.clone(),
                points: coords
                    .iter()
                    .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                dots: if n <= 62 {
                    coords
                        .iter()
                        .map(|(x, y, d)| Dot {
                            x: format!("{x:.1}"),
                            y: format!("{y:.1}"),
                            title: format!("{} · {name}: {}", d.date, d.metric(m)),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let totals: Vec<String> = metrics
        .iter()
        .map(|(m, name)| format!("{name} {}", days.iter().map(|d| d.metric(m)).sum::<u64>()))
        .collect();
    let range = match (days.first(), days.last()) {
        (Some(a), Some(b)) => format!("{} – {}", a.date, b.date),
        _ => String::new(),
    };
    Chart {
        id,
        desc: format!("{range}: {}", totals.join(", ")),
        title,
        lines,
        y_ticks,
        x_ticks,
    }
}

/// `1 min 30 s`, `2 h 5 min`, `—` when there is nothing to average.
pub fn duration(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "—".to_owned();
    };
    let secs = ms / 1000;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, (secs % 3600) / 60),
    }
}

#[derive(Template)]
#[template(path = "shop_stats.html")]
struct StatsPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    error: Option<String>,
    from: String,
    to: String,
    csv_url: String,
    /// (name, value)
    totals: Vec<(String, String)>,
    charts: Vec<Chart>,
    days: Vec<Day>,
}

#[derive(Deserialize, Default)]
pub struct Range {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl Range {
    /// The query of the API call (only the dates given).
    fn query(&self) -> String {
        let mut q = Vec::new();
        for (k, v) in [("from", &self.from), ("to", &self.to)] {
            let v = v.trim();
            if !v.is_empty() {
                q.push(format!("{k}={}", encode(v)));
            }
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }
}

const MESSAGE_METRICS: [&str; 4] = ["sent", "delivered", "read", "received"];
const TEAM_METRICS: [&str; 2] = ["first_responses", "resolutions"];

fn named(t: &Tr, metrics: &[&'static str]) -> Vec<(&'static str, String)> {
    metrics
        .iter()
        .map(|m| (*m, t.t(&format!("shop-stat-{}", m.replace('_', "-")))))
        .collect()
}

fn totals(t: &Tr, v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = named(t, &MESSAGE_METRICS)
        .into_iter()
        .chain(named(t, &TEAM_METRICS))
        .map(|(m, name)| (name, v[m].as_u64().unwrap_or(0).to_string()))
        .collect();
    out.push((
        t.t("shop-stat-avg-first-response"),
        duration(v["avg_first_response_ms"].as_u64()),
    ));
    out.push((
        t.t("shop-stat-avg-resolution"),
        duration(v["avg_resolution_ms"].as_u64()),
    ));
    out
}

/// `GET /app/biz/{waba_id}/stats?from=&to=`
pub async fn page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(range): Query<Range>,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, &page_url(&waba, "stats")).await?;
    let t = tr(&headers);
    let page = async {
        let business = business_name(&web, &s, &waba).await?;
        let path = format!("{}/stats{}", api_base(&waba), range.query());
        let (status, report) = web.api.call(&s.caller, Method::GET, &path, None).await?;
        if status.is_server_error() {
            return Err(crate::api::api_error(status, &report));
        }
        let (error, report) = if status.is_success() {
            (None, report)
        } else {
            (Some(super::refusal(&report)), Value::Null)
        };
        let days: Vec<Day> = report["days"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Day::of)
            .collect();
        let charts = if days.is_empty() {
            Vec::new()
        } else {
            vec![
                chart(
                    "chart-messages",
                    t.t("shop-chart-messages"),
                    &days,
                    &named(&t, &MESSAGE_METRICS),
                ),
                chart(
                    "chart-team",
                    t.t("shop-chart-team"),
                    &days,
                    &named(&t, &TEAM_METRICS),
                ),
            ]
        };
        let from = days.first().map_or(range.from.clone(), |d| d.date.clone());
        let to = days.last().map_or(range.to.clone(), |d| d.date.clone());
        let csv_range = Range {
            from: from.clone(),
            to: to.clone(),
        };
        let (csrf, cookie) = session::csrf(&headers, web.config.secure_cookies);
        html(
            &StatsPage {
                csv_url: format!("{}.csv{}", page_url(&waba, "stats"), csv_range.query()),
                totals: if report["totals"].is_object() {
                    totals(&t, &report["totals"])
                } else {
                    Vec::new()
                },
                t,
                csrf,
                signed_in: true,
                waba_id: waba.clone(),
                business,
                error,
                from,
                to,
                charts,
                days,
            },
            cookie,
        )
    };
    page.await.map_err(|e: WebError| e.into_response())
}

/// `GET /app/biz/{waba_id}/stats.csv?from=&to=`: the API's CSV, as a download.
pub async fn csv(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(range): Query<Range>,
) -> Response {
    let path = format!("{}/stats.csv{}", api_base(&waba), range.query());
    let name = match (range.from.trim(), range.to.trim()) {
        (f, t) if is_date(f) && is_date(t) => format!("statistics-{f}-{t}.csv"),
        _ => "statistics.csv".to_owned(),
    };
    pass_file(&web, &headers, &peer, &path, Some(&name)).await
}

/// `YYYY-MM-DD` (shape only; safe in a file name).
fn is_date(s: &str) -> bool {
    s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, sent: u64) -> Day {
        Day {
            date: date.to_owned(),
            sent,
            delivered: 0,
            read: 0,
            received: 1,
            first_responses: 0,
            resolutions: 0,
        }
    }

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(200), 200);
        assert_eq!(nice_max(u64::MAX), u64::MAX);
    }

    #[test]
    fn a_chart_has_a_line_per_metric_and_labels() {
        let days = vec![
            day("2026-11-01", 0),
            day("2026-11-02", 4),
            day("2026-11-03", 2),
        ];
        let c = chart(
            "c",
            "Messages".into(),
            &days,
            &[("sent", "Sent".into()), ("received", "Received".into())],
        );
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.lines[0].points.split(' ').count(), 3);
        assert_eq!(c.lines[0].dots[1].title, "2026-11-02 · Sent: 4");
        assert_eq!(c.x_ticks.len(), 3);
        assert_eq!(c.x_ticks[0].label, "11-01");
        assert_eq!(c.y_ticks.last().map(|t| t.label.as_str()), Some("5"));
        assert_eq!(c.desc, "2026-11-01 – 2026-11-03: Sent 6, Received 3");
        // The top of the scale is the top of the plot.
        assert_eq!(c.y_ticks.last().map(|t| t.pos.as_str()), Some("14.0"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(None), "—");
        assert_eq!(duration(Some(42_500)), "42 s");
        assert_eq!(duration(Some(90_000)), "1 min 30 s");
        assert_eq!(duration(Some(7_500_000)), "2 h 5 min");
        assert!(is_date("2026-11-25") && !is_date("2026-11-2x") && !is_date("\"x"));
    }
}
