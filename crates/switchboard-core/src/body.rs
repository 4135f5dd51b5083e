//! Message bodies: what a consumer client may send (text, media, ciphertext that the
//! server relays without reading, a location, contact cards, a reaction, and the answer
//! to a business's buttons or list), and the two shapes only businesses send through
//! the Cloud API (templates and interactive messages), which a client must be able to
//! read back from storage but may never send itself.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CoreError;
use crate::limits::{
    MAX_ALGORITHM_BYTES, MAX_BUTTON_REPLY_ID_BYTES, MAX_BUTTON_REPLY_TITLE_CHARS,
    MAX_CAPTION_BYTES, MAX_CIPHERTEXT_BYTES, MAX_CONTACTS, MAX_CONTACTS_BODY_BYTES,
    MAX_FILENAME_CHARS, MAX_LIST_REPLY_DESCRIPTION_CHARS, MAX_LIST_REPLY_ID_BYTES,
    MAX_LIST_REPLY_TITLE_CHARS, MAX_LOCATION_TEXT_CHARS, MAX_MEDIA_ID_BYTES,
    MAX_REACTION_EMOJI_BYTES, MAX_REACTION_MESSAGE_ID_BYTES, MAX_TEXT_BYTES,
};

/// A message body.
///
/// [`Body::parse`] is the gate for what consumers send: it refuses unknown fields (so
/// a typo is not silently dropped), checks every limit and refuses the business-only
/// shapes. The derived `Deserialize` is lenient: it is for bodies that were already
/// checked when they were stored (history, frames, the business side), and checks
/// nothing.
///
/// Not `Eq`: a location holds floating-point coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Body {
    Text {
        text: String,
    },
    Media {
        media_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        /// The name to save the file under (documents); shown to the receiver.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// A voice note (recorded in the app) rather than an audio file; omitted when false.
        #[serde(default, skip_serializing_if = "is_false")]
        voice: bool,
    },
    Ciphertext {
        ciphertext: String,
        algorithm: String,
    },
    Location {
        location: Location,
    },
    /// Contact cards in the Cloud API's shape: each an object whose
    /// `name.formatted_name` is checked; every other field is kept as sent.
    Contacts {
        contacts: Vec<Value>,
    },
    Reaction {
        reaction: Reaction,
    },
    /// The customer tapped a quick-reply button of a template or a reply button of an
    /// interactive message (the send's `reply_to` names that message).
    ButtonReply {
        button_reply: ButtonReply,
    },
    /// The customer chose a row of an interactive list message.
    ListReply {
        list_reply: ListReply,
    },
    /// Business only (Cloud API): a template message, already rendered and checked by
    /// the business side; kept and shown as stored.
    Template {
        template: Value,
    },
    /// Business only (Cloud API): an interactive message (`button`, `list`,
    /// `cta_url`), already checked by the business side; kept and shown as stored.
    Interactive {
        interactive: Value,
    },
    /// Business only (business app): a product of the catalog, as a snapshot taken
    /// when it was sent (`id`, `name`, `description`, `price`, `image_media_id`?,
    /// `available`, `text`?), so the message stays readable when the product changes.
    Product {
        product: Value,
    },
    /// Business only (business app): the catalog or one collection, with snapshots
    /// of its first products and their `count`.
    Catalog {
        catalog: Value,
    },
    /// Server-built, from the customer: an order placed through the orders endpoint
    /// (`order_id`, `items`, `item_count`, `total`, `text`?). Never sent raw.
    Order {
        order: Value,
    },
    /// Business only (business app): a step of an order (`order_id`, `status`,
    /// `note`?, `item_count`, `total`).
    OrderStatus {
        order_status: Value,
    },
}

/// A point on the map, optionally named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// An emoji reaction to a message; an empty `emoji` removes the sender's reaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    pub message_id: String,
    pub emoji: String,
}

/// Which reply button was tapped: the `id` the business gave it, and its `title`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonReply {
    pub id: String,
    pub title: String,
}

/// Which list row was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListReply {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Every field any consumer body may carry, so unknown fields are refused in one pass.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnyBody {
    text: Option<String>,
    media_id: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
    voice: Option<bool>,
    ciphertext: Option<String>,
    algorithm: Option<String>,
    location: Option<Location>,
    contacts: Option<Vec<Value>>,
    reaction: Option<Reaction>,
    button_reply: Option<ButtonReply>,
    list_reply: Option<ListReply>,
    // Known, so that the refusal can say why; never read.
    template: Option<IgnoredAny>,
    interactive: Option<IgnoredAny>,
    product: Option<IgnoredAny>,
    catalog: Option<IgnoredAny>,
    order: Option<IgnoredAny>,
    order_status: Option<IgnoredAny>,
}

const KINDS: &str = "{\"text\"}, {\"media_id\", \"caption\"?, \"filename\"?, \"voice\"?}, \
    {\"ciphertext\", \"algorithm\"}, {\"location\"}, {\"contacts\"}, {\"reaction\"}, \
    {\"button_reply\"} or {\"list_reply\"}";

fn one_kind() -> CoreError {
    CoreError::InvalidBody(format!("a body is exactly one of {KINDS}"))
}

impl Body {
    /// Parses and checks a body a consumer client sent, from its JSON text.
    pub fn parse(json: &str) -> Result<Body, CoreError> {
        let any: AnyBody = serde_json::from_str(json)
            .map_err(|e| CoreError::InvalidBody(format!("{e}; expected {KINDS}")))?;
        let AnyBody {
            text,
            media_id,
            caption,
            filename,
            voice,
            ciphertext,
            algorithm,
            location,
            contacts,
            reaction,
            button_reply,
            list_reply,
            template,
            interactive,
            product,
            catalog,
            order,
            order_status,
        } = any;
        if template.is_some() {
            return Err(CoreError::InvalidBody(
                "a \"template\" body cannot be sent from a customer's device: only businesses send templates (through the Cloud API)".into(),
            ));
        }
        if interactive.is_some() {
            return Err(CoreError::InvalidBody(
                "an \"interactive\" body cannot be sent from a customer's device: only businesses send templates and interactive messages (through the Cloud API); answer one with \"button_reply\" or \"list_reply\"".into(),
            ));
        }
        if product.is_some() || catalog.is_some() || order_status.is_some() {
            return Err(CoreError::InvalidBody(
                "\"product\", \"catalog\" and \"order_status\" bodies cannot be sent from a customer's device: the business app sends them".into(),
            ));
        }
        if order.is_some() {
            return Err(CoreError::InvalidBody(
                "an \"order\" body cannot be sent raw: place an order with POST /v1/businesses/{user_id}/orders, which prices it and adds it to the chat".into(),
            ));
        }
        let kinds = [
            text.is_some(),
            media_id.is_some(),
            ciphertext.is_some(),
            location.is_some(),
            contacts.is_some(),
            reaction.is_some(),
            button_reply.is_some(),
            list_reply.is_some(),
        ];
        let media_extras = caption.is_some() || filename.is_some() || voice.is_some();
        if kinds.iter().filter(|k| **k).count() != 1
            || (media_id.is_none() && media_extras)
            || (ciphertext.is_none() == algorithm.is_some())
        {
            return Err(one_kind());
        }
        let body = if let Some(text) = text {
            Body::Text { text }
        } else if let Some(media_id) = media_id {
            Body::Media {
                media_id,
                caption,
                filename,
                voice: voice.unwrap_or(false),
            }
        } else if let (Some(ciphertext), Some(algorithm)) = (ciphertext, algorithm) {
            Body::Ciphertext {
                ciphertext,
                algorithm,
            }
        } else if let Some(location) = location {
            Body::Location { location }
        } else if let Some(contacts) = contacts {
            Body::Contacts { contacts }
        } else if let Some(reaction) = reaction {
            Body::Reaction { reaction }
        } else if let Some(button_reply) = button_reply {
            Body::ButtonReply { button_reply }
        } else if let Some(list_reply) = list_reply {
            Body::ListReply { list_reply }
        } else {
            // Exactly one kind is present (checked above).
            return Err(one_kind());
        };
        body.check()?;
        Ok(body)
    }

    /// Reads a body that was checked when it was stored (history, `message` frames),
    /// business-only shapes included. Checks nothing beyond the shape.
    pub fn from_stored(json: &str) -> Result<Body, CoreError> {
        serde_json::from_str(json).map_err(|_| {
            CoreError::InvalidBody(format!(
                "not a known body; expected {KINDS}, {{\"template\"}}, {{\"interactive\"}}, {{\"product\"}}, {{\"catalog\"}}, {{\"order\"}} or {{\"order_status\"}}"
            ))
        })
    }

    /// Whether only a business may send this body (through the Cloud API or the
    /// business app). An `order` is not: it comes from the customer (built by the
    /// server), though a client cannot send it raw either (see [`Body::parse`]).
    pub fn is_business_only(&self) -> bool {
        matches!(
            self,
            Body::Template { .. }
                | Body::Interactive { .. }
                | Body::Product { .. }
                | Body::Catalog { .. }
                | Body::OrderStatus { .. }
        )
    }

    /// Whether the server builds this body itself (never accepted from a client).
    pub fn is_server_built(&self) -> bool {
        matches!(
            self,
            Body::Product { .. }
                | Body::Catalog { .. }
                | Body::Order { .. }
                | Body::OrderStatus { .. }
        )
    }

    fn check(&self) -> Result<(), CoreError> {
        match self {
            Body::Text { text } => {
                if text.is_empty() {
                    return Err(CoreError::Empty("text"));
                }
                if text.len() > MAX_TEXT_BYTES {
                    return Err(CoreError::TextTooLong(text.len()));
                }
            }
            Body::Media {
                media_id,
                caption,
                filename,
                voice: _,
            } => {
                non_empty("media_id", media_id)?;
                bytes("media_id", media_id, MAX_MEDIA_ID_BYTES)?;
                if let Some(c) = caption {
                    bytes("caption", c, MAX_CAPTION_BYTES)?;
                }
                if let Some(f) = filename {
                    non_empty("filename", f)?;
                    chars("filename", f, MAX_FILENAME_CHARS)?;
                    if f.contains(['/', '\0']) || f == "." || f == ".." {
                        return Err(CoreError::InvalidBody(format!(
                            "filename {:?} is not a plain file name: no \"/\", no NUL, not \".\" or \"..\"",
                            f.chars().take(60).collect::<String>()
                        )));
                    }
                }
            }
            Body::Ciphertext {
                ciphertext,
                algorithm,
            } => {
                non_empty("ciphertext", ciphertext)?;
                non_empty("algorithm", algorithm)?;
                bytes("ciphertext", ciphertext, MAX_CIPHERTEXT_BYTES)?;
                bytes("algorithm", algorithm, MAX_ALGORITHM_BYTES)?;
            }
            Body::Location { location } => {
                let Location {
                    latitude,
                    longitude,
                    name,
                    address,
                } = location;
                if !(-90.0..=90.0).contains(latitude) {
                    return Err(CoreError::InvalidBody(format!(
                        "location.latitude {latitude} is out of range: expected -90 to 90"
                    )));
                }
                if !(-180.0..=180.0).contains(longitude) {
                    return Err(CoreError::InvalidBody(format!(
                        "location.longitude {longitude} is out of range: expected -180 to 180"
                    )));
                }
                if let Some(n) = name {
                    chars("location.name", n, MAX_LOCATION_TEXT_CHARS)?;
                }
                if let Some(a) = address {
                    chars("location.address", a, MAX_LOCATION_TEXT_CHARS)?;
                }
            }
            Body::Contacts { contacts } => {
                if contacts.is_empty() || contacts.len() > MAX_CONTACTS {
                    return Err(CoreError::InvalidBody(format!(
                        "contacts holds {} cards; send 1 to {MAX_CONTACTS}",
                        contacts.len()
                    )));
                }
                for (i, card) in contacts.iter().enumerate() {
                    let formatted = card
                        .as_object()
                        .and_then(|c| c.get("name"))
                        .and_then(|n| n.get("formatted_name"))
                        .and_then(Value::as_str);
                    if formatted.is_none_or(str::is_empty) {
                        return Err(CoreError::InvalidBody(format!(
                            "contacts[{i}] needs \"name\": {{\"formatted_name\": \"…\"}} with a non-empty string"
                        )));
                    }
                }
                let len = self.to_json().len();
                if len > MAX_CONTACTS_BODY_BYTES {
                    return Err(CoreError::FieldTooLong {
                        field: "contacts",
                        len,
                        max: MAX_CONTACTS_BODY_BYTES,
                    });
                }
            }
            Body::Reaction { reaction } => {
                non_empty("reaction.message_id", &reaction.message_id)?;
                bytes(
                    "reaction.message_id",
                    &reaction.message_id,
                    MAX_REACTION_MESSAGE_ID_BYTES,
                )?;
                // Empty is allowed: it removes the reaction.
                bytes("reaction.emoji", &reaction.emoji, MAX_REACTION_EMOJI_BYTES)?;
            }
            Body::ButtonReply { button_reply } => {
                non_empty("button_reply.id", &button_reply.id)?;
                bytes(
                    "button_reply.id",
                    &button_reply.id,
                    MAX_BUTTON_REPLY_ID_BYTES,
                )?;
                non_empty("button_reply.title", &button_reply.title)?;
                chars(
                    "button_reply.title",
                    &button_reply.title,
                    MAX_BUTTON_REPLY_TITLE_CHARS,
                )?;
            }
            Body::ListReply { list_reply } => {
                non_empty("list_reply.id", &list_reply.id)?;
                bytes("list_reply.id", &list_reply.id, MAX_LIST_REPLY_ID_BYTES)?;
                non_empty("list_reply.title", &list_reply.title)?;
                chars(
                    "list_reply.title",
                    &list_reply.title,
                    MAX_LIST_REPLY_TITLE_CHARS,
                )?;
                if let Some(d) = &list_reply.description {
                    chars(
                        "list_reply.description",
                        d,
                        MAX_LIST_REPLY_DESCRIPTION_CHARS,
                    )?;
                }
            }
            // Never accepted from consumers (`parse` refuses them before this); the
            // business side checks them against the Cloud API's rules.
            Body::Template { .. }
            | Body::Interactive { .. }
            | Body::Product { .. }
            | Body::Catalog { .. }
            | Body::Order { .. }
            | Body::OrderStatus { .. } => {}
        }
        Ok(())
    }

    /// The canonical JSON stored and relayed for this body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .expect("a body of strings, numbers and JSON values always serialises")
    }

    /// A short human preview, for CLIs and notifications. Every shape but text is one
    /// line.
    pub fn preview(&self) -> String {
        match self {
            Body::Text { text } => text.clone(),
            Body::Media { voice: true, .. } => "[voice message]".to_string(),
            Body::Media {
                caption, filename, ..
            } => match filename {
                Some(f) => one_line(&format!("[media {f}] {}", caption.as_deref().unwrap_or(""))),
                None => format!("[media] {}", caption.as_deref().unwrap_or("")),
            },
            Body::Ciphertext { algorithm, .. } => format!("[encrypted: {algorithm}]"),
            Body::Location { location } => {
                let label = [location.name.as_deref(), location.address.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                let at = format!("{:.5}, {:.5}", location.latitude, location.longitude);
                if label.is_empty() {
                    format!("[location] {at}")
                } else {
                    one_line(&format!("[location] {label} ({at})"))
                }
            }
            Body::Contacts { contacts } => {
                let first = contacts
                    .first()
                    .and_then(|c| c.pointer("/name/formatted_name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                match contacts.len() {
                    0 | 1 => one_line(&format!("[contact] {first}")),
                    n => one_line(&format!("[contacts] {first} +{} more", n - 1)),
                }
            }
            Body::Reaction { reaction } if reaction.emoji.is_empty() => {
                format!("[reaction removed from {}]", reaction.message_id)
            }
            Body::Reaction { reaction } => {
                format!("[reacted {} to {}]", reaction.emoji, reaction.message_id)
            }
            Body::ButtonReply { button_reply } => {
                one_line(&format!("[tapped] {}", button_reply.title))
            }
            Body::ListReply { list_reply } => one_line(&format!("[chose] {}", list_reply.title)),
            Body::Template { template } => one_line(&template_preview(template)),
            Body::Interactive { interactive } => one_line(&interactive_preview(interactive)),
            Body::Product { product } => one_line(&product_preview(product)),
            Body::Catalog { catalog } => one_line(&catalog_preview(catalog)),
            Body::Order { order } => one_line(&order_preview(order)),
            Body::OrderStatus { order_status } => one_line(&order_status_preview(order_status)),
        }
    }
}

fn commerce_str<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// A price of a commerce message: its `display` text, else the raw minor units.
fn money_preview(v: &Value, pointer: &str) -> String {
    let display = commerce_str(v, &format!("{pointer}/display"));
    if !display.is_empty() {
        return display.to_owned();
    }
    let amount = v
        .pointer(&format!("{pointer}/amount_minor"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    format!(
        "{amount} minor units {}",
        commerce_str(v, &format!("{pointer}/currency"))
    )
}

fn with_text(preview: String, v: &Value, field: &str) -> String {
    match commerce_str(v, &format!("/{field}")) {
        "" => preview,
        t => format!("{preview} · {t}"),
    }
}

fn product_preview(p: &Value) -> String {
    let unavailable = if p.get("available").and_then(Value::as_bool) == Some(false) {
        " (unavailable)"
    } else {
        ""
    };
    with_text(
        format!(
            "🛍 {} — {}{unavailable}",
            commerce_str(p, "/name"),
            money_preview(p, "/price")
        ),
        p,
        "text",
    )
}

fn catalog_preview(c: &Value) -> String {
    let count = c.get("count").and_then(Value::as_u64).unwrap_or(0);
    let what = match commerce_str(c, "/collection/name") {
        "" => format!("{} catalog", commerce_str(c, "/business_name")),
        name => name.to_owned(),
    };
    let plural = if count == 1 { "" } else { "s" };
    with_text(
        format!("📖 {} · {count} product{plural}", what.trim()),
        c,
        "text",
    )
}

fn order_preview(o: &Value) -> String {
    let count = o.get("item_count").and_then(Value::as_u64).unwrap_or(0);
    let plural = if count == 1 { "" } else { "s" };
    with_text(
        format!(
            "🛒 Order: {count} item{plural}, {}",
            money_preview(o, "/total")
        ),
        o,
        "text",
    )
}

fn order_status_preview(s: &Value) -> String {
    with_text(
        format!(
            "📦 Order {} is {} ({})",
            commerce_str(s, "/order_id"),
            commerce_str(s, "/status"),
            money_preview(s, "/total")
        ),
        s,
        "note",
    )
}

fn non_empty(field: &'static str, value: &str) -> Result<(), CoreError> {
    if value.is_empty() {
        return Err(CoreError::Empty(field));
    }
    Ok(())
}

fn bytes(field: &'static str, value: &str, max: usize) -> Result<(), CoreError> {
    if value.len() > max {
        return Err(CoreError::FieldTooLong {
            field,
            len: value.len(),
            max,
        });
    }
    Ok(())
}

fn chars(field: &'static str, value: &str, max: usize) -> Result<(), CoreError> {
    // Bytes bound characters from above: count only when it could matter.
    if value.len() > max {
        let len = value.chars().count();
        if len > max {
            return Err(CoreError::FieldTooManyChars { field, len, max });
        }
    }
    Ok(())
}

/// Newlines and runs of blanks become one space, so a preview fits one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The text of a template or interactive header: its text, or what kind of media or
/// place it shows.
fn header_preview(header: &Value) -> Option<String> {
    if let Some(t) = str_at(header, "/text") {
        return Some(t.to_string());
    }
    if header.get("media_id").is_some() {
        let kind = str_at(header, "/kind").unwrap_or("media");
        return Some(match str_at(header, "/filename") {
            Some(f) => format!("[{kind} {f}]"),
            None => format!("[{kind}]"),
        });
    }
    if let Some(loc) = header.get("location") {
        return Some(match str_at(loc, "/name") {
            Some(name) => format!("[location {name}]"),
            None => "[location]".to_string(),
        });
    }
    None
}

/// `header · body · footer`, skipping the parts that are absent.
fn parts(v: &Value) -> String {
    let header = v.get("header").and_then(header_preview);
    [header.as_deref(), str_at(v, "/body"), str_at(v, "/footer")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

fn template_preview(t: &Value) -> String {
    let name = str_at(t, "/name").unwrap_or("?");
    let mut out = format!("[template {name}] {}", parts(t));
    let buttons: Vec<String> = t
        .get("buttons")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|b| {
            let text = str_at(b, "/text").unwrap_or("?");
            match str_at(b, "/type") {
                Some("url") => format!("[{text} ↗]"),
                Some("phone_number") => format!("[{text} ☎]"),
                Some("copy_code") => match str_at(b, "/code") {
                    Some(code) => format!("[{text}: {code}]"),
                    None => format!("[{text}]"),
                },
                _ => format!("[{text}]"),
            }
        })
        .collect();
    if !buttons.is_empty() {
        out.push_str(" — ");
        out.push_str(&buttons.join(" "));
    }
    out
}

fn interactive_preview(i: &Value) -> String {
    let text = parts(i);
    match str_at(i, "/type") {
        Some("button") => {
            let buttons: Vec<String> = i
                .get("buttons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|b| format!("[{}]", str_at(b, "/title").unwrap_or("?")))
                .collect();
            format!("[buttons] {text} — {}", buttons.join(" "))
        }
        Some("list") => {
            let rows: usize = i
                .get("sections")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("rows").and_then(Value::as_array))
                .map(Vec::len)
                .sum();
            let button = str_at(i, "/button").unwrap_or("choose");
            format!("[list] {text} — [{button} ▾ {rows} options]")
        }
        Some("cta_url") => {
            let label = str_at(i, "/cta/display_text").unwrap_or("open");
            let url = str_at(i, "/cta/url").unwrap_or("");
            format!("[link] {text} — [{label} ↗ {url}]")
        }
        other => format!("[interactive {}] {text}", other.unwrap_or("?")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(json)`: accepted, stored as `json`; `Err(code)`: refused with that code.
    fn check(json: &str, expect: Result<&str, &str>) {
        let got = Body::parse(json).map(|b| b.to_json()).map_err(|e| e.code());
        assert_eq!(got.as_deref().map_err(|e| *e), expect, "{json}");
    }

    /// Refused with `code`, and the message says `needle`.
    fn check_err(json: &str, code: &str, needle: &str) {
        let err = Body::parse(json).expect_err(json);
        assert_eq!(err.code(), code, "{json}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(needle), "{json}: {msg:?} lacks {needle:?}");
    }

    fn s(n: usize, c: char) -> String {
        std::iter::repeat_n(c, n).collect()
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

    #[test]
    fn combinations_are_refused() {
        for json in [
            r#"{"text":"a","caption":"c"}"#,
            r#"{"text":"a","algorithm":"x"}"#,
            r#"{"caption":"c"}"#,
            r#"{"filename":"a.pdf"}"#,
            r#"{"voice":true}"#,
            r#"{"algorithm":"x"}"#,
            r#"{"media_id":"m","algorithm":"x"}"#,
            r#"{"text":"a","location":{"latitude":1,"longitude":2}}"#,
            r#"{"reaction":{"message_id":"m","emoji":""},"button_reply":{"id":"a","title":"b"}}"#,
            r#"{"contacts":[{"name":{"formatted_name":"A"}}],"caption":"c"}"#,
        ] {
            check_err(json, "invalid_body", "exactly one of");
        }
    }

    #[test]
    fn media() {
        let m = "m1";
        for (json, expect) in [
            (
                format!(r#"{{"media_id":"{m}","filename":"report.pdf"}}"#),
                Ok(r#"{"media_id":"m1","filename":"report.pdf"}"#),
            ),
            (
                format!(r#"{{"media_id":"{m}","voice":true}}"#),
                Ok(r#"{"media_id":"m1","voice":true}"#),
            ),
            // false is the default and is not stored.
            (
                format!(r#"{{"media_id":"{m}","voice":false,"caption":"c"}}"#),
                Ok(r#"{"media_id":"m1","caption":"c"}"#),
            ),
            (
                format!(r#"{{"media_id":"{m}","filename":"{}"}}"#, s(240, 'é')),
                Ok(""),
            ),
            (
                format!(r#"{{"media_id":"{m}","filename":"{}"}}"#, s(241, 'é')),
                Err("field_too_long"),
            ),
            (
                format!(r#"{{"media_id":"{m}","filename":""}}"#),
                Err("invalid_request"),
            ),
            (
                format!(r#"{{"media_id":"{m}","filename":"a/b"}}"#),
                Err("invalid_body"),
            ),
            (
                format!(r#"{{"media_id":"{m}","filename":"a\u0000b"}}"#),
                Err("invalid_body"),
            ),
            (
                format!(r#"{{"media_id":"{m}","filename":".."}}"#),
                Err("invalid_body"),
            ),
            (
                format!(r#"{{"media_id":"{m}","voice":"yes"}}"#),
                Err("invalid_body"),
            ),
            (r#"{"media_id":""}"#.to_string(), Err("invalid_request")),
            (
                format!(r#"{{"media_id":"{}"}}"#, s(MAX_MEDIA_ID_BYTES + 1, 'a')),
                Err("field_too_long"),
            ),
        ] {
            match expect {
                // Accepted, canonical form not spelled out here.
                Ok("") => assert!(Body::parse(&json).is_ok(), "{json}"),
                _ => check(&json, expect),
            }
        }
        check_err(
            r#"{"media_id":"m","filename":"../etc/passwd"}"#,
            "invalid_body",
            "not a plain file name",
        );
        check_err(
            &format!(r#"{{"media_id":"m","filename":"{}"}}"#, s(241, 'x')),
            "field_too_long",
            "filename is 241 characters; the limit is 240",
        );
    }

    #[test]
    fn location() {
        check(
            r#"{"location":{"latitude":52.52,"longitude":13.405,"name":"Café","address":"Unter den Linden 1"}}"#,
            Ok(
                r#"{"location":{"latitude":52.52,"longitude":13.405,"name":"Café","address":"Unter den Linden 1"}}"#,
            ),
        );
        check(
            r#"{"location":{"latitude":-90,"longitude":180}}"#,
            Ok(r#"{"location":{"latitude":-90.0,"longitude":180.0}}"#),
        );
        check(
            r#"{"location":{"latitude":90,"longitude":-180}}"#,
            Ok(r#"{"location":{"latitude":90.0,"longitude":-180.0}}"#),
        );
        check_err(
            r#"{"location":{"latitude":90.5,"longitude":0}}"#,
            "invalid_body",
            "location.latitude 90.5 is out of range",
        );
        check_err(
            r#"{"location":{"latitude":0,"longitude":-180.01}}"#,
            "invalid_body",
            "location.longitude -180.01 is out of range",
        );
        check_err(
            r#"{"location":{"latitude":0}}"#,
            "invalid_body",
            "missing field `longitude`",
        );
        check_err(
            r#"{"location":{"latitude":"52","longitude":13}}"#,
            "invalid_body",
            "invalid type",
        );
        check_err(
            r#"{"location":{"latitude":1,"longitude":2,"zoom":3}}"#,
            "invalid_body",
            "unknown field `zoom`",
        );
        check(
            r#"{"location":{"latitude":1e999,"longitude":2}}"#,
            Err("invalid_body"),
        );
        let name = s(1000, '日');
        assert!(
            Body::parse(&format!(
                r#"{{"location":{{"latitude":1,"longitude":2,"name":"{name}","address":"{name}"}}}}"#
            ))
            .is_ok()
        );
        check_err(
            &format!(r#"{{"location":{{"latitude":1,"longitude":2,"name":"{name}x"}}}}"#),
            "field_too_long",
            "location.name is 1001 characters",
        );
        check_err(
            &format!(r#"{{"location":{{"latitude":1,"longitude":2,"address":"{name}x"}}}}"#),
            "field_too_long",
            "location.address is 1001 characters",
        );
    }

    #[test]
    fn contacts() {
        let card = r#"{"name":{"formatted_name":"Ada Lovelace","first_name":"Ada"},"phones":[{"phone":"+4915112345678","type":"CELL","wa_id":"4915112345678"}]}"#;
        // Every field is kept as sent.
        let one = format!(r#"{{"contacts":[{card}]}}"#);
        let stored = Body::parse(&one).expect("valid").to_json();
        assert_eq!(
            serde_json::from_str::<Value>(&stored).expect("json"),
            serde_json::from_str::<Value>(&one).expect("json")
        );
        let ten = format!(r#"{{"contacts":[{}]}}"#, [card; 10].join(","));
        assert!(Body::parse(&ten).is_ok());
        let eleven = format!(r#"{{"contacts":[{}]}}"#, [card; 11].join(","));
        check_err(
            &eleven,
            "invalid_body",
            "contacts holds 11 cards; send 1 to 10",
        );
        check_err(
            r#"{"contacts":[]}"#,
            "invalid_body",
            "contacts holds 0 cards",
        );
        for (json, index) in [
            (r#"{"contacts":[{"phones":[]}]}"#, 0),
            (r#"{"contacts":["Ada"]}"#, 0),
            (r#"{"contacts":[{"name":"Ada"}]}"#, 0),
            (r#"{"contacts":[{"name":{"formatted_name":""}}]}"#, 0),
            (r#"{"contacts":[{"name":{"formatted_name":7}}]}"#, 0),
            (
                r#"{"contacts":[{"name":{"formatted_name":"A"}},{"name":{"first_name":"B"}}]}"#,
                1,
            ),
        ] {
            check_err(json, "invalid_body", &format!("contacts[{index}] needs"));
        }
        check_err(
            r#"{"contacts":{"name":{}}}"#,
            "invalid_body",
            "invalid type",
        );
        let big = format!(
            r#"{{"contacts":[{{"name":{{"formatted_name":"A"}},"note":"{}"}}]}}"#,
            s(MAX_CONTACTS_BODY_BYTES, 'x')
        );
        check_err(&big, "field_too_long", "contacts is");
        let fits = format!(
            r#"{{"contacts":[{{"name":{{"formatted_name":"A"}},"note":"{}"}}]}}"#,
            s(MAX_CONTACTS_BODY_BYTES - 60, 'x')
        );
        assert!(Body::parse(&fits).is_ok());
    }

    #[test]
    fn reaction() {
        check(
            r#"{"reaction":{"message_id":"c1:42","emoji":"👍"}}"#,
            Ok(r#"{"reaction":{"message_id":"c1:42","emoji":"👍"}}"#),
        );
        // Empty removes the reaction.
        check(
            r#"{"reaction":{"message_id":"c1:42","emoji":""}}"#,
            Ok(r#"{"reaction":{"message_id":"c1:42","emoji":""}}"#),
        );
        // A family emoji (ZWJ sequence, 25 bytes) fits.
        check(
            r#"{"reaction":{"message_id":"m","emoji":"👨‍👩‍👧‍👦"}}"#,
            Ok(r#"{"reaction":{"message_id":"m","emoji":"👨‍👩‍👧‍👦"}}"#),
        );
        check_err(
            &format!(
                r#"{{"reaction":{{"message_id":"m","emoji":"{}"}}}}"#,
                s(9, '👍')
            ),
            "field_too_long",
            "reaction.emoji is 36 bytes; the limit is 32",
        );
        check_err(
            r#"{"reaction":{"message_id":"","emoji":"👍"}}"#,
            "invalid_request",
            "reaction.message_id must not be empty",
        );
        check_err(
            &format!(
                r#"{{"reaction":{{"message_id":"{}","emoji":"👍"}}}}"#,
                s(257, 'a')
            ),
            "field_too_long",
            "reaction.message_id is 257 bytes",
        );
        check_err(
            r#"{"reaction":{"message_id":"m"}}"#,
            "invalid_body",
            "missing field `emoji`",
        );
        check_err(
            r#"{"reaction":{"message_id":"m","emoji":"👍","x":1}}"#,
            "invalid_body",
            "unknown field `x`",
        );
    }

    #[test]
    fn button_reply() {
        check(
            r#"{"button_reply":{"id":"yes-1","title":"Yes, confirm"}}"#,
            Ok(r#"{"button_reply":{"id":"yes-1","title":"Yes, confirm"}}"#),
        );
        assert!(
            Body::parse(&format!(
                r#"{{"button_reply":{{"id":"{}","title":"{}"}}}}"#,
                s(256, 'a'),
                s(20, 'ü')
            ))
            .is_ok()
        );
        for (json, code, needle) in [
            (
                r#"{"button_reply":{"id":"","title":"t"}}"#.to_string(),
                "invalid_request",
                "button_reply.id must not be empty",
            ),
            (
                format!(
                    r#"{{"button_reply":{{"id":"{}","title":"t"}}}}"#,
                    s(257, 'a')
                ),
                "field_too_long",
                "button_reply.id is 257 bytes",
            ),
            (
                r#"{"button_reply":{"id":"a","title":""}}"#.to_string(),
                "invalid_request",
                "button_reply.title must not be empty",
            ),
            (
                format!(
                    r#"{{"button_reply":{{"id":"a","title":"{}"}}}}"#,
                    s(21, 'ü')
                ),
                "field_too_long",
                "button_reply.title is 21 characters; the limit is 20",
            ),
            (
                r#"{"button_reply":{"id":"a"}}"#.to_string(),
                "invalid_body",
                "missing field `title`",
            ),
            (
                r#"{"button_reply":{"id":"a","title":"t","payload":"p"}}"#.to_string(),
                "invalid_body",
                "unknown field `payload`",
            ),
        ] {
            check_err(&json, code, needle);
        }
    }

    #[test]
    fn list_reply() {
        check(
            r#"{"list_reply":{"id":"row-2","title":"Tomorrow 10:00"}}"#,
            Ok(r#"{"list_reply":{"id":"row-2","title":"Tomorrow 10:00"}}"#),
        );
        check(
            r#"{"list_reply":{"id":"r","title":"t","description":"d"}}"#,
            Ok(r#"{"list_reply":{"id":"r","title":"t","description":"d"}}"#),
        );
        assert!(
            Body::parse(&format!(
                r#"{{"list_reply":{{"id":"{}","title":"{}","description":"{}"}}}}"#,
                s(200, 'a'),
                s(24, 'ß'),
                s(72, 'ß')
            ))
            .is_ok()
        );
        for (json, code, needle) in [
            (
                r#"{"list_reply":{"id":"","title":"t"}}"#.to_string(),
                "invalid_request",
                "list_reply.id must not be empty",
            ),
            (
                format!(r#"{{"list_reply":{{"id":"{}","title":"t"}}}}"#, s(201, 'a')),
                "field_too_long",
                "list_reply.id is 201 bytes",
            ),
            (
                r#"{"list_reply":{"id":"a","title":""}}"#.to_string(),
                "invalid_request",
                "list_reply.title must not be empty",
            ),
            (
                format!(r#"{{"list_reply":{{"id":"a","title":"{}"}}}}"#, s(25, 'ß')),
                "field_too_long",
                "list_reply.title is 25 characters; the limit is 24",
            ),
            (
                format!(
                    r#"{{"list_reply":{{"id":"a","title":"t","description":"{}"}}}}"#,
                    s(73, 'ß')
                ),
                "field_too_long",
                "list_reply.description is 73 characters; the limit is 72",
            ),
            (
                r#"{"list_reply":{"id":"a","title":"t","extra":1}}"#.to_string(),
                "invalid_body",
                "unknown field `extra`",
            ),
        ] {
            check_err(&json, code, needle);
        }
    }

    const TEMPLATE: &str = r#"{"template":{"name":"order_shipped","language":"en_US","category":"utility","header":{"text":"Order 123"},"body":"Your order has\nshipped.","footer":"Reply STOP to opt out","buttons":[{"type":"url","text":"Track","url":"https://shop.example/t/123"},{"type":"quick_reply","text":"Stop","payload":"STOP"},{"type":"copy_code","text":"Copy code","code":"SAVE10"}]}}"#;
    const BUTTONS: &str = r#"{"interactive":{"type":"button","header":{"media_id":"abc","kind":"image"},"body":"Confirm your booking?","buttons":[{"id":"yes","title":"Yes"},{"id":"no","title":"No"}]}}"#;
    const LIST: &str = r#"{"interactive":{"type":"list","body":"Pick a slot","button":"Slots","sections":[{"title":"Mon","rows":[{"id":"a","title":"9:00"},{"id":"b","title":"10:00"}]},{"rows":[{"id":"c","title":"11:00","description":"late"}]}]}}"#;
    const CTA: &str = r#"{"interactive":{"type":"cta_url","body":"See the menu","footer":"Open daily","cta":{"display_text":"Menu","url":"https://cafe.example/menu"}}}"#;

    #[test]
    fn business_only_shapes_are_refused_from_consumers() {
        for json in [TEMPLATE, BUTTONS, LIST, CTA, r#"{"template":{}}"#] {
            check_err(json, "invalid_body", "only businesses send templates");
        }
        check_err(
            r#"{"text":"hi","template":{}}"#,
            "invalid_body",
            "only businesses send templates",
        );
    }

    #[test]
    fn stored_bodies_round_trip() {
        for json in [
            TEMPLATE,
            BUTTONS,
            LIST,
            CTA,
            r#"{"text":"hi"}"#,
            r#"{"media_id":"m","caption":"c","filename":"a.pdf","voice":true}"#,
            r#"{"location":{"latitude":1.5,"longitude":2.5,"name":"n"}}"#,
            r#"{"contacts":[{"name":{"formatted_name":"A"},"org":{"company":"X"}}]}"#,
            r#"{"reaction":{"message_id":"m","emoji":"👍"}}"#,
            r#"{"button_reply":{"id":"a","title":"b"}}"#,
            r#"{"list_reply":{"id":"a","title":"b","description":"c"}}"#,
            r#"{"ciphertext":"AAAA","algorithm":"olm.v1"}"#,
        ] {
            let body = Body::from_stored(json).expect(json);
            let back: Value = serde_json::from_str(&body.to_json()).expect("json");
            assert_eq!(
                back,
                serde_json::from_str::<Value>(json).expect("json"),
                "{json}"
            );
            assert_eq!(
                body.is_business_only(),
                json.contains("template") || json.contains("interactive")
            );
        }
        assert!(matches!(
            Body::from_stored(TEMPLATE),
            Ok(Body::Template { .. })
        ));
        assert!(matches!(
            Body::from_stored(LIST),
            Ok(Body::Interactive { .. })
        ));
        assert_eq!(
            Body::from_stored("{}").map_err(|e| e.code()),
            Err("invalid_body")
        );
    }

    #[test]
    fn previews() {
        for (json, expect) in [
            (r#"{"text":"hi"}"#, "hi"),
            (r#"{"media_id":"m","caption":"cake"}"#, "[media] cake"),
            (
                r#"{"media_id":"m","filename":"a.pdf","caption":"Q3"}"#,
                "[media a.pdf] Q3",
            ),
            (r#"{"media_id":"m","voice":true}"#, "[voice message]"),
            (
                r#"{"ciphertext":"AA","algorithm":"olm.v1"}"#,
                "[encrypted: olm.v1]",
            ),
            (
                r#"{"location":{"latitude":52.52,"longitude":13.405,"name":"Café","address":"Main St"}}"#,
                "[location] Café, Main St (52.52000, 13.40500)",
            ),
            (
                r#"{"location":{"latitude":1,"longitude":2}}"#,
                "[location] 1.00000, 2.00000",
            ),
            (
                r#"{"contacts":[{"name":{"formatted_name":"Ada"}}]}"#,
                "[contact] Ada",
            ),
            (
                r#"{"contacts":[{"name":{"formatted_name":"Ada"}},{"name":{"formatted_name":"Bo"}}]}"#,
                "[contacts] Ada +1 more",
            ),
            (
                r#"{"reaction":{"message_id":"c:4","emoji":"👍"}}"#,
                "[reacted 👍 to c:4]",
            ),
            (
                r#"{"reaction":{"message_id":"c:4","emoji":""}}"#,
                "[reaction removed from c:4]",
            ),
            (
                r#"{"button_reply":{"id":"y","title":"Yes"}}"#,
                "[tapped] Yes",
            ),
            (
                r#"{"list_reply":{"id":"a","title":"9:00"}}"#,
                "[chose] 9:00",
            ),
            (
                TEMPLATE,
                "[template order_shipped] Order 123 · Your order has shipped. · Reply STOP to opt out — [Track ↗] [Stop] [Copy code: SAVE10]",
            ),
            (
                BUTTONS,
                "[buttons] [image] · Confirm your booking? — [Yes] [No]",
            ),
            (LIST, "[list] Pick a slot — [Slots ▾ 3 options]"),
            (
                CTA,
                "[link] See the menu · Open daily — [Menu ↗ https://cafe.example/menu]",
            ),
        ] {
            let body = Body::from_stored(json).expect(json);
            assert_eq!(body.preview(), expect, "{json}");
        }
    }

    const PRODUCT: &str = r#"{"product":{"id":"p1","name":"Pretzel","description":"","price":{"amount_minor":120,"currency":"EUR","display":"€1.20"},"available":true,"text":"Fresh!"}}"#;
    const CATALOG: &str = r#"{"catalog":{"business_name":"Bruno's","count":2,"products":[],"collection":{"id":"c1","name":"Breakfast"}}}"#;
    const ORDER: &str = r#"{"order":{"order_id":"o1","items":[],"item_count":3,"total":{"amount_minor":490,"currency":"EUR","display":"€4.90"},"text":"no sugar"}}"#;
    const ORDER_STATUS: &str = r#"{"order_status":{"order_id":"o1","status":"ready","item_count":1,"total":{"amount_minor":5,"currency":"JPY"}}}"#;

    #[test]
    fn commerce_bodies() {
        for json in [PRODUCT, CATALOG, ORDER_STATUS] {
            check_err(json, "invalid_body", "the business app sends them");
        }
        check_err(
            ORDER,
            "invalid_body",
            "POST /v1/businesses/{user_id}/orders",
        );
        check_err(
            r#"{"text":"hi","order":{}}"#,
            "invalid_body",
            "cannot be sent raw",
        );
        for (json, business_only, preview) in [
            (PRODUCT, true, "🛍 Pretzel — €1.20 · Fresh!"),
            (CATALOG, true, "📖 Breakfast · 2 products"),
            (ORDER, false, "🛒 Order: 3 items, €4.90 · no sugar"),
            (
                ORDER_STATUS,
                true,
                "📦 Order o1 is ready (5 minor units JPY)",
            ),
        ] {
            let body = Body::from_stored(json).expect(json);
            assert!(body.is_server_built(), "{json}");
            assert_eq!(body.is_business_only(), business_only, "{json}");
            assert_eq!(body.preview(), preview, "{json}");
            let back: Value = serde_json::from_str(&body.to_json()).expect("json");
            assert_eq!(back, serde_json::from_str::<Value>(json).expect("json"));
        }
        assert!(
            !Body::from_stored(r#"{"text":"hi"}"#)
                .expect("text")
                .is_server_built()
        );
    }
}
