//! Phone numbers: the identity of a user. A user id is the E.164 number without `+`.

use crate::CoreError;

/// Parses an E.164 number (`+` then 8 to 15 digits, the first not 0) and returns the
/// user id (the digits). Spaces, dashes and parentheses that people type are accepted
/// and removed; anything else is refused.
pub fn user_id_from_phone(input: &str) -> Result<String, CoreError> {
    let bad = || CoreError::InvalidPhone(input.chars().take(40).collect());
    let trimmed = input.trim();
    let rest = trimmed.strip_prefix('+').ok_or_else(bad)?;
    let mut digits = String::with_capacity(16);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return Err(bad()),
        }
    }
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(bad());
    }
    Ok(digits)
}

/// Accepts either an E.164 phone (`+49…`) or a bare user id (`49…`), as the member
/// calls allow both.
pub fn user_id_from_phone_or_id(input: &str) -> Result<String, CoreError> {
    if input.trim_start().starts_with('+') {
        user_id_from_phone(input)
    } else {
        user_id_from_phone(&format!("+{}", input.trim()))
    }
}

/// The E.164 form of a user id.
pub fn phone_of(user_id: &str) -> String {
    format!("+{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Option<&str>) {
        assert_eq!(
            user_id_from_phone(input).ok().as_deref(),
            expect,
            "{input:?}"
        );
    }

    #[test]
    fn parses_e164() {
        check("+4915112345678", Some("4915112345678"));
        check(" +49 151 1234-5678 ", Some("4915112345678"));
        check("+1 (555) 010-9999", Some("15550109999"));
        check("4915112345678", None);
        check("+0123456789", None);
        check("+1234567", None);
        check("+1234567890123456", None);
        check("+49abc12345678", None);
        check("", None);
        check("+", None);
    }

    #[test]
    fn accepts_ids_where_allowed() {
        assert_eq!(
            user_id_from_phone_or_id("4915112345678").unwrap(),
            "4915112345678"
        );
        assert_eq!(
            user_id_from_phone_or_id("+4915112345678").unwrap(),
            "4915112345678"
        );
        assert!(user_id_from_phone_or_id("x").is_err());
    }
}
