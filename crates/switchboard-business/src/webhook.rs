//! Webhook payloads the server POSTs to a business, and their signatures.
//!
//! Receivers verify `X-Hub-Signature-256` over the exact bytes they get, and Meta
//! sends ASCII-only JSON, so this module both builds the Cloud API shapes (inbound
//! messages, statuses, template status updates) and serialises them the way Meta does
//! before they are signed and stored in the outbox.

use std::io;

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::GraphError;
use crate::ids;
use crate::send::MediaKind;

type HmacSha256 = Hmac<Sha256>;

/// A serde_json formatter that writes every non-ASCII character as `\uXXXX` with
/// lowercase hex (astral characters as a surrogate pair), as Meta does.
struct AsciiFormatter;

impl serde_json::ser::Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Compact JSON with every non-ASCII character escaped (`ä` → `\u00e4`, `😮` →
/// `\ud83d\ude2e`). serde_json reads it back to the same value.
pub fn ascii_json(v: &Value) -> String {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    v.serialize(&mut ser)
        .expect("a serde_json::Value always serialises to memory");
    String::from_utf8(out).expect("the formatter writes ASCII only")
}

fn mac(app_secret: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

/// The `X-Hub-Signature-256` value of `body`: `sha256=` and the lowercase hex
/// HMAC-SHA256 keyed with the app secret.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(app_secret, body).finalize().into_bytes())
    )
}

/// Checks an `X-Hub-Signature-256` header in constant time. The `sha256=` prefix may
/// be omitted (pywa strips it), hex may be in either case.
pub fn verify(app_secret: &[u8], body: &[u8], header: &str) -> bool {
    let header = header.trim();
    let hex_sig = header
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("sha256="))
        .map_or(header, |_| &header[7..]);
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    mac(app_secret, body).verify_slice(&sig).is_ok()
}

/// The `metadata` of a `messages` change: which business number it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// Digits, no `+`.
    pub display_phone_number: String,
    pub phone_number_id: String,
}

impl Metadata {
    fn json(&self) -> Value {
        json!({
            "display_phone_number": self.display_phone_number,
            "phone_number_id": self.phone_number_id,
        })
    }
}

/// The webhook envelope around one change.
pub fn envelope(waba_id: &str, field: &str, value: Value, time_secs: i64) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": waba_id,
            "time": time_secs,
            "changes": [{ "field": field, "value": value }],
        }],
    })
}

/// The `value` of a `messages` change carrying one inbound message.
pub fn inbound_message_value(
    meta: &Metadata,
    customer_wa_id: &str,
    customer_name: Option<&str>,
    message: Value,
) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "metadata": meta.json(),
        "contacts": [{
            "profile": { "name": customer_name.unwrap_or_default() },
            "wa_id": customer_wa_id,
            "user_id": crate::ids::bsuid(customer_wa_id),
        }],
        "messages": [message],
    })
}

/// What the server knows about the media of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFacts {
    pub kind: MediaKind,
    pub mime_type: String,
    pub sha256: String,
    pub filename: Option<String>,
    pub voice: bool,
}

fn unsupported(why: &str) -> (String, Value) {
    (
        "unsupported".into(),
        json!([{
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": { "details": why },
        }]),
    )
}

/// One inbound message (`value.messages[]`) from the customer's protocol body.
///
/// `timestamp` is a string of unix seconds; `context` is `(from, wamid)` of the
/// message replied to; `reply_to_template` makes a `button_reply` a template
/// quick-reply (`type: button`) rather than an interactive reply. Bodies with no Cloud
/// API equivalent (ciphertext, unknown shapes, media without facts) become
/// `type: unsupported` with error 131051.
pub fn inbound_message(
    id_wamid: &str,
    from: &str,
    ts_secs: i64,
    body: &Value,
    media: Option<&MediaFacts>,
    context: Option<(&str, &str)>,
    reply_to_template: bool,
) -> Value {
    let (ty, key, payload) = map_body(body, media, reply_to_template);
    let mut m = Map::new();
    if let Some((from, id)) = context {
        m.insert("context".into(), json!({ "from": from, "id": id }));
    }
    m.insert("from".into(), json!(from));
    m.insert("id".into(), json!(id_wamid));
    m.insert("timestamp".into(), json!(ts_secs.to_string()));
    m.insert("type".into(), json!(ty));
    m.insert(key, payload);
    Value::Object(m)
}

/// `(type, key, payload)`: the key is `type` itself except for `unsupported`
/// (`errors`).
fn map_body(
    body: &Value,
    media: Option<&MediaFacts>,
    reply_to_template: bool,
) -> (String, String, Value) {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let simple = |ty: &str, payload: Value| (ty.to_owned(), ty.to_owned(), payload);
    let unsup = |why: &str| {
        let (ty, errors) = unsupported(why);
        (ty, "errors".to_owned(), errors)
    };
    if let Some(text) = str_of(body, "text") {
        return simple("text", json!({ "body": text }));
    }
    if let Some(media_id) = str_of(body, "media_id") {
        let Some(facts) = media else {
            return unsup("the media of this message is not available");
        };
        let Some(graph_id) = ids::media_to_graph(&media_id) else {
            return unsup("the media of this message is not available");
        };
        let mut p = Map::new();
        p.insert("id".into(), json!(graph_id));
        p.insert("mime_type".into(), json!(facts.mime_type));
        p.insert("sha256".into(), json!(facts.sha256));
        if let Some(c) = str_of(body, "caption")
            && !matches!(facts.kind, MediaKind::Audio | MediaKind::Sticker)
        {
            p.insert("caption".into(), json!(c));
        }
        let filename = facts.filename.clone().or_else(|| str_of(body, "filename"));
        if let (MediaKind::Document, Some(f)) = (facts.kind, filename) {
            p.insert("filename".into(), json!(f));
        }
        if facts.kind == MediaKind::Audio {
            let voice = facts.voice || body.get("voice") == Some(&Value::Bool(true));
            p.insert("voice".into(), json!(voice));
        }
        return simple(facts.kind.as_str(), Value::Object(p));
    }
    if let Some(loc) = body.get("location").filter(|l| l.is_object()) {
        return simple("location", loc.clone());
    }
    if let Some(list) = body.get("contacts").filter(|c| c.is_array()) {
        return simple("contacts", list.clone());
    }
    if let Some(r) = body.get("reaction") {
        let id = str_of(r, "message_id").unwrap_or_default();
        let emoji = str_of(r, "emoji").unwrap_or_default();
        return simple(
            "reaction",
            json!({ "message_id": ids::wamid(&id), "emoji": emoji }),
        );
    }
    if let Some(b) = body.get("button_reply") {
        let id = str_of(b, "id").unwrap_or_default();
        let title = str_of(b, "title").unwrap_or_default();
        if reply_to_template {
            return simple("button", json!({ "payload": id, "text": title }));
        }
        return simple(
            "interactive",
            json!({ "type": "button_reply", "button_reply": { "id": id, "title": title } }),
        );
    }
    if let Some(l) = body.get("list_reply") {
        let mut reply = Map::new();
        reply.insert("id".into(), json!(str_of(l, "id").unwrap_or_default()));
        reply.insert(
            "title".into(),
            json!(str_of(l, "title").unwrap_or_default()),
        );
        if let Some(d) = str_of(l, "description") {
            reply.insert("description".into(), json!(d));
        }
        return simple(
            "interactive",
            json!({ "type": "list_reply", "list_reply": reply }),
        );
    }
    if let Some(o) = body.get("order").filter(|o| o.is_object()) {
        return simple("order", order_payload(o));
    }
    if body.get("ciphertext").is_some() {
        return unsup("end-to-end encrypted messages cannot be read by the business API");
    }
    unsup("this message type is not supported by the business API")
}

/// A customer's order (placed in the business app, stored as an `order` body) in
/// the Cloud API's shape: `{catalog_id, text?, product_items: [{product_retailer_id,
/// quantity, item_price, currency}]}`. The retailer id is the product's SKU when it
/// has one, else its id; `item_price` is the unit price as a decimal number.
fn order_payload(o: &Value) -> Value {
    let items: Vec<Value> = o
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|item| {
            let retailer_id = item
                .get("sku")
                .and_then(Value::as_str)
                .or_else(|| item.get("product_id").and_then(Value::as_str))
                .unwrap_or_default();
            let price = item.get("unit_price").unwrap_or(&Value::Null);
            json!({
                "product_retailer_id": retailer_id,
                "quantity": item.get("quantity").and_then(Value::as_u64).unwrap_or(0),
                "item_price": decimal_price(price),
                "currency": price.get("currency").and_then(Value::as_str).unwrap_or_default(),
            })
        })
        .collect();
    let mut p = Map::new();
    p.insert(
        "catalog_id".into(),
        json!(
            o.get("catalog_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
    );
    if let Some(t) = o.get("text").and_then(Value::as_str) {
        p.insert("text".into(), json!(t));
    }
    p.insert("product_items".into(), json!(items));
    Value::Object(p)
}

/// `{amount_minor, minor_digits}` as a JSON number: 250 with 2 digits is `2.5`. The
/// decimal text is exact; the number is the closest double, which prints back as
/// that same decimal (amounts have far fewer than 15 significant digits).
fn decimal_price(price: &Value) -> Value {
    let amount = price
        .get("amount_minor")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let digits = price
        .get("minor_digits")
        .and_then(Value::as_u64)
        .unwrap_or(2)
        .min(4) as u32;
    if digits == 0 {
        return json!(amount);
    }
    let unit = 10i64.pow(digits);
    let text = format!(
        "{}{}.{:0width$}",
        if amount < 0 { "-" } else { "" },
        (amount / unit).unsigned_abs(),
        (amount % unit).unsigned_abs(),
        width = digits as usize
    );
    text.parse::<f64>().map_or(Value::Null, |f| json!(f))
}

/// A message status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl StatusKind {
    /// The Cloud API `status` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Failed => "failed",
        }
    }
}

/// The `pricing` object of a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    pub billable: bool,
    /// `marketing`, `utility`, `authentication`, `authentication-international`, `service`.
    pub category: String,
    /// `regular` or `free_customer_service`.
    pub pricing_type: String,
}

/// One status update of an outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    pub wamid: String,
    pub status: StatusKind,
    pub ts_secs: i64,
    pub recipient_id: String,
    pub biz_opaque_callback_data: Option<String>,
    pub pricing: Option<Pricing>,
    /// `(id, expiration unix seconds, origin type)`.
    pub conversation: Option<(String, Option<i64>, String)>,
    /// For `failed`: why.
    pub errors: Vec<GraphError>,
}

/// The `value` of a `messages` change carrying one status.
pub fn status_value(meta: &Metadata, ev: &StatusEvent) -> Value {
    let mut s = Map::new();
    s.insert("id".into(), json!(ev.wamid));
    s.insert("status".into(), json!(ev.status.as_str()));
    s.insert("timestamp".into(), json!(ev.ts_secs.to_string()));
    s.insert("recipient_id".into(), json!(ev.recipient_id));
    if let Some(d) = &ev.biz_opaque_callback_data {
        s.insert("biz_opaque_callback_data".into(), json!(d));
    }
    if let Some((id, expiration, origin)) = &ev.conversation {
        let mut c = Map::new();
        c.insert("id".into(), json!(id));
        if let Some(e) = expiration {
            c.insert("expiration_timestamp".into(), json!(e.to_string()));
        }
        c.insert("origin".into(), json!({ "type": origin }));
        s.insert("conversation".into(), Value::Object(c));
    }
    if let Some(p) = &ev.pricing {
        s.insert(
            "pricing".into(),
            json!({
                "billable": p.billable,
                "pricing_model": "PMP",
                "category": p.category,
                "type": p.pricing_type,
            }),
        );
    }
    if !ev.errors.is_empty() {
        let errors: Vec<Value> = ev
            .errors
            .iter()
            .map(|e| {
                json!({
                    "code": e.code,
                    "title": e.title,
                    "message": e.title,
                    "error_data": { "details": e.details },
                })
            })
            .collect();
        s.insert("errors".into(), Value::Array(errors));
    }
    json!({
        "messaging_product": "whatsapp",
        "metadata": meta.json(),
        "contacts": [{
            "wa_id": ev.recipient_id,
            "user_id": crate::ids::bsuid(&ev.recipient_id),
        }],
        "statuses": [s],
    })
}

/// The `value` of a `message_template_status_update` change.
pub fn template_status_value(
    event: &str,
    template_id: u64,
    name: &str,
    language: &str,
    category: &str,
    reason: Option<&str>,
) -> Value {
    json!({
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason.unwrap_or("NONE"),
        "message_template_category": category,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_json_escapes_and_round_trips() {
        let cases = [
            (json!({"a": "äöå"}), r#"{"a":"\u00e4\u00f6\u00e5"}"#),
            (json!("😮"), r#""\ud83d\ude2e""#),
            (
                json!({"k€y": ["x\"y\n", 1, null, true]}),
                r#"{"k\u20acy":["x\"y\n",1,null,true]}"#,
            ),
            (json!("\u{1}"), r#""\u0001""#),
            (json!("plain"), r#""plain""#),
        ];
        for (v, want) in cases {
            let got = ascii_json(&v);
            assert_eq!(got, want);
            assert!(got.is_ascii());
            let back: Value = serde_json::from_str(&got).unwrap();
            assert_eq!(back, v);
        }
        let mixed = json!({"text": {"body": "Grüße 👨‍👩‍👧 from Zürich — 東京"}, "n": 1.5});
        assert_eq!(
            serde_json::from_str::<Value>(&ascii_json(&mixed)).unwrap(),
            mixed
        );
    }

    #[test]
    fn hmac_known_vectors() {
        // RFC 4231, test case 2.
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let body = b"what do ya want for nothing?";
        assert!(verify(b"Jefe", body, &sig));
        assert!(verify(
            b"Jefe",
            body,
            &sig.to_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(verify(b"Jefe", body, &sig["sha256=".len()..]));
        assert!(!verify(b"jefe", body, &sig));
        assert!(!verify(b"Jefe", b"what do ya want for nothing!", &sig));
        assert!(!verify(b"Jefe", body, "sha256=zz"));
        assert!(!verify(b"Jefe", body, ""));
    }

    fn meta() -> Metadata {
        Metadata {
            display_phone_number: "15550783881".into(),
            phone_number_id: "106540352242922".into(),
        }
    }

    #[test]
    fn envelope_and_inbound_value() {
        let msg = inbound_message(
            "wamid.X",
            "16505551234",
            1749416383,
            &json!({"text": "hi"}),
            None,
            None,
            false,
        );
        let v = envelope(
            "102290129340398",
            "messages",
            inbound_message_value(&meta(), "16505551234", Some("Sheena"), msg),
            1749416390,
        );
        assert_eq!(
            v,
            json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "time": 1749416390, "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234", "user_id": "SB.16505551234"}],
                "messages": [{"from": "16505551234", "id": "wamid.X", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}}]}}]}]})
        );
    }

    #[test]
    fn inbound_shapes() {
        let hex = "0123456789abcdef0123456789abcdef";
        let graph = ids::media_to_graph(hex).unwrap();
        let facts = |kind, filename: Option<&str>, voice| MediaFacts {
            kind,
            mime_type: "image/jpeg".into(),
            sha256: "abc".into(),
            filename: filename.map(str::to_owned),
            voice,
        };
        let target = "g0123abcd.5";
        let cases: Vec<(Value, Option<MediaFacts>, bool, Value)> = vec![
            (
                json!({"media_id": hex, "caption": "cake"}),
                Some(facts(MediaKind::Image, None, false)),
                false,
                json!({"type": "image", "image": {"id": graph, "mime_type": "image/jpeg", "sha256": "abc", "caption": "cake"}}),
            ),
            (
                json!({"media_id": hex, "filename": "a.pdf"}),
                Some(facts(MediaKind::Document, None, false)),
                false,
                json!({"type": "document", "document": {"id": graph, "mime_type": "image/jpeg", "sha256": "abc", "filename": "a.pdf"}}),
            ),
            (
                json!({"media_id": hex}),
                Some(facts(MediaKind::Audio, None, true)),
                false,
                json!({"type": "audio", "audio": {"id": graph, "mime_type": "image/jpeg", "sha256": "abc", "voice": true}}),
            ),
            (
                json!({"location": {"latitude": 1.0, "longitude": 2.0, "name": "HQ"}}),
                None,
                false,
                json!({"type": "location", "location": {"latitude": 1.0, "longitude": 2.0, "name": "HQ"}}),
            ),
            (
                json!({"contacts": [{"name": {"formatted_name": "A"}}]}),
                None,
                false,
                json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "A"}}]}),
            ),
            (
                json!({"reaction": {"message_id": target, "emoji": "👍"}}),
                None,
                false,
                json!({"type": "reaction", "reaction": {"message_id": ids::wamid(target), "emoji": "👍"}}),
            ),
            (
                json!({"order": {"order_id": "o1", "catalog_id": "123", "item_count": 3, "text": "at 8",
                    "total": {"amount_minor": 500, "currency": "EUR", "minor_digits": 2},
                    "items": [
                        {"product_id": "p1", "name": "Pretzel", "sku": "BR-1", "quantity": 2,
                         "unit_price": {"amount_minor": 250, "currency": "EUR", "minor_digits": 2, "display": "€2.50"}},
                        {"product_id": "p2", "name": "Tea", "sku": null, "quantity": 1,
                         "unit_price": {"amount_minor": 1305, "currency": "KWD", "minor_digits": 3}},
                        {"product_id": "p3", "name": "Mochi", "quantity": 4,
                         "unit_price": {"amount_minor": 300, "currency": "JPY", "minor_digits": 0}}]}}),
                None,
                false,
                json!({"type": "order", "order": {"catalog_id": "123", "text": "at 8", "product_items": [
                    {"product_retailer_id": "BR-1", "quantity": 2, "item_price": 2.5, "currency": "EUR"},
                    {"product_retailer_id": "p2", "quantity": 1, "item_price": 1.305, "currency": "KWD"},
                    {"product_retailer_id": "p3", "quantity": 4, "item_price": 300, "currency": "JPY"}]}}),
            ),
            (
                json!({"button_reply": {"id": "stop", "title": "Stop"}}),
                None,
                true,
                json!({"type": "button", "button": {"payload": "stop", "text": "Stop"}}),
            ),
            (
                json!({"button_reply": {"id": "y", "title": "Yes"}}),
                None,
                false,
                json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "y", "title": "Yes"}}}),
            ),
            (
                json!({"list_reply": {"id": "r1", "title": "One", "description": "d"}}),
                None,
                false,
                json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "r1", "title": "One", "description": "d"}}}),
            ),
        ];
        for (body, media, tpl, want) in cases {
            let got = inbound_message(
                "wamid.I",
                "4915112345678",
                7,
                &body,
                media.as_ref(),
                None,
                tpl,
            );
            let mut expect = json!({"from": "4915112345678", "id": "wamid.I", "timestamp": "7"});
            for (k, v) in want.as_object().unwrap() {
                expect[k] = v.clone();
            }
            assert_eq!(got, expect, "{body}");
        }
        for body in [
            json!({"ciphertext": "AAAA", "algorithm": "olm.v1"}),
            json!({"poll": {}}),
            json!({"media_id": hex}),
        ] {
            let got = inbound_message("wamid.I", "49", 7, &body, None, None, false);
            assert_eq!(got["type"], "unsupported", "{body}");
            assert_eq!(got["errors"][0]["code"], 131051);
            assert_eq!(got["errors"][0]["title"], "Message type unknown");
            assert!(got["errors"][0]["error_data"]["details"].is_string());
        }
        let got = inbound_message(
            "wamid.I",
            "49",
            7,
            &json!({"text": "re"}),
            None,
            Some(("15550783881", "wamid.O")),
            false,
        );
        assert_eq!(
            got["context"],
            json!({"from": "15550783881", "id": "wamid.O"})
        );
    }

    #[test]
    fn statuses() {
        let ev = StatusEvent {
            wamid: "wamid.A".into(),
            status: StatusKind::Sent,
            ts_secs: 1750030073,
            recipient_id: "16505551234".into(),
            biz_opaque_callback_data: Some("cb".into()),
            pricing: Some(Pricing {
                billable: true,
                category: "marketing".into(),
                pricing_type: "regular".into(),
            }),
            conversation: Some(("72b1".into(), Some(1750116480), "marketing".into())),
            errors: vec![],
        };
        assert_eq!(
            status_value(&meta(), &ev)["statuses"][0],
            json!({"id": "wamid.A", "status": "sent", "timestamp": "1750030073", "recipient_id": "16505551234",
                "biz_opaque_callback_data": "cb",
                "conversation": {"id": "72b1", "expiration_timestamp": "1750116480", "origin": {"type": "marketing"}},
                "pricing": {"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"}})
        );
        let failed = StatusEvent {
            status: StatusKind::Failed,
            biz_opaque_callback_data: None,
            pricing: None,
            conversation: None,
            errors: vec![GraphError::new(131026, "not on WhatsApp")],
            ..ev
        };
        let v = status_value(&meta(), &failed);
        assert_eq!(v["messaging_product"], "whatsapp");
        assert_eq!(
            v["statuses"][0],
            json!({"id": "wamid.A", "status": "failed", "timestamp": "1750030073", "recipient_id": "16505551234",
                "errors": [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                    "error_data": {"details": "not on WhatsApp"}}]})
        );
    }

    #[test]
    fn template_status() {
        assert_eq!(
            template_status_value(
                "APPROVED",
                1689556908129832,
                "order_confirmation",
                "en_US",
                "UTILITY",
                None
            ),
            json!({"event": "APPROVED", "message_template_id": 1689556908129832u64, "message_template_name": "order_confirmation",
                "message_template_language": "en_US", "reason": "NONE", "message_template_category": "UTILITY"})
        );
        assert_eq!(
            template_status_value(
                "REJECTED",
                1,
                "a",
                "en",
                "MARKETING",
                Some("INVALID_FORMAT")
            )["reason"],
            "INVALID_FORMAT"
        );
    }
}
