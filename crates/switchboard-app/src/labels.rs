//! Labels: a business's own small vocabulary ("VIP", "new order", "complaint") that
//! its team puts on conversations and single messages to find them again. Names are
//! unique regardless of case; colours come from a fixed palette so every client can
//! draw them the same way.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::text::text;

/// Record kind of a label; key: the label id.
pub const KIND: &str = "label";
/// Record kind that reserves a name; key: the lowercase name, value: the label id.
pub const NAME_KIND: &str = "label_name";
/// Record kind of a label on one message; key: `{label_id}/{message_id}`.
pub const MESSAGE_KIND: &str = "message_label";
/// Most labels a business may have.
pub const MAX_LABELS: usize = 20;
/// Longest name, in characters.
pub const MAX_NAME: usize = 30;

/// The palette: every label has one of these colours.
pub const PALETTE: [&str; 20] = [
    "red", "orange", "amber", "yellow", "lime", "green", "emerald", "teal", "cyan", "sky", "blue",
    "indigo", "violet", "purple", "fuchsia", "pink", "rose", "brown", "grey", "black",
];

/// One label; stored under [`KIND`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    pub name: String,
    pub colour: String,
    pub created_at: i64,
}

/// A checked name: 1–30 characters, one line.
pub fn name(value: &str) -> AppResult<String> {
    text("name", value, 1, MAX_NAME, false)
}

/// The key that makes names unique regardless of case.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// A checked colour of the palette (any case).
pub fn colour(value: &str) -> AppResult<String> {
    let v = value.trim().to_ascii_lowercase();
    if PALETTE.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(AppError::invalid(
            "invalid_colour",
            format!(
                "unknown colour {value:?}; use one of {}",
                PALETTE.join(", ")
            ),
        ))
    }
}

/// Whether `id` has the shape of a label id (`lb` and 16 hex digits).
pub fn valid_id(id: &str) -> bool {
    id.len() == 18
        && id.starts_with("lb")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A label id from 8 random bytes.
pub fn new_id(random: [u8; 8]) -> String {
    let mut s = String::from("lb");
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `Limit` when a business already has [`MAX_LABELS`].
pub fn check_count(existing: usize) -> AppResult<()> {
    if existing >= MAX_LABELS {
        return Err(AppError::limit(
            "too_many_labels",
            format!("a business has at most {MAX_LABELS} labels; delete one first"),
        ));
    }
    Ok(())
}

/// The conflict of a taken name.
pub fn name_taken(name: &str) -> AppError {
    AppError::conflict(
        "label_exists",
        format!("a label named {name:?} exists already (names ignore case)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_colours_and_ids() {
        assert_eq!(name(" VIP ").expect("ok"), "VIP");
        assert_eq!(name("").map_err(|e| e.code()), Err("invalid_length"));
        assert!(name(&"ä".repeat(30)).is_ok());
        assert!(name(&"ä".repeat(31)).is_err());
        assert_eq!(name_key("VIP Kunde"), name_key("vip kunde"));
        assert_eq!(colour(" Teal").expect("palette"), "teal");
        assert_eq!(colour("mauve").map_err(|e| e.code()), Err("invalid_colour"));
        assert_eq!(PALETTE.len(), 20);
        let id = new_id([0xab, 1, 2, 3, 4, 5, 6, 0xff]);
        assert!(valid_id(&id), "{id}");
        assert!(!valid_id("lb../../x"));
        assert!(!valid_id("lbABCDEF0123456789"));
        assert_eq!(check_count(19), Ok(()));
        assert_eq!(
            check_count(20).map_err(|e| e.code()),
            Err("too_many_labels")
        );
    }
}
