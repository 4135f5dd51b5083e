//! `switchboard biz broadcasts …`: broadcast lists, opt-ins the business collected,
//! sends (now or at a time) with a progress bar while the server sends, and
//! cancelling a send before it starts. One or a few calls of the broadcasts API each.

use std::time::Duration;

use anyhow::{Context, bail};
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
    /// Broadcast lists with their member counts.
    Lists,
    /// Create a broadcast list.
    CreateList { name: String },
    /// Rename a list.
    RenameList { list_id: String, name: String },
    /// Delete a list and its members.
    DeleteList { list_id: String },
    /// Add customers (phones +49… or user ids) to a list.
    Add {
        #[arg(long = "list")]
        list_id: String,
        #[arg(required = true)]
        customers: Vec<String>,
    },
    /// Remove customers from a list.
    Remove {
        #[arg(long = "list")]
        list_id: String,
        #[arg(required = true)]
        customers: Vec<String>,
    },
    /// Record a customer's consent collected elsewhere (admin).
    OptIn {
        customer: String,
        /// How the consent was given (1 to 500 characters).
        #[arg(long)]
        evidence: String,
    },
    /// Send a broadcast to a list's opted-in customers, now or at a time.
    Send {
        #[arg(long = "list")]
        list_id: String,
        #[arg(
            long,
            required_unless_present = "media_id",
            conflicts_with = "media_id"
        )]
        text: Option<String>,
        #[arg(long)]
        media_id: Option<String>,
        /// With --media-id (the server refuses a caption on a text).
        #[arg(long)]
        caption: Option<String>,
        /// When, RFC 3339 (2026-12-24T09:00:00+01:00) [default: now].
        #[arg(long)]
        at: Option<String>,
        /// Show a progress bar until the send is done.
        #[arg(long)]
        wait: bool,
    },
    /// Schedule one message to one customer.
    Schedule {
        #[arg(long)]
        to: String,
        #[arg(long)]
        text: String,
        /// When, RFC 3339.
        #[arg(long)]
        at: String,
    },
    /// Broadcasts, newest first.
    List,
    /// Scheduled messages, newest first.
    Scheduled,
    /// One broadcast with its progress.
    Show { id: String },
    /// Cancel a broadcast (or, with --scheduled, a scheduled message) before it
    /// starts.
    Cancel {
        id: String,
        #[arg(long)]
        scheduled: bool,
    },
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Lists => {
            let v = ctx.call(Method::GET, "/broadcast-lists", None).await?;
            ctx.print(&v, |v| {
                rows(&v["lists"], |l| {
                    format!(
                        "{}  {}  ({} members)",
                        s(&l["id"]),
                        s(&l["name"]),
                        l["members"]
                    )
                })
            });
        }
        Command::CreateList { name } => {
            let v = ctx
                .call(
                    Method::POST,
                    "/broadcast-lists",
                    Some(json!({"name": name})),
                )
                .await?;
            ctx.print(&v, |v| {
                format!("list {} created: {}", s(&v["name"]), s(&v["id"]))
            });
        }
        Command::RenameList { list_id, name } => {
            let v = ctx
                .call(
                    Method::PATCH,
                    &format!("/broadcast-lists/{list_id}"),
                    Some(json!({"name": name})),
                )
                .await?;
            ctx.print(&v, |v| format!("list renamed to {}", s(&v["name"])));
        }
        Command::DeleteList { list_id } => {
            ctx.call(Method::DELETE, &format!("/broadcast-lists/{list_id}"), None)
                .await?;
            ctx.print(&json!({"deleted": list_id}), |_| "list deleted".into());
        }
        Command::Add { list_id, customers } => {
            members(ctx, &list_id, json!({ "add": customers })).await?;
        }
        Command::Remove { list_id, customers } => {
            members(ctx, &list_id, json!({ "remove": customers })).await?;
        }
        Command::OptIn { customer, evidence } => {
            let v = ctx
                .call(
                    Method::POST,
                    "/optins",
                    Some(json!({"customer": customer, "evidence": evidence})),
                )
                .await?;
            ctx.print(&v, |v| format!("opt-in of {} recorded", s(&v["customer"])));
        }
        Command::Send {
            list_id,
            text,
            media_id,
            caption,
            at,
            wait,
        } => {
            let mut body = json!({"list_id": list_id});
            for (k, v) in [("text", text), ("media_id", media_id), ("caption", caption)] {
                if let Some(v) = v {
                    body[k] = json!(v);
                }
            }
            if let Some(at) = at {
                body["send_at"] = json!(parse_time(&at)?);
            }
            let v = ctx.call(Method::POST, "/broadcasts", Some(body)).await?;
            if wait {
                let id = s(&v["id"]).to_owned();
                let done = follow(ctx, &id).await?;
                ctx.print(&done, summary);
            } else {
                ctx.print(&v, |v| {
                    format!("broadcast {} {}", s(&v["id"]), s(&v["status"]))
                });
            }
        }
        Command::Schedule { to, text, at } => {
            let v = ctx
                .call(
                    Method::POST,
                    "/scheduled",
                    Some(json!({"to": to, "text": text, "send_at": parse_time(&at)?})),
                )
                .await?;
            ctx.print(&v, |v| format!("message {} scheduled", s(&v["id"])));
        }
        Command::List => {
            let v = ctx.call(Method::GET, "/broadcasts", None).await?;
            ctx.print(&v, |v| rows(&v["data"], summary));
        }
        Command::Scheduled => {
            let v = ctx.call(Method::GET, "/scheduled", None).await?;
            ctx.print(&v, |v| {
                rows(&v["data"], |m| {
                    format!("{}  to +{}  {}", s(&m["id"]), s(&m["to"]), s(&m["status"]))
                })
            });
        }
        Command::Show { id } => {
            let v = ctx
                .call(Method::GET, &format!("/broadcasts/{id}"), None)
                .await?;
            ctx.print(&v, summary);
        }
        Command::Cancel { id, scheduled } => {
            let kind = if scheduled { "scheduled" } else { "broadcasts" };
            let v = ctx
                .call(
                    Method::POST,
                    &format!("/{kind}/{id}/cancel"),
                    Some(json!({})),
                )
                .await?;
            ctx.print(&v, |v| format!("{} {}", s(&v["id"]), s(&v["status"])));
        }
    }
    Ok(())
}

async fn members(ctx: &Ctx, list_id: &str, body: Value) -> anyhow::Result<()> {
    let v = ctx
        .call(
            Method::POST,
            &format!("/broadcast-lists/{list_id}/members"),
            Some(body),
        )
        .await?;
    ctx.print(&v, |v| {
        let mut out = format!(
            "added {}, already there {}, removed {}; the list has {} members",
            v["added"], v["already"], v["removed"], v["members"]
        );
        if let Some(missing) = v["not_registered"].as_array().filter(|a| !a.is_empty()) {
            let list: Vec<&str> = missing.iter().filter_map(Value::as_str).collect();
            out.push_str(&format!(
                "\nnot registered (not added): {}",
                list.join(", ")
            ));
        }
        out
    });
    Ok(())
}

/// Polls a send and shows its progress until it is done or cancelled.
async fn follow(ctx: &Ctx, id: &str) -> anyhow::Result<Value> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .context("progress bar template")?,
    );
    if ctx.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    loop {
        let v = ctx
            .call(Method::GET, &format!("/broadcasts/{id}"), None)
            .await?;
        let p = &v["progress"];
        let handled = p["sent"].as_u64().unwrap_or(0) + p["skipped"].as_u64().unwrap_or(0);
        bar.set_length(p["total"].as_u64().unwrap_or(0).max(handled));
        bar.set_position(handled);
        bar.set_message(format!(
            "{} (sent {}, skipped {})",
            s(&v["status"]),
            p["sent"],
            p["skipped"]
        ));
        match s(&v["status"]) {
            "done" | "cancelled" => {
                bar.finish();
                return Ok(v);
            }
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn summary(v: &Value) -> String {
    let p = &v["progress"];
    format!(
        "{}  {}  sent {}, skipped {} of {}",
        s(&v["id"]),
        s(&v["status"]),
        p["sent"],
        p["skipped"],
        p["total"]
    )
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

fn rows(list: &Value, row: impl Fn(&Value) -> String) -> String {
    list.as_array()
        .map(|a| a.iter().map(row).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

/// Milliseconds since the epoch of an RFC 3339 time (`2026-12-24T09:00:00Z`,
/// `…+01:00`, optional fractional seconds).
fn parse_time(input: &str) -> anyhow::Result<i64> {
    let bad = || {
        anyhow::anyhow!(
            "invalid time {input:?}\nhint: use RFC 3339, e.g. 2026-12-24T09:00:00+01:00"
        )
    };
    let t = input.trim();
    let (date, rest) = t.split_once(['T', 't', ' ']).ok_or_else(bad)?;
    let mut d = date.split('-');
    let (Some(y), Some(mo), Some(da), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return Err(bad());
    };
    let num = |s: &str, min: u32, max: u32| -> anyhow::Result<u32> {
        let n: u32 = s.parse().map_err(|_| bad())?;
        if (min..=max).contains(&n) && s.len() >= 2 {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    let year: i64 = y.parse().map_err(|_| bad())?;
    let (month, day) = (num(mo, 1, 12)?, num(da, 1, 31)?);
    let (clock, offset_min) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else {
        let at = rest.rfind(['+', '-']).ok_or_else(bad)?;
        let (c, off) = rest.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off.get(1..).unwrap_or("").split_once(':').ok_or_else(bad)?;
        (
            c,
            sign * (i64::from(num(oh, 0, 23)?) * 60 + i64::from(num(om, 0, 59)?)),
        )
    };
    let clock = clock.split('.').next().unwrap_or("");
    let mut c = clock.split(':');
    let (Some(h), Some(mi), Some(se), None) = (c.next(), c.next(), c.next(), c.next()) else {
        return Err(bad());
    };
    let secs = i64::from(num(h, 0, 23)?) * 3600
        + i64::from(num(mi, 0, 59)?) * 60
        + i64::from(num(se, 0, 60)?);
    let days = switchboard_core::civil::days_from_civil(year, month, day);
    if switchboard_core::civil::civil_from_days(days) != (year, month, day) {
        bail!("invalid time {input:?}: no such day");
    }
    Ok((days * 86_400 + secs - offset_min * 60) * 1000)
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn arguments_are_consistent() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: super::Args,
        }
        Cli::command().debug_assert();
        let ok = |a: &[&str]| Cli::try_parse_from(a).is_ok();
        assert!(ok(&["x", "send", "--list", "l", "--text", "hi", "--wait"]));
        assert!(ok(&[
            "x",
            "send",
            "--list",
            "l",
            "--media-id",
            "m",
            "--caption",
            "c"
        ]));
        assert!(!ok(&["x", "send", "--list", "l"]));
        assert!(!ok(&[
            "x",
            "send",
            "--list",
            "l",
            "--text",
            "a",
            "--media-id",
            "m"
        ]));
        assert!(ok(&[
            "x",
            "add",
            "--list",
            "l",
            "+4915112345678",
            "4915112345679"
        ]));
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z").ok(), Some(0));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00").ok(), Some(0));
        assert_eq!(parse_time("1970-01-01T00:00:01.5Z").ok(), Some(1000));
        assert_eq!(
            parse_time("2026-12-24T09:00:00-05:30").ok(),
            Some(1_798_122_600_000)
        );
        for bad in [
            "",
            "2026-02-30T00:00:00Z",
            "2026-12-24",
            "24.12.2026 09:00",
            "2026-12-24T25:00:00Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
