//! A shop's catalog: products with a price in integer minor units of an ISO 4217
//! currency, images, availability and an optional SKU, grouped into ordered
//! collections. This module validates every input and decides the shapes customers
//! see (protocol v1 section 5) and the snapshots product and catalog messages carry,
//! so an old message stays readable after the product changes or disappears.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};
use crate::text::text;

/// A product; key: its id.
pub const KIND_PRODUCT: &str = "product";
/// The SKU index (SKUs are unique per business); key: the SKU; value: `{"product_id"}`.
pub const KIND_SKU: &str = "product_sku";
/// A collection; key: its id.
pub const KIND_COLLECTION: &str = "collection";

pub const MAX_PRODUCTS: u64 = 10_000;
pub const MAX_COLLECTIONS: u64 = 100;
pub const MAX_IMAGES: usize = 10;
pub const MAX_COLLECTION_PRODUCTS: usize = 1_000;
/// The largest price: far below `i64::MAX`, so order totals stay exact.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;
/// Products a catalog message carries a snapshot of (the rest is counted).
pub const MAX_MESSAGE_PRODUCTS: usize = 30;

/// ISO 4217 codes in use, with their minor-unit digits.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWL", 2),
];

/// The minor-unit digits of an ISO 4217 currency (`EUR` → 2, `JPY` → 0), if known.
pub fn currency_digits(code: &str) -> Option<u8> {
    CURRENCIES
        .binary_search_by(|(c, _)| c.cmp(&code))
        .ok()
        .and_then(|i| CURRENCIES.get(i))
        .map(|(_, d)| *d)
}

/// An amount of money: integer minor units (cents) of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

impl Money {
    /// Reads a price as a client sent it: `{"amount_minor": integer ≥ 0, "currency"}`;
    /// a float or a string amount is refused, not rounded.
    pub fn parse(v: &Value) -> AppResult<Money> {
        let bad = |m: &str| AppError::invalid("invalid_price", m.to_owned());
        let obj = v.as_object().ok_or_else(|| {
            bad("price must be {\"amount_minor\": integer, \"currency\": \"EUR\"}")
        })?;
        if let Some(k) = obj
            .keys()
            .find(|k| *k != "amount_minor" && *k != "currency")
        {
            return Err(bad(&format!("price has an unknown field {k:?}")));
        }
        let amount = obj
            .get("amount_minor")
            .and_then(Value::as_i64)
            .filter(|_| obj.get("amount_minor").is_some_and(|a| !a.is_f64()))
            .ok_or_else(|| {
                bad("price.amount_minor must be a whole number of minor units (250 for 2.50), not a decimal or a string")
            })?;
        if !(0..=MAX_AMOUNT_MINOR).contains(&amount) {
            return Err(bad(&format!(
                "price.amount_minor must be 0 to {MAX_AMOUNT_MINOR} (got {amount})"
            )));
        }
        let currency = obj
            .get("currency")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("price.currency must be an ISO 4217 code such as \"EUR\""))?;
        if currency_digits(currency).is_none() {
            return Err(AppError::invalid(
                "invalid_currency",
                format!(
                    "unknown currency {:?}; use an ISO 4217 code such as \"EUR\" or \"USD\"",
                    currency.chars().take(10).collect::<String>()
                ),
            ));
        }
        Ok(Money {
            amount_minor: amount,
            currency: currency.to_owned(),
        })
    }

    /// For people: `€2.50`, `¥300`, `CHF 4.20`.
    pub fn display(&self) -> String {
        let digits = u32::from(currency_digits(&self.currency).unwrap_or(2));
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        let number = match 10u64.checked_pow(digits) {
            Some(unit) if digits > 0 => format!(
                "{}.{:0width$}",
                abs / unit,
                abs % unit,
                width = digits as usize
            ),
            _ => abs.to_string(),
        };
        let symbol = match self.currency.as_str() {
            "EUR" => Some("€"),
            "USD" => Some("$"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            "INR" => Some("₹"),
            "BRL" => Some("R$"),
            _ => None,
        };
        match symbol {
            Some(s) => format!("{sign}{s}{number}"),
            None => format!("{sign}{} {number}", self.currency),
        }
    }

    /// The stored shape plus `display` and `minor_digits` (so a reader renders the
    /// decimal amount without a currency table), for messages.
    pub fn message_json(&self) -> Value {
        json!({
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "minor_digits": currency_digits(&self.currency).unwrap_or(2),
            "display": self.display(),
        })
    }
}

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub image_media_ids: Vec<String>,
    pub available: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A create or an edit of a product, as the team sends it. On create, `name` and
/// `price` are required; on edit, absent fields stay as they are, and `"sku": ""`
/// removes the SKU.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Value>,
    pub image_media_ids: Option<Vec<String>>,
    pub available: Option<bool>,
    pub sku: Option<String>,
}

/// A checked [`ProductChange`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub image_media_ids: Option<Vec<String>>,
    pub available: Option<bool>,
    /// `Some(None)`: remove the SKU.
    pub sku: Option<Option<String>>,
}

impl ProductChange {
    pub fn check(self) -> AppResult<CheckedChange> {
        let image_media_ids = match self.image_media_ids {
            None => None,
            Some(ids) => Some(check_images(ids)?),
        };
        let sku = match self.sku {
            None => None,
            Some(s) if s.trim().is_empty() => Some(None),
            Some(s) => Some(Some(text("sku", &s, 1, 100, false)?)),
        };
        Ok(CheckedChange {
            name: self
                .name
                .map(|n| text("name", &n, 1, 200, false))
                .transpose()?,
            description: self
                .description
                .map(|d| text("description", &d, 0, 1000, true))
                .transpose()?,
            price: self.price.as_ref().map(Money::parse).transpose()?,
            image_media_ids,
            available: self.available,
            sku,
        })
    }
}

fn check_images(ids: Vec<String>) -> AppResult<Vec<String>> {
    if ids.len() > MAX_IMAGES {
        return Err(AppError::invalid(
            "too_many_images",
            format!(
                "a product has at most {MAX_IMAGES} images (got {})",
                ids.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        if id.is_empty() || id.len() > 128 || !seen.insert(id.as_str()) {
            return Err(AppError::invalid(
                "invalid_media",
                format!(
                    "image_media_ids holds an empty, overlong or repeated id {:?}",
                    id.chars().take(40).collect::<String>()
                ),
            ));
        }
    }
    Ok(ids)
}

impl CheckedChange {
    /// A new product from a create request.
    pub fn create(self, id: String, now: i64) -> AppResult<Product> {
        let (Some(name), Some(price)) = (self.name.clone(), self.price.clone()) else {
            return Err(AppError::invalid(
                "invalid_request",
                "a product needs a \"name\" and a \"price\"",
            ));
        };
        let blank = Product {
            id,
            name,
            description: String::new(),
            price,
            image_media_ids: Vec::new(),
            available: true,
            sku: None,
            created_at: now,
            updated_at: now,
        };
        Ok(self.apply(blank, now))
    }

    /// `product` with this change applied.
    pub fn apply(self, mut product: Product, now: i64) -> Product {
        if let Some(v) = self.name {
            product.name = v;
        }
        if let Some(v) = self.description {
            product.description = v;
        }
        if let Some(v) = self.price {
            product.price = v;
        }
        if let Some(v) = self.image_media_ids {
            product.image_media_ids = v;
        }
        if let Some(v) = self.available {
            product.available = v;
        }
        if let Some(v) = self.sku {
            product.sku = v;
        }
        product.updated_at = now;
        product
    }
}

impl Product {
    /// The shape of protocol v1 section 5, extended with `sku` and every image.
    pub fn customer_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "price": {"amount_minor": self.price.amount_minor, "currency": self.price.currency},
            "available": self.available,
            "image_media_ids": self.image_media_ids,
        });
        if let Some(first) = self.image_media_ids.first() {
            v["image_media_id"] = json!(first);
        }
        if let Some(sku) = &self.sku {
            v["sku"] = json!(sku);
        }
        v
    }

    /// The team's view: the customer's plus timestamps.
    pub fn team_json(&self) -> Value {
        let mut v = self.customer_json();
        v["created_at"] = json!(self.created_at);
        v["updated_at"] = json!(self.updated_at);
        v
    }

    /// What a product message keeps of the product (it stays as sent).
    pub fn snapshot(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "price": self.price.message_json(),
            "available": self.available,
        });
        if let Some(first) = self.image_media_ids.first() {
            v["image_media_id"] = json!(first);
        }
        v
    }
}

/// An ordered group of products ("Breakfast", "Cakes").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: String,
    pub name: String,
    pub product_ids: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionChange {
    pub name: Option<String>,
    pub product_ids: Option<Vec<String>>,
}

impl CollectionChange {
    /// Checks names and ids (that the products exist is the server's to check).
    pub fn check(self) -> AppResult<CollectionChange> {
        let name = self
            .name
            .map(|n| text("name", &n, 1, 100, false))
            .transpose()?;
        if let Some(ids) = &self.product_ids {
            if ids.len() > MAX_COLLECTION_PRODUCTS {
                return Err(AppError::invalid(
                    "too_many_products",
                    format!("a collection holds at most {MAX_COLLECTION_PRODUCTS} products"),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            if let Some(bad) = ids
                .iter()
                .find(|i| !valid_id(i) || !seen.insert(i.as_str()))
            {
                return Err(AppError::invalid(
                    "invalid_product",
                    format!(
                        "product_ids holds an invalid or repeated id {:?}",
                        bad.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
        Ok(CollectionChange {
            name,
            product_ids: self.product_ids,
        })
    }

    pub fn create(self, id: String, now: i64) -> AppResult<Collection> {
        let Some(name) = self.name.clone() else {
            return Err(AppError::invalid(
                "invalid_request",
                "a collection needs a \"name\"",
            ));
        };
        let blank = Collection {
            id,
            name,
            product_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        Ok(self.apply(blank, now))
    }

    pub fn apply(self, mut c: Collection, now: i64) -> Collection {
        if let Some(n) = self.name {
            c.name = n;
        }
        if let Some(ids) = self.product_ids {
            c.product_ids = ids;
        }
        c.updated_at = now;
        c
    }
}

impl Collection {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "product_ids": self.product_ids,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// A new id: `prefix` and 16 hex digits of `random` (URL-safe).
pub fn new_id(prefix: &str, random: [u8; 8]) -> String {
    let mut s = String::from(prefix);
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Whether `id` may be a product, collection or order id (URL-safe, short), so
/// a path segment never reaches the store unchecked.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The body of a product message: the product's snapshot and an optional text.
pub fn product_message(product: &Product, text: Option<&str>) -> Value {
    let mut snap = product.snapshot();
    if let Some(t) = text {
        snap["text"] = json!(t);
    }
    json!({ "product": snap })
}

/// The body of a catalog message: the whole catalog or one collection, with the
/// snapshots of its first [`MAX_MESSAGE_PRODUCTS`] products and how many there are.
pub fn catalog_message(
    business_name: &str,
    collection: Option<&Collection>,
    products: &[&Product],
    text: Option<&str>,
) -> Value {
    let mut v = json!({
        "business_name": business_name,
        "count": products.len(),
        "products": products.iter().take(MAX_MESSAGE_PRODUCTS).map(|p| p.snapshot()).collect::<Vec<_>>(),
    });
    if let Some(c) = collection {
        v["collection"] = json!({"id": c.id, "name": c.name});
    }
    if let Some(t) = text {
        v["text"] = json!(t);
    }
    json!({ "catalog": v })
}

/// The optional text of a product or catalog message.
pub fn message_text(t: Option<&str>) -> AppResult<Option<String>> {
    match t {
        None => Ok(None),
        Some(t) => {
            let t = text("text", t, 0, 1000, true)?;
            Ok((!t.is_empty()).then_some(t))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: AppResult<T>) -> &'static str {
        r.map(|_| ()).map_err(|e| e.code()).err().unwrap_or("ok")
    }

    #[test]
    fn currencies_are_sorted_and_known() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(currency_digits("EUR"), Some(2));
        assert_eq!(currency_digits("JPY"), Some(0));
        assert_eq!(currency_digits("KWD"), Some(3));
        assert_eq!(currency_digits("XXX"), None);
        assert_eq!(currency_digits("eur"), None);
    }

    #[test]
    fn prices() {
        for (v, expect) in [
            (json!({"amount_minor": 250, "currency": "EUR"}), "ok"),
            (json!({"amount_minor": 0, "currency": "JPY"}), "ok"),
            (
                json!({"amount_minor": 2.5, "currency": "EUR"}),
                "invalid_price",
            ),
            (
                json!({"amount_minor": 250.0, "currency": "EUR"}),
                "invalid_price",
            ),
            (
                json!({"amount_minor": "250", "currency": "EUR"}),
                "invalid_price",
            ),
            (
                json!({"amount_minor": -1, "currency": "EUR"}),
                "invalid_price",
            ),
            (
                json!({"amount_minor": 1e15, "currency": "EUR"}),
                "invalid_price",
            ),
            (
                json!({"amount_minor": u64::MAX, "currency": "EUR"}),
                "invalid_price",
            ),
            (
                json!({"amount_minor": 1, "currency": "EURO"}),
                "invalid_currency",
            ),
            (json!({"amount_minor": 1}), "invalid_price"),
            (
                json!({"amount_minor": 1, "currency": "EUR", "x": 1}),
                "invalid_price",
            ),
            (json!(250), "invalid_price"),
        ] {
            assert_eq!(code(Money::parse(&v)), expect, "{v}");
        }
    }

    #[test]
    fn display() {
        let m = |a, c: &str| {
            Money {
                amount_minor: a,
                currency: c.into(),
            }
            .display()
        };
        assert_eq!(m(250, "EUR"), "€2.50");
        assert_eq!(m(5, "EUR"), "€0.05");
        assert_eq!(m(300, "JPY"), "¥300");
        assert_eq!(m(1234, "KWD"), "KWD 1.234");
        assert_eq!(m(420, "CHF"), "CHF 4.20");
    }

    #[test]
    fn products_are_checked_and_edited() {
        let change = |v: Value| {
            serde_json::from_value::<ProductChange>(v)
                .map_err(|_| AppError::invalid("invalid_request", "shape"))
                .and_then(ProductChange::check)
        };
        let p = change(json!({"name": " Pretzel ", "price": {"amount_minor": 120, "currency": "EUR"}, "sku": "BR-1"}))
            .and_then(|c| c.create("p1".into(), 5))
            .expect("valid");
        assert_eq!(p.name, "Pretzel");
        assert!(p.available);
        assert_eq!(p.sku.as_deref(), Some("BR-1"));
        assert_eq!(
            code(change(json!({"name": "x".repeat(201)}))),
            "invalid_length"
        );
        assert_eq!(
            code(change(json!({"description": "x".repeat(1001)}))),
            "invalid_length"
        );
        assert_eq!(
            code(change(json!({"sku": "x".repeat(101)}))),
            "invalid_length"
        );
        let eleven: Vec<String> = (0..11).map(|i| format!("m{i}")).collect();
        assert_eq!(
            code(change(json!({"image_media_ids": eleven}))),
            "too_many_images"
        );
        assert_eq!(
            code(change(json!({"image_media_ids": ["a", "a"]}))),
            "invalid_media"
        );
        assert_eq!(
            code(change(json!({"name": "x"})).and_then(|c| c.create("p".into(), 1))),
            "invalid_request"
        );
        let edited = change(json!({"available": false, "sku": ""}))
            .expect("valid")
            .apply(p.clone(), 9);
        assert!(!edited.available);
        assert_eq!(edited.sku, None);
        assert_eq!(edited.name, "Pretzel");
        assert_eq!(edited.updated_at, 9);
        let c = p.customer_json();
        assert_eq!(c["price"], json!({"amount_minor": 120, "currency": "EUR"}));
        assert!(c.get("image_media_id").is_none());
    }

    #[test]
    fn ids_and_collections() {
        assert_eq!(new_id("p", [0, 1, 2, 3, 4, 5, 6, 255]), "p00010203040506ff");
        assert!(valid_id("p00ff"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(""));
        assert!(!valid_id(&"a".repeat(41)));
        let c = CollectionChange {
            name: Some("Breakfast".into()),
            product_ids: Some(vec!["p1".into(), "p1".into()]),
        };
        assert_eq!(code(c.check()), "invalid_product");
        let c = CollectionChange {
            name: Some(" Cakes ".into()),
            product_ids: Some(vec!["p1".into()]),
        }
        .check()
        .and_then(|c| c.create("c1".into(), 3))
        .expect("valid");
        assert_eq!(c.name, "Cakes");
    }
}
