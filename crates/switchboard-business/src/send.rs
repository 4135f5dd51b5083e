//! Parsing and validating a `POST /{phone_number_id}/messages` body.
//!
//! Cloud API clients send the same message in slightly different shapes (explicit
//! `null`s, numbers as strings, enum values in any case); this module accepts all of
//! them, checks every Meta limit (counted in characters, not bytes) and turns the
//! request into one typed [`Request`]. Errors name the field path, e.g.
//! `interactive.action.buttons[3].reply.title`. [`Content::body_json`] then gives the
//! protocol body the customer receives.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::GraphError;
use crate::ids;
use crate::json::{
    as_string, check_len, get, is_http_url, join, opt_arr, opt_bool, opt_f64, opt_obj, opt_str,
    opt_u64, req_obj, req_str, strip_nulls,
};

/// Longest `text.body`.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest media caption.
pub const MAX_CAPTION_CHARS: usize = 1024;
/// Longest document filename.
pub const MAX_FILENAME_CHARS: usize = switchboard_core::limits::MAX_FILENAME_CHARS;
/// Longest media `link`.
pub const MAX_LINK_CHARS: usize = 2048;
/// Longest `biz_opaque_callback_data`.
pub const MAX_CALLBACK_DATA_CHARS: usize = 512;
/// Longest location name or address (Meta states no limit; the protocol bounds it).
pub const MAX_LOCATION_TEXT_CHARS: usize = switchboard_core::limits::MAX_LOCATION_TEXT_CHARS;
/// Most contacts in one message.
pub const MAX_CONTACTS: usize = switchboard_core::limits::MAX_CONTACTS;
/// Longest reaction emoji, in bytes (the longest ZWJ family sequences fit).
pub const MAX_EMOJI_BYTES: usize = switchboard_core::limits::MAX_REACTION_EMOJI_BYTES;

/// One request to the messages endpoint.
// A request is parsed once per HTTP call and moved, never stored in bulk, so boxing
// the large variant would only cost an allocation.
#[expect(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A message to a customer.
    Send(Outbound),
    /// `{"status": "read", "message_id"}`, optionally with a typing indicator.
    /// `message_id` is the wamid as sent; it is checked to decode with
    /// [`ids::parse_wamid`].
    MarkRead { message_id: String, typing: bool },
}

/// A message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// The recipient's user id: E.164 digits without `+`.
    pub to: String,
    /// `to` exactly as the client sent it (echoed as `contacts[0].input`).
    pub to_input: String,
    /// The wamid of the message this replies to (`context.message_id`), checked to decode.
    pub context_message_id: Option<String>,
    /// Echoed in status webhooks; at most 512 characters.
    pub biz_opaque_callback_data: Option<String>,
    pub content: Content,
}

/// The media kinds a message can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    /// The Cloud API `type` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// The kind named `s` (any case).
    pub fn parse(s: &str) -> Option<MediaKind> {
        match s.to_ascii_lowercase().as_str() {
            "image" => Some(MediaKind::Image),
            "video" => Some(MediaKind::Video),
            "audio" => Some(MediaKind::Audio),
            "document" => Some(MediaKind::Document),
            "sticker" => Some(MediaKind::Sticker),
            _ => None,
        }
    }
}

/// Where the media of a message comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    /// A numeric Graph media id from an upload (see [`ids::media_from_graph`]).
    Id(String),
    /// An http(s) URL of at most 2,048 characters that the server fetches.
    Link(String),
}

/// What a message says.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text {
        body: String,
        preview_url: bool,
    },
    Media {
        kind: MediaKind,
        source: MediaSource,
        caption: Option<String>,
        filename: Option<String>,
        voice: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    /// Contact cards as sent, with `null` members removed.
    Contacts(Vec<Value>),
    /// `message_id` is the wamid as sent (checked to decode); `""` removes a reaction.
    Reaction {
        message_id: String,
        emoji: String,
    },
    Interactive(Interactive),
    Template(TemplateSend),
}

/// An interactive message.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactive {
    pub header: Option<InteractiveHeader>,
    pub body: String,
    pub footer: Option<String>,
    pub action: InteractiveAction,
}

/// The header of an interactive message (media headers only for buttons).
#[derive(Debug, Clone, PartialEq)]
pub enum InteractiveHeader {
    Text(String),
    Media {
        kind: MediaKind,
        source: MediaSource,
    },
}

/// What the customer can do with an interactive message.
#[derive(Debug, Clone, PartialEq)]
pub enum InteractiveAction {
    Buttons(Vec<ReplyButton>),
    List {
        button: String,
        sections: Vec<ListSection>,
    },
    CtaUrl {
        display_text: String,
        url: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// A template send: which template, and the parameters per component.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSend {
    pub name: String,
    /// The language code, e.g. `en_US`.
    pub language: String,
    pub components: Vec<SendComponent>,
}

/// The component a group of parameters belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    Header,
    Body,
    Button,
}

/// The parameters of one template component.
#[derive(Debug, Clone, PartialEq)]
pub struct SendComponent {
    pub kind: ComponentKind,
    /// Lowercased: `quick_reply`, `url`, `copy_code`, …
    pub sub_type: Option<String>,
    /// The button's position (sent as an int or a string).
    pub index: Option<u32>,
    pub parameters: Vec<Parameter>,
}

/// One template parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Parameter {
    Text {
        name: Option<String>,
        text: String,
    },
    /// `name` is the `parameter_name` in a named template.
    Currency {
        name: Option<String>,
        fallback: String,
    },
    /// `name` is the `parameter_name` in a named template.
    DateTime {
        name: Option<String>,
        fallback: String,
    },
    Media {
        kind: MediaKind,
        source: MediaSource,
        filename: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    Payload(String),
    CouponCode(String),
}

impl Parameter {
    /// The `parameter_name` of a named parameter.
    pub fn name(&self) -> Option<&str> {
        match self {
            Parameter::Text { name, .. }
            | Parameter::Currency { name, .. }
            | Parameter::DateTime { name, .. } => name.as_deref(),
            _ => None,
        }
    }

    /// The text a parameter puts into a template's text, if it is a text-like one.
    pub fn text_value(&self) -> Option<&str> {
        match self {
            Parameter::Text { text, .. } => Some(text),
            Parameter::Currency { fallback, .. } | Parameter::DateTime { fallback, .. } => {
                Some(fallback)
            }
            Parameter::Payload(p) => Some(p),
            Parameter::CouponCode(c) => Some(c),
            Parameter::Media { .. } | Parameter::Location { .. } => None,
        }
    }

    /// The parameter's `type` as the Cloud API names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Parameter::Text { .. } => "text",
            Parameter::Currency { .. } => "currency",
            Parameter::DateTime { .. } => "date_time",
            Parameter::Media { kind, .. } => kind.as_str(),
            Parameter::Location { .. } => "location",
            Parameter::Payload(_) => "payload",
            Parameter::CouponCode(_) => "coupon_code",
        }
    }
}

/// The message types a send may have, in the order used to guess a missing `type`.
const TYPES: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "template",
];

/// Parses a messages request body.
///
/// Tolerant as the contract promises: unknown fields are ignored, `null` means absent,
/// enum values (`type`, `recipient_type`, `status`, sub types) are accepted in any
/// case, numbers may come as strings and strings as numbers, `recipient_type`
/// defaults to `individual`, and a missing `type` is taken from the content key
/// present. `messaging_product`, if present, must be `whatsapp` (else 100). A body
/// with `status` is a mark-as-read (`typing_indicator` `{"type": "text"}` adds the
/// typing indicator); anything else is a send.
///
/// Codes: 100 for what is unsupported as a whole (a message type, `recipient`
/// instead of `to`, an invalid `to`, `context` on a reaction), 131008 for a missing
/// field, 131009 for a value that is not allowed (lengths, counts, ranges, duplicate
/// ids, a wamid we did not issue). Details name the field path.
pub fn parse_request(v: &Value) -> Result<Request, GraphError> {
    if !v.is_object() {
        return Err(GraphError::invalid_parameter(
            "the request body must be a JSON object",
        ));
    }
    if let Some(p) = opt_str(v, "messaging_product", "")?
        && !p.eq_ignore_ascii_case("whatsapp")
    {
        return Err(GraphError::invalid_parameter(format!(
            "messaging_product must be \"whatsapp\", not {p:?}"
        )));
    }
    if let Some(status) = opt_str(v, "status", "")? {
        return parse_mark_read(v, &status);
    }
    parse_send(v).map(Request::Send)
}

fn parse_mark_read(v: &Value, status: &str) -> Result<Request, GraphError> {
    if !status.eq_ignore_ascii_case("read") {
        return Err(GraphError::invalid_value(
            "status",
            &format!("{status:?} is not supported; the only status is \"read\""),
        ));
    }
    let message_id = req_str(v, "message_id", "")?;
    check_wamid("message_id", &message_id)?;
    let typing = match opt_obj(v, "typing_indicator", "")? {
        None => false,
        Some(t) => {
            let ty = req_str(t, "type", "typing_indicator")?;
            if !ty.eq_ignore_ascii_case("text") {
                return Err(GraphError::invalid_value(
                    "typing_indicator.type",
                    &format!("{ty:?} is not supported; use \"text\""),
                ));
            }
            true
        }
    };
    Ok(Request::MarkRead { message_id, typing })
}

fn check_wamid(path: &str, wamid: &str) -> Result<(), GraphError> {
    if ids::parse_wamid(wamid).is_none() {
        return Err(GraphError::invalid_value(
            path,
            &format!("{wamid:?} is not a message id issued by this server"),
        ));
    }
    Ok(())
}

fn parse_send(v: &Value) -> Result<Outbound, GraphError> {
    if let Some(rt) = opt_str(v, "recipient_type", "")? {
        match rt.to_ascii_lowercase().as_str() {
            "individual" => {}
            "group" => {
                return Err(GraphError::invalid_parameter(
                    "recipient_type \"group\" is not supported; send to individual numbers",
                ));
            }
            _ => {
                return Err(GraphError::invalid_value(
                    "recipient_type",
                    &format!("{rt:?} is not one of individual, group"),
                ));
            }
        }
    }
    let (to_input, to) = match get(v, "to") {
        Some(to) => {
            let input = as_string(to, "to")?;
            let user = parse_to(&input)?;
            (input, user)
        }
        None => match get(v, "recipient") {
            Some(r) => {
                let input = as_string(r, "recipient")?;
                let user = crate::ids::parse_bsuid(&input).ok_or_else(|| {
                    GraphError::invalid_parameter(format!(
                        "recipient {:?} is not a user id this business received in a webhook (SB.…); or send to a phone number with to",
                        input.chars().take(40).collect::<String>()
                    ))
                })?;
                (input, user)
            }
            None => return Err(GraphError::missing("to")),
        },
    };
    let ty = match opt_str(v, "type", "")? {
        Some(t) => t.to_ascii_lowercase(),
        // Meta defaults a missing type to text; we take the content key that is there.
        None => TYPES
            .iter()
            .find(|t| get(v, t).is_some())
            .map(|t| (*t).to_owned())
            .ok_or_else(|| GraphError::missing("type"))?,
    };
    let content = parse_content(v, &ty)?;
    let context_message_id = match opt_obj(v, "context", "")? {
        None => None,
        Some(ctx) => {
            if matches!(content, Content::Reaction { .. }) {
                return Err(GraphError::invalid_parameter(
                    "context is not allowed on a reaction; the reaction names its message",
                ));
            }
            let id = req_str(ctx, "message_id", "context")?;
            check_wamid("context.message_id", &id)?;
            Some(id)
        }
    };
    let biz_opaque_callback_data = opt_str(v, "biz_opaque_callback_data", "")?;
    if let Some(d) = &biz_opaque_callback_data {
        check_len("biz_opaque_callback_data", d, 0, MAX_CALLBACK_DATA_CHARS)?;
    }
    Ok(Outbound {
        to,
        to_input,
        context_message_id,
        biz_opaque_callback_data,
        content,
    })
}

/// The user id of a `to` value. `+`, spaces, `-`, `.`, `(` and `)` are accepted.
///
/// Without a leading `+` the digits are taken as a full international number (country
/// code first). Meta instead prepends the business number's country code, which we
/// do not do: it would make the same string mean different people for different
/// businesses, and every client we know sends the full number.
pub fn parse_to(input: &str) -> Result<String, GraphError> {
    let trimmed = input.trim();
    let e164 = if trimmed.starts_with('+') {
        trimmed.to_owned()
    } else {
        format!("+{trimmed}")
    };
    switchboard_core::phone::user_id_from_phone(&e164).map_err(|_| {
        GraphError::invalid_parameter(format!(
            "to: {:?} is not a phone number; expected the international number, e.g. \"+16505551234\"",
            input.chars().take(40).collect::<String>()
        ))
    })
}

fn parse_content(v: &Value, ty: &str) -> Result<Content, GraphError> {
    if let Some(kind) = MediaKind::parse(ty) {
        return parse_media(v, kind);
    }
    match ty {
        "text" => {
            let t = req_obj(v, "text", "")?;
            let body = req_str(t, "body", "text")?;
            check_len("text.body", &body, 1, MAX_TEXT_CHARS)?;
            let preview_url = opt_bool(t, "preview_url", "text")?.unwrap_or(false);
            Ok(Content::Text { body, preview_url })
        }
        "location" => {
            let l = req_obj(v, "location", "")?;
            let (latitude, longitude, name, address) = parse_location(l, "location")?;
            Ok(Content::Location {
                latitude,
                longitude,
                name,
                address,
            })
        }
        "contacts" => parse_contacts(v),
        "reaction" => {
            let r = req_obj(v, "reaction", "")?;
            let message_id = req_str(r, "message_id", "reaction")?;
            check_wamid("reaction.message_id", &message_id)?;
            let emoji = opt_str(r, "emoji", "reaction")?.unwrap_or_default();
            check_emoji(&emoji)?;
            Ok(Content::Reaction { message_id, emoji })
        }
        "interactive" => {
            parse_interactive(req_obj(v, "interactive", "")?).map(Content::Interactive)
        }
        "template" => parse_template(req_obj(v, "template", "")?).map(Content::Template),
        other => Err(GraphError::invalid_parameter(format!(
            "type {other:?} is not supported; expected one of {}",
            TYPES.join(", ")
        ))),
    }
}

/// `id` or `link` of a media object at `path`.
fn parse_media_source(m: &Value, path: &str) -> Result<MediaSource, GraphError> {
    let id = opt_str(m, "id", path)?;
    let link = opt_str(m, "link", path)?;
    match (id, link) {
        (Some(_), Some(_)) => Err(GraphError::invalid_value(
            path,
            "give either id or link, not both",
        )),
        (None, None) => Err(GraphError::missing(&join(path, "id"))),
        (Some(id), None) => {
            if !ids::is_numeric_id(&id) {
                return Err(GraphError::invalid_value(
                    &join(path, "id"),
                    &format!("{id:?} is not a media id; upload the file to /media first"),
                ));
            }
            Ok(MediaSource::Id(id))
        }
        (None, Some(link)) => {
            let p = join(path, "link");
            check_len(&p, &link, 1, MAX_LINK_CHARS)?;
            if !is_http_url(&link) {
                return Err(GraphError::invalid_value(
                    &p,
                    "must be an absolute http or https URL",
                ));
            }
            Ok(MediaSource::Link(link))
        }
    }
}

fn parse_media(v: &Value, kind: MediaKind) -> Result<Content, GraphError> {
    let path = kind.as_str();
    let m = req_obj(v, path, "")?;
    let source = parse_media_source(m, path)?;
    let caption = opt_str(m, "caption", path)?;
    if let Some(c) = &caption {
        if matches!(kind, MediaKind::Audio | MediaKind::Sticker) {
            return Err(GraphError::invalid_value(
                &join(path, "caption"),
                &format!("{path} messages cannot have a caption"),
            ));
        }
        check_len(&join(path, "caption"), c, 0, MAX_CAPTION_CHARS)?;
    }
    let filename = opt_str(m, "filename", path)?;
    if let Some(f) = &filename {
        if kind != MediaKind::Document {
            return Err(GraphError::invalid_value(
                &join(path, "filename"),
                "only documents have a filename",
            ));
        }
        check_len(&join(path, "filename"), f, 1, MAX_FILENAME_CHARS)?;
    }
    let voice = kind == MediaKind::Audio && opt_bool(m, "voice", path)?.unwrap_or(false);
    Ok(Content::Media {
        kind,
        source,
        caption: caption.filter(|c| !c.is_empty()),
        filename,
        voice,
    })
}

type Location = (f64, f64, Option<String>, Option<String>);

fn parse_location(l: &Value, path: &str) -> Result<Location, GraphError> {
    let latitude = opt_f64(l, "latitude", path)?
        .ok_or_else(|| GraphError::missing(&join(path, "latitude")))?;
    let longitude = opt_f64(l, "longitude", path)?
        .ok_or_else(|| GraphError::missing(&join(path, "longitude")))?;
    if !(-90.0..=90.0).contains(&latitude) {
        return Err(GraphError::invalid_value(
            &join(path, "latitude"),
            &format!("{latitude} is not between -90 and 90"),
        ));
    }
    if !(-180.0..=180.0).contains(&longitude) {
        return Err(GraphError::invalid_value(
            &join(path, "longitude"),
            &format!("{longitude} is not between -180 and 180"),
        ));
    }
    let name = opt_str(l, "name", path)?;
    let address = opt_str(l, "address", path)?;
    for (key, val) in [("name", &name), ("address", &address)] {
        if let Some(s) = val {
            check_len(&join(path, key), s, 0, MAX_LOCATION_TEXT_CHARS)?;
        }
    }
    Ok((latitude, longitude, name, address))
}

fn parse_contacts(v: &Value) -> Result<Content, GraphError> {
    let list = opt_arr(v, "contacts", "")?.ok_or_else(|| GraphError::missing("contacts"))?;
    if list.is_empty() || list.len() > MAX_CONTACTS {
        return Err(GraphError::invalid_value(
            "contacts",
            &format!("has {} entries; send 1 to {MAX_CONTACTS}", list.len()),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let path = format!("contacts[{i}]");
        if !c.is_object() {
            return Err(GraphError::invalid_value(&path, "expected an object"));
        }
        let name = req_obj(c, "name", &path)?;
        let formatted = req_str(name, "formatted_name", &join(&path, "name"))?;
        check_len(&format!("{path}.name.formatted_name"), &formatted, 1, 1024)?;
        out.push(strip_nulls(c));
    }
    let size = Value::Array(out.clone()).to_string().len();
    if size > switchboard_core::limits::MAX_CONTACTS_BODY_BYTES {
        return Err(GraphError::invalid_value(
            "contacts",
            &format!(
                "is {size} bytes as JSON; the limit is {}",
                switchboard_core::limits::MAX_CONTACTS_BODY_BYTES
            ),
        ));
    }
    Ok(Content::Contacts(out))
}

/// Characters that modify or join the emoji before them rather than starting a new one.
fn is_emoji_modifier(c: char) -> bool {
    matches!(c,
        '\u{200D}'                      // zero-width joiner
        | '\u{FE00}'..='\u{FE0F}'       // variation selectors
        | '\u{20E3}'                    // combining enclosing keycap
        | '\u{1F3FB}'..='\u{1F3FF}'     // skin tones
        | '\u{E0020}'..='\u{E007F}'     // tag characters (subdivision flags)
    )
}

/// A reaction is empty (removal) or one emoji: at most 32 bytes, one base character
/// (or one regional-indicator flag pair) plus modifiers and ZWJ-joined parts, and an
/// ASCII base only as a keycap (`1️⃣`). An approximation of one grapheme cluster that
/// needs no Unicode tables.
fn check_emoji(emoji: &str) -> Result<(), GraphError> {
    if emoji.is_empty() {
        return Ok(());
    }
    let bad = || {
        GraphError::invalid_value(
            "reaction.emoji",
            &format!(
                "{emoji:?} is not a single emoji; send one emoji, or \"\" to remove the reaction"
            ),
        )
    };
    if emoji.len() > MAX_EMOJI_BYTES {
        return Err(bad());
    }
    let mut bases = 0;
    let mut joined = false;
    let mut regional = 0;
    let mut ascii_base = false;
    for c in emoji.chars() {
        if c.is_whitespace() || c.is_control() {
            return Err(bad());
        }
        if c == '\u{200D}' {
            joined = true;
            continue;
        }
        if is_emoji_modifier(c) {
            continue;
        }
        if ('\u{1F1E6}'..='\u{1F1FF}').contains(&c) {
            regional += 1;
            if regional % 2 == 0 {
                continue; // the second half of a flag
            }
        }
        if joined {
            joined = false;
            continue;
        }
        bases += 1;
        ascii_base |= c.is_ascii();
    }
    let keycap = emoji.contains('\u{20E3}');
    if bases != 1 || (ascii_base && !keycap) {
        return Err(bad());
    }
    Ok(())
}

fn parse_interactive(i: &Value) -> Result<Interactive, GraphError> {
    let ty = req_str(i, "type", "interactive")?.to_ascii_lowercase();
    let body_max = match ty.as_str() {
        "button" | "cta_url" => 1024,
        "list" => 4096,
        other => {
            return Err(GraphError::invalid_parameter(format!(
                "interactive.type {other:?} is not supported; expected button, list or cta_url"
            )));
        }
    };
    let body_obj = req_obj(i, "body", "interactive")?;
    let body = req_str(body_obj, "text", "interactive.body")?;
    check_len("interactive.body.text", &body, 1, body_max)?;
    let footer = match opt_obj(i, "footer", "interactive")? {
        None => None,
        Some(f) => {
            let t = req_str(f, "text", "interactive.footer")?;
            check_len("interactive.footer.text", &t, 1, 60)?;
            Some(t)
        }
    };
    let header = match opt_obj(i, "header", "interactive")? {
        None => None,
        Some(h) => Some(parse_interactive_header(h, &ty)?),
    };
    let action = req_obj(i, "action", "interactive")?;
    let action = match ty.as_str() {
        "button" => parse_buttons(action)?,
        "list" => parse_list(action)?,
        _ => parse_cta_url(action)?,
    };
    Ok(Interactive {
        header,
        body,
        footer,
        action,
    })
}

fn parse_interactive_header(h: &Value, ty: &str) -> Result<InteractiveHeader, GraphError> {
    let htype = req_str(h, "type", "interactive.header")?.to_ascii_lowercase();
    if htype == "text" {
        let t = req_str(h, "text", "interactive.header")?;
        check_len("interactive.header.text", &t, 1, 60)?;
        return Ok(InteractiveHeader::Text(t));
    }
    let kind = match MediaKind::parse(&htype) {
        Some(k @ (MediaKind::Image | MediaKind::Video | MediaKind::Document)) => k,
        _ => {
            return Err(GraphError::invalid_value(
                "interactive.header.type",
                &format!("{htype:?} is not one of text, image, video, document"),
            ));
        }
    };
    if ty != "button" {
        return Err(GraphError::invalid_value(
            "interactive.header.type",
            &format!("{ty} messages support text headers only"),
        ));
    }
    let path = format!("interactive.header.{htype}");
    let m = req_obj(h, &htype, "interactive.header")?;
    let source = parse_media_source(m, &path)?;
    Ok(InteractiveHeader::Media { kind, source })
}

fn parse_buttons(action: &Value) -> Result<InteractiveAction, GraphError> {
    let list = opt_arr(action, "buttons", "interactive.action")?
        .ok_or_else(|| GraphError::missing("interactive.action.buttons"))?;
    if list.is_empty() || list.len() > 3 {
        return Err(GraphError::invalid_value(
            "interactive.action.buttons",
            &format!("has {} buttons; send 1 to 3", list.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, b) in list.iter().enumerate() {
        let path = format!("interactive.action.buttons[{i}]");
        if !b.is_object() {
            return Err(GraphError::invalid_value(&path, "expected an object"));
        }
        if let Some(t) = opt_str(b, "type", &path)?
            && !t.eq_ignore_ascii_case("reply")
        {
            return Err(GraphError::invalid_value(
                &join(&path, "type"),
                &format!("{t:?} is not supported; use \"reply\""),
            ));
        }
        let reply = req_obj(b, "reply", &path)?;
        let rpath = join(&path, "reply");
        let id = req_str(reply, "id", &rpath)?;
        let title = req_str(reply, "title", &rpath)?;
        check_len(&join(&rpath, "id"), &id, 1, 256)?;
        check_len(&join(&rpath, "title"), &title, 1, 20)?;
        if !seen.insert(id.clone()) {
            return Err(GraphError::invalid_value(
                &join(&rpath, "id"),
                &format!("{id:?} is used by another button; ids must be unique"),
            ));
        }
        out.push(ReplyButton { id, title });
    }
    Ok(InteractiveAction::Buttons(out))
}

fn parse_list(action: &Value) -> Result<InteractiveAction, GraphError> {
    let button = req_str(action, "button", "interactive.action")?;
    check_len("interactive.action.button", &button, 1, 20)?;
    let list = opt_arr(action, "sections", "interactive.action")?
        .ok_or_else(|| GraphError::missing("interactive.action.sections"))?;
    if list.is_empty() || list.len() > 10 {
        return Err(GraphError::invalid_value(
            "interactive.action.sections",
            &format!("has {} sections; send 1 to 10", list.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut sections = Vec::with_capacity(list.len());
    for (s, sec) in list.iter().enumerate() {
        let spath = format!("interactive.action.sections[{s}]");
        if !sec.is_object() {
            return Err(GraphError::invalid_value(&spath, "expected an object"));
        }
        let title = opt_str(sec, "title", &spath)?;
        match &title {
            Some(t) => check_len(&join(&spath, "title"), t, 1, 24)?,
            None if list.len() > 1 => {
                return Err(GraphError::missing(&join(&spath, "title")));
            }
            None => {}
        }
        let rows_in = opt_arr(sec, "rows", &spath)?
            .ok_or_else(|| GraphError::missing(&join(&spath, "rows")))?;
        if rows_in.is_empty() {
            return Err(GraphError::invalid_value(
                &join(&spath, "rows"),
                "must have at least one row",
            ));
        }
        let mut rows = Vec::with_capacity(rows_in.len());
        for (r, row) in rows_in.iter().enumerate() {
            let rpath = format!("{spath}.rows[{r}]");
            total += 1;
            if total > 10 {
                return Err(GraphError::invalid_value(
                    &rpath,
                    "a list has at most 10 rows in all sections",
                ));
            }
            if !row.is_object() {
                return Err(GraphError::invalid_value(&rpath, "expected an object"));
            }
            let id = req_str(row, "id", &rpath)?;
            let title = req_str(row, "title", &rpath)?;
            let description = opt_str(row, "description", &rpath)?;
            check_len(&join(&rpath, "id"), &id, 1, 200)?;
            check_len(&join(&rpath, "title"), &title, 1, 24)?;
            if let Some(d) = &description {
                check_len(&join(&rpath, "description"), d, 0, 72)?;
            }
            if !seen.insert(id.clone()) {
                return Err(GraphError::invalid_value(
                    &join(&rpath, "id"),
                    &format!("{id:?} is used by another row; ids must be unique"),
                ));
            }
            rows.push(ListRow {
                id,
                title,
                description: description.filter(|d| !d.is_empty()),
            });
        }
        sections.push(ListSection { title, rows });
    }
    Ok(InteractiveAction::List { button, sections })
}

fn parse_cta_url(action: &Value) -> Result<InteractiveAction, GraphError> {
    if let Some(name) = opt_str(action, "name", "interactive.action")?
        && !name.eq_ignore_ascii_case("cta_url")
    {
        return Err(GraphError::invalid_value(
            "interactive.action.name",
            &format!("{name:?} is not \"cta_url\""),
        ));
    }
    let p = req_obj(action, "parameters", "interactive.action")?;
    let path = "interactive.action.parameters";
    let display_text = req_str(p, "display_text", path)?;
    check_len(&join(path, "display_text"), &display_text, 1, 20)?;
    let url = req_str(p, "url", path)?;
    check_len(&join(path, "url"), &url, 1, MAX_LINK_CHARS)?;
    if !is_http_url(&url) {
        return Err(GraphError::invalid_value(
            &join(path, "url"),
            "must be an absolute http or https URL",
        ));
    }
    Ok(InteractiveAction::CtaUrl { display_text, url })
}

fn parse_template(t: &Value) -> Result<TemplateSend, GraphError> {
    let name = req_str(t, "name", "template")?;
    check_len("template.name", &name, 1, 512)?;
    // `language` is `{"code": "en_US", "policy": "deterministic"}`; a bare string is tolerated.
    let language = match get(t, "language") {
        None => return Err(GraphError::missing("template.language")),
        Some(l @ Value::Object(_)) => req_str(l, "code", "template.language")?,
        Some(l) => as_string(l, "template.language")?,
    };
    check_len("template.language.code", &language, 1, 16)?;
    let mut components = Vec::new();
    for (i, c) in opt_arr(t, "components", "template")?
        .into_iter()
        .flatten()
        .enumerate()
    {
        components.push(parse_send_component(
            c,
            &format!("template.components[{i}]"),
        )?);
    }
    Ok(TemplateSend {
        name,
        language,
        components,
    })
}

fn parse_send_component(c: &Value, path: &str) -> Result<SendComponent, GraphError> {
    if !c.is_object() {
        return Err(GraphError::invalid_value(path, "expected an object"));
    }
    let ty = req_str(c, "type", path)?.to_ascii_lowercase();
    let kind = match ty.as_str() {
        "header" => ComponentKind::Header,
        "body" => ComponentKind::Body,
        "button" => ComponentKind::Button,
        other => {
            return Err(GraphError::invalid_parameter(format!(
                "{path}.type {other:?} is not supported; expected header, body or button"
            )));
        }
    };
    let sub_type = opt_str(c, "sub_type", path)?.map(|s| s.to_ascii_lowercase());
    let index = opt_u64(c, "index", path)?
        .map(|i| {
            u32::try_from(i)
                .map_err(|_| GraphError::invalid_value(&join(path, "index"), "is too large"))
        })
        .transpose()?;
    if kind == ComponentKind::Button && index.is_none() {
        return Err(GraphError::missing(&join(path, "index")));
    }
    let mut parameters = Vec::new();
    for (i, p) in opt_arr(c, "parameters", path)?
        .into_iter()
        .flatten()
        .enumerate()
    {
        parameters.push(parse_parameter(p, &format!("{path}.parameters[{i}]"))?);
    }
    Ok(SendComponent {
        kind,
        sub_type,
        index,
        parameters,
    })
}

fn parse_parameter(p: &Value, path: &str) -> Result<Parameter, GraphError> {
    if !p.is_object() {
        return Err(GraphError::invalid_value(path, "expected an object"));
    }
    let ty = req_str(p, "type", path)?.to_ascii_lowercase();
    if let Some(kind) = MediaKind::parse(&ty) {
        let mpath = join(path, &ty);
        let m = req_obj(p, &ty, path)?;
        let source = parse_media_source(m, &mpath)?;
        let filename = opt_str(m, "filename", &mpath)?;
        if let Some(f) = &filename {
            check_len(&join(&mpath, "filename"), f, 1, MAX_FILENAME_CHARS)?;
        }
        return Ok(Parameter::Media {
            kind,
            source,
            filename,
        });
    }
    Ok(match ty.as_str() {
        "text" => Parameter::Text {
            name: opt_str(p, "parameter_name", path)?,
            text: req_str(p, "text", path)?,
        },
        "currency" => {
            let c = req_obj(p, "currency", path)?;
            Parameter::Currency {
                name: opt_str(p, "parameter_name", path)?,
                fallback: req_str(c, "fallback_value", &join(path, "currency"))?,
            }
        }
        "date_time" => {
            let d = req_obj(p, "date_time", path)?;
            Parameter::DateTime {
                name: opt_str(p, "parameter_name", path)?,
                fallback: req_str(d, "fallback_value", &join(path, "date_time"))?,
            }
        }
        "location" => {
            let l = req_obj(p, "location", path)?;
            let (latitude, longitude, name, address) = parse_location(l, &join(path, "location"))?;
            Parameter::Location {
                latitude,
                longitude,
                name,
                address,
            }
        }
        "payload" => Parameter::Payload(req_str(p, "payload", path)?),
        "coupon_code" => Parameter::CouponCode(req_str(p, "coupon_code", path)?),
        other => {
            return Err(GraphError::invalid_parameter(format!(
                "{path}.type {other:?} is not supported; expected text, currency, date_time, image, video, document, location, payload or coupon_code"
            )));
        }
    })
}

impl Content {
    /// The media the server must resolve before storing the message: the content's
    /// own media, an interactive media header, or a template's header media parameter.
    pub fn media_needed(&self) -> Option<(&MediaKind, &MediaSource)> {
        match self {
            Content::Media { kind, source, .. } => Some((kind, source)),
            Content::Interactive(Interactive {
                header: Some(InteractiveHeader::Media { kind, source }),
                ..
            }) => Some((kind, source)),
            Content::Template(t) => t
                .components
                .iter()
                .filter(|c| c.kind == ComponentKind::Header)
                .flat_map(|c| &c.parameters)
                .find_map(|p| match p {
                    Parameter::Media { kind, source, .. } => Some((kind, source)),
                    _ => None,
                }),
            _ => None,
        }
    }

    /// The protocol body the customer receives. `media_id` is our resolved 32-hex
    /// media id for media content and for a media header (`null` in the JSON if the
    /// server passes none). Template content has no body of its own: use
    /// `template::render` and `template::rendered_body_json`; here it gives `null`.
    /// Reaction message ids are decoded from the wamid to our message id.
    pub fn body_json(&self, media_id: Option<&str>) -> Value {
        match self {
            Content::Text { body, .. } => json!({ "text": body }),
            Content::Media {
                caption,
                filename,
                voice,
                ..
            } => {
                let mut m = Map::new();
                m.insert("media_id".into(), json!(media_id));
                if let Some(c) = caption {
                    m.insert("caption".into(), json!(c));
                }
                if let Some(f) = filename {
                    m.insert("filename".into(), json!(f));
                }
                if *voice {
                    m.insert("voice".into(), json!(true));
                }
                Value::Object(m)
            }
            Content::Location {
                latitude,
                longitude,
                name,
                address,
            } => json!({ "location": location_json(*latitude, *longitude, name, address) }),
            Content::Contacts(list) => json!({ "contacts": list }),
            Content::Reaction { message_id, emoji } => {
                let id = ids::parse_wamid(message_id).unwrap_or_else(|| message_id.clone());
                json!({ "reaction": { "message_id": id, "emoji": emoji } })
            }
            Content::Interactive(i) => json!({ "interactive": interactive_json(i, media_id) }),
            Content::Template(_) => Value::Null,
        }
    }
}

/// `{"latitude", "longitude", "name"?, "address"?}`.
pub(crate) fn location_json(
    latitude: f64,
    longitude: f64,
    name: &Option<String>,
    address: &Option<String>,
) -> Value {
    let mut m = Map::new();
    m.insert("latitude".into(), json!(latitude));
    m.insert("longitude".into(), json!(longitude));
    if let Some(n) = name {
        m.insert("name".into(), json!(n));
    }
    if let Some(a) = address {
        m.insert("address".into(), json!(a));
    }
    Value::Object(m)
}

fn interactive_json(i: &Interactive, media_id: Option<&str>) -> Value {
    let mut m = Map::new();
    let ty = match &i.action {
        InteractiveAction::Buttons(_) => "button",
        InteractiveAction::List { .. } => "list",
        InteractiveAction::CtaUrl { .. } => "cta_url",
    };
    m.insert("type".into(), json!(ty));
    match &i.header {
        None => {}
        Some(InteractiveHeader::Text(t)) => {
            m.insert("header".into(), json!({ "text": t }));
        }
        Some(InteractiveHeader::Media { kind, .. }) => {
            m.insert(
                "header".into(),
                json!({ "media_id": media_id, "kind": kind.as_str() }),
            );
        }
    }
    m.insert("body".into(), json!(i.body));
    if let Some(f) = &i.footer {
        m.insert("footer".into(), json!(f));
    }
    match &i.action {
        InteractiveAction::Buttons(buttons) => {
            let list: Vec<Value> = buttons
                .iter()
                .map(|b| json!({ "id": b.id, "title": b.title }))
                .collect();
            m.insert("buttons".into(), Value::Array(list));
        }
        InteractiveAction::List { button, sections } => {
            m.insert("button".into(), json!(button));
            let list: Vec<Value> = sections
                .iter()
                .map(|s| {
                    let rows: Vec<Value> = s
                        .rows
                        .iter()
                        .map(|r| {
                            let mut row = Map::new();
                            row.insert("id".into(), json!(r.id));
                            row.insert("title".into(), json!(r.title));
                            if let Some(d) = &r.description {
                                row.insert("description".into(), json!(d));
                            }
                            Value::Object(row)
                        })
                        .collect();
                    let mut sec = Map::new();
                    if let Some(t) = &s.title {
                        sec.insert("title".into(), json!(t));
                    }
                    sec.insert("rows".into(), Value::Array(rows));
                    Value::Object(sec)
                })
                .collect();
            m.insert("sections".into(), Value::Array(list));
        }
        InteractiveAction::CtaUrl { display_text, url } => {
            m.insert(
                "cta".into(),
                json!({ "display_text": display_text, "url": url }),
            );
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: &str = "wamid.ZzAxMjNhYmNkLjU"; // base64url of "g0123abcd.5"

    fn base(extra: Value) -> Value {
        let mut v = json!({"messaging_product": "whatsapp", "to": "+16505551234"});
        for (k, val) in extra.as_object().expect("object") {
            v[k] = val.clone();
        }
        v
    }

    fn send(extra: Value) -> Outbound {
        match parse_request(&base(extra.clone())) {
            Ok(Request::Send(o)) => o,
            other => panic!("{extra}: {other:?}"),
        }
    }

    /// Every error path: (body, expected code, a fragment of the details).
    #[test]
    fn errors() {
        let long = |n: usize| "x".repeat(n);
        let cases: Vec<(Value, u32, &str)> = vec![
            (json!([1]), 100, "JSON object"),
            (
                json!({"messaging_product": "sms", "to": "+16505551234", "type": "text", "text": {"body": "a"}}),
                100,
                "messaging_product",
            ),
            (json!({"type": "text", "text": {"body": "a"}}), 131008, "to"),
            (
                json!({"recipient": "US.1349", "type": "text", "text": {"body": "a"}}),
                100,
                "is not a user id this business received",
            ),
            (
                json!({"to": "abc", "type": "text", "text": {"body": "a"}}),
                100,
                "to: \"abc\"",
            ),
            (
                json!({"to": "+123", "type": "text", "text": {"body": "a"}}),
                100,
                "to:",
            ),
            (
                json!({"to": "+16505551234", "recipient_type": "group", "type": "text", "text": {"body": "a"}}),
                100,
                "group",
            ),
            (
                json!({"to": "+16505551234", "recipient_type": "x", "type": "text", "text": {"body": "a"}}),
                131009,
                "recipient_type",
            ),
            (json!({"to": "+16505551234"}), 131008, "type"),
            (
                json!({"to": "+16505551234", "type": "poll"}),
                100,
                "\"poll\"",
            ),
            (base(json!({"type": "text"})), 131008, "text"),
            (
                base(json!({"type": "text", "text": {}})),
                131008,
                "text.body",
            ),
            (
                base(json!({"type": "text", "text": {"body": ""}})),
                131009,
                "text.body: must not be empty",
            ),
            (
                base(json!({"type": "text", "text": {"body": long(4097)}})),
                131009,
                "text.body: is 4097 characters; the limit is 4096",
            ),
            (
                base(json!({"type": "text", "text": {"body": {}}})),
                131009,
                "text.body: expected a string",
            ),
            (
                base(json!({"type": "text", "text": {"body": "a", "preview_url": "maybe"}})),
                131009,
                "text.preview_url",
            ),
            (
                base(
                    json!({"type": "text", "text": {"body": "a"}, "biz_opaque_callback_data": long(513)}),
                ),
                131009,
                "biz_opaque_callback_data",
            ),
            (
                base(json!({"type": "text", "text": {"body": "a"}, "context": {}})),
                131008,
                "context.message_id",
            ),
            (
                base(
                    json!({"type": "text", "text": {"body": "a"}, "context": {"message_id": "wamid.HBgL"}}),
                ),
                131009,
                "context.message_id",
            ),
            (
                base(json!({"type": "image", "image": {}})),
                131008,
                "image.id",
            ),
            (
                base(json!({"type": "image", "image": {"id": "1", "link": "https://x/a"}})),
                131009,
                "either id or link",
            ),
            (
                base(json!({"type": "image", "image": {"id": "abc"}})),
                131009,
                "image.id",
            ),
            (
                base(json!({"type": "image", "image": {"link": "ftp://x/a"}})),
                131009,
                "image.link",
            ),
            (
                base(
                    json!({"type": "image", "image": {"link": format!("https://x/{}", long(2040))}}),
                ),
                131009,
                "image.link: is 2050",
            ),
            (
                base(json!({"type": "image", "image": {"id": "1", "caption": long(1025)}})),
                131009,
                "image.caption",
            ),
            (
                base(json!({"type": "audio", "audio": {"id": "1", "caption": "c"}})),
                131009,
                "audio.caption",
            ),
            (
                base(json!({"type": "sticker", "sticker": {"id": "1", "caption": "c"}})),
                131009,
                "sticker.caption",
            ),
            (
                base(json!({"type": "image", "image": {"id": "1", "filename": "a.pdf"}})),
                131009,
                "image.filename",
            ),
            (
                base(json!({"type": "document", "document": {"id": "1", "filename": long(241)}})),
                131009,
                "document.filename",
            ),
            (
                base(json!({"type": "location", "location": {"longitude": 1}})),
                131008,
                "location.latitude",
            ),
            (
                base(json!({"type": "location", "location": {"latitude": 1}})),
                131008,
                "location.longitude",
            ),
            (
                base(json!({"type": "location", "location": {"latitude": 91, "longitude": 1}})),
                131009,
                "location.latitude",
            ),
            (
                base(json!({"type": "location", "location": {"latitude": 1, "longitude": "east"}})),
                131009,
                "location.longitude",
            ),
            (base(json!({"type": "contacts"})), 131008, "contacts"),
            (
                base(json!({"type": "contacts", "contacts": []})),
                131009,
                "contacts",
            ),
            (
                base(
                    json!({"type": "contacts", "contacts": vec![json!({"name": {"formatted_name": "a"}}); 11]}),
                ),
                131009,
                "has 11 entries",
            ),
            (
                base(json!({"type": "contacts", "contacts": [{"name": {}}]})),
                131008,
                "contacts[0].name.formatted_name",
            ),
            (
                base(json!({"type": "contacts", "contacts": [{"phones": []}]})),
                131008,
                "contacts[0].name",
            ),
            (
                base(json!({"type": "reaction", "reaction": {"emoji": "👍"}})),
                131008,
                "reaction.message_id",
            ),
            (
                base(
                    json!({"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}}),
                ),
                131009,
                "reaction.message_id",
            ),
            (
                base(json!({"type": "reaction", "reaction": {"message_id": W, "emoji": "ok"}})),
                131009,
                "reaction.emoji",
            ),
            (
                base(json!({"type": "reaction", "reaction": {"message_id": W, "emoji": "👍👍"}})),
                131009,
                "reaction.emoji",
            ),
            (
                base(
                    json!({"type": "reaction", "reaction": {"message_id": W, "emoji": "👍"}, "context": {"message_id": W}}),
                ),
                100,
                "context is not allowed on a reaction",
            ),
            (
                base(json!({"type": "interactive", "interactive": {"type": "flow"}})),
                100,
                "interactive.type",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "action": {}}}),
                ),
                131008,
                "interactive.body",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": long(1025)}, "action": {}}}),
                ),
                131009,
                "interactive.body.text",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}}}),
                ),
                131008,
                "interactive.action",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {}}}),
                ),
                131008,
                "interactive.action.buttons",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": []}}}),
                ),
                131009,
                "interactive.action.buttons",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "1", "title": "a"}}, {"type": "reply", "reply": {"id": "2", "title": "b"}},
                {"type": "reply", "reply": {"id": "3", "title": "c"}}, {"type": "reply", "reply": {"id": "4", "title": "d"}}]}}}),
                ),
                131009,
                "has 4 buttons",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "1", "title": long(21)}}]}}}),
                ),
                131009,
                "interactive.action.buttons[0].reply.title",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": long(257), "title": "a"}}]}}}),
                ),
                131009,
                "interactive.action.buttons[0].reply.id",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": [
                {"type": "reply", "reply": {"id": "1", "title": "a"}}, {"type": "reply", "reply": {"id": "1", "title": "b"}}]}}}),
                ),
                131009,
                "interactive.action.buttons[1].reply.id: \"1\" is used",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": [
                {"type": "url", "reply": {"id": "1", "title": "a"}}]}}}),
                ),
                131009,
                "interactive.action.buttons[0].type",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "action": {"buttons": [{}]}}}),
                ),
                131008,
                "interactive.action.buttons[0].reply",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "footer": {"text": long(61)}, "action": {}}}),
                ),
                131009,
                "interactive.footer.text",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "header": {"type": "text", "text": long(61)}, "action": {}}}),
                ),
                131009,
                "interactive.header.text",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "header": {"type": "gif"}, "action": {}}}),
                ),
                131009,
                "interactive.header.type",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "header": {"type": "image", "image": {"id": "1"}}, "action": {}}}),
                ),
                131009,
                "text headers only",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "button", "body": {"text": "b"}, "header": {"type": "image"}, "action": {}}}),
                ),
                131008,
                "interactive.header.image",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"sections": []}}}),
                ),
                131008,
                "interactive.action.button",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": long(21), "sections": []}}}),
                ),
                131009,
                "interactive.action.button",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": []}}}),
                ),
                131009,
                "interactive.action.sections",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": vec![json!({"title": "t", "rows": [{"id": "r", "title": "t"}]}); 11]}}}),
                ),
                131009,
                "has 11 sections",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [
                {"rows": [{"id": "a", "title": "t"}]}, {"title": "s", "rows": [{"id": "b", "title": "t"}]}]}}}),
                ),
                131008,
                "interactive.action.sections[0].title",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [{"rows": []}]}}}),
                ),
                131009,
                "interactive.action.sections[0].rows",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [
                {"rows": (0..11).map(|i| json!({"id": i.to_string(), "title": "t"})).collect::<Vec<_>>()}]}}}),
                ),
                131009,
                "interactive.action.sections[0].rows[10]: a list has at most 10 rows",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [
                {"rows": [{"id": "a", "title": long(25)}]}]}}}),
                ),
                131009,
                "interactive.action.sections[0].rows[0].title",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [
                {"rows": [{"id": long(201), "title": "t"}]}]}}}),
                ),
                131009,
                "rows[0].id",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [
                {"rows": [{"id": "a", "title": "t", "description": long(73)}]}]}}}),
                ),
                131009,
                "rows[0].description",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": "b"}, "action": {"button": "o", "sections": [
                {"title": "x", "rows": [{"id": "a", "title": "t"}]}, {"title": "y", "rows": [{"id": "a", "title": "t"}]}]}}}),
                ),
                131009,
                "sections[1].rows[0].id: \"a\" is used",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "list", "body": {"text": long(4097)}, "action": {}}}),
                ),
                131009,
                "interactive.body.text",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "b"}, "action": {"name": "cta_url"}}}),
                ),
                131008,
                "interactive.action.parameters",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "b"}, "action": {"parameters": {"display_text": long(21), "url": "https://x"}}}}),
                ),
                131009,
                "display_text",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "b"}, "action": {"parameters": {"display_text": "go", "url": "javascript:x"}}}}),
                ),
                131009,
                "interactive.action.parameters.url",
            ),
            (
                base(
                    json!({"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "b"}, "action": {"name": "flow", "parameters": {}}}}),
                ),
                131009,
                "interactive.action.name",
            ),
            (
                base(json!({"type": "template", "template": {"language": {"code": "en"}}})),
                131008,
                "template.name",
            ),
            (
                base(json!({"type": "template", "template": {"name": "t"}})),
                131008,
                "template.language",
            ),
            (
                base(json!({"type": "template", "template": {"name": "t", "language": {}}})),
                131008,
                "template.language.code",
            ),
            (
                base(
                    json!({"type": "template", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "carousel"}]}}),
                ),
                100,
                "template.components[0].type",
            ),
            (
                base(
                    json!({"type": "template", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "button", "sub_type": "url"}]}}),
                ),
                131008,
                "template.components[0].index",
            ),
            (
                base(
                    json!({"type": "template", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [{"type": "action"}]}]}}),
                ),
                100,
                "parameters[0].type",
            ),
            (
                base(
                    json!({"type": "template", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [{"type": "text"}]}]}}),
                ),
                131008,
                "template.components[0].parameters[0].text",
            ),
            (
                base(
                    json!({"type": "template", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [{"type": "currency", "currency": {"code": "USD"}}]}]}}),
                ),
                131008,
                "currency.fallback_value",
            ),
            (
                base(
                    json!({"type": "template", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "header", "parameters": [{"type": "image", "image": {"id": "x"}}]}]}}),
                ),
                131009,
                "parameters[0].image.id",
            ),
            (json!({"status": "read"}), 131008, "message_id"),
            (
                json!({"status": "delivered", "message_id": W}),
                131009,
                "status",
            ),
            (
                json!({"status": "read", "message_id": "wamid.nope"}),
                131009,
                "message_id",
            ),
            (
                json!({"status": "read", "message_id": W, "typing_indicator": {"type": "audio"}}),
                131009,
                "typing_indicator.type",
            ),
        ];
        for (body, code, fragment) in cases {
            let err = parse_request(&body).expect_err(&body.to_string());
            assert_eq!(err.code, code, "{body}: {err}");
            assert!(
                err.details.contains(fragment),
                "{body}: {:?} lacks {fragment:?}",
                err.details
            );
        }
    }

    #[test]
    fn recipients() {
        let cases = [
            ("+16505551234", "16505551234"),
            ("16505551234", "16505551234"),
            ("+1 (650) 555-1234", "16505551234"),
            (" 49 151 1234-5678 ", "4915112345678"),
        ];
        for (input, want) in cases {
            let o = send(json!({"to": input, "type": "text", "text": {"body": "a"}}));
            assert_eq!((o.to.as_str(), o.to_input.as_str()), (want, input));
        }
        // A number without quotes, as some clients send it.
        let o = send(json!({"to": 16505551234u64, "type": "text", "text": {"body": "a"}}));
        assert_eq!(o.to, "16505551234");
    }

    #[test]
    fn text_is_tolerant() {
        let o = send(
            json!({"recipient_type": "INDIVIDUAL", "type": "TEXT", "text": {"body": "hi", "preview_url": "true"},
            "context": {"message_id": W}, "biz_opaque_callback_data": "cb", "unknown": 1, "recipient_identity_key_hash": null}),
        );
        assert_eq!(
            o.content,
            Content::Text {
                body: "hi".into(),
                preview_url: true
            }
        );
        assert_eq!(o.context_message_id.as_deref(), Some(W));
        assert_eq!(o.biz_opaque_callback_data.as_deref(), Some("cb"));
        assert_eq!(o.content.body_json(None), json!({"text": "hi"}));
        // Without `type`, the content key decides; lengths count characters.
        let o = send(json!({"text": {"body": "ü".repeat(4096)}}));
        assert!(matches!(o.content, Content::Text { .. }));
        assert_eq!(o.content.media_needed(), None);
    }

    #[test]
    fn media() {
        let o = send(
            json!({"type": "image", "image": {"link": "https://x.example/a.jpg", "caption": "boarding pass"}}),
        );
        assert_eq!(
            o.content.media_needed(),
            Some((
                &MediaKind::Image,
                &MediaSource::Link("https://x.example/a.jpg".into())
            ))
        );
        let hex = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            o.content.body_json(Some(hex)),
            json!({"media_id": hex, "caption": "boarding pass"})
        );

        let o = send(
            json!({"type": "document", "document": {"id": 1037543291543636u64, "filename": "t.pdf", "caption": null}}),
        );
        assert_eq!(
            o.content.body_json(Some(hex)),
            json!({"media_id": hex, "filename": "t.pdf"})
        );
        let o = send(json!({"type": "audio", "audio": {"id": "1", "voice": true}}));
        assert_eq!(
            o.content.body_json(Some(hex)),
            json!({"media_id": hex, "voice": true})
        );
        let o = send(json!({"type": "sticker", "sticker": {"id": "1"}}));
        assert_eq!(
            o.content.media_needed().map(|m| m.0.as_str()),
            Some("sticker")
        );
    }

    #[test]
    fn location_accepts_nulls_and_strings() {
        let o = send(
            json!({"type": "location", "location": {"latitude": "32.0", "longitude": 34.8, "name": null, "address": null}}),
        );
        assert_eq!(
            o.content.body_json(None),
            json!({"location": {"latitude": 32.0, "longitude": 34.8}})
        );
        let o = send(
            json!({"type": "location", "location": {"latitude": 1, "longitude": 2, "name": "HQ", "address": "1 Way"}}),
        );
        assert_eq!(
            o.content.body_json(None),
            json!({"location": {"latitude": 1.0, "longitude": 2.0, "name": "HQ", "address": "1 Way"}})
        );
    }

    #[test]
    fn contacts_drop_nulls() {
        let o = send(
            json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Ada L", "first_name": "Ada"}, "birthday": null, "org": null,
            "phones": [{"phone": "+1", "type": "WORK", "wa_id": null}]}]}),
        );
        assert_eq!(
            o.content.body_json(None),
            json!({"contacts": [{"name": {"formatted_name": "Ada L", "first_name": "Ada"}, "phones": [{"phone": "+1", "type": "WORK"}]}]})
        );
    }

    #[test]
    fn reactions() {
        for emoji in ["👍", "", "❤️", "👨‍👩‍👧‍👦", "🇩🇪", "1️⃣", "👍🏽"]
        {
            let o =
                send(json!({"type": "reaction", "reaction": {"message_id": W, "emoji": emoji}}));
            assert_eq!(
                o.content.body_json(None),
                json!({"reaction": {"message_id": "g0123abcd.5", "emoji": emoji}}),
                "{emoji}"
            );
        }
        for emoji in ["a", "🇩🇪🇩🇪", "👍 ", "hi"] {
            assert!(check_emoji(emoji).is_err(), "{emoji}");
        }
    }

    #[test]
    fn interactive_button() {
        let o = send(
            json!({"type": "interactive", "interactive": {"type": "BUTTON",
            "header": {"type": "image", "image": {"id": "77"}}, "body": {"text": "Pick"}, "footer": {"text": "Ftr"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}, {"reply": {"id": "n", "title": "No"}}]}}}),
        );
        assert_eq!(
            o.content.media_needed(),
            Some((&MediaKind::Image, &MediaSource::Id("77".into())))
        );
        assert_eq!(
            o.content.body_json(Some("ab")),
            json!({"interactive": {"type": "button", "header": {"media_id": "ab", "kind": "image"}, "body": "Pick", "footer": "Ftr",
                "buttons": [{"id": "y", "title": "Yes"}, {"id": "n", "title": "No"}]}})
        );
    }

    #[test]
    fn interactive_list_and_cta() {
        let o = send(
            json!({"type": "interactive", "interactive": {"type": "list", "header": {"type": "text", "text": "H"},
            "body": {"text": "B"}, "action": {"button": "Options", "sections": [
                {"title": "S1", "rows": [{"id": "r1", "title": "One", "description": "first"}]},
                {"title": "S2", "rows": [{"id": "r2", "title": "Two"}]}]}}}),
        );
        assert_eq!(
            o.content.body_json(None),
            json!({"interactive": {"type": "list", "header": {"text": "H"}, "body": "B", "button": "Options", "sections": [
                {"title": "S1", "rows": [{"id": "r1", "title": "One", "description": "first"}]},
                {"title": "S2", "rows": [{"id": "r2", "title": "Two"}]}]}})
        );
        let o = send(
            json!({"type": "interactive", "interactive": {"type": "cta_url", "body": {"text": "B"}, "footer": {"text": "F"},
            "action": {"name": "cta_url", "parameters": {"display_text": "See Dates", "url": "https://x.example"}}}}),
        );
        assert_eq!(
            o.content.body_json(None),
            json!({"interactive": {"type": "cta_url", "body": "B", "footer": "F", "cta": {"display_text": "See Dates", "url": "https://x.example"}}})
        );
    }

    #[test]
    fn templates_parse_both_casings() {
        let o = send(
            json!({"type": "template", "template": {"name": "flight_update", "language": {"code": "en_US", "policy": "deterministic"},
            "components": [
                {"type": "HEADER", "parameters": [{"type": "image", "image": {"link": "https://x/a.png"}}]},
                {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Jessica"},
                    {"type": "currency", "currency": {"fallback_value": "$10", "code": "USD", "amount_1000": 10000}},
                    {"type": "date_time", "date_time": {"fallback_value": "May 1"}}]},
                {"type": "button", "sub_type": "URL", "index": "0", "parameters": [{"type": "text", "text": "J$Fp"}]},
                {"type": "button", "sub_type": "quick_reply", "index": 1, "parameters": [{"type": "payload", "payload": "cb"}]},
                {"type": "button", "sub_type": "COPY_CODE", "index": 2, "parameters": [{"type": "coupon_code", "coupon_code": "SAVE"}]}]}}),
        );
        let Content::Template(t) = &o.content else {
            panic!("template")
        };
        assert_eq!(
            (t.name.as_str(), t.language.as_str()),
            ("flight_update", "en_US")
        );
        assert_eq!(t.components.len(), 5);
        assert_eq!(t.components[2].sub_type.as_deref(), Some("url"));
        assert_eq!(t.components[2].index, Some(0));
        assert_eq!(
            t.components[4].parameters,
            vec![Parameter::CouponCode("SAVE".into())]
        );
        assert_eq!(
            t.components[1].parameters[1],
            Parameter::Currency {
                name: None,
                fallback: "$10".into()
            }
        );
        assert_eq!(
            o.content.media_needed().map(|m| m.0),
            Some(&MediaKind::Image)
        );
        // heyoo sends `components: null`.
        let o = send(
            json!({"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}, "components": null}}),
        );
        let Content::Template(t) = &o.content else {
            panic!("template")
        };
        assert!(t.components.is_empty());
    }

    #[test]
    fn mark_read_and_typing() {
        let cases = [
            (
                json!({"messaging_product": "whatsapp", "status": "read", "message_id": W}),
                false,
            ),
            (
                json!({"status": "READ", "message_id": W, "typing_indicator": {"type": "text"}}),
                true,
            ),
            (
                json!({"status": "read", "message_id": W, "typing_indicator": null}),
                false,
            ),
        ];
        for (body, typing) in cases {
            assert_eq!(
                parse_request(&body).unwrap(),
                Request::MarkRead {
                    message_id: W.into(),
                    typing
                },
                "{body}"
            );
        }
    }
}
