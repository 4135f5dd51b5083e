//! The business profile customers see (`/{phone_number_id}/whatsapp_business_profile`).
//!
//! The profile is stored as one JSON object; this module applies an update to it with
//! Meta's field limits (pywa clears a field by sending `""`, Meta's own example sends
//! `websites` as a JSON-encoded string) and renders the Graph answer, which must
//! always carry `vertical` because pywa parses it unconditionally.

use serde_json::{Map, Value, json};

use crate::GraphError;
use crate::json::{as_string, get, is_http_url};

/// The business categories (`vertical`) the Cloud API knows.
pub const VERTICALS: &[&str] = &[
    "UNDEFINED",
    "OTHER",
    "AUTO",
    "BEAUTY",
    "APPAREL",
    "EDU",
    "ENTERTAIN",
    "EVENT_PLAN",
    "FINANCE",
    "GROCERY",
    "GOVT",
    "HOTEL",
    "HEALTH",
    "NONPROFIT",
    "PROF_SERVICES",
    "RETAIL",
    "TRAVEL",
    "RESTAURANT",
    "NOT_A_BIZ",
];

/// The text fields and their limits in characters (`about` also needs one).
const TEXT_FIELDS: &[(&str, usize)] = &[
    ("about", 139),
    ("address", 256),
    ("description", 512),
    ("email", 128),
    ("profile_picture_handle", 512),
];

/// The fields a profile answer may show (the handle is write-only; the server sets
/// `profile_picture_url` from it).
const READ_FIELDS: &[&str] = &[
    "about",
    "address",
    "description",
    "email",
    "profile_picture_url",
    "websites",
    "vertical",
];

const MAX_WEBSITES: usize = 2;
const MAX_WEBSITE_CHARS: usize = 256;

fn invalid(field: &str, why: &str) -> GraphError {
    GraphError::invalid_parameter(format!("{field}: {why}"))
}

/// Applies a profile update to the current profile (an object; anything else counts
/// as empty) and returns the new one. `""` clears a field; unknown fields,
/// `messaging_product` and `null`s are ignored. Invalid values fail with 100.
pub fn apply_update(current: &Value, update: &Value) -> Result<Value, GraphError> {
    let Some(fields) = update.as_object() else {
        return Err(GraphError::invalid_parameter(
            "the request body must be a JSON object",
        ));
    };
    let mut out: Map<String, Value> = current.as_object().cloned().unwrap_or_default();
    for &(key, max) in TEXT_FIELDS {
        let Some(v) = get(update, key) else { continue };
        let s = as_string(v, key).map_err(|_| invalid(key, "expected a string"))?;
        if s.is_empty() {
            out.remove(key);
            continue;
        }
        let n = s.chars().count();
        if n > max {
            return Err(invalid(
                key,
                &format!("is {n} characters; the limit is {max}"),
            ));
        }
        if key == "email" && !plausible_email(&s) {
            return Err(invalid(key, &format!("{s:?} is not an email address")));
        }
        out.insert(key.to_owned(), Value::String(s));
    }
    if let Some(v) = fields.get("vertical").filter(|v| !v.is_null()) {
        let s = as_string(v, "vertical").map_err(|_| invalid("vertical", "expected a string"))?;
        if s.is_empty() {
            out.remove("vertical");
        } else {
            let up = s.to_ascii_uppercase();
            let known = VERTICALS.iter().find(|x| **x == up).ok_or_else(|| {
                invalid(
                    "vertical",
                    &format!("{s:?} is not one of {}", VERTICALS.join(", ")),
                )
            })?;
            out.insert("vertical".into(), json!(known));
        }
    }
    if let Some(v) = fields.get("websites").filter(|v| !v.is_null()) {
        let sites = parse_websites(v)?;
        if sites.is_empty() {
            out.remove("websites");
        } else {
            out.insert("websites".into(), json!(sites));
        }
    }
    Ok(Value::Object(out))
}

fn plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// `websites` as an array, a JSON-encoded array string, a single URL or `""`.
fn parse_websites(v: &Value) -> Result<Vec<String>, GraphError> {
    let list: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::String(s) if s.trim().is_empty() => Vec::new(),
        Value::String(s) if s.trim_start().starts_with('[') => match serde_json::from_str(s) {
            Ok(Value::Array(a)) => a,
            _ => return Err(invalid("websites", "is not a JSON array of URLs")),
        },
        Value::String(s) => vec![Value::String(s.clone())],
        _ => return Err(invalid("websites", "expected an array of URLs")),
    };
    if list.len() > MAX_WEBSITES {
        return Err(invalid(
            "websites",
            &format!("has {} entries; the limit is {MAX_WEBSITES}", list.len()),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, w) in list.iter().enumerate() {
        let path = format!("websites[{i}]");
        let Value::String(url) = w else {
            return Err(invalid(&path, "expected a string"));
        };
        if url.is_empty() {
            continue;
        }
        let n = url.chars().count();
        if n > MAX_WEBSITE_CHARS {
            return Err(invalid(
                &path,
                &format!("is {n} characters; the limit is {MAX_WEBSITE_CHARS}"),
            ));
        }
        if !is_http_url(url) {
            return Err(invalid(&path, "must be an http or https URL"));
        }
        out.push(url.clone());
    }
    Ok(out)
}

/// The Graph answer for a profile: `{"data": [{…, "vertical", "messaging_product"}]}`.
///
/// With `fields`, only those that are set, but `vertical` (default `UNDEFINED`) and
/// `messaging_product` are always there: pywa reads `vertical` unconditionally.
pub fn profile_json(current: &Value, fields: Option<&[String]>) -> Value {
    let mut out = Map::new();
    for &key in READ_FIELDS {
        let wanted = fields.is_none_or(|f| f.iter().any(|x| x.trim() == key));
        if !wanted {
            continue;
        }
        if let Some(v) = current.get(key).filter(|v| !v.is_null()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    if !out.contains_key("vertical") {
        let v = current
            .get("vertical")
            .and_then(Value::as_str)
            .unwrap_or("UNDEFINED");
        out.insert("vertical".into(), json!(v));
    }
    out.insert("messaging_product".into(), json!("whatsapp"));
    json!({ "data": [out] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(update: Value, expect: Result<Value, &str>) {
        let current = json!({"about": "Old", "email": "a@b.c", "vertical": "RETAIL"});
        let got = apply_update(&current, &update);
        match (got, expect) {
            (Ok(v), Ok(want)) => assert_eq!(v, want, "{update}"),
            (Err(e), Err(fragment)) => {
                assert_eq!(e.code, 100, "{update}");
                assert!(
                    e.details.contains(fragment),
                    "{update}: {:?} lacks {fragment:?}",
                    e.details
                );
            }
            (got, want) => panic!("{update}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn updates() {
        let long = |n: usize| "x".repeat(n);
        check(
            json!({"messaging_product": "whatsapp", "about": "Succulent specialists!", "unknown": 1, "address": null}),
            Ok(json!({"about": "Succulent specialists!", "email": "a@b.c", "vertical": "RETAIL"})),
        );
        check(
            json!({"about": "", "email": ""}),
            Ok(json!({"vertical": "RETAIL"})),
        );
        check(
            json!({"vertical": "travel", "websites": ["https://a.example/", "http://b.example"]}),
            Ok(
                json!({"about": "Old", "email": "a@b.c", "vertical": "TRAVEL", "websites": ["https://a.example/", "http://b.example"]}),
            ),
        );
        check(
            json!({"websites": "[\"https://www.luckyshrub.com/\"]"}),
            Ok(
                json!({"about": "Old", "email": "a@b.c", "vertical": "RETAIL", "websites": ["https://www.luckyshrub.com/"]}),
            ),
        );
        check(
            json!({"websites": "", "vertical": ""}),
            Ok(json!({"about": "Old", "email": "a@b.c"})),
        );
        check(
            json!({"profile_picture_handle": "4::aW", "description": "ü".repeat(512)}),
            Ok(
                json!({"about": "Old", "email": "a@b.c", "vertical": "RETAIL", "profile_picture_handle": "4::aW", "description": "ü".repeat(512)}),
            ),
        );
        check(
            json!({"about": long(140)}),
            Err("about: is 140 characters; the limit is 139"),
        );
        check(json!({"address": long(257)}), Err("address"));
        check(json!({"description": long(513)}), Err("description"));
        check(
            json!({"email": format!("{}@b.c", long(126))}),
            Err("email: is 130"),
        );
        check(json!({"email": "nobody"}), Err("not an email address"));
        check(
            json!({"vertical": "SPACE"}),
            Err("vertical: \"SPACE\" is not one of"),
        );
        check(
            json!({"websites": ["https://a", "https://b", "https://c"]}),
            Err("has 3 entries"),
        );
        check(
            json!({"websites": ["ftp://a"]}),
            Err("websites[0]: must be an http"),
        );
        check(
            json!({"websites": [format!("https://{}", long(250))]}),
            Err("websites[0]: is 258"),
        );
        check(json!({"websites": "[not json"}), Err("JSON array"));
        check(json!({"websites": 5}), Err("websites"));
        check(json!({"about": {}}), Err("about: expected a string"));
        check(
            json!({"profile_picture_handle": long(513)}),
            Err("profile_picture_handle"),
        );
        assert_eq!(apply_update(&json!({}), &json!([1])).unwrap_err().code, 100);
    }

    #[test]
    fn answers() {
        let p = json!({"about": "A", "email": "a@b.c", "websites": ["https://a"], "profile_picture_handle": "4::x"});
        assert_eq!(
            profile_json(&p, None),
            json!({"data": [{"about": "A", "email": "a@b.c", "websites": ["https://a"], "vertical": "UNDEFINED", "messaging_product": "whatsapp"}]})
        );
        let fields = vec!["about".to_owned(), "address".to_owned()];
        let p = json!({"about": "A", "email": "a@b.c", "vertical": "HOTEL"});
        assert_eq!(
            profile_json(&p, Some(&fields)),
            json!({"data": [{"about": "A", "vertical": "HOTEL", "messaging_product": "whatsapp"}]})
        );
        assert_eq!(VERTICALS.len(), 19);
    }
}
