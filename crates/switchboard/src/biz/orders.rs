//! `switchboard biz orders …`: customers' orders and their status steps
//! (received → confirmed → ready → delivered, or cancelled).

use serde_json::{Value, json};
use switchboard_client::Method;

use super::Ctx;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Orders, newest first.
    List {
        /// received, confirmed, ready, delivered or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// A customer's user id.
        #[arg(long)]
        customer: Option<String>,
    },
    /// One order with its items and history.
    Show { id: String },
    /// Move an order to its next status (the customer sees it in the chat).
    Status {
        id: String,
        /// confirmed, ready, delivered or cancelled.
        status: String,
        #[arg(long)]
        note: Option<String>,
    },
}

fn order_line(o: &Value) -> String {
    format!(
        "{}  {}  {}  {} {}",
        o["id"].as_str().unwrap_or(""),
        o["status"].as_str().unwrap_or(""),
        o["customer"].as_str().unwrap_or(""),
        o["total"]["amount_minor"],
        o["total"]["currency"].as_str().unwrap_or(""),
    )
}

fn order_detail(o: &Value) -> String {
    let mut out = vec![order_line(o)];
    for item in o["items"].as_array().into_iter().flatten() {
        out.push(format!(
            "  {} × {}  {}",
            item["quantity"],
            item["name"].as_str().unwrap_or(""),
            item["line_total"]["amount_minor"]
        ));
    }
    for step in o["history"].as_array().into_iter().flatten() {
        out.push(format!(
            "  {} at {} by {}",
            step["status"].as_str().unwrap_or(""),
            step["at"],
            step["by"].as_str().unwrap_or("")
        ));
    }
    out.join("\n")
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::List { status, customer } => {
            let mut query = Vec::new();
            if let Some(s) = status {
                query.push(format!("status={s}"));
            }
            if let Some(c) = customer {
                query.push(format!("customer={c}"));
            }
            let path = if query.is_empty() {
                "/orders".to_owned()
            } else {
                format!("/orders?{}", query.join("&"))
            };
            let v = ctx.call(Method::GET, &path, None).await?;
            ctx.print(&v, |v| {
                v["orders"]
                    .as_array()
                    .map(|a| a.iter().map(order_line).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            });
        }
        Command::Show { id } => {
            let v = ctx
                .call(Method::GET, &format!("/orders/{id}"), None)
                .await?;
            ctx.print(&v, order_detail);
        }
        Command::Status { id, status, note } => {
            let v = ctx
                .call(
                    Method::POST,
                    &format!("/orders/{id}/status"),
                    Some(json!({"status": status, "note": note})),
                )
                .await?;
            ctx.print(&v, order_detail);
        }
    }
    Ok(())
}
