//! Graph-style identifiers and their mapping to ours.
//!
//! Cloud API clients expect numeric string ids (pywa treats a media string as an id
//! only if it is all digits) and `wamid.`-prefixed message ids. Our own ids have other
//! shapes, so this module converts both ways without any lookup table: a wamid is our
//! message id in base64url, a numeric media id is our 128-bit media id in decimal.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const NUMERIC_ID_SPAN: u64 = 900_000_000_000_000;
const NUMERIC_ID_BASE: u64 = 100_000_000_000_000;

/// A 15-digit numeric id (first digit non-zero) derived from `random`; the same input
/// always gives the same id.
pub fn numeric_id(random: u64) -> String {
    (NUMERIC_ID_BASE + random % NUMERIC_ID_SPAN).to_string()
}

/// Whether `s` looks like a Graph numeric id: 1 to 39 ASCII digits without a leading
/// zero (39 digits hold any u128, the widest id we hand out), or exactly `"0"`.
pub fn is_numeric_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

/// The Cloud API message id of our message id.
pub fn wamid(message_id: &str) -> String {
    format!("wamid.{}", URL_SAFE_NO_PAD.encode(message_id.as_bytes()))
}

/// Our message id inside a wamid; `None` for anything that is not a wamid we issued.
pub fn parse_wamid(s: &str) -> Option<String> {
    let b64 = s.strip_prefix("wamid.")?;
    if b64.is_empty() || b64.len() > 200 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    let id = String::from_utf8(bytes).ok()?;
    switchboard_core::ids::parse_message_id(&id)?;
    Some(id)
}

/// The numeric Graph id of our media id (32 lowercase hex chars, a u128).
/// The business-scoped user id (BSUID) a business sees for a customer, and may
/// send to with `"recipient"` instead of `"to"` (pywa 4 does by default). Ours is
/// the customer's user id behind an `SB.` prefix: businesses see the phone number
/// (`wa_id`) anyway, so nothing is hidden by making it opaque, and it needs no table.
pub fn bsuid(user_id: &str) -> String {
    format!("SB.{user_id}")
}

/// The user id of a BSUID from [`bsuid`]; `None` for anything else.
pub fn parse_bsuid(s: &str) -> Option<String> {
    let digits = s.strip_prefix("SB.")?;
    (digits.len() >= 8
        && digits.len() <= 15
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit()))
    .then(|| digits.to_owned())
}

pub fn media_to_graph(media_id_hex32: &str) -> Option<String> {
    let ok = media_id_hex32.len() == 32
        && media_id_hex32
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return None;
    }
    u128::from_str_radix(media_id_hex32, 16)
        .ok()
        .map(|n| n.to_string())
}

/// Our media id (zero-padded 32 lowercase hex) of a numeric Graph id.
pub fn media_from_graph(numeric: &str) -> Option<String> {
    if !is_numeric_id(numeric) {
        return None;
    }
    numeric.parse::<u128>().ok().map(|n| format!("{n:032x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_have_15_digits() {
        for r in [0, 1, 42, u64::MAX, NUMERIC_ID_SPAN - 1, NUMERIC_ID_SPAN] {
            let id = numeric_id(r);
            assert_eq!(id.len(), 15, "{r}");
            assert!(is_numeric_id(&id));
            assert_eq!(id, numeric_id(r), "deterministic");
        }
        assert_ne!(numeric_id(1), numeric_id(2));
    }

    #[test]
    fn numeric_id_shapes() {
        let cases = [
            ("1037543291543636", true),
            ("0", true),
            ("0123", false),
            ("", false),
            ("12a", false),
            ("-1", false),
            (&"9".repeat(40), false),
        ];
        for (s, want) in cases {
            assert_eq!(is_numeric_id(s), want, "{s:?}");
        }
    }

    #[test]
    fn wamids_round_trip() {
        for id in [
            "d4915112345678-4930123456.17",
            "g0123abcd0123abcd0123abcd0123abcd.5",
        ] {
            let w = wamid(id);
            assert!(w.starts_with("wamid."));
            assert!(!w.contains('='), "no padding: {w}");
            assert_eq!(parse_wamid(&w).as_deref(), Some(id));
        }
        let bad = [
            "",
            "wamid.",
            "HBgL",
            "wamid.!!!",
            // base64url of "nope" (no seq) and of "g1.0" (seq 0)
            "wamid.bm9wZQ",
            "wamid.ZzEuMA",
        ];
        for s in bad {
            assert_eq!(parse_wamid(s), None, "{s:?}");
        }
        assert_eq!(parse_wamid(&wamid("g/x.1")), None);
    }

    #[test]
    fn media_ids_round_trip() {
        let cases = [
            ("00000000000000000000000000000000", "0"),
            ("00000000000000000000000000000001", "1"),
            (
                "ffffffffffffffffffffffffffffffff",
                "340282366920938463463374607431768211455",
            ),
            (
                "0123456789abcdef0123456789abcdef",
                "1512366075204170929049582354406559215",
            ),
        ];
        for (hex, dec) in cases {
            assert_eq!(media_to_graph(hex).as_deref(), Some(dec), "{hex}");
            assert_eq!(media_from_graph(dec).as_deref(), Some(hex), "{dec}");
        }
        assert_eq!(media_to_graph("ABCDEF0123456789abcdef0123456789"), None);
        assert_eq!(media_to_graph("abc"), None);
        assert_eq!(
            media_from_graph("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(media_from_graph("12x"), None);
        assert_eq!(media_from_graph("007"), None);
    }
}
