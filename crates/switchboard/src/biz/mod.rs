//! `switchboard biz …`: the business app from the terminal, for a team member logged
//! in with `switchboard chat login` (the same config file and device token). Every
//! subcommand is one or a few calls of the `/v1/biz/{waba_id}/…` API; `--json`
//! prints the API's answers as they are.

mod automation;
mod broadcasts;
mod catalog;
mod inbox;
mod links;
mod orders;
mod replies;
mod stats;
mod verification;

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use switchboard_client::{Client, Method};

/// The business app: catalog, orders, inbox, automation, statistics and more.
#[derive(clap::Args)]
pub struct BizArgs {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The config file of `switchboard chat` (holds the device token).
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_CLI_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    /// Which business (its waba id); default: the only one you work for.
    #[arg(long, global = true, env = "SWITCHBOARD_BUSINESS")]
    business: Option<String>,
    #[command(subcommand)]
    command: BizCommand,
}

#[derive(clap::Subcommand)]
enum BizCommand {
    /// Turn your account into a business (free).
    Create {
        name: String,
        /// RETAIL, RESTAURANT, … (see the admin API's verticals).
        #[arg(long)]
        vertical: Option<String>,
    },
    /// The businesses you work for, with your role.
    List,
    /// Products, collections and catalog messages.
    Catalog(catalog::Args),
    /// Customers' orders and their status.
    Orders(orders::Args),
    /// Click-to-chat links and QR codes.
    Links(links::Args),
    /// Quick replies (`/shortcut`).
    Replies(replies::Args),
    /// Opening hours, greeting and away messages.
    Automation(automation::Args),
    /// Statistics and their CSV export.
    Stats(stats::Args),
    /// The team inbox: conversations, notes, labels, the team.
    Inbox(inbox::Args),
    /// Broadcast lists and scheduled sends.
    Broadcasts(broadcasts::Args),
    /// Apply for verification.
    Verification(verification::Args),
}

/// What every subcommand needs: the API client, the business, the output mode.
pub struct Ctx {
    pub client: Client,
    pub waba_id: String,
    pub json: bool,
}

impl Ctx {
    /// A call of `/v1/biz/{waba_id}{path}`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let full = format!("/v1/biz/{}{path}", self.waba_id);
        self.client
            .json(method, &full, body.as_ref())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Prints `value` as JSON with `--json`, else `text(value)`.
    pub fn print(&self, value: &Value, text: impl FnOnce(&Value) -> String) {
        if self.json {
            println!("{value}");
        } else {
            let t = text(value);
            if !t.is_empty() {
                println!("{t}");
            }
        }
    }
}

pub async fn run(args: BizArgs) -> anyhow::Result<()> {
    let path = match &args.config {
        Some(p) => p.clone(),
        None => crate::chat::default_config_path()?,
    };
    let client = crate::chat::authed_client(&path)?;
    let which = match args.command {
        BizCommand::Create { name, vertical } => {
            let b = client
                .json(
                    Method::POST,
                    "/v1/biz",
                    Some(&json!({"name": name, "vertical": vertical})),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if args.json {
                println!("{b}");
            } else {
                println!(
                    "business {} created (waba id {})",
                    b["name"].as_str().unwrap_or("?"),
                    b["waba_id"].as_str().unwrap_or("?")
                );
            }
            return Ok(());
        }
        BizCommand::List => {
            let all = list(&client).await?;
            if args.json {
                println!("{}", json!({"businesses": all}));
            } else {
                for b in &all {
                    println!(
                        "{}  {}  ({})",
                        b["waba_id"].as_str().unwrap_or("?"),
                        b["name"].as_str().unwrap_or("?"),
                        b["role"].as_str().unwrap_or("?")
                    );
                }
            }
            return Ok(());
        }
        other => other,
    };
    let waba_id = match args.business {
        Some(b) => b,
        None => {
            let all = list(&client).await?;
            match all.as_slice() {
                [one] => one["waba_id"].as_str().unwrap_or_default().to_owned(),
                [] => bail!(
                    "you work for no business\nhint: `switchboard biz create \"My Shop\"`, or ask an owner to add you"
                ),
                _ => bail!(
                    "you work for several businesses\nhint: pass --business <waba id> (see `switchboard biz list`)"
                ),
            }
        }
    };
    let ctx = Ctx {
        client,
        waba_id,
        json: args.json,
    };
    match which {
        BizCommand::Create { .. } | BizCommand::List => Ok(()),
        BizCommand::Catalog(a) => catalog::run(&ctx, a).await,
        BizCommand::Orders(a) => orders::run(&ctx, a).await,
        BizCommand::Links(a) => links::run(&ctx, a).await,
        BizCommand::Replies(a) => replies::run(&ctx, a).await,
        BizCommand::Automation(a) => automation::run(&ctx, a).await,
        BizCommand::Stats(a) => stats::run(&ctx, a).await,
        BizCommand::Inbox(a) => inbox::run(&ctx, a).await,
        BizCommand::Broadcasts(a) => broadcasts::run(&ctx, a).await,
        BizCommand::Verification(a) => verification::run(&ctx, a).await,
    }
    .context("biz")
}

async fn list(client: &Client) -> anyhow::Result<Vec<Value>> {
    let v = client
        .json(Method::GET, "/v1/me/businesses", None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(v["businesses"].as_array().cloned().unwrap_or_default())
}
