//! `switchboard biz catalog …`: the shop's products and collections, and product or
//! catalog messages into a customer's chat. Prices are given in minor units
//! (`--price 250 --currency EUR` for €2.50), exactly as the API takes them.

use serde_json::{Map, Value, json};
use switchboard_client::Method;

use super::Ctx;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Every product.
    List,
    /// One product.
    Show { id: String },
    /// A new product.
    Add {
        name: String,
        /// Price in minor units (250 for 2.50).
        #[arg(long)]
        price: i64,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        sku: Option<String>,
        /// A media id of an uploaded image (repeat for more, at most 10).
        #[arg(long = "image")]
        images: Vec<String>,
        /// Add it as not available.
        #[arg(long)]
        unavailable: bool,
    },
    /// Change a product (only the options given).
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        price: Option<i64>,
        #[arg(long, requires = "price")]
        currency: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// "" removes the SKU.
        #[arg(long)]
        sku: Option<String>,
        #[arg(long)]
        available: Option<bool>,
    },
    /// Delete a product.
    Delete { id: String },
    /// Every collection.
    Collections,
    /// A new collection of products, in the order given.
    AddCollection {
        name: String,
        product_ids: Vec<String>,
    },
    /// Delete a collection.
    DeleteCollection { id: String },
    /// Send a product, a collection or the whole catalog to a customer.
    Send {
        /// The customer's user id.
        to: String,
        #[arg(long, conflicts_with = "collection")]
        product: Option<String>,
        #[arg(long)]
        collection: Option<String>,
        #[arg(long)]
        text: Option<String>,
    },
}

fn product_line(p: &Value) -> String {
    let s = |k: &str| p[k].as_str().unwrap_or("").to_owned();
    format!(
        "{}  {}  {} {}{}{}",
        s("id"),
        s("name"),
        p["price"]["amount_minor"],
        p["price"]["currency"].as_str().unwrap_or(""),
        if p["available"] == false {
            "  (unavailable)"
        } else {
            ""
        },
        p["sku"]
            .as_str()
            .map(|k| format!("  sku {k}"))
            .unwrap_or_default(),
    )
}

fn lines(v: &Value, key: &str, line: fn(&Value) -> String) -> String {
    v[key]
        .as_array()
        .map(|a| a.iter().map(line).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

fn collection_line(c: &Value) -> String {
    format!(
        "{}  {}  ({} products)",
        c["id"].as_str().unwrap_or(""),
        c["name"].as_str().unwrap_or(""),
        c["product_ids"].as_array().map_or(0, Vec::len)
    )
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v);
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let products = "/catalog/products";
    match args.command {
        Command::List => {
            let v = ctx.call(Method::GET, products, None).await?;
            ctx.print(&v, |v| lines(v, "products", product_line));
        }
        Command::Show { id } => {
            let v = ctx
                .call(Method::GET, &format!("{products}/{id}"), None)
                .await?;
            ctx.print(&v, product_line);
        }
        Command::Add {
            name,
            price,
            currency,
            description,
            sku,
            images,
            unavailable,
        } => {
            let mut body = json!({
                "name": name,
                "price": {"amount_minor": price, "currency": currency},
                "image_media_ids": images,
                "available": !unavailable,
            });
            if let Some(m) = body.as_object_mut() {
                put(m, "description", description.map(Value::from));
                put(m, "sku", sku.map(Value::from));
            }
            let v = ctx.call(Method::POST, products, Some(body)).await?;
            ctx.print(&v, product_line);
        }
        Command::Edit {
            id,
            name,
            price,
            currency,
            description,
            sku,
            available,
        } => {
            let mut m = Map::new();
            put(&mut m, "name", name.map(Value::from));
            put(
                &mut m,
                "price",
                price.map(|p| json!({"amount_minor": p, "currency": currency.unwrap_or_else(|| "EUR".into())})),
            );
            put(&mut m, "description", description.map(Value::from));
            put(&mut m, "sku", sku.map(Value::from));
            put(&mut m, "available", available.map(Value::from));
            let v = ctx
                .call(
                    Method::PATCH,
                    &format!("{products}/{id}"),
                    Some(Value::Object(m)),
                )
                .await?;
            ctx.print(&v, product_line);
        }
        Command::Delete { id } => {
            ctx.call(Method::DELETE, &format!("{products}/{id}"), None)
                .await?;
            ctx.print(&json!({"deleted": id}), |_| format!("deleted {id}"));
        }
        Command::Collections => {
            let v = ctx.call(Method::GET, "/catalog/collections", None).await?;
            ctx.print(&v, |v| lines(v, "collections", collection_line));
        }
        Command::AddCollection { name, product_ids } => {
            let v = ctx
                .call(
                    Method::POST,
                    "/catalog/collections",
                    Some(json!({"name": name, "product_ids": product_ids})),
                )
                .await?;
            ctx.print(&v, collection_line);
        }
        Command::DeleteCollection { id } => {
            ctx.call(Method::DELETE, &format!("/catalog/collections/{id}"), None)
                .await?;
            ctx.print(&json!({"deleted": id}), |_| format!("deleted {id}"));
        }
        Command::Send {
            to,
            product,
            collection,
            text,
        } => {
            let mut m = Map::new();
            m.insert("to".into(), Value::from(to));
            put(&mut m, "product_id", product.map(Value::from));
            put(&mut m, "collection_id", collection.map(Value::from));
            put(&mut m, "text", text.map(Value::from));
            let v = ctx
                .call(Method::POST, "/catalog/send", Some(Value::Object(m)))
                .await?;
            ctx.print(&v, |v| format!("sent {}", v["id"].as_str().unwrap_or("")));
        }
    }
    Ok(())
}
