//! Tolerant field access for request bodies.
//!
//! Cloud API clients differ in small ways: pywa sends explicit `null`s and floats
//! where Meta's docs show strings, heyoo sends enum values in other cases. These
//! helpers read a field the way the contract promises (null = absent, numbers as
//! strings and the reverse) and fail with the Graph code and the field's path.

use serde_json::{Map, Value};

use crate::GraphError;

/// The field `key` of `obj`, treating an explicit `null` as absent.
pub(crate) fn get<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// `path.key`, or `key` when `path` is empty.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A string, also accepting a number or a boolean written without quotes.
pub(crate) fn as_string(v: &Value, path: &str) -> Result<String, GraphError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(GraphError::invalid_value(path, "expected a string")),
    }
}

/// An optional string field.
pub(crate) fn opt_str(obj: &Value, key: &str, path: &str) -> Result<Option<String>, GraphError> {
    get(obj, key)
        .map(|v| as_string(v, &join(path, key)))
        .transpose()
}

/// A required string field (131008 when absent).
pub(crate) fn req_str(obj: &Value, key: &str, path: &str) -> Result<String, GraphError> {
    opt_str(obj, key, path)?.ok_or_else(|| GraphError::missing(&join(path, key)))
}

/// An optional number, also accepting a numeric string such as `"32.0"`.
pub(crate) fn opt_f64(obj: &Value, key: &str, path: &str) -> Result<Option<f64>, GraphError> {
    let Some(v) = get(obj, key) else {
        return Ok(None);
    };
    let bad = || GraphError::invalid_value(&join(path, key), "expected a number");
    let n = match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !n.is_finite() {
        return Err(bad());
    }
    Ok(Some(n))
}

/// An optional non-negative integer, also accepting a string of digits.
pub(crate) fn opt_u64(obj: &Value, key: &str, path: &str) -> Result<Option<u64>, GraphError> {
    let Some(v) = get(obj, key) else {
        return Ok(None);
    };
    let bad = || GraphError::invalid_value(&join(path, key), "expected a non-negative integer");
    match v {
        Value::Number(n) => n.as_u64().map(Some).ok_or_else(bad),
        Value::String(s) => s.trim().parse::<u64>().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// An optional boolean, also accepting `"true"`/`"false"` in any case and 0/1.
pub(crate) fn opt_bool(obj: &Value, key: &str, path: &str) -> Result<Option<bool>, GraphError> {
    let Some(v) = get(obj, key) else {
        return Ok(None);
    };
    let bad = || GraphError::invalid_value(&join(path, key), "expected true or false");
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(bad()),
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// An optional object field.
pub(crate) fn opt_obj<'a>(
    obj: &'a Value,
    key: &str,
    path: &str,
) -> Result<Option<&'a Value>, GraphError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(GraphError::invalid_value(
            &join(path, key),
            "expected an object",
        )),
    }
}

/// A required object field (131008 when absent).
pub(crate) fn req_obj<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a Value, GraphError> {
    opt_obj(obj, key, path)?.ok_or_else(|| GraphError::missing(&join(path, key)))
}

/// An optional array field.
pub(crate) fn opt_arr<'a>(
    obj: &'a Value,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, GraphError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(GraphError::invalid_value(
            &join(path, key),
            "expected an array",
        )),
    }
}

/// Fails with 131009 unless `value` has between `min` and `max` characters (not bytes).
pub(crate) fn check_len(path: &str, value: &str, min: usize, max: usize) -> Result<(), GraphError> {
    let n = value.chars().count();
    if n < min {
        let why = if min == 1 {
            "must not be empty".to_owned()
        } else {
            format!("is {n} characters; the minimum is {min}")
        };
        return Err(GraphError::invalid_value(path, &why));
    }
    if n > max {
        return Err(GraphError::invalid_value(
            path,
            &format!("is {n} characters; the limit is {max}"),
        ));
    }
    Ok(())
}

/// Whether `s` is an absolute http(s) URL with a host and no whitespace.
pub(crate) fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A copy of `v` with every `null` object member removed, recursively.
pub(crate) fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_reads() {
        let v = json!({"s": "x", "n": 32.5, "ns": "32.0", "b": "TRUE", "z": null, "i": "7"});
        assert_eq!(opt_str(&v, "n", "").unwrap().as_deref(), Some("32.5"));
        assert_eq!(opt_str(&v, "z", "").unwrap(), None);
        assert_eq!(opt_f64(&v, "ns", "").unwrap(), Some(32.0));
        assert_eq!(
            opt_f64(&v, "s", "loc").unwrap_err().details,
            "loc.s: expected a number"
        );
        assert_eq!(opt_bool(&v, "b", "").unwrap(), Some(true));
        assert_eq!(opt_u64(&v, "i", "").unwrap(), Some(7));
        assert_eq!(req_str(&v, "z", "a").unwrap_err().code, 131008);
    }

    #[test]
    fn urls() {
        let cases = [
            ("https://x.example/a.jpg", true),
            ("HTTP://x", true),
            ("ftp://x", false),
            ("https://", false),
            ("https:// x", false),
            ("x.example", false),
        ];
        for (s, want) in cases {
            assert_eq!(is_http_url(s), want, "{s}");
        }
    }

    #[test]
    fn lengths_count_chars() {
        assert!(check_len("f", &"ü".repeat(20), 1, 20).is_ok());
        assert_eq!(
            check_len("f", &"ü".repeat(21), 1, 20).unwrap_err().details,
            "f: is 21 characters; the limit is 20"
        );
        assert_eq!(
            check_len("f", "", 1, 20).unwrap_err().details,
            "f: must not be empty"
        );
    }
}
