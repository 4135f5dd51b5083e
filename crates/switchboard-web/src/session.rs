//! Cookie sessions and CSRF protection.
//!
//! The session cookie holds the signed-in device's token: the browser is a device
//! like any other, the server keeps only the token's hash, and signing out revokes
//! nothing but the cookie (the device stays listed in the account). CSRF: a
//! double-submit token (a random cookie that every form repeats in a hidden field,
//! compared in constant time) plus a same-origin check of `Origin` on every POST.

use axum::http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq;

use crate::error::WebError;

pub const SESSION_COOKIE: &str = "sb_session";
pub const CSRF_COOKIE: &str = "sb_csrf";
pub const LANG_COOKIE: &str = "sb_lang";

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite, path `/`, Secure when asked;
/// `max_age` seconds (0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The request's CSRF token, and the cookie to set when it had none yet.
pub fn csrf(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE).filter(|c| c.len() == 32) {
        Some(t) => (t, None),
        None => {
            let t = hex::encode(rand::random::<[u8; 16]>());
            let c = set_cookie(CSRF_COOKIE, &t, 60 * 60 * 24 * 30, secure);
            (t, Some(c))
        }
    }
}

/// The session token of a WebSocket upgrade from the web app's own pages: the cookie,
/// accepted only when the browser's `Origin` is this server (a page of another site
/// cannot open a socket with the user's cookie: cross-site WebSocket hijacking).
pub fn websocket_token(headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let origin_host = origin.split_once("://").map(|(_, rest)| rest)?;
    if origin_host != host {
        return None;
    }
    cookie(headers, SESSION_COOKIE)
}

/// Checks a form's CSRF field against the cookie, and that the POST comes from this
/// origin (when the browser says where it comes from).
pub fn check_csrf(headers: &HeaderMap, field: &str) -> Result<(), WebError> {
    let Some(expected) = cookie(headers, CSRF_COOKIE) else {
        return Err(WebError::Csrf);
    };
    if expected.len() != 32 || !bool::from(expected.as_bytes().ct_eq(field.as_bytes())) {
        return Err(WebError::Csrf);
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(origin);
        if origin_host != host {
            return Err(WebError::Csrf);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn websockets_take_the_cookie_only_from_this_origin() {
        let same = headers(&[
            ("cookie", "sb_session=tok"),
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert_eq!(websocket_token(&same).as_deref(), Some("tok"));
        let other = headers(&[
            ("cookie", "sb_session=tok"),
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ]);
        assert_eq!(websocket_token(&other), None);
        let no_origin = headers(&[("cookie", "sb_session=tok"), ("host", "127.0.0.1:8080")]);
        assert_eq!(websocket_token(&no_origin), None);
    }

    #[test]
    fn cookies_are_read_by_name() {
        let h = headers(&[("cookie", "a=1; sb_session=tok; b=2")]);
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn csrf_needs_the_cookie_value_and_the_same_origin() {
        let t = "0123456789abcdef0123456789abcdef";
        let ok = headers(&[
            ("cookie", &format!("sb_csrf={t}")),
            ("host", "shop.example"),
            ("origin", "https://shop.example"),
        ]);
        assert!(check_csrf(&ok, t).is_ok());
        assert!(check_csrf(&ok, "0123456789abcdef0123456789abcdee").is_err());
        let cross = headers(&[
            ("cookie", &format!("sb_csrf={t}")),
            ("host", "shop.example"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check_csrf(&cross, t).is_err());
        assert!(check_csrf(&headers(&[]), t).is_err());
    }
}
