//! English and German (the product's first market), with Project Fluent messages in
//! `locales/{en-US,de}/main.ftl` compiled into the binary. The language is the
//! `sb_lang` cookie if set, else the browser's `Accept-Language`, else English.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::http::HeaderMap;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en-US",
        // No Unicode isolation marks around arguments: they would show in titles
        // and confuse screen readers.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => "en-US".parse().unwrap_or_default(),
            Lang::De => "de".parse().unwrap_or_default(),
        }
    }

    /// The request's language: cookie, then `Accept-Language` (first supported
    /// entry by quality), then English.
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(l) = crate::session::cookie(headers, crate::session::LANG_COOKIE)
            .as_deref()
            .and_then(Lang::parse)
        {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let Some(lang) = it.next().and_then(Lang::parse) else {
                continue;
            };
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }
}

/// Translations for one page, handed to its template as `t`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The message `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(&self.lang.id(), key)
    }

    /// The message `key` with one text argument (a name, a phone number, a code):
    /// passed as text, so "+49…" or a code with a leading zero stay as they are.
    pub fn t1(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        self.with_arg(key, name, FluentValue::from(value.to_string()))
    }

    /// The message `key` with a count (plural rules apply).
    pub fn tn(
        &self,
        key: &str,
        name: &'static str,
        count: impl std::borrow::Borrow<u64>,
    ) -> String {
        let n = i64::try_from(*count.borrow()).unwrap_or(i64::MAX);
        self.with_arg(key, name, FluentValue::from(n))
    }

    fn with_arg(&self, key: &str, name: &'static str, value: FluentValue<'static>) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Borrowed(name), value);
        LOCALES.lookup_with_args(&self.lang.id(), key, &args)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message ids of every `.ftl` file of one locale directory.
    fn keys(locale: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(locale);
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the locale directory") {
            let path = entry.expect("an entry").path();
            let text = std::fs::read_to_string(&path).expect("an ftl file");
            keys.extend(
                text.lines()
                    .filter(|l| !l.starts_with([' ', '#', '.', '[', '*', '}']) && l.contains(" ="))
                    .filter_map(|l| l.split(" =").next().map(str::to_owned)),
            );
        }
        keys.sort();
        keys
    }

    #[test]
    fn both_languages_have_every_message() {
        let (en, de) = (keys("en-US"), keys("de"));
        assert_eq!(en, de, "en-US and de define the same messages");
        assert!(en.len() > 10);
        let mut unique = en.clone();
        unique.dedup();
        assert_eq!(unique.len(), en.len(), "no message is defined twice");
    }

    #[test]
    fn plurals_and_negotiation() {
        let de = Tr { lang: Lang::De };
        let en = Tr { lang: Lang::En };
        assert_eq!(en.tn("chats-unread", "count", 1), "1 unread message");
        assert_eq!(en.tn("chats-unread", "count", 3), "3 unread messages");
        assert_eq!(de.tn("chats-unread", "count", 1), "1 ungelesene Nachricht");
        assert_eq!(
            de.tn("chats-unread", "count", 3),
            "3 ungelesene Nachrichten"
        );
        // Text arguments stay text: no number formatting of codes or phone numbers.
        assert_eq!(
            en.t1("login-dev-code", "code", "012345"),
            "Development server: your code is 012345."
        );
        assert_eq!(
            de.t1("login-code-sent", "phone", "+4915100000001"),
            "Wir haben einen Code an +4915100000001 geschickt."
        );
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "fr-FR, de-DE;q=0.8, en;q=0.5".parse().expect("header"),
        );
        assert_eq!(Lang::of(&h), Lang::De);
        h.insert(
            axum::http::header::COOKIE,
            "sb_lang=en".parse().expect("header"),
        );
        assert_eq!(Lang::of(&h), Lang::En);
    }
}
