//! `switchboard biz links …`: click-to-chat links (with a prefilled message) and
//! their QR codes, saved to a file for printing.

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
    /// Every link with how often it was opened.
    List,
    /// A new link.
    Create {
        /// The message prefilled for the customer (at most 140 characters).
        #[arg(long)]
        text: Option<String>,
    },
    /// Delete a link (its code stops working).
    Delete { code: String },
    /// Save a link's QR code (PNG, or SVG with `--svg`) to a file.
    Qr {
        code: String,
        /// Where to write it.
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long)]
        svg: bool,
    },
}

fn link_line(l: &Value) -> String {
    format!(
        "{}  {}  opened {}  {}",
        l["code"].as_str().unwrap_or(""),
        l["url"].as_str().unwrap_or(""),
        l["opens"],
        l["text"].as_str().unwrap_or(""),
    )
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::List => {
            let v = ctx.call(Method::GET, "/links", None).await?;
            ctx.print(&v, |v| {
                v["links"]
                    .as_array()
                    .map(|a| a.iter().map(link_line).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default()
            });
        }
        Command::Create { text } => {
            let v = ctx
                .call(Method::POST, "/links", Some(json!({"text": text})))
                .await?;
            ctx.print(&v, link_line);
        }
        Command::Delete { code } => {
            ctx.call(Method::DELETE, &format!("/links/{code}"), None)
                .await?;
            ctx.print(&json!({"deleted": code}), |_| format!("deleted {code}"));
        }
        Command::Qr { code, out, svg } => {
            let ext = if svg { "svg" } else { "png" };
            let (bytes, _) = ctx
                .client
                .bytes(&format!("/v1/biz/{}/links/{code}/qr.{ext}", ctx.waba_id))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&out, &bytes)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            let shown = out.display().to_string();
            ctx.print(&json!({"written": shown, "bytes": bytes.len()}), |_| {
                format!("wrote {shown} ({} bytes)", bytes.len())
            });
        }
    }
    Ok(())
}
