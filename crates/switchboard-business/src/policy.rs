//! Messaging policy: the 24-hour customer service window, pricing classification,
//! messaging-limit tiers and the quality rating.
//!
//! These are the rules that decide whether a business may send a message and what it
//! costs. They are pure functions of counts and timestamps the server passes in, so
//! they can be tested exhaustively and tuned in one place.

use crate::GraphError;

/// How long a customer's message keeps the service window open.
pub const SERVICE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Messages per second a business number may send by default (130429 beyond).
pub const DEFAULT_MPS: u32 = 80;

/// Whether the window opened by the customer's last inbound message (if any) is still
/// open at `now_ms`.
pub fn in_service_window(last_inbound_ms: Option<i64>, now_ms: i64) -> bool {
    last_inbound_ms.is_some_and(|t| now_ms - t < SERVICE_WINDOW_MS)
}

/// How a message is priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// `marketing`, `utility`, `authentication`, `authentication-international` or `service`.
    pub pricing_category: String,
    pub billable: bool,
    /// `regular` or `free_customer_service`.
    pub pricing_type: &'static str,
}

/// Classifies a message for pricing.
///
/// Non-template messages (`template_category` is `None`; only possible inside the
/// window) are free `service` messages; a utility template inside the window is free
/// too. An authentication template to a customer in another country than the
/// business is `authentication-international`. Every other template is billable at
/// the regular rate.
pub fn classify(
    template_category: Option<&str>,
    in_window: bool,
    business_calling_code: &str,
    customer_calling_code: &str,
) -> Classification {
    let Some(category) = template_category else {
        return Classification {
            pricing_category: "service".into(),
            billable: false,
            pricing_type: "free_customer_service",
        };
    };
    let category = category.to_ascii_lowercase();
    match category.as_str() {
        "utility" if in_window => Classification {
            pricing_category: category,
            billable: false,
            pricing_type: "free_customer_service",
        },
        "authentication" if business_calling_code != customer_calling_code => Classification {
            pricing_category: "authentication-international".into(),
            billable: true,
            pricing_type: "regular",
        },
        _ => Classification {
            pricing_category: category,
            billable: true,
            pricing_type: "regular",
        },
    }
}

/// Outside the service window only templates may be sent (131047).
pub fn check_content_allowed(is_template: bool, in_window: bool) -> Result<(), GraphError> {
    if is_template || in_window {
        return Ok(());
    }
    Err(GraphError::new(
        131047,
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number; send an approved template instead",
    ))
}

/// A messaging-limit tier: how many unique customers a business may reach outside a
/// service window per rolling 24 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    T250,
    T2K,
    T10K,
    T100K,
    Unlimited,
}

impl Tier {
    /// The limit, or `None` for unlimited.
    pub fn limit(&self) -> Option<u64> {
        match self {
            Tier::T250 => Some(250),
            Tier::T2K => Some(2_000),
            Tier::T10K => Some(10_000),
            Tier::T100K => Some(100_000),
            Tier::Unlimited => None,
        }
    }

    /// The Graph value (`whatsapp_business_manager_messaging_limit`).
    pub fn as_graph(&self) -> &'static str {
        match self {
            Tier::T250 => "TIER_250",
            Tier::T2K => "TIER_2K",
            Tier::T10K => "TIER_10K",
            Tier::T100K => "TIER_100K",
            Tier::Unlimited => "TIER_UNLIMITED",
        }
    }

    /// The tier of a Graph value (any case).
    pub fn from_graph(s: &str) -> Option<Tier> {
        [
            Tier::T250,
            Tier::T2K,
            Tier::T10K,
            Tier::T100K,
            Tier::Unlimited,
        ]
        .into_iter()
        .find(|t| t.as_graph().eq_ignore_ascii_case(s))
    }

    fn next(self) -> Tier {
        match self {
            Tier::T250 => Tier::T2K,
            Tier::T2K => Tier::T10K,
            Tier::T10K => Tier::T100K,
            Tier::T100K | Tier::Unlimited => Tier::Unlimited,
        }
    }
}

/// The tier a business has earned.
///
/// It starts at 250 (2,000 once the business is verified). Then, as long as quality
/// is not RED, each time the unique customers reached on the days *before* the
/// current rolling 24 hours (within the last 7 days) are at least half of the current
/// tier's limit, it moves up one tier (250 → 2K → 10K → 100K → unlimited). So growth
/// is earned by use, as Meta's "≥ 50 % of the limit used in the last 7 days with high
/// quality" rule; today's sends never raise today's limit (else a limit could never
/// bind: reaching half of it would lift it), and a RED rating freezes the base tier.
pub fn tier(verified: bool, quality: Quality, reached_before_today: u64) -> Tier {
    let reached_last_7d = reached_before_today;
    let mut t = if verified { Tier::T2K } else { Tier::T250 };
    if quality == Quality::Red {
        return t;
    }
    while let Some(limit) = t.limit() {
        if reached_last_7d * 2 < limit {
            break;
        }
        t = t.next();
    }
    t
}

/// The quality rating of a business number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Green,
    Yellow,
    Red,
}

impl Quality {
    /// The Graph value (`quality_rating`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Quality::Green => "GREEN",
            Quality::Yellow => "YELLOW",
            Quality::Red => "RED",
        }
    }

    /// The rating of a Graph value (any case).
    pub fn parse(s: &str) -> Option<Quality> {
        [Quality::Green, Quality::Yellow, Quality::Red]
            .into_iter()
            .find(|q| q.as_str().eq_ignore_ascii_case(s))
    }
}

/// The smallest audience the negative-feedback rate is measured against, so that a
/// handful of blocks from a new business's first customers does not turn it RED.
const MIN_QUALITY_AUDIENCE: u64 = 50;

/// The quality rating from the last 7 days of feedback.
///
/// Negative feedback counts blocks once and reports twice (a report is a block with a
/// complaint). Its rate is taken against the customers reached, but at least 50:
/// RED at 5 % or more, YELLOW at 2 % or more, GREEN below.
pub fn quality(blocks_7d: u64, reports_7d: u64, reached_7d: u64) -> Quality {
    let negative = blocks_7d.saturating_add(reports_7d.saturating_mul(2));
    let audience = reached_7d.max(MIN_QUALITY_AUDIENCE);
    // Integer percentages: negative / audience >= p / 100.
    let at_least = |percent: u64| negative.saturating_mul(100) >= audience.saturating_mul(percent);
    if at_least(5) {
        Quality::Red
    } else if at_least(2) {
        Quality::Yellow
    } else {
        Quality::Green
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_window() {
        let now = 1_000_000_000;
        let cases = [
            (None, false),
            (Some(now), true),
            (Some(now - SERVICE_WINDOW_MS + 1), true),
            (Some(now - SERVICE_WINDOW_MS), false),
            (Some(now - 2 * SERVICE_WINDOW_MS), false),
        ];
        for (last, want) in cases {
            assert_eq!(in_service_window(last, now), want, "{last:?}");
        }
    }

    #[test]
    fn classification() {
        let cases = [
            (
                None,
                true,
                "1",
                "1",
                "service",
                false,
                "free_customer_service",
            ),
            (
                Some("UTILITY"),
                true,
                "1",
                "1",
                "utility",
                false,
                "free_customer_service",
            ),
            (Some("utility"), false, "1", "1", "utility", true, "regular"),
            (
                Some("marketing"),
                true,
                "1",
                "1",
                "marketing",
                true,
                "regular",
            ),
            (
                Some("authentication"),
                false,
                "49",
                "49",
                "authentication",
                true,
                "regular",
            ),
            (
                Some("AUTHENTICATION"),
                true,
                "49",
                "91",
                "authentication-international",
                true,
                "regular",
            ),
        ];
        for (cat, window, b, c, want_cat, billable, ty) in cases {
            let got = classify(cat, window, b, c);
            assert_eq!(
                (
                    got.pricing_category.as_str(),
                    got.billable,
                    got.pricing_type
                ),
                (want_cat, billable, ty),
                "{cat:?} {window}"
            );
        }
    }

    #[test]
    fn content_allowed() {
        assert!(check_content_allowed(true, false).is_ok());
        assert!(check_content_allowed(false, true).is_ok());
        let e = check_content_allowed(false, false).unwrap_err();
        assert_eq!(e.code, 131047);
        assert!(e.details.contains("24 hours"));
    }

    #[test]
    fn tiers() {
        use Quality::*;
        let cases = [
            (false, Green, 0, Tier::T250),
            (false, Green, 124, Tier::T250),
            (false, Green, 125, Tier::T2K),
            (false, Green, 999, Tier::T2K),
            (false, Green, 1_000, Tier::T10K),
            (true, Green, 0, Tier::T2K),
            (true, Yellow, 5_000, Tier::T100K),
            (true, Green, 50_000, Tier::Unlimited),
            (false, Red, 1_000_000, Tier::T250),
            (true, Red, 1_000_000, Tier::T2K),
        ];
        for (verified, q, reached, want) in cases {
            assert_eq!(
                tier(verified, q, reached),
                want,
                "{verified} {q:?} {reached}"
            );
        }
        assert_eq!(Tier::T2K.limit(), Some(2_000));
        assert_eq!(Tier::Unlimited.limit(), None);
        for t in [
            Tier::T250,
            Tier::T2K,
            Tier::T10K,
            Tier::T100K,
            Tier::Unlimited,
        ] {
            assert_eq!(Tier::from_graph(t.as_graph()), Some(t));
        }
        assert_eq!(Tier::T100K.as_graph(), "TIER_100K");
    }

    #[test]
    fn quality_rating() {
        use Quality::*;
        let cases = [
            (0, 0, 0, Green),
            (0, 0, 10_000, Green),
            (1, 0, 100, Green),  // 1 %
            (1, 0, 10, Yellow),  // 1/50 (the minimum audience) = 2 %
            (2, 0, 0, Yellow),   // 2/50 = 4 %
            (0, 2, 100, Yellow), // 4/100 = 4 %
            (3, 0, 60, Red),     // 3/60 = 5 %
            (1, 2, 100, Red),    // 5/100
            (199, 0, 10_000, Green),
            (200, 0, 10_000, Yellow),
            (499, 0, 10_000, Yellow),
            (500, 0, 10_000, Red),
        ];
        for (blocks, reports, reached, want) in cases {
            assert_eq!(
                quality(blocks, reports, reached),
                want,
                "{blocks} {reports} {reached}"
            );
        }
        assert_eq!(Quality::parse("yellow"), Some(Yellow));
        assert_eq!(Red.as_str(), "RED");
    }
}
