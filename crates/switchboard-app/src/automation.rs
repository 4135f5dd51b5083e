//! Greeting and away messages: what the business's automation answers a customer's
//! message with, decided from the settings, the opening hours, the message's time and
//! what the automation remembers about the customer ([`CustomerState`]).
//!
//! - **Greeting**: on the customer's first contact ever, or when the conversation was
//!   quiet (no message either way, automation's own messages aside) for
//!   [`QUIET_MS`] (14 days).
//! - **Away**: when the schedule says the business is away at the message's time —
//!   once per *burst*. A burst is a run of customer messages; it ends when a human
//!   from the business replies, or after [`BURST_GAP_MS`] (1 hour) without a customer
//!   message. The next customer message starts a new burst.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::hours::{self, Hours};
use crate::text::text;

/// Record kind of the per-customer automation state; key: the customer's user id.
pub const STATE_KIND: &str = "auto_state";
/// Settings keys (kind `kinds::SETTINGS`).
pub const GREETING: &str = "greeting";
pub const AWAY: &str = "away";
/// Characters of a greeting or away text.
pub const MAX_TEXT: usize = 1024;
/// A conversation quiet this long is greeted again.
pub const QUIET_MS: i64 = 14 * 24 * 3_600_000;
/// A burst of customer messages ends after this long without one.
pub const BURST_GAP_MS: i64 = 3_600_000;

/// The greeting message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Greeting {
    pub enabled: bool,
    pub text: String,
}

/// The away message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Away {
    pub enabled: bool,
    pub text: String,
    pub schedule: Schedule,
}

/// When the business is away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    Always,
    /// Whenever the opening hours say closed.
    OutsideHours,
    /// From `from` (inclusive) until `until` (exclusive), ms since the epoch.
    Custom {
        from: i64,
        until: i64,
    },
}

/// A checked greeting. An enabled one needs a text; a disabled one may keep its text
/// (empty allowed) for later.
pub fn check_greeting(g: Greeting) -> AppResult<Greeting> {
    Ok(Greeting {
        text: check_text(g.enabled, &g.text)?,
        enabled: g.enabled,
    })
}

/// A checked away message; `outside_hours` needs opening hours (`has_hours`), a
/// custom window needs `from < until`.
pub fn check_away(a: Away, has_hours: bool) -> AppResult<Away> {
    match &a.schedule {
        Schedule::OutsideHours if !has_hours => {
            return Err(AppError::invalid(
                "hours_not_set",
                "the schedule outside_hours needs opening hours; set them with PATCH …/profile first",
            ));
        }
        Schedule::Custom { from, until } if from >= until => {
            return Err(AppError::invalid(
                "invalid_schedule",
                format!("custom schedule: from ({from}) must be before until ({until})"),
            ));
        }
        _ => {}
    }
    Ok(Away {
        text: check_text(a.enabled, &a.text)?,
        ..a
    })
}

fn check_text(enabled: bool, value: &str) -> AppResult<String> {
    text("text", value, usize::from(enabled), MAX_TEXT, true)
}

/// Whether the away schedule says away at `ts`. `outside_hours` without hours (they
/// were removed later) is never away.
pub fn is_away(schedule: &Schedule, hours: Option<&Hours>, ts: i64) -> bool {
    match schedule {
        Schedule::Always => true,
        Schedule::OutsideHours => hours.is_some_and(|h| !hours::is_open(h, ts)),
        Schedule::Custom { from, until } => *from <= ts && ts < *until,
    }
}

/// What the automation remembers about one customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerState {
    /// The last chat `seq` applied (replays skip up to it).
    pub last_seq: u64,
    /// The last message either way (automation's aside); `None`: no contact yet.
    pub last_activity: Option<i64>,
    /// The last customer message of the current burst; `None`: no burst open.
    pub burst_last: Option<i64>,
    /// The away message was sent in the current burst.
    pub away_sent: bool,
}

/// What to send for a customer's message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaction {
    pub greeting: bool,
    pub away: bool,
}

/// The business's automation settings and hours, as they are now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Settings<'a> {
    pub greeting: Option<&'a Greeting>,
    pub away: Option<&'a Away>,
    pub hours: Option<&'a Hours>,
}

impl CustomerState {
    /// A customer's message at `ts`: what to send, and the state changes.
    pub fn inbound(&mut self, ts: i64, s: Settings<'_>) -> Reaction {
        let quiet = self
            .last_activity
            .is_none_or(|last| ts.saturating_sub(last) >= QUIET_MS);
        let burst_goes_on = self
            .burst_last
            .is_some_and(|last| ts.saturating_sub(last) < BURST_GAP_MS);
        if !burst_goes_on {
            self.away_sent = false;
        }
        let greeting = quiet && s.greeting.is_some_and(|g| g.enabled);
        let away = !self.away_sent
            && s.away
                .is_some_and(|a| a.enabled && is_away(&a.schedule, s.hours, ts));
        self.away_sent |= away;
        self.burst_last = Some(ts);
        self.last_activity = Some(self.last_activity.map_or(ts, |l| l.max(ts)));
        Reaction { greeting, away }
    }

    /// A business message at `ts`; `human` when a person wrote it (ends the burst).
    /// Automation's own messages are not passed here.
    pub fn outbound(&mut self, ts: i64, human: bool) {
        self.last_activity = Some(self.last_activity.map_or(ts, |l| l.max(ts)));
        if human {
            self.burst_last = None;
            self.away_sent = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const DAY: i64 = 24 * H;

    fn greeting() -> Greeting {
        Greeting {
            enabled: true,
            text: "Hi!".into(),
        }
    }

    fn away(schedule: Schedule) -> Away {
        Away {
            enabled: true,
            text: "We are closed".into(),
            schedule,
        }
    }

    fn r(greeting: bool, away: bool) -> Reaction {
        Reaction { greeting, away }
    }

    #[test]
    fn greeting_on_first_contact_and_after_quiet() {
        let g = greeting();
        let s = Settings {
            greeting: Some(&g),
            ..Settings::default()
        };
        let mut st = CustomerState::default();
        assert_eq!(st.inbound(0, s), r(true, false));
        assert_eq!(st.inbound(H, s), r(false, false));
        st.outbound(2 * H, true);
        assert_eq!(st.inbound(2 * H + 14 * DAY - 1, s), r(false, false));
        assert_eq!(st.inbound(4 * H + 28 * DAY, s), r(true, false));
        let off = Greeting {
            enabled: false,
            ..greeting()
        };
        let mut st = CustomerState::default();
        assert_eq!(
            st.inbound(
                0,
                Settings {
                    greeting: Some(&off),
                    ..Settings::default()
                }
            ),
            r(false, false)
        );
    }

    #[test]
    fn away_once_per_burst() {
        let a = away(Schedule::Always);
        let g = greeting();
        let s = Settings {
            greeting: Some(&g),
            away: Some(&a),
            hours: None,
        };
        let mut st = CustomerState::default();
        assert_eq!(st.inbound(0, s), r(true, true), "both, greeting first");
        assert_eq!(st.inbound(10, s), r(false, false));
        assert_eq!(st.inbound(20 + H - 21, s), r(false, false), "gap < 1 h");
        assert_eq!(
            st.inbound(20 + 2 * H, s),
            r(false, true),
            "gap ≥ 1 h: new burst"
        );
        st.outbound(20 + 2 * H + 5, false);
        assert_eq!(
            st.inbound(20 + 2 * H + 6, s),
            r(false, false),
            "a machine does not end it"
        );
        st.outbound(20 + 2 * H + 7, true);
        assert_eq!(
            st.inbound(20 + 2 * H + 8, s),
            r(false, true),
            "a human does"
        );
    }

    #[test]
    fn schedules() {
        let hours = crate::hours::check(Hours {
            timezone: "Europe/Berlin".into(),
            weekly: crate::hours::Weekly {
                wed: vec![crate::hours::Interval {
                    open: "09:00".into(),
                    close: "17:00".into(),
                }],
                ..Default::default()
            },
            closed_dates: vec![],
        })
        .expect("hours");
        // 2026-11-25T10:00Z is Wednesday 11:00 in Berlin.
        let open = 1_795_600_800_000;
        assert!(!is_away(&Schedule::OutsideHours, Some(&hours), open));
        assert!(is_away(&Schedule::OutsideHours, Some(&hours), open + 8 * H));
        assert!(!is_away(&Schedule::OutsideHours, None, open + 8 * H));
        let c = Schedule::Custom {
            from: 10,
            until: 20,
        };
        assert!(!is_away(&c, None, 9) && is_away(&c, None, 10) && !is_away(&c, None, 20));
    }

    #[test]
    fn settings_checks() {
        let code = |a: Away, hours: bool| check_away(a, hours).map_err(|e| e.code());
        assert_eq!(
            code(away(Schedule::OutsideHours), false),
            Err("hours_not_set")
        );
        assert!(code(away(Schedule::OutsideHours), true).is_ok());
        assert_eq!(
            code(away(Schedule::Custom { from: 5, until: 5 }), false),
            Err("invalid_schedule")
        );
        let long = Away {
            text: "x".repeat(1025),
            ..away(Schedule::Always)
        };
        assert_eq!(code(long, false), Err("invalid_length"));
        let empty = Greeting {
            enabled: true,
            text: " ".into(),
        };
        assert_eq!(
            check_greeting(empty).map_err(|e| e.code()),
            Err("invalid_length")
        );
        assert!(
            check_greeting(Greeting {
                enabled: false,
                text: String::new()
            })
            .is_ok()
        );
    }
}
