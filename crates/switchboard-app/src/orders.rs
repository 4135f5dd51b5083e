//! Orders: a customer orders from a business's catalog, the server prices the order
//! itself (integer minor units, every sum checked for overflow), and the team moves
//! it through `received → confirmed → ready → delivered` (or `cancelled` from any
//! state that is not final). Every step is kept with its time and who made it, and
//! is shown to the customer as an `order_status` message in their chat.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::catalog::{Money, Product, valid_id};
use crate::error::{AppError, AppResult};
use crate::text::text;

/// An order; key: its time-ordered id.
pub const KIND_ORDER: &str = "order";
/// The orders of one customer; key: `{customer_id}/{order_id}`; value: `{}`.
pub const KIND_CUSTOMER_ORDER: &str = "customer_order";

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 999;
pub const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Received,
    Confirmed,
    Ready,
    Delivered,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Confirmed => "confirmed",
            Status::Ready => "ready",
            Status::Delivered => "delivered",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> AppResult<Status> {
        match s {
            "received" => Ok(Status::Received),
            "confirmed" => Ok(Status::Confirmed),
            "ready" => Ok(Status::Ready),
            "delivered" => Ok(Status::Delivered),
            "cancelled" => Ok(Status::Cancelled),
            _ => Err(AppError::invalid(
                "invalid_status",
                format!(
                    "unknown status {:?}; use received, confirmed, ready, delivered or cancelled",
                    s.chars().take(30).collect::<String>()
                ),
            )),
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Status::Delivered | Status::Cancelled)
    }

    /// Whether an order in this state may move to `to`.
    pub fn may_become(self, to: Status) -> bool {
        match to {
            Status::Cancelled => !self.is_final(),
            Status::Confirmed => self == Status::Received,
            Status::Ready => self == Status::Confirmed,
            Status::Delivered => self == Status::Ready,
            Status::Received => false,
        }
    }
}

/// One line of an order, priced when it was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub product_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
}

/// One step of an order's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub status: Status,
    pub at: i64,
    /// The user who made the step (the customer for `received`).
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub customer: String,
    pub items: Vec<Line>,
    pub total: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub status: Status,
    pub history: Vec<Step>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a customer sends to order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub items: Vec<ItemRequest>,
    #[serde(default)]
    pub note: Option<String>,
    /// Chosen by the client (1–64 printable ASCII characters): a retry with the same
    /// one answers the first order instead of placing a second.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Orders by the client's id, per customer; key `{customer}/{client_id}`, value
/// `{"order_id"}`, written in the same batch as the order.
pub const KIND_ORDER_KEY: &str = "order_key";

/// A client's order id, checked: 1–64 printable ASCII characters without `/`.
pub fn client_id(id: &str) -> AppResult<&str> {
    if (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
        Ok(id)
    } else {
        Err(AppError::invalid(
            "invalid_client_id",
            "client_id must be 1 to 64 printable ASCII characters without '/'",
        ))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    pub product_id: String,
    pub quantity: i64,
}

/// A time-ordered order id: `o`, the time in milliseconds (13 digits) and 8 hex
/// digits of `random`, so keys list oldest first.
pub fn new_order_id(now: i64, random: [u8; 4]) -> String {
    let mut s = format!("o{:013}", now.max(0));
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Prices a request against the catalog and builds the order (status `received`).
pub fn place(
    id: String,
    customer: &str,
    req: OrderRequest,
    catalog: &HashMap<String, Product>,
    now: i64,
) -> AppResult<Order> {
    if req.items.is_empty() || req.items.len() > MAX_LINES {
        return Err(AppError::invalid(
            "invalid_items",
            format!(
                "an order has 1 to {MAX_LINES} lines (got {})",
                req.items.len()
            ),
        ));
    }
    let note = note(req.note.as_deref())?;
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(req.items.len());
    let mut total: Option<Money> = None;
    for item in &req.items {
        let line = price_line(item, catalog, &mut seen)?;
        total = Some(add(total, &line.line_total)?);
        items.push(line);
    }
    let total = total.ok_or_else(|| AppError::invalid("invalid_items", "an order has lines"))?;
    Ok(Order {
        id,
        customer: customer.to_owned(),
        items,
        total,
        note: note.clone(),
        status: Status::Received,
        history: vec![Step {
            status: Status::Received,
            at: now,
            by: customer.to_owned(),
            note,
        }],
        created_at: now,
        updated_at: now,
    })
}

fn price_line(
    item: &ItemRequest,
    catalog: &HashMap<String, Product>,
    seen: &mut HashSet<String>,
) -> AppResult<Line> {
    let shown: String = item.product_id.chars().take(40).collect();
    if !(1..=MAX_QUANTITY).contains(&item.quantity) {
        return Err(AppError::invalid(
            "invalid_quantity",
            format!(
                "quantity of {shown:?} must be 1 to {MAX_QUANTITY} (got {})",
                item.quantity
            ),
        ));
    }
    if !seen.insert(item.product_id.clone()) {
        return Err(AppError::invalid(
            "duplicate_product",
            format!("product {shown:?} appears twice; order it once with a quantity"),
        ));
    }
    let product = catalog
        .get(&item.product_id)
        .filter(|_| valid_id(&item.product_id))
        .ok_or_else(|| {
            AppError::invalid(
                "unknown_product",
                format!("no product {shown:?} in this catalog"),
            )
        })?;
    if !product.available {
        return Err(AppError::invalid(
            "product_unavailable",
            format!("{:?} is not available right now", product.name),
        ));
    }
    let quantity = u32::try_from(item.quantity).unwrap_or(0);
    let amount = product
        .price
        .amount_minor
        .checked_mul(item.quantity)
        .ok_or_else(too_large)?;
    Ok(Line {
        product_id: product.id.clone(),
        name: product.name.clone(),
        sku: product.sku.clone(),
        quantity,
        unit_price: product.price.clone(),
        line_total: Money {
            amount_minor: amount,
            currency: product.price.currency.clone(),
        },
    })
}

fn too_large() -> AppError {
    AppError::invalid("total_too_large", "the order's total is too large")
}

fn add(total: Option<Money>, line: &Money) -> AppResult<Money> {
    let Some(t) = total else {
        return Ok(line.clone());
    };
    if t.currency != line.currency {
        return Err(AppError::invalid(
            "mixed_currencies",
            format!(
                "an order is in one currency; it mixes {} and {}",
                t.currency, line.currency
            ),
        ));
    }
    Ok(Money {
        amount_minor: t
            .amount_minor
            .checked_add(line.amount_minor)
            .ok_or_else(too_large)?,
        currency: t.currency,
    })
}

/// An optional note (of the customer, or of a status step).
pub fn note(n: Option<&str>) -> AppResult<Option<String>> {
    match n {
        None => Ok(None),
        Some(n) => {
            let n = text("note", n, 0, MAX_NOTE_CHARS, true)?;
            Ok((!n.is_empty()).then_some(n))
        }
    }
}

impl Order {
    /// Moves the order to `to`; `409 invalid_transition` when the state does not
    /// allow it.
    pub fn advance(
        &mut self,
        to: Status,
        by: &str,
        note: Option<String>,
        now: i64,
    ) -> AppResult<()> {
        if !self.status.may_become(to) {
            return Err(AppError::conflict(
                "invalid_transition",
                format!(
                    "an order that is {} cannot become {}",
                    self.status.as_str(),
                    to.as_str()
                ),
            ));
        }
        self.status = to;
        self.updated_at = now;
        self.history.push(Step {
            status: to,
            at: now,
            by: by.to_owned(),
            note,
        });
        Ok(())
    }

    /// Items counted by quantity.
    pub fn item_count(&self) -> u64 {
        self.items.iter().map(|l| u64::from(l.quantity)).sum()
    }

    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "customer": self.customer,
            "items": self.items,
            "total": self.total,
            "note": self.note,
            "status": self.status,
            "history": self.history,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }

    /// The body of the customer's `order` message; `catalog_id` is the business's
    /// `waba_id` (what the Cloud API webhook reports as the catalog).
    pub fn message(&self, catalog_id: &str) -> Value {
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|l| {
                json!({
                    "product_id": l.product_id,
                    "name": l.name,
                    "sku": l.sku,
                    "quantity": l.quantity,
                    "unit_price": l.unit_price.message_json(),
                })
            })
            .collect();
        let mut v = json!({
            "order_id": self.id,
            "catalog_id": catalog_id,
            "items": items,
            "item_count": self.item_count(),
            "total": self.total.message_json(),
        });
        if let Some(n) = &self.note {
            v["text"] = json!(n);
        }
        json!({ "order": v })
    }

    /// The body of the `order_status` message of the last step.
    pub fn status_message(&self) -> Value {
        let mut v = json!({
            "order_id": self.id,
            "status": self.status,
            "item_count": self.item_count(),
            "total": self.total.message_json(),
        });
        if let Some(n) = self.history.last().and_then(|s| s.note.as_ref()) {
            v["note"] = json!(n);
        }
        json!({ "order_status": v })
    }

    /// The client id of the status message of `status`, so a retried step is stored
    /// once.
    pub fn status_client_id(&self, status: Status) -> String {
        format!("order:{}:{}", self.id, status.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, amount: i64, currency: &str, available: bool) -> Product {
        Product {
            id: id.into(),
            name: format!("name {id}"),
            description: String::new(),
            price: Money {
                amount_minor: amount,
                currency: currency.into(),
            },
            image_media_ids: vec![],
            available,
            sku: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn catalog() -> HashMap<String, Product> {
        [
            product("pretzel", 120, "EUR", true),
            product("coffee", 250, "EUR", true),
            product("cake", 400, "EUR", false),
            product("bagel", 300, "USD", true),
            product("gold", crate::catalog::MAX_AMOUNT_MINOR, "EUR", true),
        ]
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect()
    }

    fn order(items: &[(&str, i64)]) -> AppResult<Order> {
        let req = OrderRequest {
            items: items
                .iter()
                .map(|(p, q)| ItemRequest {
                    product_id: (*p).into(),
                    quantity: *q,
                })
                .collect(),
            note: Some("no sugar".into()),
            client_id: None,
        };
        place("o1".into(), "c1", req, &catalog(), 7)
    }

    #[test]
    fn orders_are_priced_exactly() {
        let o = order(&[("pretzel", 2), ("coffee", 1)]).expect("valid");
        assert_eq!(o.total.amount_minor, 490);
        assert_eq!(o.total.currency, "EUR");
        assert_eq!(o.item_count(), 3);
        assert_eq!(o.status, Status::Received);
        assert_eq!(o.history.len(), 1);
        let m = o.message("123");
        assert_eq!(m["order"]["total"]["display"], "€4.90");
        assert_eq!(m["order"]["total"]["minor_digits"], 2);
        assert_eq!(m["order"]["catalog_id"], "123");
        let code = |items: &[(&str, i64)]| order(items).map(|_| ()).map_err(|e| e.code());
        assert_eq!(code(&[]), Err("invalid_items"));
        assert_eq!(code(&[("pretzel", 0)]), Err("invalid_quantity"));
        assert_eq!(code(&[("pretzel", 1000)]), Err("invalid_quantity"));
        assert_eq!(
            code(&[("pretzel", 1), ("pretzel", 1)]),
            Err("duplicate_product")
        );
        assert_eq!(code(&[("cake", 1)]), Err("product_unavailable"));
        assert_eq!(
            code(&[("pretzel", 1), ("bagel", 1)]),
            Err("mixed_currencies")
        );
        assert_eq!(code(&[("nope", 1)]), Err("unknown_product"));
        assert_eq!(code(&[("gold", 999)]), Ok(()));
        let many: Vec<(&str, i64)> = vec![("pretzel", 1); 101];
        assert_eq!(code(&many), Err("invalid_items"));
    }

    #[test]
    fn status_steps() {
        let mut o = order(&[("pretzel", 1)]).expect("valid");
        assert_eq!(
            o.advance(Status::Ready, "a", None, 8).map_err(|e| e.code()),
            Err("invalid_transition")
        );
        for s in [Status::Confirmed, Status::Ready, Status::Delivered] {
            o.advance(s, "agent", None, 9).expect("legal");
        }
        assert_eq!(o.history.len(), 4);
        assert!(o.advance(Status::Cancelled, "a", None, 10).is_err());
        let mut o = order(&[("pretzel", 1)]).expect("valid");
        o.advance(Status::Cancelled, "a", Some("sold out".into()), 10)
            .expect("cancel from received");
        assert_eq!(o.status_message()["order_status"]["note"], "sold out");
        assert_eq!(o.status_client_id(Status::Cancelled), "order:o1:cancelled");
        assert!(Status::parse("shipped").is_err());
        assert!(!Status::Received.may_become(Status::Received));
    }

    #[test]
    fn order_ids_sort_by_time() {
        let a = new_order_id(999, [0xff; 4]);
        let b = new_order_id(1000, [0; 4]);
        assert!(a < b);
        assert!(valid_id(&a));
        assert_eq!(b, "o000000000100000000000");
    }
}
