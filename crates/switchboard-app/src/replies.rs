//! Quick replies: canned answers a team types as `/shortcut` in the composer. The
//! shortcut is the record key (lowercase, so it is unique regardless of case) and a
//! prefix of it is what "/" completion searches.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::text::text;

/// Record kind of quick replies; key: the shortcut, lowercase, with its `/`.
pub const KIND: &str = "reply";
/// At most this many quick replies per business.
pub const MAX_REPLIES: usize = 50;
/// Characters of a shortcut after its `/`.
pub const MAX_SHORTCUT: usize = 25;
/// Characters of a reply's text.
pub const MAX_TEXT: usize = 4096;

/// A canned answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    /// `/` and 1–25 of `a-z 0-9 _ -`, lowercase.
    pub shortcut: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

/// The canonical form of a shortcut: trimmed, lowercase, with its leading `/`
/// (added when missing).
pub fn shortcut(value: &str) -> AppResult<String> {
    let v = value.trim().to_ascii_lowercase();
    let name = v.strip_prefix('/').unwrap_or(&v);
    let ok = (1..=MAX_SHORTCUT).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(format!("/{name}"))
    } else {
        Err(AppError::invalid(
            "invalid_shortcut",
            format!(
                "shortcut {value:?} must be / and 1 to {MAX_SHORTCUT} of a-z, 0-9, _ or -, e.g. /hours"
            ),
        ))
    }
}

/// The canonical prefix of a "/" completion search: like [`shortcut`], but may be
/// just "/" (everything).
pub fn prefix(value: &str) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v == "/" {
        return Ok("/".to_owned());
    }
    shortcut(v)
}

/// A checked quick reply.
pub fn new_reply(
    shortcut_in: &str,
    text_in: &str,
    media_id: Option<String>,
) -> AppResult<QuickReply> {
    let media_id = match media_id {
        Some(m) if m.trim().is_empty() => None,
        Some(m) => Some(m.trim().to_owned()),
        None => None,
    };
    Ok(QuickReply {
        shortcut: shortcut(shortcut_in)?,
        text: text("text", text_in, 1, MAX_TEXT, true)?,
        media_id,
    })
}

/// `Limit` when a business that has `count` replies adds one more.
pub fn check_count(count: usize) -> AppResult<()> {
    if count >= MAX_REPLIES {
        Err(AppError::limit(
            "limit_reached",
            format!("a business has at most {MAX_REPLIES} quick replies; delete one first"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<&str, &str>) {
        assert_eq!(
            shortcut(input).as_deref().map_err(|e| e.code()),
            expect,
            "{input:?}"
        );
    }

    #[test]
    fn shortcuts() {
        check("/hours", Ok("/hours"));
        check(" /Hours ", Ok("/hours"));
        check("opening_2-x", Ok("/opening_2-x"));
        check("/", Err("invalid_shortcut"));
        check("/a b", Err("invalid_shortcut"));
        check("/äpfel", Err("invalid_shortcut"));
        check(
            &format!("/{}", "a".repeat(25)),
            Ok(&format!("/{}", "a".repeat(25))),
        );
        check(&format!("/{}", "a".repeat(26)), Err("invalid_shortcut"));
        assert_eq!(prefix("").expect("all"), "/");
        assert_eq!(prefix("/Ho").expect("prefix"), "/ho");
    }

    #[test]
    fn replies_and_limits() {
        let r = new_reply("/Hi", " Hello! ", Some(" ".into())).expect("valid");
        assert_eq!(r.text, "Hello!");
        assert_eq!(r.media_id, None);
        assert_eq!(
            new_reply("/hi", "", None).map_err(|e| e.code()),
            Err("invalid_length")
        );
        assert!(check_count(49).is_ok());
        assert_eq!(check_count(50).map_err(|e| e.code()), Err("limit_reached"));
    }
}
