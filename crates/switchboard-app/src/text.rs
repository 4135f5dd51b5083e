//! Checks shared by every feature's input: trimmed text within a length in
//! characters, without control characters.

use crate::error::{AppError, AppResult};

/// `value` trimmed, `min..=max` characters long, no control characters other than
/// line breaks (when `multiline`).
pub fn text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> AppResult<String> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(AppError::invalid(
            "invalid_length",
            if min > 0 {
                format!("{field} must be {min} to {max} characters (got {n})")
            } else {
                format!("{field} must be at most {max} characters (got {n})")
            },
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(AppError::invalid(
            "invalid_text",
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_control_characters() {
        assert_eq!(
            text("name", "  Brezel ", 1, 10, false).expect("ok"),
            "Brezel"
        );
        assert_eq!(
            text("name", "", 1, 10, false).map_err(|e| e.code()),
            Err("invalid_length")
        );
        assert_eq!(
            text("name", "äöü", 1, 3, false).expect("chars, not bytes"),
            "äöü"
        );
        assert!(text("name", "a\nb", 1, 10, false).is_err());
        assert!(text("body", "a\nb", 1, 10, true).is_ok());
        assert!(text("body", "a\u{7}b", 1, 10, true).is_err());
    }
}
