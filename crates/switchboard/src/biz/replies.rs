//! `switchboard biz replies …`: the team's quick replies (`/shortcut` → canned text).

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
    /// Every quick reply, or those starting with `--prefix` ("/" completion).
    List {
        #[arg(long)]
        prefix: Option<String>,
    },
    /// One quick reply.
    Show { shortcut: String },
    /// A new quick reply (admins).
    Add {
        /// `/` and 1–25 of a-z, 0-9, _ or -.
        shortcut: String,
        text: String,
        /// An uploaded media id sent with the text.
        #[arg(long)]
        media: Option<String>,
    },
    /// Replace a quick reply's text (and media).
    Edit {
        shortcut: String,
        text: String,
        #[arg(long)]
        media: Option<String>,
    },
    /// Delete a quick reply.
    Delete { shortcut: String },
}

fn line(r: &Value) -> String {
    let media = r["media_id"]
        .as_str()
        .map(|m| format!("  [media {m}]"))
        .unwrap_or_default();
    format!(
        "{}  {}{media}",
        r["shortcut"].as_str().unwrap_or(""),
        r["text"].as_str().unwrap_or("")
    )
}

/// The path segment of a shortcut (its `/` dropped).
fn segment(shortcut: &str) -> String {
    shortcut.trim().trim_start_matches('/').to_owned()
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::List { prefix } => {
            let path = match prefix {
                Some(p) => format!("/replies?prefix={}", urlencode(&p)),
                None => "/replies".to_owned(),
            };
            let v = ctx.call(Method::GET, &path, None).await?;
            ctx.print(&v, |v| {
                v["replies"]
                    .as_array()
                    .map(|a| a.iter().map(line).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            });
        }
        Command::Show { shortcut } => {
            let v = ctx
                .call(
                    Method::GET,
                    &format!("/replies/{}", segment(&shortcut)),
                    None,
                )
                .await?;
            ctx.print(&v, line);
        }
        Command::Add {
            shortcut,
            text,
            media,
        } => {
            let body = json!({"shortcut": shortcut, "text": text, "media_id": media});
            let v = ctx.call(Method::POST, "/replies", Some(body)).await?;
            ctx.print(&v, line);
        }
        Command::Edit {
            shortcut,
            text,
            media,
        } => {
            let body = json!({"text": text, "media_id": media});
            let v = ctx
                .call(
                    Method::PUT,
                    &format!("/replies/{}", segment(&shortcut)),
                    Some(body),
                )
                .await?;
            ctx.print(&v, line);
        }
        Command::Delete { shortcut } => {
            ctx.call(
                Method::DELETE,
                &format!("/replies/{}", segment(&shortcut)),
                None,
            )
            .await?;
            ctx.print(&json!({"deleted": shortcut}), |_| {
                format!("deleted {shortcut}")
            });
        }
    }
    Ok(())
}

/// Percent-encodes a query value (shortcuts are ASCII; `/` is kept readable).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
