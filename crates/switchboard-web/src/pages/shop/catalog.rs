//! The catalog editor: products (exact prices typed as decimals, an image uploaded
//! with the form), availability, edit and delete; collections of products.

use askama::Template;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchboard_app::catalog::{Money, currency_digits};

use super::{Flash, act, api_base, back_error, back_ok, business_name, page_url, poster, tr};
use crate::WebState;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::pages::{Peer, Signed, encode, html, signed_in};
use crate::session;

/// Largest price accepted, as the API: 10^12 minor units.
const MAX_MINOR: i64 = 1_000_000_000_000;

/// Why a typed price was refused (each has a message in both languages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceError {
    Empty,
    NotANumber,
    TooManyDecimals(u8),
    TooLarge,
    UnknownCurrency,
}

impl PriceError {
    fn text(self, t: &Tr) -> String {
        match self {
            PriceError::Empty => t.t("shop-price-empty"),
            PriceError::NotANumber => t.t("shop-price-invalid"),
            PriceError::TooManyDecimals(d) => t.tn("shop-price-decimals", "digits", u64::from(d)),
            PriceError::TooLarge => t.t("shop-price-too-large"),
            PriceError::UnknownCurrency => t.t("shop-currency-invalid"),
        }
    }
}

/// A typed price (`2.50`, `2,5`, `3`) in exact integer minor units of `currency`:
/// digits only, one decimal separator (point or comma), at most the currency's
/// minor digits after it. No floating point anywhere.
pub fn parse_price(text: &str, currency: &str) -> Result<Money, PriceError> {
    let digits = currency_digits(currency).ok_or(PriceError::UnknownCurrency)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(PriceError::Empty);
    }
    let (whole, frac) = match text.split_once(['.', ',']) {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(frac) || (whole.is_empty() && frac.is_empty()) {
        return Err(PriceError::NotANumber);
    }
    if text.contains(['.', ',']) && frac.is_empty() {
        return Err(PriceError::NotANumber);
    }
    if frac.len() > usize::from(digits) {
        return Err(PriceError::TooManyDecimals(digits));
    }
    let unit = 10i64.pow(u32::from(digits));
    let mut minor: i64 = 0;
    for b in whole.bytes() {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .filter(|m| m.checked_mul(unit).is_some_and(|x| x <= MAX_MINOR))
            .ok_or(PriceError::TooLarge)?;
    }
    let mut frac_minor: i64 = 0;
    for i in 0..usize::from(digits) {
        let d = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        frac_minor = frac_minor * 10 + d;
    }
    let amount = minor
        .checked_mul(unit)
        .and_then(|m| m.checked_add(frac_minor))
        .filter(|m| *m <= MAX_MINOR)
        .ok_or(PriceError::TooLarge)?;
    Ok(Money {
        amount_minor: amount,
        currency: currency.to_owned(),
    })
}

/// Minor units as the decimal a person types back (`250`, EUR → `2.50`).
pub fn format_minor(amount: i64, currency: &str) -> String {
    let digits = u32::from(currency_digits(currency).unwrap_or(2));
    let unit = 10i64.pow(digits);
    if digits == 0 {
        return amount.to_string();
    }
    format!(
        "{}.{:0width$}",
        amount / unit,
        amount % unit,
        width = digits as usize
    )
}

pub struct ProductView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub price_input: String,
    pub currency: String,
    pub sku: String,
    pub available: bool,
    pub image: Option<String>,
}

fn product_view(p: &Value) -> ProductView {
    let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
    let currency = p["price"]["currency"].as_str().unwrap_or("EUR").to_owned();
    let amount = p["price"]["amount_minor"].as_i64().unwrap_or(0);
    ProductView {
        id: s("id"),
        name: s("name"),
        description: s("description"),
        price: Money {
            amount_minor: amount,
            currency: currency.clone(),
        }
        .display(),
        price_input: format_minor(amount, &currency),
        sku: s("sku"),
        available: p["available"].as_bool().unwrap_or(true),
        image: p["image_media_ids"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_owned),
        currency,
    }
}

pub struct CollectionView {
    pub id: String,
    pub name: String,
    /// (product id, name, in this collection)
    pub products: Vec<(String, String, bool)>,
    pub count: usize,
}

/// What the new-product form showed when it was refused, to fill it again.
#[derive(Default)]
pub struct Draft {
    pub name: String,
    pub description: String,
    pub price: String,
    pub currency: String,
    pub sku: String,
    pub available: bool,
}

#[derive(Template)]
#[template(path = "shop_catalog.html")]
struct CatalogPage {
    t: Tr,
    csrf: String,
    signed_in: bool,
    waba_id: String,
    business: String,
    notice: Option<String>,
    error: Option<String>,
    draft: Draft,
    products: Vec<ProductView>,
    collections: Vec<CollectionView>,
}

/// The page with `notice`/`error`, the new-product form filled from `draft`.
async fn render(
    web: &WebState,
    headers: &HeaderMap,
    s: &Signed,
    waba: &str,
    (notice, error): (Option<String>, Option<String>),
    draft: Draft,
) -> Result<Response, WebError> {
    let business = business_name(web, s, waba).await?;
    let base = api_base(waba);
    let list = web
        .api
        .ok(
            &s.caller,
            Method::GET,
            &format!("{base}/catalog/products"),
            None,
        )
        .await?;
    let products: Vec<ProductView> = list["products"]
        .as_array()
        .into_iter()
        .flatten()
        .map(product_view)
        .collect();
    let cols = web
        .api
        .ok(
            &s.caller,
            Method::GET,
            &format!("{base}/catalog/collections"),
            None,
        )
        .await?;
    let collections = cols["collections"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let ids: Vec<&str> = c["product_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let products: Vec<(String, String, bool)> = products
                .iter()
                .map(|p| (p.id.clone(), p.name.clone(), ids.contains(&p.id.as_str())))
                .collect();
            CollectionView {
                id: c["id"].as_str().unwrap_or_default().to_owned(),
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                count: products.iter().filter(|p| p.2).count(),
                products,
            }
        })
        .collect();
    let (csrf, cookie) = session::csrf(headers, web.config.secure_cookies);
    html(
        &CatalogPage {
            t: tr(headers),
            csrf,
            signed_in: true,
            waba_id: waba.to_owned(),
            business,
            notice,
            error,
            draft,
            products,
            collections,
        },
        cookie,
    )
}

/// `GET /app/biz/{waba_id}/catalog`
pub async fn page(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, Response> {
    let s = signed_in(&web, &headers, &peer, &page_url(&waba, "catalog")).await?;
    let texts = flash.texts(&tr(&headers));
    let draft = Draft {
        currency: "EUR".to_owned(),
        available: true,
        ..Draft::default()
    };
    render(&web, &headers, &s, &waba, texts, draft)
        .await
        .map_err(IntoResponse::into_response)
}

/// The fields of a product form (multipart, for its image).
#[derive(Default)]
struct ProductForm {
    csrf: String,
    name: String,
    description: String,
    price: String,
    currency: String,
    sku: String,
    available: bool,
    /// (content type, bytes) of a chosen image.
    image: Option<(String, Bytes)>,
}

impl ProductForm {
    fn draft(&self) -> Draft {
        Draft {
            name: self.name.clone(),
            description: self.description.clone(),
            price: self.price.clone(),
            currency: self.currency.clone(),
            sku: self.sku.clone(),
            available: self.available,
        }
    }
}

/// Reads a product form; `Err` is a message for the user (an unreadable upload).
async fn read_form(mut mp: Multipart, t: &Tr) -> Result<ProductForm, String> {
    let mut f = ProductForm::default();
    let unreadable = |_| t.t("shop-upload-unreadable");
    while let Some(field) = mp.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "image" {
            let kind = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let bytes = field.bytes().await.map_err(unreadable)?;
            if !bytes.is_empty() {
                f.image = Some((kind, bytes));
            }
            continue;
        }
        let value = field.text().await.map_err(unreadable)?;
        match name.as_str() {
            "csrf" => f.csrf = value,
            "name" => f.name = value.trim().to_owned(),
            "description" => f.description = value.trim().to_owned(),
            "price" => f.price = value,
            "currency" => f.currency = value.trim().to_ascii_uppercase(),
            "sku" => f.sku = value.trim().to_owned(),
            "available" => f.available = true,
            _ => {}
        }
    }
    Ok(f)
}

/// Uploads an image through the API (`POST /v1/media`); its media id, or the
/// API's refusal as a message.
async fn upload(
    web: &WebState,
    s: &Signed,
    (kind, bytes): (String, Bytes),
) -> Result<Result<String, String>, WebError> {
    let ct = HeaderValue::from_str(&kind)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let len = HeaderValue::from(bytes.len());
    let resp = web
        .api
        .forward(
            &s.caller,
            Method::POST,
            "/v1/media",
            &[(header::CONTENT_TYPE, ct), (header::CONTENT_LENGTH, len)],
            Body::from(bytes),
        )
        .await?;
    let status = resp.status();
    let body = http_body_util::Limited::new(resp.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|e| WebError::Unexpected(format!("upload answer: {e}")))?
        .to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status.is_success() {
        return match v["media_id"].as_str() {
            Some(id) => Ok(Ok(id.to_owned())),
            None => Err(WebError::Unexpected("upload without media_id".into())),
        };
    }
    if status.is_client_error() {
        return Ok(Err(super::refusal(&v)));
    }
    Err(crate::api::api_error(status, &v))
}

/// The API body of a product form (for create, or a full edit): `Err` is a message.
async fn product_body(
    web: &WebState,
    s: &Signed,
    t: &Tr,
    f: &mut ProductForm,
    editing: bool,
) -> Result<Result<Value, String>, WebError> {
    if f.name.is_empty() {
        return Ok(Err(t.t("shop-name-required")));
    }
    let price = match parse_price(&f.price, &f.currency) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.text(t))),
    };
    let mut body = Map::new();
    body.insert("name".into(), json!(f.name));
    body.insert("description".into(), json!(f.description));
    body.insert(
        "price".into(),
        json!({"amount_minor": price.amount_minor, "currency": price.currency}),
    );
    body.insert("available".into(), json!(f.available));
    if editing || !f.sku.is_empty() {
        body.insert("sku".into(), json!(f.sku));
    }
    if let Some(image) = f.image.take() {
        match upload(web, s, image).await? {
            Ok(id) => {
                body.insert("image_media_ids".into(), json!([id]));
            }
            Err(msg) => return Ok(Err(msg)),
        }
    }
    Ok(Ok(Value::Object(body)))
}

/// `POST /app/biz/{waba_id}/catalog/products` (multipart): a new product; a refused
/// form is shown again, filled in, with the reason.
pub async fn create_product(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    mp: Multipart,
) -> Result<Response, Response> {
    let t = tr(&headers);
    let back = page_url(&waba, "catalog");
    let mut f = match read_form(mp, &t).await {
        Ok(f) => f,
        Err(msg) => return Ok(back_error(&back, &msg)),
    };
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let refused = |msg: String| (None, Some(msg));
    let body = match product_body(&web, &s, &t, &mut f, false).await {
        Ok(Ok(b)) => b,
        Ok(Err(msg)) => return refuse(&web, &headers, &s, &waba, refused(msg), f.draft()).await,
        Err(e) => return Err(e.into_response()),
    };
    let path = format!("{}/catalog/products", api_base(&waba));
    match web
        .api
        .call(&s.caller, Method::POST, &path, Some(&body))
        .await
    {
        Ok((st, _)) if st.is_success() => Ok(back_ok(&back, "created")),
        Ok((st, answer)) if st.is_client_error() => {
            let texts = refused(super::refusal(&answer));
            refuse(&web, &headers, &s, &waba, texts, f.draft()).await
        }
        Ok((st, answer)) => Err(crate::api::api_error(st, &answer).into_response()),
        Err(e) => Err(e.into_response()),
    }
}

/// The page again after a refused new product: `422`, the form filled in.
async fn refuse(
    web: &WebState,
    headers: &HeaderMap,
    s: &Signed,
    waba: &str,
    texts: (Option<String>, Option<String>),
    draft: Draft,
) -> Result<Response, Response> {
    let mut r = render(web, headers, s, waba, texts, draft)
        .await
        .map_err(IntoResponse::into_response)?;
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

/// `POST /app/biz/{waba_id}/catalog/products/{id}` (multipart): saves an edit.
pub async fn update_product(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    mp: Multipart,
) -> Result<Response, Response> {
    let t = tr(&headers);
    let back = page_url(&waba, "catalog");
    let mut f = match read_form(mp, &t).await {
        Ok(f) => f,
        Err(msg) => return Ok(back_error(&back, &msg)),
    };
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let body = match product_body(&web, &s, &t, &mut f, true).await {
        Ok(Ok(b)) => b,
        Ok(Err(msg)) => return Ok(back_error(&back, &format!("{}: {msg}", f.name))),
        Err(e) => return Err(e.into_response()),
    };
    let path = format!("{}/catalog/products/{}", api_base(&waba), encode(&id));
    Ok(act(&web, &s, &back, "saved", (Method::PATCH, path, Some(body))).await)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /app/biz/{waba_id}/catalog/products/{id}/delete`
pub async fn delete_product(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "catalog");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let path = format!("{}/catalog/products/{}", api_base(&waba), encode(&id));
    Ok(act(&web, &s, &back, "deleted", (Method::DELETE, path, None)).await)
}

/// A collection form: `csrf`, `name` and any number of `product` fields (so read
/// as pairs: repeated keys).
fn collection_fields(pairs: &[(String, String)]) -> (String, String, Vec<String>) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let products = pairs
        .iter()
        .filter(|(n, _)| n == "product")
        .map(|(_, v)| v.clone())
        .collect();
    (get("csrf"), get("name"), products)
}

/// `POST /app/biz/{waba_id}/catalog/collections`
pub async fn create_collection(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path(waba): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "catalog");
    let (csrf, name, products) = collection_fields(&pairs);
    let s = poster(&web, &headers, &peer, &csrf, &back).await?;
    let path = format!("{}/catalog/collections", api_base(&waba));
    let body = json!({"name": name, "product_ids": products});
    Ok(act(&web, &s, &back, "created", (Method::POST, path, Some(body))).await)
}

/// `POST /app/biz/{waba_id}/catalog/collections/{id}`: name and products.
pub async fn update_collection(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "catalog");
    let (csrf, name, products) = collection_fields(&pairs);
    let s = poster(&web, &headers, &peer, &csrf, &back).await?;
    let path = format!("{}/catalog/collections/{}", api_base(&waba), encode(&id));
    let body = json!({"name": name, "product_ids": products});
    Ok(act(&web, &s, &back, "saved", (Method::PATCH, path, Some(body))).await)
}

/// `POST /app/biz/{waba_id}/catalog/collections/{id}/delete`
pub async fn delete_collection(
    State(web): State<WebState>,
    headers: HeaderMap,
    peer: Peer,
    Path((waba, id)): Path<(String, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Response> {
    let back = page_url(&waba, "catalog");
    let s = poster(&web, &headers, &peer, &f.csrf, &back).await?;
    let path = format!("{}/catalog/collections/{}", api_base(&waba), encode(&id));
    Ok(act(&web, &s, &back, "deleted", (Method::DELETE, path, None)).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(text: &str, currency: &str) -> Result<i64, PriceError> {
        parse_price(text, currency).map(|m| m.amount_minor)
    }

    #[test]
    fn prices_are_exact_minor_units() {
        assert_eq!(minor("2.50", "EUR"), Ok(250));
        assert_eq!(minor("2,5", "EUR"), Ok(250));
        assert_eq!(minor("3", "EUR"), Ok(300));
        assert_eq!(minor(" 0.07 ", "EUR"), Ok(7));
        assert_eq!(minor(".5", "EUR"), Ok(50));
        assert_eq!(minor("300", "JPY"), Ok(300));
        assert_eq!(minor("1.305", "KWD"), Ok(1305));
        // 0.1 + 0.2 style float traps do not exist here.
        assert_eq!(minor("19.99", "EUR"), Ok(1999));
        assert_eq!(minor("10000000000", "EUR"), Ok(MAX_MINOR));
    }

    #[test]
    fn bad_prices_are_refused_with_a_reason() {
        assert_eq!(minor("2.505", "EUR"), Err(PriceError::TooManyDecimals(2)));
        assert_eq!(minor("3.5", "JPY"), Err(PriceError::TooManyDecimals(0)));
        assert_eq!(minor("", "EUR"), Err(PriceError::Empty));
        assert_eq!(minor("-1", "EUR"), Err(PriceError::NotANumber));
        assert_eq!(minor("2.", "EUR"), Err(PriceError::NotANumber));
        assert_eq!(minor("1.2.3", "EUR"), Err(PriceError::NotANumber));
        assert_eq!(minor("1e3", "EUR"), Err(PriceError::NotANumber));
        assert_eq!(minor("1 000", "EUR"), Err(PriceError::NotANumber));
        assert_eq!(minor("10000000000.01", "EUR"), Err(PriceError::TooLarge));
        assert_eq!(
            minor("99999999999999999999999", "EUR"),
            Err(PriceError::TooLarge)
        );
        assert_eq!(minor("2.50", "XXX"), Err(PriceError::UnknownCurrency));
    }

    #[test]
    fn minor_units_read_back_as_typed() {
        assert_eq!(format_minor(250, "EUR"), "2.50");
        assert_eq!(format_minor(7, "EUR"), "0.07");
        assert_eq!(format_minor(300, "JPY"), "300");
        assert_eq!(format_minor(1305, "KWD"), "1.305");
    }
}
