//! The one error type of the business API: a Graph error as the Cloud API returns it.
//!
//! Clients map the numeric `code` to exception classes (pywa turns 131047 into
//! `ReEngagementMessage`), so every rule in this crate fails with the code Meta uses,
//! and the title and HTTP status come from one table here instead of each call site.

use serde_json::{Value, json};

/// A Graph API error: the code clients match on, its fixed title, a human `details`
/// line naming the bad field or value, and the HTTP status it is answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("(#{code}) {title}: {details}")]
pub struct GraphError {
    pub code: u32,
    pub title: String,
    pub details: String,
    pub http_status: u16,
}

/// Title and HTTP status of a code (wire notes §9). Unknown codes are 400 "Unknown error".
fn describe(code: u32) -> (&'static str, u16) {
    match code {
        0 => ("AuthException", 401),
        190 => ("Access token has expired", 401),
        1 => ("API Unknown", 400),
        2 => ("API Service", 503),
        3 => ("API Method", 500),
        4 => ("Too many calls", 400),
        10 => ("Permission denied", 403),
        200..=299 => ("API Permission", 403),
        33 => ("This phone number is deleted", 400),
        100 => ("Invalid parameter", 400),
        368 => ("Temporarily blocked for policies violations", 403),
        80007 => ("Rate limit issues", 400),
        130429 => ("Rate limit hit", 400),
        130472 => ("User's number is part of an experiment", 400),
        130497 => (
            "Business account is restricted from messaging users in this country",
            403,
        ),
        131000 => ("Something went wrong", 500),
        131005 => ("Access denied", 403),
        131008 => ("Required parameter is missing", 400),
        131009 => ("Parameter value is not valid", 400),
        131016 => ("Service unavailable", 500),
        131021 => ("Recipient cannot be sender", 400),
        131026 => ("Message undeliverable", 400),
        131030 => ("Recipient phone number not in allowed list", 400),
        131031 => ("Account has been locked", 403),
        131037 => ("Display name approval required", 400),
        131042 => ("Business eligibility payment issue", 400),
        131045 => ("Incorrect certificate", 500),
        131047 => ("Re-engagement message", 400),
        131048 => ("Spam rate limit hit", 400),
        131049 => (
            "This message was not delivered to maintain healthy ecosystem engagement",
            400,
        ),
        131050 => ("User has stopped receiving marketing messages", 400),
        131051 => ("Unsupported message type", 400),
        131052 => ("Media download error", 400),
        131053 => ("Media upload error", 400),
        131056 => (
            "(Business Account, Consumer Account) pair rate limit hit",
            400,
        ),
        131057 => ("Account in maintenance mode", 500),
        132000 => (
            "Number of parameters does not match the expected number of params",
            400,
        ),
        132001 => ("Template does not exist", 404),
        132005 => ("Translated text too long", 400),
        132007 => ("Format character policy violated", 400),
        132012 => (
            "Parameter format does not match format in the created template",
            400,
        ),
        132015 => ("Template is Paused", 400),
        132016 => ("Template is Disabled", 400),
        133000 => ("Incomplete deregistration", 500),
        133005 => ("Two step verification PIN Mismatch", 400),
        133010 => ("Phone number Not Registered", 400),
        133016 => ("Account register or deregister rate limit exceeded", 400),
        135000 => ("Generic user error", 400),
        2388019 => ("Message template limit exceeded", 400),
        2388040 => ("Message template character limit exceeded", 400),
        2388299 => (
            "Variables can't be at the start or end of the template",
            400,
        ),
        _ => ("Unknown error", 400),
    }
}

impl GraphError {
    /// An error with the title and HTTP status of `code`.
    pub fn new(code: u32, details: impl Into<String>) -> Self {
        let (title, http_status) = describe(code);
        GraphError {
            code,
            title: title.to_owned(),
            details: details.into(),
            http_status,
        }
    }

    /// 100: a parameter is not supported or malformed as a whole.
    pub fn invalid_parameter(details: impl Into<String>) -> Self {
        Self::new(100, details)
    }

    /// 131008: `param` (a field path such as `text.body`) is missing.
    pub fn missing(param: &str) -> Self {
        Self::new(131008, format!("the parameter {param} is required"))
    }

    /// 131009: `param` has a value that is not allowed, for the reason `why`.
    pub fn invalid_value(param: &str, why: &str) -> Self {
        Self::new(131009, format!("{param}: {why}"))
    }

    /// The Graph error body clients parse (`{"error": {...}}`).
    pub fn to_json(&self, fbtrace_id: &str) -> Value {
        json!({
            "error": {
                "message": format!("(#{}) {}", self.code, self.title),
                "type": "OAuthException",
                "code": self.code,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": self.details,
                },
                "fbtrace_id": fbtrace_id,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_titles_and_statuses() {
        let cases: &[(u32, u16, &str)] = &[
            (0, 401, "AuthException"),
            (190, 401, "Access token has expired"),
            (10, 403, "Permission denied"),
            (250, 403, "API Permission"),
            (4, 400, "Too many calls"),
            (100, 400, "Invalid parameter"),
            (130429, 400, "Rate limit hit"),
            (131000, 500, "Something went wrong"),
            (131005, 403, "Access denied"),
            (131008, 400, "Required parameter is missing"),
            (131009, 400, "Parameter value is not valid"),
            (131047, 400, "Re-engagement message"),
            (132001, 404, "Template does not exist"),
            (132015, 400, "Template is Paused"),
            (
                2388299,
                400,
                "Variables can't be at the start or end of the template",
            ),
            (999_999, 400, "Unknown error"),
        ];
        for &(code, status, title) in cases {
            let e = GraphError::new(code, "x");
            assert_eq!((e.http_status, e.title.as_str()), (status, title), "{code}");
        }
    }

    #[test]
    fn helpers_and_display() {
        let e = GraphError::missing("text.body");
        assert_eq!(e.code, 131008);
        assert_eq!(
            e.to_string(),
            "(#131008) Required parameter is missing: the parameter text.body is required"
        );
        let e = GraphError::invalid_value("to", "not a phone number");
        assert_eq!(e.code, 131009);
        assert_eq!(e.details, "to: not a phone number");
        assert_eq!(GraphError::invalid_parameter("x").code, 100);
    }

    #[test]
    fn json_shape() {
        let got = GraphError::new(130429, "throughput reached").to_json("Az8");
        let want = json!({"error": {
            "message": "(#130429) Rate limit hit",
            "type": "OAuthException",
            "code": 130429,
            "error_data": {"messaging_product": "whatsapp", "details": "throughput reached"},
            "fbtrace_id": "Az8"
        }});
        assert_eq!(got, want);
    }
}
