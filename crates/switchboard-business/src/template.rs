//! Message templates: checking a template a business creates, rendering it with the
//! parameters of a send, its Graph JSON, and its status model.
//!
//! Outside the 24-hour window a business may only send approved templates, so this is
//! where most of the business-side rules live. Templates are stored with normalised
//! components (component `type`, `format` and button `type` uppercased) so rendering
//! never has to guess the case a client used when it created them.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::GraphError;
use crate::json::{as_string, check_len, get, is_http_url, opt_bool, opt_str, opt_u64};
use crate::send::{ComponentKind, MediaKind, Parameter, SendComponent, TemplateSend};

/// Longest template name.
pub const MAX_NAME_CHARS: usize = 512;
/// Longest BODY text, before and after substitution.
pub const MAX_BODY_CHARS: usize = 1024;
/// Longest TEXT header and FOOTER.
pub const MAX_HEADER_FOOTER_CHARS: usize = 60;
/// Longest button text.
pub const MAX_BUTTON_TEXT_CHARS: usize = 25;
/// Most buttons in a template.
pub const MAX_BUTTONS: usize = 10;
/// Longest text parameter value.
pub const MAX_PARAMETER_CHARS: usize = 1024;
/// Longest authentication code or coupon code.
pub const MAX_CODE_CHARS: usize = 15;

/// A template as created, checked and normalised, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSpec {
    pub name: String,
    pub language: String,
    /// MARKETING, UTILITY or AUTHENTICATION.
    pub category: String,
    /// POSITIONAL or NAMED.
    pub parameter_format: String,
    /// The components, normalised: component `type` and `format`, button `type` and
    /// `otp_type` uppercased; everything else as sent.
    pub components: Value,
    pub message_send_ttl_seconds: Option<u32>,
}

/// The fields of `POST /{template_id}` (an edit); components are replaced wholesale.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateEdit {
    pub category: Option<String>,
    pub components: Option<Value>,
    pub message_send_ttl_seconds: Option<u32>,
}

fn invalid(details: impl Into<String>) -> GraphError {
    GraphError::invalid_parameter(details)
}

/// 2388040 unless `text` has at most `max` characters.
fn check_chars(path: &str, text: &str, max: usize) -> Result<(), GraphError> {
    let n = text.chars().count();
    if n > max {
        return Err(GraphError::new(
            2388040,
            format!("{path} is {n} characters; the limit is {max}"),
        ));
    }
    Ok(())
}

/// The category named `s` (any case), uppercased.
pub fn parse_category(s: &str) -> Result<&'static str, GraphError> {
    match s.to_ascii_uppercase().as_str() {
        "MARKETING" => Ok("MARKETING"),
        "UTILITY" => Ok("UTILITY"),
        "AUTHENTICATION" => Ok("AUTHENTICATION"),
        _ => Err(invalid(format!(
            "category {s:?} is not one of MARKETING, UTILITY, AUTHENTICATION"
        ))),
    }
}

/// The parameter format named `s` (any case), uppercased.
pub fn parse_parameter_format(s: &str) -> Result<&'static str, GraphError> {
    match s.to_ascii_uppercase().as_str() {
        "POSITIONAL" => Ok("POSITIONAL"),
        "NAMED" => Ok("NAMED"),
        _ => Err(invalid(format!(
            "parameter_format {s:?} is not one of POSITIONAL, NAMED"
        ))),
    }
}

/// Whether `s` is a template language code: 2-3 lowercase letters, optionally `_` and
/// 2-3 uppercase letters or digits (`en`, `en_US`, `pt_BR`, `es_419`).
pub fn valid_language(s: &str) -> bool {
    let (lang, region) = match s.split_once('_') {
        Some((l, r)) => (l, Some(r)),
        None => (s, None),
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| {
            (2..=3).contains(&r.len())
                && r.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

fn parse_ttl(v: &Value) -> Result<Option<u32>, GraphError> {
    opt_u64(v, "message_send_ttl_seconds", "")?
        .map(|t| u32::try_from(t).map_err(|_| invalid("message_send_ttl_seconds is too large")))
        .transpose()
}

/// Checks a `POST /{waba_id}/message_templates` body.
pub fn parse_create(v: &Value) -> Result<TemplateSpec, GraphError> {
    if !v.is_object() {
        return Err(invalid("the request body must be a JSON object"));
    }
    let name = opt_str(v, "name", "")?.ok_or_else(|| invalid("name is required"))?;
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(invalid(format!(
            "name {name:?} must be 1 to {MAX_NAME_CHARS} lowercase letters, digits and underscores"
        )));
    }
    let language = opt_str(v, "language", "")?.ok_or_else(|| invalid("language is required"))?;
    if !valid_language(&language) {
        return Err(invalid(format!(
            "language {language:?} is not a language code such as \"en\", \"en_US\" or \"pt_BR\""
        )));
    }
    let category = opt_str(v, "category", "")?.ok_or_else(|| invalid("category is required"))?;
    let category = parse_category(&category)?;
    let parameter_format = match opt_str(v, "parameter_format", "")? {
        Some(f) => parse_parameter_format(&f)?,
        None => "POSITIONAL",
    };
    let components = get(v, "components").ok_or_else(|| invalid("components is required"))?;
    let components = parse_components(components, category, parameter_format)?;
    Ok(TemplateSpec {
        name,
        language,
        category: category.to_owned(),
        parameter_format: parameter_format.to_owned(),
        components,
        message_send_ttl_seconds: parse_ttl(v)?,
    })
}

/// Checks a `POST /{template_id}` edit against the template's current category and
/// parameter format (a new category applies to the new components).
pub fn parse_edit(
    v: &Value,
    current_category: &str,
    parameter_format: &str,
) -> Result<TemplateEdit, GraphError> {
    if !v.is_object() {
        return Err(invalid("the request body must be a JSON object"));
    }
    let category = opt_str(v, "category", "")?
        .map(|c| parse_category(&c))
        .transpose()?;
    let effective = category.unwrap_or(current_category);
    let components = get(v, "components")
        .map(|c| parse_components(c, &effective.to_ascii_uppercase(), parameter_format))
        .transpose()?;
    let message_send_ttl_seconds = parse_ttl(v)?;
    if category.is_none() && components.is_none() && message_send_ttl_seconds.is_none() {
        return Err(invalid(
            "nothing to edit; send category, components or message_send_ttl_seconds",
        ));
    }
    Ok(TemplateEdit {
        category: category.map(str::to_owned),
        components,
        message_send_ttl_seconds,
    })
}

/// A `{{…}}` placeholder in a text: what is inside the braces and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placeholder {
    name: String,
    start: usize,
    end: usize,
}

fn placeholders(text: &str) -> Vec<Placeholder> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{") {
        let start = from + open;
        let Some(close) = text[start + 2..].find("}}") else {
            break;
        };
        let end = start + 2 + close + 2;
        out.push(Placeholder {
            name: text[start + 2..end - 2].to_owned(),
            start,
            end,
        });
        from = end;
    }
    out
}

/// The variable names in `text`, in order of appearance, repeats included
/// (`"Hi {{1}}, {{2}}"` → `["1", "2"]`).
pub fn text_variables(text: &str) -> Vec<String> {
    placeholders(text).into_iter().map(|p| p.name).collect()
}

/// The variables a template's components use, per component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    pub header: Vec<String>,
    pub body: Vec<String>,
    /// `(button index, variables of its url)`.
    pub buttons: Vec<(usize, Vec<String>)>,
}

/// The variables of normalised components (see [`TemplateSpec::components`]).
pub fn variables(components: &Value) -> Variables {
    let mut out = Variables::default();
    for c in components.as_array().into_iter().flatten() {
        let text = c.get("text").and_then(Value::as_str).unwrap_or("");
        match c.get("type").and_then(Value::as_str) {
            Some("HEADER") => out.header = text_variables(text),
            Some("BODY") => out.body = text_variables(text),
            Some("BUTTONS") => {
                for (i, b) in c
                    .get("buttons")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(url) = b.get("url").and_then(Value::as_str) {
                        let vars = text_variables(url);
                        if !vars.is_empty() {
                            out.buttons.push((i, vars));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn is_named_variable(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks the variables of a text for the parameter format; returns how many
/// distinct variables it has.
fn check_variables(label: &str, text: &str, parameter_format: &str) -> Result<usize, GraphError> {
    let vars = text_variables(text);
    if parameter_format == "NAMED" {
        if let Some(bad) = vars.iter().find(|v| !is_named_variable(v)) {
            return Err(invalid(format!(
                "{label}: {{{{{bad}}}}} is not a named variable; use lowercase letters, digits and underscores, e.g. {{{{first_name}}}}"
            )));
        }
        return Ok(vars.iter().collect::<BTreeSet<_>>().len());
    }
    let mut numbers = BTreeSet::new();
    for v in &vars {
        match v.parse::<usize>() {
            Ok(n) if n >= 1 && v.bytes().all(|b| b.is_ascii_digit()) => {
                numbers.insert(n);
            }
            _ => {
                return Err(invalid(format!(
                    "{label}: {{{{{v}}}}} is not a positional variable; use {{{{1}}}}, {{{{2}}}}, … (or parameter_format NAMED)"
                )));
            }
        }
    }
    if let Some((i, n)) = numbers.iter().enumerate().find(|(i, n)| **n != i + 1) {
        return Err(invalid(format!(
            "{label}: variables must be numbered {{{{1}}}}, {{{{2}}}}, … without gaps; found {{{{{n}}}}} where {{{{{}}}}} was expected",
            i + 1
        )));
    }
    Ok(numbers.len())
}

/// 2388299 if `text` starts or ends with a variable.
fn check_not_at_edges(label: &str, text: &str) -> Result<(), GraphError> {
    let t = text.trim();
    let ph = placeholders(t);
    let at_start = ph.first().is_some_and(|p| p.start == 0);
    let at_end = ph.last().is_some_and(|p| p.end == t.len());
    if at_start || at_end {
        return Err(GraphError::new(
            2388299,
            format!(
                "{label}: a variable cannot be at the very start or end of the text; add words around it"
            ),
        ));
    }
    Ok(())
}

fn upper_field(
    m: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, GraphError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let s = as_string(v, &format!("{path}.{key}"))
                .map_err(|e| invalid(e.details))?
                .to_ascii_uppercase();
            m.insert(key.to_owned(), Value::String(s.clone()));
            Ok(Some(s))
        }
    }
}

fn text_of(c: &Value, path: &str) -> Result<Option<String>, GraphError> {
    opt_str(c, "text", path).map_err(|e| invalid(e.details))
}

/// Checks and normalises template components for a category (uppercase) and
/// parameter format (uppercase).
pub fn parse_components(
    components: &Value,
    category: &str,
    parameter_format: &str,
) -> Result<Value, GraphError> {
    let list = components
        .as_array()
        .ok_or_else(|| invalid("components must be an array"))?;
    let auth = category.eq_ignore_ascii_case("AUTHENTICATION");
    let parameter_format = parameter_format.to_ascii_uppercase();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let path = format!("components[{i}]");
        let Value::Object(m) = c else {
            return Err(invalid(format!("{path} must be an object")));
        };
        let mut m = m.clone();
        let ty = upper_field(&mut m, "type", &path)?
            .ok_or_else(|| invalid(format!("{path}.type is required")))?;
        *seen.entry(ty.clone()).or_default() += 1;
        if seen[&ty] > 1 {
            return Err(invalid(format!(
                "a template has at most one {ty} component"
            )));
        }
        let c = Value::Object(m.clone());
        match ty.as_str() {
            "HEADER" => {
                let format = upper_field(&mut m, "format", &path)?.ok_or_else(|| {
                    invalid(format!(
                        "{path}.format is required (TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION)"
                    ))
                })?;
                match format.as_str() {
                    "TEXT" => {
                        let text = text_of(&c, &path)?
                            .filter(|t| !t.is_empty())
                            .ok_or_else(|| invalid("HEADER.text is required for a TEXT header"))?;
                        check_chars("HEADER.text", &text, MAX_HEADER_FOOTER_CHARS)?;
                        if check_variables("HEADER.text", &text, &parameter_format)? > 1 {
                            return Err(invalid("HEADER.text may have at most one variable"));
                        }
                    }
                    "IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION" => {}
                    other => {
                        return Err(invalid(format!(
                            "HEADER.format {other:?} is not one of TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION"
                        )));
                    }
                }
            }
            "BODY" => match text_of(&c, &path)? {
                Some(text) if !text.is_empty() => {
                    check_chars("BODY.text", &text, MAX_BODY_CHARS)?;
                    check_variables("BODY.text", &text, &parameter_format)?;
                    check_not_at_edges("BODY.text", &text)?;
                }
                _ if auth => {
                    opt_bool(&c, "add_security_recommendation", &path)
                        .map_err(|e| invalid(e.details))?;
                }
                _ => return Err(invalid("BODY.text is required")),
            },
            "FOOTER" => match text_of(&c, &path)? {
                Some(text) if !text.is_empty() => {
                    check_chars("FOOTER.text", &text, MAX_HEADER_FOOTER_CHARS)?;
                    if !text_variables(&text).is_empty() {
                        return Err(invalid("FOOTER.text cannot have variables"));
                    }
                }
                _ if auth => {
                    let minutes = opt_u64(&c, "code_expiration_minutes", &path)
                        .map_err(|e| invalid(e.details))?;
                    if minutes.is_some_and(|n| !(1..=90).contains(&n)) {
                        return Err(invalid(
                            "FOOTER.code_expiration_minutes must be between 1 and 90",
                        ));
                    }
                }
                _ => return Err(invalid("FOOTER.text is required")),
            },
            "BUTTONS" => {
                let buttons = parse_buttons(m.get("buttons"), auth)?;
                m.insert("buttons".into(), Value::Array(buttons));
            }
            other => {
                return Err(invalid(format!(
                    "{path}.type {other:?} is not supported; expected HEADER, BODY, FOOTER or BUTTONS"
                )));
            }
        }
        out.push(Value::Object(m));
    }
    if !auth && !seen.contains_key("BODY") {
        return Err(invalid("a template needs a BODY component"));
    }
    Ok(Value::Array(out))
}

fn parse_buttons(buttons: Option<&Value>, auth: bool) -> Result<Vec<Value>, GraphError> {
    let list = buttons
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("BUTTONS.buttons must be an array"))?;
    if list.is_empty() || list.len() > MAX_BUTTONS {
        return Err(invalid(format!(
            "BUTTONS has {} buttons; a template has 1 to {MAX_BUTTONS}",
            list.len()
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, b) in list.iter().enumerate() {
        let path = format!("BUTTONS.buttons[{i}]");
        let Value::Object(m) = b else {
            return Err(invalid(format!("{path} must be an object")));
        };
        let mut m = m.clone();
        let ty = upper_field(&mut m, "type", &path)?
            .ok_or_else(|| invalid(format!("{path}.type is required")))?;
        let b = Value::Object(m.clone());
        let text = text_of(&b, &path)?;
        let need_text = |text: &Option<String>| -> Result<(), GraphError> {
            match text {
                Some(t) if !t.is_empty() => {
                    check_chars(&format!("{path}.text"), t, MAX_BUTTON_TEXT_CHARS)
                }
                _ => Err(invalid(format!("{path}.text is required"))),
            }
        };
        match ty.as_str() {
            "QUICK_REPLY" => need_text(&text)?,
            "URL" => {
                need_text(&text)?;
                let url = opt_str(&b, "url", &path)
                    .map_err(|e| invalid(e.details))?
                    .ok_or_else(|| invalid(format!("{path}.url is required")))?;
                check_url_button(&path, &url)?;
            }
            "PHONE_NUMBER" => {
                need_text(&text)?;
                let phone = opt_str(&b, "phone_number", &path)
                    .map_err(|e| invalid(e.details))?
                    .ok_or_else(|| invalid(format!("{path}.phone_number is required")))?;
                let digits = phone.strip_prefix('+').unwrap_or(&phone);
                if digits.is_empty()
                    || digits.len() > 20
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(invalid(format!(
                        "{path}.phone_number {phone:?} must be digits with an optional leading +"
                    )));
                }
            }
            "COPY_CODE" => {
                if let Some(t) = &text {
                    check_chars(&format!("{path}.text"), t, MAX_BUTTON_TEXT_CHARS)?;
                }
            }
            "OTP" if auth => {
                let otp = upper_field(&mut m, "otp_type", &path)?
                    .ok_or_else(|| invalid(format!("{path}.otp_type is required")))?;
                if !matches!(otp.as_str(), "COPY_CODE" | "ONE_TAP" | "ZERO_TAP") {
                    return Err(invalid(format!(
                        "{path}.otp_type {otp:?} is not one of COPY_CODE, ONE_TAP, ZERO_TAP"
                    )));
                }
                if let Some(t) = &text {
                    check_chars(&format!("{path}.text"), t, MAX_BUTTON_TEXT_CHARS)?;
                }
            }
            "OTP" => {
                return Err(invalid(format!(
                    "{path}: OTP buttons are only for AUTHENTICATION templates"
                )));
            }
            other => {
                return Err(invalid(format!(
                    "{path}.type {other:?} is not supported; expected QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE or OTP"
                )));
            }
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// A URL button: an http(s) URL with at most one variable, `{{1}}`, at its very end.
fn check_url_button(path: &str, url: &str) -> Result<(), GraphError> {
    check_len(&format!("{path}.url"), url, 1, 2000).map_err(|e| invalid(e.details))?;
    if !is_http_url(url) {
        return Err(invalid(format!(
            "{path}.url must be an absolute http or https URL"
        )));
    }
    let vars = placeholders(url);
    let ok = match vars.as_slice() {
        [] => true,
        [p] => p.name == "1" && p.end == url.len(),
        _ => false,
    };
    if !ok || url.matches("{{").count() != vars.len() {
        return Err(invalid(format!(
            "{path}.url may have one variable, {{{{1}}}}, and only at its end"
        )));
    }
    Ok(())
}

/// A rendered template: what the customer sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub header: Option<RenderedHeader>,
    pub body: String,
    pub footer: Option<String>,
    /// `{"type": "quick_reply", "text", "payload"}` | `{"type": "url", "text", "url"}` |
    /// `{"type": "phone_number", "text", "phone_number"}` | `{"type": "copy_code", "text", "code"}`.
    pub buttons: Vec<Value>,
}

/// A rendered template header.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderedHeader {
    Text(String),
    Media {
        kind: MediaKind,
        /// Our resolved 32-hex media id.
        media_id: String,
        filename: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
}

fn mismatch(label: &str, expected: usize, got: usize) -> GraphError {
    GraphError::new(
        132000,
        format!("{label}: expected {expected} parameters, got {got}"),
    )
}

/// Checks one value that goes into a template text.
fn check_value(label: &str, i: usize, value: &str, in_body: bool) -> Result<(), GraphError> {
    let n = value.chars().count();
    if n > MAX_PARAMETER_CHARS {
        return Err(GraphError::invalid_value(
            &format!("{label} parameter {}", i + 1),
            &format!("is {n} characters; the limit is {MAX_PARAMETER_CHARS}"),
        ));
    }
    if in_body && (value.contains(['\n', '\t']) || value.contains("     ")) {
        return Err(GraphError::invalid_value(
            &format!("{label} parameter {}", i + 1),
            "must not contain newlines, tabs or more than 4 consecutive spaces",
        ));
    }
    Ok(())
}

/// Replaces the variables of `text` with `params` (positional or named).
fn substitute(
    label: &str,
    text: &str,
    params: &[&Parameter],
    named: bool,
    in_body: bool,
) -> Result<String, GraphError> {
    let ph = placeholders(text);
    let distinct: BTreeSet<&str> = ph.iter().map(|p| p.name.as_str()).collect();
    if params.len() != distinct.len() {
        return Err(mismatch(label, distinct.len(), params.len()));
    }
    let mut values: HashMap<&str, &str> = HashMap::new();
    for (i, p) in params.iter().enumerate() {
        let value = match p {
            Parameter::Text { text, .. } => text.as_str(),
            Parameter::Currency { fallback, .. } | Parameter::DateTime { fallback, .. } => fallback,
            other => {
                return Err(GraphError::new(
                    132012,
                    format!(
                        "{label}: parameter {} must be text, currency or date_time, not {}",
                        i + 1,
                        other.type_name()
                    ),
                ));
            }
        };
        check_value(label, i, value, in_body)?;
        if named {
            let name = p.name().ok_or_else(|| {
                GraphError::new(
                    132000,
                    format!(
                        "{label}: parameter {} has no parameter_name; this template uses named parameters",
                        i + 1
                    ),
                )
            })?;
            values.insert(name, value);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for p in &ph {
        out.push_str(&text[from..p.start]);
        let value = if named {
            values.get(p.name.as_str()).copied().ok_or_else(|| {
                GraphError::new(
                    132000,
                    format!("{label}: parameter {:?} is missing", p.name),
                )
            })?
        } else {
            // Positional variables were checked to be 1..=n at creation.
            let n: usize = p.name.parse().unwrap_or(usize::MAX);
            params
                .get(n.wrapping_sub(1))
                .and_then(|p| p.text_value())
                .ok_or_else(|| {
                    GraphError::new(
                        132000,
                        format!("{label}: no parameter for {{{{{}}}}}", p.name),
                    )
                })?
        };
        out.push_str(value);
        from = p.end;
    }
    out.push_str(&text[from..]);
    Ok(out)
}

fn find<'a>(components: &'a Value, ty: &str) -> Option<&'a Value> {
    components.as_array()?.iter().find(|c| {
        c.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(ty))
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Renders a stored template with the parameters of a send.
///
/// `header_media_id` is our resolved media id for a media header parameter (the
/// server resolves what `Content::media_needed` names).
pub fn render(
    spec_components: &Value,
    parameter_format: &str,
    send: &TemplateSend,
    header_media_id: Option<&str>,
) -> Result<Rendered, GraphError> {
    let named = parameter_format.eq_ignore_ascii_case("NAMED");
    let params_of = |kind: ComponentKind| -> Vec<&Parameter> {
        send.components
            .iter()
            .filter(|c| c.kind == kind)
            .flat_map(|c| &c.parameters)
            .collect()
    };

    // Header.
    let header_params = params_of(ComponentKind::Header);
    let header = match find(spec_components, "HEADER") {
        None => {
            if !header_params.is_empty() {
                return Err(mismatch("header", 0, header_params.len()));
            }
            None
        }
        Some(h) => Some(render_header(h, &header_params, named, header_media_id)?),
    };

    // Body; an authentication body (no text) is the platform's fixed sentence.
    let body_params = params_of(ComponentKind::Body);
    let spec_body = find(spec_components, "BODY");
    let mut auth_code = None;
    let body = match spec_body
        .and_then(|b| str_of(b, "text"))
        .filter(|t| !t.is_empty())
    {
        Some(text) => substitute("body", text, &body_params, named, true)?,
        None => {
            if body_params.len() != 1 {
                return Err(mismatch("body", 1, body_params.len()));
            }
            let code = body_params[0].text_value().unwrap_or("");
            check_code("body", code)?;
            auth_code = Some(code.to_owned());
            let mut text = format!("{code} is your verification code.");
            if spec_body
                .is_some_and(|b| b.get("add_security_recommendation") == Some(&Value::Bool(true)))
            {
                text.push_str(" For your security, do not share this code.");
            }
            text
        }
    };
    let n = body.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(GraphError::new(
            132005,
            format!("body is {n} characters after substitution; the limit is {MAX_BODY_CHARS}"),
        ));
    }

    // Footer.
    let footer = find(spec_components, "FOOTER").and_then(|f| match str_of(f, "text") {
        Some(t) if !t.is_empty() => Some(t.to_owned()),
        _ => f
            .get("code_expiration_minutes")
            .and_then(|m| m.as_u64().or_else(|| m.as_str()?.parse().ok()))
            .map(|m| format!("This code expires in {m} minutes.")),
    });

    let buttons = render_buttons(spec_components, send, auth_code.as_deref())?;
    Ok(Rendered {
        header,
        body,
        footer,
        buttons,
    })
}

fn check_code(label: &str, code: &str) -> Result<(), GraphError> {
    let n = code.chars().count();
    if code.is_empty() || n > MAX_CODE_CHARS {
        return Err(GraphError::invalid_value(
            &format!("{label} code"),
            &format!("is {n} characters; a code has 1 to {MAX_CODE_CHARS}"),
        ));
    }
    Ok(())
}

fn render_header(
    h: &Value,
    params: &[&Parameter],
    named: bool,
    header_media_id: Option<&str>,
) -> Result<RenderedHeader, GraphError> {
    let format = str_of(h, "format").unwrap_or("TEXT").to_ascii_uppercase();
    if format == "TEXT" {
        let text = str_of(h, "text").unwrap_or("");
        let text = substitute("header", text, params, named, false)?;
        let n = text.chars().count();
        if n > MAX_HEADER_FOOTER_CHARS {
            return Err(GraphError::new(
                132005,
                format!(
                    "header is {n} characters after substitution; the limit is {MAX_HEADER_FOOTER_CHARS}"
                ),
            ));
        }
        return Ok(RenderedHeader::Text(text));
    }
    if params.len() != 1 {
        return Err(mismatch("header", 1, params.len()));
    }
    let wrong = |p: &Parameter| {
        GraphError::new(
            132012,
            format!(
                "header: the template has a {} header, the parameter is {}",
                format.to_ascii_lowercase(),
                p.type_name()
            ),
        )
    };
    match (format.as_str(), params[0]) {
        (
            "LOCATION",
            Parameter::Location {
                latitude,
                longitude,
                name,
                address,
            },
        ) => Ok(RenderedHeader::Location {
            latitude: *latitude,
            longitude: *longitude,
            name: name.clone(),
            address: address.clone(),
        }),
        (f, Parameter::Media { kind, filename, .. }) if kind.as_str().eq_ignore_ascii_case(f) => {
            let media_id = header_media_id.ok_or_else(|| {
                GraphError::new(131000, "header: the media parameter was not resolved")
            })?;
            Ok(RenderedHeader::Media {
                kind: *kind,
                media_id: media_id.to_owned(),
                filename: filename.clone(),
            })
        }
        (_, p) => Err(wrong(p)),
    }
}

fn render_buttons(
    spec_components: &Value,
    send: &TemplateSend,
    auth_code: Option<&str>,
) -> Result<Vec<Value>, GraphError> {
    let spec: &[Value] = find(spec_components, "BUTTONS")
        .and_then(|b| b.get("buttons"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut by_index: HashMap<usize, &SendComponent> = HashMap::new();
    for c in send
        .components
        .iter()
        .filter(|c| c.kind == ComponentKind::Button)
    {
        let i = c.index.unwrap_or(0) as usize;
        if i >= spec.len() {
            return Err(GraphError::new(
                132000,
                format!("button {i}: the template has no button at index {i}"),
            ));
        }
        if by_index.insert(i, c).is_some() {
            return Err(GraphError::invalid_value(
                &format!("button {i}"),
                "parameters for the same button were sent twice",
            ));
        }
    }
    let mut out = Vec::with_capacity(spec.len());
    for (i, b) in spec.iter().enumerate() {
        let label = format!("button {i}");
        let params: &[Parameter] = by_index
            .get(&i)
            .map(|c| c.parameters.as_slice())
            .unwrap_or(&[]);
        let text = str_of(b, "text").unwrap_or("");
        let ty = str_of(b, "type").unwrap_or("").to_ascii_uppercase();
        let one = |params: &[Parameter]| -> Result<Option<String>, GraphError> {
            match params {
                [] => Ok(None),
                [p] => Ok(p.text_value().map(str::to_owned)),
                _ => Err(mismatch(&label, 1, params.len())),
            }
        };
        let value = match ty.as_str() {
            "QUICK_REPLY" => {
                let payload = one(params)?.unwrap_or_else(|| text.to_owned());
                json!({"type": "quick_reply", "text": text, "payload": payload})
            }
            "URL" => {
                let url = str_of(b, "url").unwrap_or("");
                let url = if url.contains("{{") {
                    let v = one(params)?.ok_or_else(|| mismatch(&label, 1, 0))?;
                    check_value(&label, 0, &v, false)?;
                    url.replace("{{1}}", &v)
                } else {
                    if !params.is_empty() {
                        return Err(mismatch(&label, 0, params.len()));
                    }
                    url.to_owned()
                };
                json!({"type": "url", "text": text, "url": url})
            }
            "PHONE_NUMBER" => {
                if !params.is_empty() {
                    return Err(mismatch(&label, 0, params.len()));
                }
                json!({"type": "phone_number", "text": text, "phone_number": str_of(b, "phone_number").unwrap_or("")})
            }
            "COPY_CODE" => {
                let code = one(params)?.ok_or_else(|| mismatch(&label, 1, 0))?;
                check_code(&label, &code)?;
                let text = if text.is_empty() {
                    "Copy offer code"
                } else {
                    text
                };
                json!({"type": "copy_code", "text": text, "code": code})
            }
            "OTP" => {
                let code = one(params)?
                    .or_else(|| auth_code.map(str::to_owned))
                    .ok_or_else(|| mismatch(&label, 1, 0))?;
                check_code(&label, &code)?;
                let text = if text.is_empty() { "Copy code" } else { text };
                json!({"type": "copy_code", "text": text, "code": code})
            }
            // Creation refuses other types; a stored one is shown without its action.
            _ => continue,
        };
        out.push(value);
    }
    Ok(out)
}

/// The protocol body of a rendered template (what the customer's devices store).
pub fn rendered_body_json(
    name: &str,
    language: &str,
    category_lowercase: &str,
    r: &Rendered,
) -> Value {
    let mut t = Map::new();
    t.insert("name".into(), json!(name));
    t.insert("language".into(), json!(language));
    t.insert("category".into(), json!(category_lowercase));
    match &r.header {
        None => {}
        Some(RenderedHeader::Text(s)) => {
            t.insert("header".into(), json!({ "text": s }));
        }
        Some(RenderedHeader::Media {
            kind,
            media_id,
            filename,
        }) => {
            let mut h = Map::new();
            h.insert("media_id".into(), json!(media_id));
            h.insert("kind".into(), json!(kind.as_str()));
            if let Some(f) = filename {
                h.insert("filename".into(), json!(f));
            }
            t.insert("header".into(), Value::Object(h));
        }
        Some(RenderedHeader::Location {
            latitude,
            longitude,
            name,
            address,
        }) => {
            let loc = crate::send::location_json(*latitude, *longitude, name, address);
            t.insert("header".into(), json!({ "location": loc }));
        }
    }
    t.insert("body".into(), json!(r.body));
    if let Some(f) = &r.footer {
        t.insert("footer".into(), json!(f));
    }
    if !r.buttons.is_empty() {
        t.insert("buttons".into(), Value::Array(r.buttons.clone()));
    }
    json!({ "template": t })
}

/// A stored template, borrowed, for its Graph JSON.
#[derive(Debug, Clone, Copy)]
pub struct TemplateView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub parameter_format: &'a str,
    /// The normalised components as JSON text.
    pub components: &'a str,
    pub status: &'a str,
    pub reason: Option<&'a str>,
}

/// A template as Graph JSON. With `fields`, only those (that exist) plus `id`.
pub fn template_json(t: &TemplateView, fields: Option<&[String]>) -> Value {
    let components: Value = serde_json::from_str(t.components).unwrap_or_else(|_| json!([]));
    let mut all = vec![
        ("id", json!(t.id)),
        ("name", json!(t.name)),
        ("language", json!(t.language)),
        ("status", json!(t.status)),
        ("category", json!(t.category)),
        ("parameter_format", json!(t.parameter_format)),
        ("components", components),
    ];
    if let Some(r) = t.reason {
        all.push(("rejected_reason", json!(r)));
    }
    let keep = |k: &str| match fields {
        None => true,
        Some(f) => k == "id" || f.iter().any(|x| x.trim() == k),
    };
    Value::Object(
        all.into_iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// Every template status (wire notes §5).
pub const STATUSES: &[&str] = &[
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "FLAGGED",
    "IN_APPEAL",
    "REINSTATED",
    "PENDING_DELETION",
    "DELETED",
    "LIMIT_EXCEEDED",
    "ARCHIVED",
    "UNARCHIVED",
    "LOCKED",
];

/// The status named `s` (any case), or `None` if there is no such status.
pub fn valid_status(s: &str) -> Option<&'static str> {
    let up = s.trim().to_ascii_uppercase();
    STATUSES.iter().copied().find(|x| *x == up)
}

/// Whether a template in `status` may be sent: APPROVED only; PAUSED is 132015,
/// DISABLED 132016, anything else 132001.
pub fn sendable(status: &str) -> Result<(), GraphError> {
    match status.to_ascii_uppercase().as_str() {
        "APPROVED" => Ok(()),
        "PAUSED" => Err(GraphError::new(
            132015,
            "the template is paused because of low quality; edit it or wait until it is unpaused",
        )),
        "DISABLED" => Err(GraphError::new(
            132016,
            "the template is disabled because of low quality; create a new one",
        )),
        other => Err(GraphError::new(
            132001,
            format!("the template is {other}; only APPROVED templates can be sent"),
        )),
    }
}

/// Whether a template in `status` may be edited (APPROVED, REJECTED or PAUSED).
pub fn editable(status: &str) -> bool {
    matches!(
        status.to_ascii_uppercase().as_str(),
        "APPROVED" | "REJECTED" | "PAUSED"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::{self, Content, Request};

    fn create(v: Value) -> Result<TemplateSpec, GraphError> {
        parse_create(&v)
    }

    fn tpl(components: Value) -> Value {
        json!({"name": "order_update", "language": "en_US", "category": "utility", "components": components})
    }

    #[test]
    fn create_normalises() {
        let spec = create(json!({"name": "order_confirmation", "language": "en_US", "category": "Utility",
            "message_send_ttl_seconds": "3600",
            "components": [
                {"type": "header", "format": "document", "example": {"header_handle": ["4::YX"]}},
                {"type": "BODY", "text": "Thank you, {{1}}! Order {{2}}.", "example": {"body_text": [["Pablo", "8601"]]}},
                {"type": "footer", "text": "Lucky Shrub"},
                {"type": "buttons", "buttons": [
                    {"type": "quick_reply", "text": "Unsubscribe"},
                    {"type": "url", "text": "Track", "url": "https://x.example/{{1}}", "example": ["https://x.example/123"]},
                    {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "15550051310"},
                    {"type": "copy_code", "example": "SAVE"}]}]}))
        .unwrap();
        assert_eq!(spec.category, "UTILITY");
        assert_eq!(spec.parameter_format, "POSITIONAL");
        assert_eq!(spec.message_send_ttl_seconds, Some(3600));
        assert_eq!(spec.components[0]["type"], "HEADER");
        assert_eq!(spec.components[0]["format"], "DOCUMENT");
        assert_eq!(spec.components[0]["example"]["header_handle"][0], "4::YX");
        assert_eq!(spec.components[3]["buttons"][1]["type"], "URL");
        assert_eq!(spec.components[3]["buttons"][3]["type"], "COPY_CODE");
        let vars = variables(&spec.components);
        assert_eq!(vars.body, ["1", "2"]);
        assert_eq!(vars.buttons, [(1, vec!["1".to_owned()])]);
    }

    #[test]
    fn create_authentication() {
        let spec = create(json!({"name": "otp", "language": "en", "category": "AUTHENTICATION",
            "components": [{"type": "BODY", "add_security_recommendation": true},
                {"type": "FOOTER", "code_expiration_minutes": 10},
                {"type": "BUTTONS", "buttons": [{"type": "otp", "otp_type": "copy_code", "text": "Copy"}]}]}))
        .unwrap();
        assert_eq!(spec.components[2]["buttons"][0]["otp_type"], "COPY_CODE");
    }

    #[test]
    fn create_errors() {
        let long = |n: usize| "x".repeat(n);
        let body = |t: &str| json!([{"type": "BODY", "text": t}]);
        let cases: Vec<(Value, u32, &str)> = vec![
            (
                json!({"language": "en", "category": "UTILITY", "components": body("hi")}),
                100,
                "name is required",
            ),
            (
                json!({"name": "Order", "language": "en", "category": "UTILITY", "components": body("hi")}),
                100,
                "name \"Order\"",
            ),
            (
                json!({"name": long(513), "language": "en", "category": "UTILITY", "components": body("hi")}),
                100,
                "name",
            ),
            (
                json!({"name": "a", "language": "english", "category": "UTILITY", "components": body("hi")}),
                100,
                "language \"english\"",
            ),
            (
                json!({"name": "a", "language": "en_us", "category": "UTILITY", "components": body("hi")}),
                100,
                "language",
            ),
            (
                json!({"name": "a", "language": "en", "category": "SERVICE", "components": body("hi")}),
                100,
                "category \"SERVICE\"",
            ),
            (
                json!({"name": "a", "language": "en", "category": "UTILITY", "parameter_format": "x", "components": body("hi")}),
                100,
                "parameter_format",
            ),
            (
                json!({"name": "a", "language": "en", "category": "UTILITY"}),
                100,
                "components is required",
            ),
            (tpl(json!([])), 100, "needs a BODY"),
            (tpl(json!([{"type": "BODY"}])), 100, "BODY.text is required"),
            (
                tpl(json!([{"type": "BODY", "text": "a"}, {"type": "BODY", "text": "b"}])),
                100,
                "at most one BODY",
            ),
            (tpl(json!([{"type": "CAROUSEL"}])), 100, "\"CAROUSEL\""),
            (
                tpl(body(&long(1025))),
                2388040,
                "BODY.text is 1025 characters",
            ),
            (tpl(body("{{1}} is here")), 2388299, "start or end"),
            (tpl(body("Hello {{1}}")), 2388299, "start or end"),
            (tpl(body("Hi {{1}} and {{3}} ok")), 100, "without gaps"),
            (
                tpl(body("Hi {{name}} ok")),
                100,
                "not a positional variable",
            ),
            (
                json!({"name": "a", "language": "en", "category": "MARKETING", "parameter_format": "named",
                "components": body("Hi {{First}} ok")}),
                100,
                "not a named variable",
            ),
            (
                tpl(
                    json!([{"type": "HEADER", "format": "TEXT", "text": long(61)}, {"type": "BODY", "text": "a"}]),
                ),
                2388040,
                "HEADER.text",
            ),
            (
                tpl(
                    json!([{"type": "HEADER", "format": "TEXT", "text": "{{1}} {{2}}"}, {"type": "BODY", "text": "a"}]),
                ),
                100,
                "at most one variable",
            ),
            (
                tpl(json!([{"type": "HEADER", "format": "GIF"}, {"type": "BODY", "text": "a"}])),
                100,
                "HEADER.format",
            ),
            (
                tpl(json!([{"type": "HEADER"}, {"type": "BODY", "text": "a"}])),
                100,
                "format is required",
            ),
            (
                tpl(json!([{"type": "BODY", "text": "a"}, {"type": "FOOTER", "text": long(61)}])),
                2388040,
                "FOOTER.text",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "FOOTER", "text": "a {{1}} b"}]),
                ),
                100,
                "FOOTER.text cannot have variables",
            ),
            (
                tpl(json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": []}])),
                100,
                "BUTTONS has 0",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": vec![json!({"type": "QUICK_REPLY", "text": "q"}); 11]}]),
                ),
                100,
                "BUTTONS has 11",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": long(26)}]}]),
                ),
                2388040,
                "buttons[0].text",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY"}]}]),
                ),
                100,
                "buttons[0].text is required",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "t"}]}]),
                ),
                100,
                "url is required",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "t", "url": "https://x/{{1}}/a"}]}]),
                ),
                100,
                "only at its end",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "t", "url": "https://x/{{2}}"}]}]),
                ),
                100,
                "only at its end",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "t", "url": "x.example"}]}]),
                ),
                100,
                "http or https",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "PHONE_NUMBER", "text": "t", "phone_number": "call me"}]}]),
                ),
                100,
                "phone_number",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]),
                ),
                100,
                "only for AUTHENTICATION",
            ),
            (
                tpl(
                    json!([{"type": "BODY", "text": "a"}, {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "f"}]}]),
                ),
                100,
                "\"FLOW\"",
            ),
            (
                json!({"name": "a", "language": "en", "category": "AUTHENTICATION", "components": [
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "magic"}]}]}),
                100,
                "otp_type",
            ),
            (
                json!({"name": "a", "language": "en", "category": "AUTHENTICATION", "components": [
                {"type": "FOOTER", "code_expiration_minutes": 91}]}),
                100,
                "code_expiration_minutes",
            ),
        ];
        for (v, code, fragment) in cases {
            let err = create(v.clone()).expect_err(&v.to_string());
            assert_eq!(err.code, code, "{v}: {err}");
            assert!(
                err.details.contains(fragment),
                "{v}: {:?} lacks {fragment:?}",
                err.details
            );
        }
    }

    #[test]
    fn languages() {
        for (s, ok) in [
            ("en", true),
            ("en_US", true),
            ("pt_BR", true),
            ("fil", true),
            ("es_419", true),
            ("EN", false),
            ("en-US", false),
            ("e", false),
            ("en_U", false),
            ("", false),
        ] {
            assert_eq!(valid_language(s), ok, "{s}");
        }
    }

    #[test]
    fn edits() {
        let e = parse_edit(&json!({"category": "marketing"}), "UTILITY", "POSITIONAL").unwrap();
        assert_eq!(e.category.as_deref(), Some("MARKETING"));
        let e = parse_edit(
            &json!({"components": [{"type": "body", "text": "a {{1}} b"}]}),
            "UTILITY",
            "POSITIONAL",
        )
        .unwrap();
        assert_eq!(e.components.unwrap()[0]["type"], "BODY");
        assert_eq!(
            parse_edit(&json!({}), "UTILITY", "POSITIONAL")
                .unwrap_err()
                .code,
            100
        );
    }

    /// Parses a send's template object through the real send parser.
    fn send_of(template: Value) -> TemplateSend {
        let req = json!({"to": "+16505551234", "type": "template", "template": template});
        match send::parse_request(&req).unwrap() {
            Request::Send(o) => match o.content {
                Content::Template(t) => t,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    fn spec(components: Value, format: &str) -> Value {
        let mut v = tpl(components);
        v["parameter_format"] = json!(format);
        parse_create(&v).unwrap().components
    }

    #[test]
    fn render_positional() {
        let c = spec(
            json!([{"type": "BODY", "text": "Flight {{1}} departs {{2}}, {{1}} ok."},
            {"type": "FOOTER", "text": "Fly safe"}]),
            "POSITIONAL",
        );
        let s = send_of(
            json!({"name": "order_update", "language": {"code": "en_US"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "LY001"},
                {"type": "date_time", "date_time": {"fallback_value": "10:05"}}]}]}),
        );
        let r = render(&c, "POSITIONAL", &s, None).unwrap();
        assert_eq!(r.body, "Flight LY001 departs 10:05, LY001 ok.");
        assert_eq!(r.footer.as_deref(), Some("Fly safe"));
        assert_eq!(
            rendered_body_json("order_update", "en_US", "utility", &r),
            json!({"template": {"name": "order_update", "language": "en_US", "category": "utility",
                "body": "Flight LY001 departs 10:05, LY001 ok.", "footer": "Fly safe"}})
        );
    }

    #[test]
    fn render_named() {
        let c = spec(
            json!([{"type": "HEADER", "format": "TEXT", "text": "Hi {{first_name}}"},
            {"type": "BODY", "text": "Your total is {{total}} today."}]),
            "NAMED",
        );
        let s = send_of(
            json!({"name": "x", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Jessica"}]},
            {"type": "body", "parameters": [{"type": "currency", "parameter_name": "total",
                "currency": {"fallback_value": "$10.99", "code": "USD", "amount_1000": 10990}}]}]}),
        );
        let r = render(&c, "named", &s, None).unwrap();
        assert_eq!(r.header, Some(RenderedHeader::Text("Hi Jessica".into())));
        assert_eq!(r.body, "Your total is $10.99 today.");
    }

    #[test]
    fn render_header_media_and_buttons() {
        let c = spec(
            json!([{"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Your order {{1}} shipped."},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop"},
                {"type": "URL", "text": "Track", "url": "https://x.example/t/{{1}}"},
                {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550051310"},
                {"type": "COPY_CODE"},
                {"type": "QUICK_REPLY", "text": "More"}]}]),
            "POSITIONAL",
        );
        let s = send_of(
            json!({"name": "x", "language": {"code": "en_US"}, "components": [
            {"type": "HEADER", "parameters": [{"type": "image", "image": {"id": "42"}}]},
            {"type": "BODY", "parameters": [{"type": "text", "text": "A1"}]},
            {"type": "BUTTON", "sub_type": "URL", "index": "1", "parameters": [{"type": "text", "text": "J$Fp"}]},
            {"type": "BUTTON", "sub_type": "QUICK_REPLY", "index": 0, "parameters": [{"type": "payload", "payload": "stop-cb"}]},
            {"type": "BUTTON", "sub_type": "COPY_CODE", "index": 3, "parameters": [{"type": "coupon_code", "coupon_code": "SAVE"}]}]}),
        );
        let hex = "0123456789abcdef0123456789abcdef";
        let r = render(&c, "POSITIONAL", &s, Some(hex)).unwrap();
        assert_eq!(
            rendered_body_json("x", "en_US", "marketing", &r),
            json!({"template": {"name": "x", "language": "en_US", "category": "marketing",
                "header": {"media_id": hex, "kind": "image"},
                "body": "Your order A1 shipped.",
                "buttons": [
                    {"type": "quick_reply", "text": "Stop", "payload": "stop-cb"},
                    {"type": "url", "text": "Track", "url": "https://x.example/t/J$Fp"},
                    {"type": "phone_number", "text": "Call", "phone_number": "+15550051310"},
                    {"type": "copy_code", "text": "Copy offer code", "code": "SAVE"},
                    {"type": "quick_reply", "text": "More", "payload": "More"}]}})
        );
    }

    #[test]
    fn render_location_header_and_authentication() {
        let c = spec(
            json!([{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "Meet us here."}]),
            "POSITIONAL",
        );
        let s = send_of(
            json!({"name": "x", "language": {"code": "en"}, "components": [
            {"type": "header", "parameters": [{"type": "location", "location": {"latitude": "1.5", "longitude": 2, "name": "HQ"}}]}]}),
        );
        let r = render(&c, "POSITIONAL", &s, None).unwrap();
        assert_eq!(
            rendered_body_json("x", "en", "utility", &r)["template"]["header"],
            json!({"location": {"latitude": 1.5, "longitude": 2.0, "name": "HQ"}})
        );

        let auth = parse_create(
            &json!({"name": "otp", "language": "en", "category": "AUTHENTICATION",
            "components": [{"type": "BODY", "add_security_recommendation": true},
                {"type": "FOOTER", "code_expiration_minutes": 10},
                {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}),
        )
        .unwrap()
        .components;
        let s = send_of(
            json!({"name": "otp", "language": {"code": "en"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
            {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "123456"}]}]}),
        );
        let r = render(&auth, "POSITIONAL", &s, None).unwrap();
        assert_eq!(
            r.body,
            "123456 is your verification code. For your security, do not share this code."
        );
        assert_eq!(
            r.footer.as_deref(),
            Some("This code expires in 10 minutes.")
        );
        assert_eq!(
            r.buttons,
            vec![json!({"type": "copy_code", "text": "Copy code", "code": "123456"})]
        );
        let s = send_of(
            json!({"name": "otp", "language": {"code": "en"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "1234567890123456"}]}]}),
        );
        assert_eq!(
            render(&auth, "POSITIONAL", &s, None).unwrap_err().code,
            131009
        );
    }

    #[test]
    fn render_errors() {
        let c = spec(
            json!([{"type": "HEADER", "format": "IMAGE"},
            {"type": "BODY", "text": "Hi {{1}}, order {{2}} ok."},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Track", "url": "https://x/{{1}}"}, {"type": "COPY_CODE"}]}]),
            "POSITIONAL",
        );
        let header =
            json!({"type": "header", "parameters": [{"type": "image", "image": {"id": "1"}}]});
        let body2 = json!({"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]});
        let url = json!({"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "t"}]});
        let code = json!({"type": "button", "sub_type": "copy_code", "index": 1, "parameters": [{"type": "coupon_code", "coupon_code": "C"}]});
        let hex = Some("0123456789abcdef0123456789abcdef");
        let cases: Vec<(Value, Option<&str>, u32, &str)> = vec![
            (
                json!([header, {"type": "body", "parameters": [{"type": "text", "text": "a"}]}, url, code]),
                hex,
                132000,
                "body: expected 2 parameters, got 1",
            ),
            (
                json!([header, {"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}, {"type": "text", "text": "c"}]}, url, code]),
                hex,
                132000,
                "body: expected 2 parameters, got 3",
            ),
            (
                json!([body2, url, code]),
                hex,
                132000,
                "header: expected 1 parameters, got 0",
            ),
            (
                json!([{"type": "header", "parameters": [{"type": "video", "video": {"id": "1"}}]}, body2, url, code]),
                hex,
                132012,
                "image header",
            ),
            (
                json!([header, body2, url, code]),
                None,
                131000,
                "not resolved",
            ),
            (
                json!([header, body2, code]),
                hex,
                132000,
                "button 0: expected 1 parameters, got 0",
            ),
            (
                json!([header, body2, url]),
                hex,
                132000,
                "button 1: expected 1 parameters, got 0",
            ),
            (
                json!([header, body2, url, code, {"type": "button", "sub_type": "quick_reply", "index": 5, "parameters": []}]),
                hex,
                132000,
                "no button at index 5",
            ),
            (
                json!([header, {"type": "body", "parameters": [{"type": "text", "text": "a\nb"}, {"type": "text", "text": "b"}]}, url, code]),
                hex,
                131009,
                "newlines",
            ),
            (
                json!([header, {"type": "body", "parameters": [{"type": "text", "text": "a     b"}, {"type": "text", "text": "b"}]}, url, code]),
                hex,
                131009,
                "consecutive spaces",
            ),
            (
                json!([header, {"type": "body", "parameters": [{"type": "text", "text": "x".repeat(1025)}, {"type": "text", "text": "b"}]}, url, code]),
                hex,
                131009,
                "body parameter 1",
            ),
            (
                json!([header, {"type": "body", "parameters": [{"type": "text", "text": "x".repeat(1020)}, {"type": "text", "text": "b"}]}, url, code]),
                hex,
                132005,
                "after substitution",
            ),
            (
                json!([header, {"type": "body", "parameters": [{"type": "image", "image": {"id": "1"}}, {"type": "text", "text": "b"}]}, url, code]),
                hex,
                132012,
                "body: parameter 1 must be text",
            ),
        ];
        for (components, media, code, fragment) in cases {
            let s =
                send_of(json!({"name": "x", "language": {"code": "en"}, "components": components}));
            let err = render(&c, "POSITIONAL", &s, media).expect_err(&components.to_string());
            assert_eq!(err.code, code, "{components}: {err}");
            assert!(
                err.details.contains(fragment),
                "{components}: {:?} lacks {fragment:?}",
                err.details
            );
        }
        // A text header longer than 60 characters once filled in.
        let c = spec(
            json!([{"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"}, {"type": "BODY", "text": "b"}]),
            "POSITIONAL",
        );
        let s = send_of(
            json!({"name": "x", "language": {"code": "en"}, "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "x".repeat(58)}]}]}),
        );
        assert_eq!(render(&c, "POSITIONAL", &s, None).unwrap_err().code, 132005);
        // Named: a missing name.
        let c = spec(
            json!([{"type": "BODY", "text": "Hi {{first_name}} ok"}]),
            "NAMED",
        );
        let s = send_of(
            json!({"name": "x", "language": {"code": "en"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "parameter_name": "last_name", "text": "L"}]}]}),
        );
        let err = render(&c, "NAMED", &s, None).unwrap_err();
        assert_eq!(
            (err.code, err.details.as_str()),
            (132000, "body: parameter \"first_name\" is missing")
        );
        let s = send_of(
            json!({"name": "x", "language": {"code": "en"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "L"}]}]}),
        );
        let err = render(&c, "NAMED", &s, None).unwrap_err();
        assert_eq!(err.code, 132000);
        assert!(err.details.contains("no parameter_name"), "{err}");
    }

    #[test]
    fn graph_json_and_fields() {
        let view = TemplateView {
            id: "594425479261596",
            name: "order_confirmation",
            language: "en_US",
            category: "UTILITY",
            parameter_format: "POSITIONAL",
            components: r#"[{"type":"BODY","text":"Hi {{1}} ok"}]"#,
            status: "REJECTED",
            reason: Some("INVALID_FORMAT"),
        };
        assert_eq!(
            template_json(&view, None),
            json!({"id": "594425479261596", "name": "order_confirmation", "language": "en_US", "status": "REJECTED",
                "category": "UTILITY", "parameter_format": "POSITIONAL", "components": [{"type": "BODY", "text": "Hi {{1}} ok"}],
                "rejected_reason": "INVALID_FORMAT"})
        );
        let fields = vec!["status".to_owned(), "bogus".to_owned()];
        assert_eq!(
            template_json(&view, Some(&fields)),
            json!({"id": "594425479261596", "status": "REJECTED"})
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(valid_status("approved"), Some("APPROVED"));
        assert_eq!(valid_status("In_Appeal"), Some("IN_APPEAL"));
        assert_eq!(valid_status("bogus"), None);
        let cases = [
            ("APPROVED", None),
            ("approved", None),
            ("PAUSED", Some(132015)),
            ("DISABLED", Some(132016)),
            ("PENDING", Some(132001)),
            ("REJECTED", Some(132001)),
        ];
        for (s, code) in cases {
            assert_eq!(sendable(s).err().map(|e| e.code), code, "{s}");
        }
        assert_eq!(sendable("PAUSED").unwrap_err().http_status, 400);
        assert_eq!(sendable("PENDING").unwrap_err().http_status, 404);
        for (s, ok) in [
            ("APPROVED", true),
            ("REJECTED", true),
            ("PAUSED", true),
            ("PENDING", false),
            ("DISABLED", false),
        ] {
            assert_eq!(editable(s), ok, "{s}");
        }
    }
}
