//! `switchboard biz automation …`: the business profile and opening hours, and the
//! greeting and away messages.

use std::path::PathBuf;

use anyhow::Context;
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
    /// Show the profile (with the opening hours).
    Profile,
    /// Change profile fields (`""` clears one); admins.
    SetProfile {
        #[arg(long)]
        about: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Up to two http(s) URLs; repeat the flag.
        #[arg(long = "website")]
        websites: Vec<String>,
        /// RETAIL, RESTAURANT, … (the Cloud API's verticals).
        #[arg(long)]
        vertical: Option<String>,
        /// The category customers see ("Bakery").
        #[arg(long)]
        category: Option<String>,
        /// An uploaded media id for the profile photo.
        #[arg(long)]
        photo: Option<String>,
    },
    /// Set the opening hours from a JSON file
    /// (`{"timezone","weekly":{"mon":[{"open","close"}]},"closed_dates"}`), or
    /// remove them with `--clear`.
    Hours {
        #[arg(long, conflicts_with = "clear")]
        file: Option<PathBuf>,
        #[arg(long)]
        clear: bool,
    },
    /// Show or change the greeting message.
    Greeting {
        #[command(flatten)]
        switch: Switch,
        #[arg(long)]
        text: Option<String>,
    },
    /// Show or change the away message.
    Away {
        #[command(flatten)]
        switch: Switch,
        #[arg(long)]
        text: Option<String>,
        /// `always` or `outside_hours`.
        #[arg(long, conflicts_with_all = ["from", "until"])]
        schedule: Option<String>,
        /// A custom window: from (ms since the epoch).
        #[arg(long, requires = "until")]
        from: Option<i64>,
        /// A custom window: until (ms since the epoch).
        #[arg(long, requires = "from")]
        until: Option<i64>,
    },
}

#[derive(clap::Args)]
struct Switch {
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    #[arg(long)]
    disable: bool,
}

impl Switch {
    fn value(&self) -> Option<bool> {
        match (self.enable, self.disable) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

fn profile_text(v: &Value) -> String {
    let mut out = Vec::new();
    for k in [
        "about",
        "description",
        "address",
        "email",
        "vertical",
        "category",
    ] {
        if let Some(s) = v[k].as_str().filter(|s| !s.is_empty()) {
            out.push(format!("{k}: {s}"));
        }
    }
    for w in v["websites"].as_array().into_iter().flatten() {
        out.push(format!("website: {}", w.as_str().unwrap_or("")));
    }
    if let Some(p) = v["photo_media_id"].as_str() {
        out.push(format!("photo: {p}"));
    }
    match v["hours"].as_object() {
        Some(h) => out.push(format!("hours: {}", Value::Object(h.clone()))),
        None => out.push("hours: not set".into()),
    }
    out.join("\n")
}

fn message_text(v: &Value) -> String {
    let state = if v["enabled"] == true { "on" } else { "off" };
    let schedule = match &v["schedule"] {
        Value::Null => String::new(),
        Value::String(s) => format!(" ({s})"),
        other => format!(" ({other})"),
    };
    format!("{state}{schedule}: {}", v["text"].as_str().unwrap_or(""))
}

/// Reads the current setting, applies the changes given, and writes it back (or
/// just shows it when nothing changes).
async fn setting(ctx: &Ctx, path: &str, changes: Map<String, Value>) -> anyhow::Result<()> {
    let mut current = ctx.call(Method::GET, path, None).await?;
    if !changes.is_empty() {
        if let Some(obj) = current.as_object_mut() {
            obj.extend(changes);
        }
        current = ctx.call(Method::PUT, path, Some(current)).await?;
    }
    ctx.print(&current, message_text);
    Ok(())
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Profile => {
            let v = ctx.call(Method::GET, "/profile", None).await?;
            ctx.print(&v, profile_text);
        }
        Command::SetProfile {
            about,
            description,
            address,
            email,
            websites,
            vertical,
            category,
            photo,
        } => {
            let mut body = Map::new();
            for (k, v) in [
                ("about", about),
                ("description", description),
                ("address", address),
                ("email", email),
                ("vertical", vertical),
                ("category", category),
                ("photo_media_id", photo),
            ] {
                if let Some(v) = v {
                    body.insert(k.into(), json!(v));
                }
            }
            if !websites.is_empty() {
                body.insert("websites".into(), json!(websites));
            }
            let v = ctx
                .call(Method::PATCH, "/profile", Some(Value::Object(body)))
                .await?;
            ctx.print(&v, profile_text);
        }
        Command::Hours { file, clear } => {
            let hours = match (file, clear) {
                (_, true) => Value::Null,
                (Some(path), false) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("{} is not JSON", path.display()))?
                }
                (None, false) => {
                    let v = ctx.call(Method::GET, "/profile", None).await?;
                    ctx.print(&v["hours"], |h| h.to_string());
                    return Ok(());
                }
            };
            let v = ctx
                .call(Method::PATCH, "/profile", Some(json!({ "hours": hours })))
                .await?;
            ctx.print(&v, profile_text);
        }
        Command::Greeting { switch, text } => {
            let mut changes = Map::new();
            if let Some(on) = switch.value() {
                changes.insert("enabled".into(), json!(on));
            }
            if let Some(t) = text {
                changes.insert("text".into(), json!(t));
            }
            setting(ctx, "/automation/greeting", changes).await?;
        }
        Command::Away {
            switch,
            text,
            schedule,
            from,
            until,
        } => {
            let mut changes = Map::new();
            if let Some(on) = switch.value() {
                changes.insert("enabled".into(), json!(on));
            }
            if let Some(t) = text {
                changes.insert("text".into(), json!(t));
            }
            if let Some(s) = schedule {
                changes.insert("schedule".into(), json!(s));
            }
            if let (Some(from), Some(until)) = (from, until) {
                changes.insert(
                    "schedule".into(),
                    json!({"custom": {"from": from, "until": until}}),
                );
            }
            setting(ctx, "/automation/away", changes).await?;
        }
    }
    Ok(())
}
