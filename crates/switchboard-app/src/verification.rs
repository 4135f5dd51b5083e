//! Verification applications: a business's owner applies with its legal details, a
//! platform admin approves or rejects (with a reason the business sees), and a
//! rejected business may apply again. Approval gives the verified badge customers
//! see on the profile and on every message; it is the platform's decision, so this
//! module only checks the application and its state.
//!
//! Also the record of a held business name (a look-alike of a verified business's,
//! see [`crate::lookalike`]) waiting for an admin's decision.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::text::text;

/// Record kinds of this feature (tenant: the business's `waba_id`).
pub mod kind {
    /// The business's latest verification application; key: [`super::CURRENT`].
    pub const APPLICATION: &str = "verification";
    /// The business's latest name review; key: [`super::CURRENT`].
    pub const NAME_REVIEW: &str = "name_review";
}

/// The key of the one current application or name review of a business.
pub const CURRENT: &str = "current";

/// Most documents an application may reference.
pub const MAX_DOCUMENTS: usize = 5;

/// ISO 3166-1 alpha-2 country codes (officially assigned).
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL \
BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM \
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC \
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE \
NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD \
SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA \
UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
}

impl Status {
    pub fn parse(s: &str) -> AppResult<Status> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pending" => Ok(Status::Pending),
            "approved" => Ok(Status::Approved),
            "rejected" => Ok(Status::Rejected),
            _ => Err(AppError::invalid(
                "invalid_status",
                format!("unknown status {s:?}; use pending, approved or rejected"),
            )),
        }
    }
}

/// What the owner sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    pub legal_name: String,
    pub registration_number: String,
    pub country: String,
    pub address: String,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub document_media_ids: Option<Vec<String>>,
}

/// An application; stored under [`kind::APPLICATION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub legal_name: String,
    pub registration_number: String,
    pub country: String,
    pub address: String,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub document_media_ids: Vec<String>,
    pub status: Status,
    /// Why it was rejected (shown to the business).
    #[serde(default)]
    pub reason: Option<String>,
    pub submitted_by: String,
    pub submitted_at: i64,
    #[serde(default)]
    pub decided_at: Option<i64>,
}

/// Checks an application; `current` is the business's verification state
/// (`unverified`, `pending`, `verified`, `rejected`): a pending or verified business
/// cannot apply again.
pub fn apply(input: ApplicationInput, current: &str, by: &str, now: i64) -> AppResult<Application> {
    match current {
        "pending" => {
            return Err(AppError::conflict(
                "already_pending",
                "an application is already waiting for review",
            ));
        }
        "verified" => {
            return Err(AppError::conflict(
                "already_verified",
                "this business is already verified",
            ));
        }
        _ => {}
    }
    let country = input.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !COUNTRIES.split(' ').any(|c| c == country) {
        return Err(AppError::invalid(
            "invalid_country",
            format!(
                "country {:?} is not an ISO 3166-1 alpha-2 code (e.g. DE, FR, US)",
                input.country.chars().take(10).collect::<String>()
            ),
        ));
    }
    let registration_number = text(
        "registration_number",
        &input.registration_number,
        1,
        64,
        false,
    )?;
    let website = match input.website.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(w) => Some(website(w)?),
    };
    let docs = input.document_media_ids.unwrap_or_default();
    if docs.len() > MAX_DOCUMENTS {
        return Err(AppError::invalid(
            "too_many_documents",
            format!("at most {MAX_DOCUMENTS} documents (got {})", docs.len()),
        ));
    }
    let mut document_media_ids = Vec::with_capacity(docs.len());
    for d in docs {
        let d = d.trim();
        if d.is_empty()
            || d.len() > 128
            || !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AppError::invalid(
                "invalid_document",
                format!(
                    "document media id {:?} is not a media id",
                    d.chars().take(40).collect::<String>()
                ),
            ));
        }
        document_media_ids.push(d.to_owned());
    }
    Ok(Application {
        legal_name: text("legal_name", &input.legal_name, 2, 200, false)?,
        registration_number,
        country,
        address: text("address", &input.address, 5, 500, true)?,
        website,
        document_media_ids,
        status: Status::Pending,
        reason: None,
        submitted_by: by.to_owned(),
        submitted_at: now,
        decided_at: None,
    })
}

/// A website: an `http://` or `https://` URL with a host that has a dot, at most
/// 200 characters, no spaces.
fn website(w: &str) -> AppResult<String> {
    let bad = || {
        AppError::invalid(
            "invalid_website",
            format!(
                "website {:?} must be an https:// (or http://) URL, at most 200 characters",
                w.chars().take(40).collect::<String>()
            ),
        )
    };
    if w.chars().count() > 200 || w.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let rest = w
        .strip_prefix("https://")
        .or_else(|| w.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("");
    let labels_ok = host
        .split('.')
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
    if !host.contains('.') || !labels_ok {
        return Err(bad());
    }
    Ok(w.to_owned())
}

/// A held name: where the name review of a business stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameStatus {
    Held,
    Approved,
    Rejected,
}

impl NameStatus {
    pub fn parse(s: &str) -> AppResult<NameStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "held" => Ok(NameStatus::Held),
            "approved" => Ok(NameStatus::Approved),
            "rejected" => Ok(NameStatus::Rejected),
            _ => Err(AppError::invalid(
                "invalid_status",
                format!("unknown status {s:?}; use held, approved or rejected"),
            )),
        }
    }
}

/// The verified business a held name resembles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimilarTo {
    pub waba_id: String,
    pub name: String,
}

/// A name waiting for (or after) review; stored under [`kind::NAME_REVIEW`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameReview {
    pub status: NameStatus,
    /// The name the business asked for.
    pub requested: String,
    /// Why it was held: the verified business it resembles, or none for a
    /// verified business's own rename (always reviewed).
    #[serde(default)]
    pub similar_to: Option<SimilarTo>,
    pub requested_at: i64,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub decided_at: Option<i64>,
}

/// A reviewer's decision on a held name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn parse(s: &str) -> AppResult<Decision> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approve" => Ok(Decision::Approve),
            "reject" => Ok(Decision::Reject),
            _ => Err(AppError::invalid(
                "invalid_decision",
                format!("decision must be \"approve\" or \"reject\" (got {s:?})"),
            )),
        }
    }
}

impl NameReview {
    /// The review after a decision; only a held name can be decided.
    pub fn decide(
        mut self,
        d: Decision,
        reason: Option<String>,
        now: i64,
    ) -> AppResult<NameReview> {
        if self.status != NameStatus::Held {
            return Err(AppError::conflict(
                "not_held",
                "this name is not waiting for review",
            ));
        }
        self.status = match d {
            Decision::Approve => NameStatus::Approved,
            Decision::Reject => NameStatus::Rejected,
        };
        self.reason = reason;
        self.decided_at = Some(now);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ApplicationInput {
        ApplicationInput {
            legal_name: "Bruno Backwaren GmbH".into(),
            registration_number: "HRB 12345".into(),
            country: "de".into(),
            address: "Hauptstraße 1, 10115 Berlin".into(),
            website: Some("https://bruno.example/".into()),
            document_media_ids: Some(vec!["m1".into()]),
        }
    }

    #[test]
    fn a_good_application() {
        let a = apply(input(), "unverified", "u1", 7).expect("valid");
        assert_eq!(a.country, "DE");
        assert_eq!(a.status, Status::Pending);
        assert!(apply(input(), "rejected", "u1", 7).is_ok());
    }

    #[test]
    fn bad_applications() {
        type Edit = fn(&mut ApplicationInput);
        let cases: [(Edit, &str); 9] = [
            (|i| i.country = "XX".into(), "invalid_country"),
            (|i| i.country = "DEU".into(), "invalid_country"),
            (|i| i.legal_name = " ".into(), "invalid_length"),
            (|i| i.registration_number = "x".repeat(65), "invalid_length"),
            (|i| i.address = "abc".into(), "invalid_length"),
            (
                |i| i.website = Some("ftp://x.example".into()),
                "invalid_website",
            ),
            (
                |i| i.website = Some("https://localhost".into()),
                "invalid_website",
            ),
            (
                |i| i.document_media_ids = Some(vec!["a".into(); 6]),
                "too_many_documents",
            ),
            (
                |i| i.document_media_ids = Some(vec!["../x".into()]),
                "invalid_document",
            ),
        ];
        for (edit, code) in cases {
            let mut i = input();
            edit(&mut i);
            assert_eq!(
                apply(i, "unverified", "u", 0).map_err(|e| e.code()).err(),
                Some(code)
            );
        }
        assert_eq!(
            apply(input(), "pending", "u", 0)
                .map_err(|e| e.code())
                .err(),
            Some("already_pending")
        );
        assert_eq!(
            apply(input(), "verified", "u", 0)
                .map_err(|e| e.code())
                .err(),
            Some("already_verified")
        );
    }

    #[test]
    fn every_country_code_is_two_letters() {
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        assert!(COUNTRIES.split(' ').all(|c| c.len() == 2));
    }

    #[test]
    fn only_held_names_are_decided() {
        let r = NameReview {
            status: NameStatus::Held,
            requested: "PayPaI".into(),
            similar_to: None,
            requested_at: 0,
            reason: None,
            decided_at: None,
        };
        let done = r
            .decide(Decision::Reject, Some("imitation".into()), 1)
            .expect("held");
        assert_eq!(done.status, NameStatus::Rejected);
        assert_eq!(
            done.decide(Decision::Approve, None, 2)
                .map_err(|e| e.code())
                .err(),
            Some("not_held")
        );
    }
}
