//! Message bodies a client may send: text, media (with an optional caption), or
//! end-to-end ciphertext that the server relays without reading.

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::limits::{MAX_ALGORITHM_BYTES, MAX_CAPTION_BYTES, MAX_CIPHERTEXT_BYTES, MAX_TEXT_BYTES};

/// A validated body. Unknown fields are refused so a typo is not silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Body {
    Text {
        text: String,
    },
    Media {
        media_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
    },
    Ciphertext {
        ciphertext: String,
        algorithm: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnyBody {
    text: Option<String>,
    media_id: Option<String>,
    caption: Option<String>,
    ciphertext: Option<String>,
    algorithm: Option<String>,
}

impl Body {
    /// Parses and checks a body from its JSON text.
    pub fn parse(json: &str) -> Result<Body, CoreError> {
        let any: AnyBody = serde_json::from_str(json).map_err(|e| {
            CoreError::InvalidBody(format!(
                "{e}; expected {{\"text\"}}, {{\"media_id\", \"caption\"?}} or {{\"ciphertext\", \"algorithm\"}}"
            ))
        })?;
        let body = match any {
            AnyBody {
                text: Some(text),
                media_id: None,
                caption: None,
                ciphertext: None,
                algorithm: None,
            } => Body::Text { text },
            AnyBody {
                text: None,
                media_id: Some(media_id),
                caption,
                ciphertext: None,
                algorithm: None,
            } => Body::Media { media_id, caption },
            AnyBody {
                text: None,
                media_id: None,
                caption: None,
                ciphertext: Some(ciphertext),
                algorithm: Some(algorithm),
            } => Body::Ciphertext {
                ciphertext,
                algorithm,
            },
            _ => {
                return Err(CoreError::InvalidBody(
                    "a body is exactly one of {\"text\"}, {\"media_id\", \"caption\"?} or {\"ciphertext\", \"algorithm\"}".into(),
                ));
            }
        };
        body.check()?;
        Ok(body)
    }

    fn check(&self) -> Result<(), CoreError> {
        fn limit(field: &'static str, value: &str, max: usize) -> Result<(), CoreError> {
            if value.len() > max {
                return Err(CoreError::FieldTooLong {
                    field,
                    len: value.len(),
                    max,
                });
            }
            Ok(())
        }
        match self {
            Body::Text { text } => {
                if text.is_empty() {
                    return Err(CoreError::Empty("text"));
                }
                if text.len() > MAX_TEXT_BYTES {
                    return Err(CoreError::TextTooLong(text.len()));
                }
            }
            Body::Media { media_id, caption } => {
                if media_id.is_empty() {
                    return Err(CoreError::Empty("media_id"));
                }
                limit("media_id", media_id, 128)?;
                if let Some(c) = caption {
                    limit("caption", c, MAX_CAPTION_BYTES)?;
                }
            }
            Body::Ciphertext {
                ciphertext,
                algorithm,
            } => {
                if ciphertext.is_empty() {
                    return Err(CoreError::Empty("ciphertext"));
                }
                if algorithm.is_empty() {
                    return Err(CoreError::Empty("algorithm"));
                }
                limit("ciphertext", ciphertext, MAX_CIPHERTEXT_BYTES)?;
                limit("algorithm", algorithm, MAX_ALGORITHM_BYTES)?;
            }
        }
        Ok(())
    }

    /// The canonical JSON stored and relayed for this body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a body of strings always serialises")
    }

    /// A short human preview, for CLIs and notifications.
    pub fn preview(&self) -> String {
        match self {
            Body::Text { text } => text.clone(),
            Body::Media { caption, .. } => {
                format!("[media] {}", caption.as_deref().unwrap_or(""))
            }
            Body::Ciphertext { algorithm, .. } => format!("[encrypted: {algorithm}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, expect: Result<&str, &str>) {
        let got = Body::parse(json).map(|b| b.to_json()).map_err(|e| e.code());
        assert_eq!(got.as_deref().map_err(|e| *e), expect, "{json}");
    }

    #[test]
    fn bodies() {
        check(r#"{"text":"hi"}"#, Ok(r#"{"text":"hi"}"#));
        check(
            r#"{"media_id":"m1","caption":"cake"}"#,
            Ok(r#"{"media_id":"m1","caption":"cake"}"#),
        );
        check(r#"{"media_id":"m1"}"#, Ok(r#"{"media_id":"m1"}"#));
        check(
            r#"{"ciphertext":"AAAA","algorithm":"olm.v1"}"#,
            Ok(r#"{"ciphertext":"AAAA","algorithm":"olm.v1"}"#),
        );
        check(r#"{"text":""}"#, Err("invalid_request"));
        check(r#"{"text":"a","media_id":"m"}"#, Err("invalid_body"));
        check(r#"{"txt":"a"}"#, Err("invalid_body"));
        check(r#"{"ciphertext":"AAAA"}"#, Err("invalid_body"));
        check(r#"{}"#, Err("invalid_body"));
        check(r#"[1]"#, Err("invalid_body"));
        check(r#"{"text":5}"#, Err("invalid_body"));
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(MAX_TEXT_BYTES + 1));
        check(&long, Err("text_too_long"));
        let max = format!(r#"{{"text":"{}"}}"#, "a".repeat(MAX_TEXT_BYTES));
        assert!(Body::parse(&max).is_ok());
    }
}
