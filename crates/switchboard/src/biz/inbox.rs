//! `switchboard biz inbox …`: the shared team inbox from the terminal: the team,
//! conversations (list, show, status, assignment, replies), notes and mentions,
//! labels, and the auto-assignment setting.

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
    /// The team: who answers, with which role.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Conversations with customers, newest activity first.
    List {
        /// open, pending, resolved or snoozed.
        #[arg(long)]
        status: Option<String>,
        /// A label id.
        #[arg(long)]
        label: Option<String>,
        /// A user id, `me` or `none`.
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        /// The `next` value of the previous page.
        #[arg(long)]
        after: Option<String>,
    },
    /// One conversation with its latest messages.
    Show { customer: String },
    /// Change a conversation's status or assignee.
    Set {
        customer: String,
        /// open, pending, resolved or snoozed.
        #[arg(long)]
        status: Option<String>,
        /// Snooze until this time (milliseconds since the epoch).
        #[arg(long)]
        snooze_until: Option<i64>,
        /// A user id or phone, `me`, or `none` to unassign.
        #[arg(long)]
        assign: Option<String>,
    },
    /// Reply to a customer as the business.
    Reply {
        customer: String,
        /// The text, or a quick reply's `/shortcut` with --quick.
        text: String,
        /// Send the quick reply named by TEXT.
        #[arg(long)]
        quick: bool,
        /// Append your signature.
        #[arg(long)]
        sign: bool,
        /// Makes a retry send once (default: a fresh id).
        #[arg(long)]
        client_id: Option<String>,
        /// The id of the message this answers.
        #[arg(long)]
        reply_to: Option<String>,
    },
    /// Notes on a conversation (the team only): list them, or add one with TEXT.
    Notes {
        customer: String,
        text: Option<String>,
    },
    /// Notes that mention you.
    Mentions,
    /// The business's labels.
    Labels {
        #[command(subcommand)]
        command: LabelCommand,
    },
    /// Auto-assignment: show it, or turn it on or off.
    AutoAssign {
        /// `on` or `off`.
        value: Option<String>,
    },
}

#[derive(clap::Subcommand)]
enum TeamCommand {
    /// Every member.
    List,
    /// Add a registered user.
    Add {
        phone: String,
        /// agent or admin.
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long)]
        capacity: Option<u32>,
        #[arg(long)]
        signature: Option<String>,
    },
    /// Change a member (yourself: availability and signature).
    Set {
        /// User id or phone.
        member: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        capacity: Option<u32>,
        /// An empty value clears it.
        #[arg(long)]
        signature: Option<String>,
        #[arg(long)]
        available: Option<bool>,
    },
    /// Remove a member.
    Remove { member: String },
}

#[derive(clap::Subcommand)]
enum LabelCommand {
    /// Every label, and the palette.
    List,
    /// A new label (admins).
    Add {
        name: String,
        #[arg(long)]
        colour: String,
    },
    /// Rename or recolour a label.
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        colour: Option<String>,
    },
    /// Delete a label everywhere.
    Delete { id: String },
    /// Put a label on a conversation, or on one of its messages.
    Tag {
        customer: String,
        label: String,
        #[arg(long)]
        message: Option<String>,
    },
    /// Take a label off a conversation or message.
    Untag {
        customer: String,
        label: String,
        #[arg(long)]
        message: Option<String>,
    },
    /// Messages with a label.
    Messages { label: String },
}

/// A user id from a phone (`+49 151 …`) or an id.
fn user_id(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A client id unique to this send: process and time.
fn fresh_client_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("cli-{}-{nanos}", std::process::id())
}

/// A JSON object of the fields that are set.
fn fields(pairs: &[(&str, Option<Value>)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| ((*k).to_owned(), v)))
        .collect();
    Value::Object(map)
}

fn member_line(m: &Value) -> String {
    format!(
        "{}  {}  capacity {}{}{}",
        m["phone"].as_str().unwrap_or(""),
        m["role"].as_str().unwrap_or(""),
        m["capacity"],
        if m["available"] == false {
            "  (away)"
        } else {
            ""
        },
        m["signature"]
            .as_str()
            .map(|s| format!("  — {s}"))
            .unwrap_or_default()
    )
}

fn conversation_line(c: &Value) -> String {
    format!(
        "{}  {:<8}  {}  unread {}  {}",
        c["phone"].as_str().unwrap_or(""),
        c["status"].as_str().unwrap_or(""),
        c["assignee"].as_str().unwrap_or("(unassigned)"),
        c["unread"],
        c["preview"].as_str().unwrap_or("")
    )
}

fn label_line(l: &Value) -> String {
    format!(
        "{}  {}  ({})",
        l["id"].as_str().unwrap_or(""),
        l["name"].as_str().unwrap_or(""),
        l["colour"].as_str().unwrap_or("")
    )
}

fn note_line(n: &Value) -> String {
    format!(
        "{}  {}: {}",
        n["customer"].as_str().unwrap_or(""),
        n["author"].as_str().unwrap_or(""),
        n["text"].as_str().unwrap_or("")
    )
}

fn lines(v: &Value, key: &str, f: fn(&Value) -> String) -> String {
    v[key]
        .as_array()
        .map(|a| a.iter().map(f).collect::<Vec<_>>().join("\n"))
        .unwrap_or_default()
}

fn message_line(m: &Value) -> String {
    let who = m["agent"]
        .as_str()
        .map(|a| format!("agent {a}"))
        .unwrap_or_else(|| m["from"].as_str().unwrap_or("").to_owned());
    format!("{}  {who}: {}", m["id"].as_str().unwrap_or(""), m["body"])
}

pub async fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Team { command } => team(ctx, command).await,
        Command::Labels { command } => labels(ctx, command).await,
        Command::List {
            status,
            label,
            assignee,
            limit,
            after,
        } => {
            let query: Vec<String> = [
                ("status", status),
                ("label", label),
                ("assignee", assignee),
                ("limit", limit.map(|l| l.to_string())),
                ("after", after),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
            .collect();
            let v = ctx
                .call(
                    Method::GET,
                    &format!("/conversations?{}", query.join("&")),
                    None,
                )
                .await?;
            ctx.print(&v, |v| {
                let mut out = lines(v, "conversations", conversation_line);
                if let Some(next) = v["next"].as_str() {
                    out.push_str(&format!("\n(more: --after {next})"));
                }
                out
            });
            Ok(())
        }
        Command::Show { customer } => {
            let v = ctx
                .call(
                    Method::GET,
                    &format!("/conversations/{}", user_id(&customer)),
                    None,
                )
                .await?;
            ctx.print(&v, |v| {
                format!(
                    "{}\n{}",
                    conversation_line(v),
                    lines(v, "messages", message_line)
                )
            });
            Ok(())
        }
        Command::Set {
            customer,
            status,
            snooze_until,
            assign,
        } => {
            let assignee = assign.map(|a| match a.as_str() {
                "none" => Value::Null,
                "me" => json!("me"),
                other => json!(user_id(other)),
            });
            let mut body = fields(&[
                ("status", status.map(Value::from)),
                ("snoozed_until", snooze_until.map(Value::from)),
                ("assignee", assignee),
            ]);
            if body["assignee"] == "me" {
                let me = ctx.client.json(Method::GET, "/v1/me", None).await?;
                body["assignee"] = me["user_id"].clone();
            }
            let v = ctx
                .call(
                    Method::PATCH,
                    &format!("/conversations/{}", user_id(&customer)),
                    Some(body),
                )
                .await?;
            ctx.print(&v, conversation_line);
            Ok(())
        }
        Command::Reply {
            customer,
            text,
            quick,
            sign,
            client_id,
            reply_to,
        } => {
            let client_id = client_id.unwrap_or_else(fresh_client_id);
            let (text, quick_reply) = if quick {
                (None, Some(text))
            } else {
                (Some(text), None)
            };
            let body = fields(&[
                ("client_id", Some(json!(client_id))),
                ("text", text.map(Value::from)),
                ("quick_reply", quick_reply.map(Value::from)),
                ("reply_to", reply_to.map(Value::from)),
                ("signature", Some(json!(sign))),
            ]);
            let v = ctx
                .call(
                    Method::POST,
                    &format!("/conversations/{}/messages", user_id(&customer)),
                    Some(body),
                )
                .await?;
            ctx.print(&v, |v| {
                let notice = if v["notice"].is_string() {
                    "\nnote: someone else on the team is replying to this customer"
                } else {
                    ""
                };
                format!("sent {}{notice}", v["message"]["id"].as_str().unwrap_or(""))
            });
            Ok(())
        }
        Command::Notes { customer, text } => {
            let path = format!("/conversations/{}/notes", user_id(&customer));
            match text {
                Some(text) => {
                    let v = ctx
                        .call(Method::POST, &path, Some(json!({ "text": text })))
                        .await?;
                    ctx.print(&v, note_line);
                }
                None => {
                    let v = ctx.call(Method::GET, &path, None).await?;
                    ctx.print(&v, |v| lines(v, "notes", note_line));
                }
            }
            Ok(())
        }
        Command::Mentions => {
            let v = ctx.call(Method::GET, "/mentions", None).await?;
            ctx.print(&v, |v| lines(v, "mentions", note_line));
            Ok(())
        }
        Command::AutoAssign { value } => {
            let v = match value.as_deref() {
                None => ctx.call(Method::GET, "/inbox/settings", None).await?,
                Some(on) => {
                    let on = match on {
                        "on" | "true" | "yes" => true,
                        "off" | "false" | "no" => false,
                        other => anyhow::bail!("expected on or off, got {other:?}"),
                    };
                    ctx.call(
                        Method::PUT,
                        "/inbox/settings",
                        Some(json!({ "auto_assign": on })),
                    )
                    .await?
                }
            };
            ctx.print(&v, |v| {
                format!(
                    "auto-assignment {}",
                    if v["auto_assign"] == true {
                        "on"
                    } else {
                        "off"
                    }
                )
            });
            Ok(())
        }
    }
}

async fn team(ctx: &Ctx, command: TeamCommand) -> anyhow::Result<()> {
    match command {
        TeamCommand::List => {
            let v = ctx.call(Method::GET, "/team", None).await?;
            ctx.print(&v, |v| lines(v, "team", member_line));
        }
        TeamCommand::Add {
            phone,
            role,
            capacity,
            signature,
        } => {
            let body = fields(&[
                ("phone", Some(json!(phone))),
                ("role", Some(json!(role))),
                ("capacity", capacity.map(Value::from)),
                ("signature", signature.map(Value::from)),
            ]);
            let v = ctx.call(Method::POST, "/team", Some(body)).await?;
            ctx.print(&v, member_line);
        }
        TeamCommand::Set {
            member,
            role,
            capacity,
            signature,
            available,
        } => {
            let signature = signature.map(|s| if s.is_empty() { Value::Null } else { json!(s) });
            let body = fields(&[
                ("role", role.map(Value::from)),
                ("capacity", capacity.map(Value::from)),
                ("signature", signature),
                ("available", available.map(Value::from)),
            ]);
            let v = ctx
                .call(
                    Method::PATCH,
                    &format!("/team/{}", user_id(&member)),
                    Some(body),
                )
                .await?;
            ctx.print(&v, member_line);
        }
        TeamCommand::Remove { member } => {
            ctx.call(Method::DELETE, &format!("/team/{}", user_id(&member)), None)
                .await?;
            ctx.print(&json!({ "removed": member }), |_| {
                format!("removed {member}")
            });
        }
    }
    Ok(())
}

async fn labels(ctx: &Ctx, command: LabelCommand) -> anyhow::Result<()> {
    match command {
        LabelCommand::List => {
            let v = ctx.call(Method::GET, "/labels", None).await?;
            ctx.print(&v, |v| lines(v, "labels", label_line));
        }
        LabelCommand::Add { name, colour } => {
            let v = ctx
                .call(
                    Method::POST,
                    "/labels",
                    Some(json!({"name": name, "colour": colour})),
                )
                .await?;
            ctx.print(&v, label_line);
        }
        LabelCommand::Edit { id, name, colour } => {
            let body = fields(&[
                ("name", name.map(Value::from)),
                ("colour", colour.map(Value::from)),
            ]);
            let v = ctx
                .call(Method::PATCH, &format!("/labels/{id}"), Some(body))
                .await?;
            ctx.print(&v, label_line);
        }
        LabelCommand::Delete { id } => {
            ctx.call(Method::DELETE, &format!("/labels/{id}"), None)
                .await?;
            ctx.print(&json!({ "deleted": id }), |_| format!("deleted {id}"));
        }
        LabelCommand::Tag {
            customer,
            label,
            message,
        } => {
            let path = tag_path(&customer, &label, message.as_deref());
            let v = ctx.call(Method::PUT, &path, None).await?;
            ctx.print(&v, |_| format!("labelled {label}"));
        }
        LabelCommand::Untag {
            customer,
            label,
            message,
        } => {
            let path = tag_path(&customer, &label, message.as_deref());
            let v = ctx.call(Method::DELETE, &path, None).await?;
            ctx.print(&v, |_| format!("unlabelled {label}"));
        }
        LabelCommand::Messages { label } => {
            let v = ctx
                .call(Method::GET, &format!("/labels/{label}/messages"), None)
                .await?;
            ctx.print(&v, |v| lines(v, "messages", message_line));
        }
    }
    Ok(())
}

/// The path of a label on a conversation, or on one of its messages.
fn tag_path(customer: &str, label: &str, message: Option<&str>) -> String {
    let customer = user_id(customer);
    match message {
        Some(m) => format!("/conversations/{customer}/messages/{m}/labels/{label}"),
        None => format!("/conversations/{customer}/labels/{label}"),
    }
}
