//! `switchboard chat`: a terminal client of protocol v1, built on `switchboard-client`.
//!
//! It keeps one device's state in a small TOML file (`$SWITCHBOARD_CLI_CONFIG`, else
//! `~/.config/switchboard/cli.toml`, mode 0600 because it holds the device token): the
//! server URL, the token, the user id, a pending registration between `register` and
//! `verify`, and the stream cursor `listen` resumes from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use switchboard_client::proto::frames::{Message, ReceiptStatus};
use switchboard_client::proto::http::ChatKind;
use switchboard_client::{
    BusinessProfile, Client, Error as SdkError, ServerFrame, SessionConfig, Target,
};
use switchboard_core::body::{Body, ButtonReply, ListReply, Location, Reaction};
use switchboard_core::ids;
use switchboard_core::limits::MAX_FILENAME_CHARS;
use switchboard_core::phone::user_id_from_phone_or_id;

/// Chat from the terminal.
#[derive(clap::Args)]
pub struct ChatArgs {
    /// Print JSON instead of text (one object per line for `listen`).
    #[arg(long, global = true)]
    json: bool,
    /// The config file (holds the device token).
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_CLI_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: ChatCommand,
}

#[derive(clap::Subcommand)]
enum ChatCommand {
    /// Ask the server for a verification code for a phone number.
    Register {
        /// The server, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        server: String,
        /// Your phone number in E.164, e.g. +4915112345678.
        #[arg(long)]
        phone: String,
    },
    /// Finish a registration with the code and store the device token.
    Verify {
        /// The code from the SMS (or the dev_code a dev-mode server printed).
        #[arg(long)]
        code: String,
        /// A name for this device, shown in `whoami`.
        #[arg(long, default_value = "switchboard-cli")]
        device_name: String,
    },
    /// Register and verify in one go (servers in dev mode only, which return the code).
    Login {
        #[arg(long)]
        server: String,
        #[arg(long)]
        phone: String,
        #[arg(long, default_value = "switchboard-cli")]
        device_name: String,
    },
    /// Show who this device is logged in as.
    Whoami,
    /// Set your display name.
    SetName { name: String },
    /// List your chats.
    Chats,
    /// Send a text message (or, with --file, a photo, video, voice note or document;
    /// or a location, a reaction, or the answer to a business's buttons or list) to a
    /// person or a chat.
    #[command(group(
        clap::ArgGroup::new("kind")
            .args(["file", "location", "react", "button_reply", "list_reply"])
            .multiple(false)
    ))]
    Send {
        /// A person's phone number (the direct chat is made on first use).
        #[arg(long, conflicts_with = "chat", required_unless_present = "chat")]
        to: Option<String>,
        /// A chat id (see `chats`).
        #[arg(long)]
        chat: Option<String>,
        /// Upload this file and send it; the text, if any, is its caption.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// With --file: send as a document (original bytes, metadata kept).
        #[arg(long, requires = "file")]
        document: bool,
        /// Send a location, e.g. --location 52.52,13.405; the text, if any, names the place.
        #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true, value_parser = parse_lat_lon)]
        location: Option<(f64, f64)>,
        /// React to a message (its id, or its number in the chat as shown by `history`)
        /// with an emoji; "" removes your reaction.
        #[arg(long, num_args = 2, value_names = ["MESSAGE", "EMOJI"], allow_hyphen_values = true, conflicts_with = "text")]
        react: Option<Vec<String>>,
        /// Answer a business's template or interactive message by tapping one of its
        /// buttons (with --reply-to naming that message).
        #[arg(long, num_args = 2, value_names = ["ID", "TITLE"], requires = "reply_to", conflicts_with = "text")]
        button_reply: Option<Vec<String>>,
        /// Answer a business's list message by choosing a row (with --reply-to).
        #[arg(long, num_args = 2, value_names = ["ID", "TITLE"], requires = "reply_to", conflicts_with = "text")]
        list_reply: Option<Vec<String>>,
        /// Reply to (quote) a message: its id, or its number in the chat as shown by
        /// `history`.
        #[arg(long, value_name = "MESSAGE")]
        reply_to: Option<String>,
        /// The text; several words are joined with spaces.
        #[arg(
            required_unless_present_any = ["file", "location", "react", "button_reply", "list_reply"],
            num_args = 0..
        )]
        text: Vec<String>,
    },
    /// Download a media file (its id is in the message, `[media ID]`).
    Download {
        media_id: String,
        /// Where to write it [default: ./MEDIA_ID.EXT].
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The thumbnail instead of the file.
        #[arg(long)]
        thumbnail: bool,
    },
    /// Show a chat's recent messages, oldest first.
    History {
        chat: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only messages before this seq (to page back).
        #[arg(long)]
        before: Option<u64>,
    },
    /// Print messages, receipts and typing live; resumes where the last `listen` stopped.
    Listen {
        /// Do not send `delivered` receipts for what arrives.
        #[arg(long)]
        no_receipts: bool,
    },
    /// Manage groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// See a business's profile; block it, stop its marketing, or report it.
    #[command(subcommand)]
    Business(BusinessCommand),
}

#[derive(clap::Subcommand)]
enum BusinessCommand {
    /// Show a business's profile, its verified badge, and your choices about it.
    Show { phone: String },
    /// Block a business: it can no longer message you.
    Block { phone: String },
    /// Unblock a business.
    Unblock { phone: String },
    /// Stop a business's marketing messages (order updates and login codes still arrive).
    StopMarketing { phone: String },
    /// Allow a business's marketing messages again.
    AllowMarketing { phone: String },
    /// Report a business to the platform (lowers its quality rating).
    Report {
        phone: String,
        /// What it did (at most 500 characters).
        #[arg(long)]
        reason: Option<String>,
        /// Block it too.
        #[arg(long)]
        block: bool,
    },
}

#[derive(clap::Subcommand)]
enum GroupCommand {
    /// Create a group; you become its admin.
    Create {
        name: String,
        /// A member's phone number (repeat for more).
        #[arg(long = "member", value_name = "PHONE")]
        members: Vec<String>,
    },
    /// Add a person to a group (admins only).
    Add { chat: String, phone: String },
    /// Remove a member from a group (admins only).
    Remove { chat: String, user_id: String },
}

/// What the CLI remembers between runs.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Config {
    server: Option<String>,
    token: Option<String>,
    user_id: Option<String>,
    device_id: Option<String>,
    phone: Option<String>,
    /// The highest contiguous inbox_seq `listen` has shown.
    #[serde(default)]
    cursor: u64,
    /// Between `register` and `verify`.
    pending: Option<Pending>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    server: String,
    phone: String,
    registration_id: String,
}

/// Runs one `switchboard chat` subcommand.
pub async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let path = match args.config.clone() {
        Some(p) => p,
        None => default_config_path()?,
    };
    let mut cfg = load(&path)?;
    let out = Out { json: args.json };
    match args.command {
        ChatCommand::Register { server, phone } => {
            let client = Client::new(&server).map_err(sdk)?;
            let reg = client
                .register(&phone)
                .await
                .map_err(|e| hint(e, &server))?;
            cfg.pending = Some(Pending {
                server: server.clone(),
                phone: phone.clone(),
                registration_id: reg.registration_id.clone(),
            });
            save(&path, &cfg)?;
            if out.json {
                out.value(&reg)?;
            } else {
                match &reg.dev_code {
                    Some(code) => println!(
                        "dev mode: the code for {phone} is {code}\nnext: switchboard chat verify --code {code}"
                    ),
                    None => println!(
                        "a code was sent to {phone} (valid {} s)\nnext: switchboard chat verify --code <code>",
                        reg.expires_in
                    ),
                }
            }
        }
        ChatCommand::Verify { code, device_name } => {
            let Some(pending) = cfg.pending.take() else {
                bail!(
                    "no registration is pending\nhint: run `switchboard chat register --server URL --phone +49…` first"
                );
            };
            verify(&mut cfg, &pending, &code, &device_name).await?;
            save(&path, &cfg)?;
            out.logged_in(&cfg)?;
        }
        ChatCommand::Login {
            server,
            phone,
            device_name,
        } => {
            let client = Client::new(&server).map_err(sdk)?;
            let reg = client
                .register(&phone)
                .await
                .map_err(|e| hint(e, &server))?;
            let Some(code) = reg.dev_code.clone() else {
                cfg.pending = Some(Pending {
                    server,
                    phone: phone.clone(),
                    registration_id: reg.registration_id,
                });
                save(&path, &cfg)?;
                bail!(
                    "the server is not in dev mode: a code was sent to {phone}\nhint: finish with `switchboard chat verify --code <code>`"
                );
            };
            let pending = Pending {
                server,
                phone,
                registration_id: reg.registration_id,
            };
            verify(&mut cfg, &pending, &code, &device_name).await?;
            save(&path, &cfg)?;
            out.logged_in(&cfg)?;
        }
        ChatCommand::Whoami => {
            let client = authed(&cfg)?;
            let me = client.me().await.map_err(|e| hint(e, client.base_url()))?;
            if out.json {
                out.value(&me)?;
            } else {
                let name = me.display_name.as_deref().unwrap_or("(no name)");
                println!("{name}  {}  user {}", me.phone, me.user_id);
                println!("server {}", client.base_url());
                for d in &me.devices {
                    let this = if cfg.device_id.as_deref() == Some(d.device_id.as_str()) {
                        "  (this device)"
                    } else {
                        ""
                    };
                    println!(
                        "  device {}  {}  since {}{this}",
                        d.device_id,
                        d.name,
                        fmt_date(d.created_at)
                    );
                }
            }
        }
        ChatCommand::SetName { name } => {
            let client = authed(&cfg)?;
            let me = client
                .update_profile(Some(&name))
                .await
                .map_err(|e| hint(e, client.base_url()))?;
            if out.json {
                out.value(&me)?;
            } else {
                println!("you are now {name:?}");
            }
        }
        ChatCommand::Chats => {
            let client = authed(&cfg)?;
            let list = client
                .chats()
                .await
                .map_err(|e| hint(e, client.base_url()))?;
            if out.json {
                out.value(&list)?;
            } else if list.chats.is_empty() {
                println!("no chats yet\nhint: switchboard chat send --to +49… hello");
            } else {
                for c in &list.chats {
                    let kind = match c.kind {
                        ChatKind::Direct => "direct",
                        ChatKind::Group => "group ",
                    };
                    let name = c.name.as_deref().unwrap_or("");
                    let unread = if c.unread > 0 {
                        format!("  [{} unread]", c.unread)
                    } else {
                        String::new()
                    };
                    println!("{}  {kind}  {name}{unread}", c.chat_id);
                    if let Some(m) = &c.last_message {
                        println!(
                            "    {}  {}: {}",
                            fmt_date(m.ts),
                            sender(&cfg, m),
                            body_text(m)
                        );
                    }
                }
            }
        }
        ChatCommand::Send {
            to,
            chat,
            file,
            document,
            location,
            react,
            button_reply,
            list_reply,
            reply_to,
            text,
        } => {
            let client = authed(&cfg)?;
            let resolve = |m: String| message_ref(&cfg, chat.as_deref(), to.as_deref(), m);
            let reply_to = reply_to.map(resolve).transpose()?;
            let react = react.map(|mut r| -> anyhow::Result<Vec<String>> {
                if let Some(first) = r.first_mut() {
                    *first = resolve(std::mem::take(first))?;
                }
                Ok(r)
            });
            let react = react.transpose()?;
            let target = match (to, chat) {
                (_, Some(chat)) => Target::Chat(chat),
                (Some(to), None) => Target::Phone(to),
                (None, None) => bail!("say where to send\nhint: --to +49… or --chat ID"),
            };
            let text = text.join(" ");
            let media = match &file {
                Some(path) => {
                    let data = tokio::fs::read(path)
                        .await
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let info = client
                        .upload_media(data, document)
                        .await
                        .map_err(|e| hint(e, client.base_url()))?;
                    if !out.json {
                        println!(
                            "uploaded {} ({}, {} bytes) as {}",
                            path.display(),
                            info.mime_type,
                            info.size,
                            info.media_id
                        );
                    }
                    Some(info)
                }
                None => None,
            };
            let nonempty = |t: &str| (!t.is_empty()).then(|| t.to_string());
            // clap gives exactly two values for these options.
            let pair = |v: Vec<String>| {
                let mut v = v.into_iter();
                (v.next().unwrap_or_default(), v.next().unwrap_or_default())
            };
            let body = if let Some(media) = media {
                // A document keeps its name for the receiver to save it under.
                let filename = file
                    .as_deref()
                    .filter(|_| document)
                    .and_then(Path::file_name)
                    .and_then(|n| n.to_str())
                    .filter(|n| n.chars().count() <= MAX_FILENAME_CHARS)
                    .map(str::to_string);
                Body::Media {
                    media_id: media.media_id,
                    caption: nonempty(&text),
                    filename,
                    voice: false,
                }
            } else if let Some((latitude, longitude)) = location {
                Body::Location {
                    location: Location {
                        latitude,
                        longitude,
                        name: nonempty(&text),
                        address: None,
                    },
                }
            } else if let Some(r) = react {
                let (message_id, emoji) = pair(r);
                Body::Reaction {
                    reaction: Reaction { message_id, emoji },
                }
            } else if let Some(b) = button_reply {
                let (id, title) = pair(b);
                Body::ButtonReply {
                    button_reply: ButtonReply { id, title },
                }
            } else if let Some(l) = list_reply {
                let (id, title) = pair(l);
                Body::ListReply {
                    list_reply: ListReply {
                        id,
                        title,
                        description: None,
                    },
                }
            } else {
                Body::Text { text }
            };
            // The server's own rules, checked here first for a clearer error.
            let body = Body::parse(&body.to_json())
                .map_err(|e| anyhow::anyhow!("cannot send that: {e}"))?;
            let body = serde_json::value::RawValue::from_string(body.to_json())?;
            // A one-shot sender does not sync: the stream stays for `listen` to show.
            let config = SessionConfig {
                reconnect: true,
                max_reconnect_attempts: Some(3),
                sync_on_connect: false,
                ..SessionConfig::default()
            };
            let mut session = client
                .connect_with(0, config)
                .await
                .map_err(|e| hint(e, client.base_url()))?;
            let client_id = session.send(target, body, reply_to).await.map_err(sdk)?;
            let answer = tokio::time::timeout(Duration::from_secs(15), async {
                loop {
                    match session.next().await? {
                        ServerFrame::Ack {
                            client_id: c,
                            chat_id,
                            seq,
                            id,
                            ..
                        } if c == client_id => return Ok(Ok((chat_id, seq, id))),
                        ServerFrame::Error {
                            client_id: Some(c),
                            code,
                            message,
                        } if c == client_id => return Ok(Err((code, message))),
                        _ => {}
                    }
                }
            })
            .await;
            session.close().await;
            match answer {
                Err(_) => bail!(
                    "no ack within 15 s; the message may or may not be stored\nhint: check with `switchboard chat history`"
                ),
                Ok(Err(e)) => return Err(hint(e, client.base_url())),
                Ok(Ok(Err((code, message)))) => {
                    bail!("the server refused the message: {message} ({code})")
                }
                Ok(Ok(Ok((chat_id, seq, id)))) => {
                    if out.json {
                        out.value(&serde_json::json!({"chat_id": chat_id, "seq": seq, "id": id, "client_id": client_id}))?;
                    } else {
                        println!("sent to chat {chat_id} as #{seq}");
                    }
                }
            }
        }
        ChatCommand::Download {
            media_id,
            out: path,
            thumbnail,
        } => {
            let client = authed(&cfg)?;
            let mut dl = client
                .download_media(&media_id, thumbnail, None)
                .await
                .map_err(|e| hint(e, client.base_url()))?;
            let path = path.unwrap_or_else(|| {
                let ext = match dl.content_type().unwrap_or("") {
                    t if t.starts_with("image/jpeg") => "jpg",
                    t if t.starts_with("image/png") => "png",
                    t if t.starts_with("image/webp") => "webp",
                    t if t.starts_with("image/gif") => "gif",
                    t if t.starts_with("image/heic") => "heic",
                    t if t.starts_with("video/mp4") => "mp4",
                    t if t.starts_with("video/webm") => "webm",
                    t if t.starts_with("video/quicktime") => "mov",
                    t if t.starts_with("video/3gpp") => "3gp",
                    t if t.starts_with("audio/mpeg") => "mp3",
                    t if t.starts_with("audio/ogg") => "ogg",
                    t if t.starts_with("audio/mp4") => "m4a",
                    t if t.starts_with("audio/aac") => "aac",
                    t if t.starts_with("audio/amr") => "amr",
                    t if t.starts_with("application/pdf") => "pdf",
                    t if t.starts_with("application/zip") => "zip",
                    t if t.starts_with("text/plain") => "txt",
                    _ => "bin",
                };
                let suffix = if thumbnail { "-thumb" } else { "" };
                PathBuf::from(format!("{media_id}{suffix}.{ext}"))
            });
            // Written to a temporary name and renamed, so a failed download leaves no
            // file that looks complete.
            let tmp = path.with_extension("part");
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            let mut written = 0u64;
            let result: anyhow::Result<()> = async {
                while let Some(chunk) = dl.chunk().await.map_err(sdk)? {
                    tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await?;
                    written += chunk.len() as u64;
                }
                tokio::io::AsyncWriteExt::flush(&mut file).await?;
                file.sync_all().await?;
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e.context("download failed"));
            }
            tokio::fs::rename(&tmp, &path)
                .await
                .with_context(|| format!("cannot write {}", path.display()))?;
            if out.json {
                out.value(&serde_json::json!({"path": path, "size": written}))?;
            } else {
                println!("saved {} ({written} bytes)", path.display());
            }
        }
        ChatCommand::History {
            chat,
            limit,
            before,
        } => {
            let client = authed(&cfg)?;
            let list = client
                .messages(&chat, before, Some(limit))
                .await
                .map_err(|e| hint(e, client.base_url()))?;
            if out.json {
                out.value(&list)?;
            } else if list.messages.is_empty() {
                println!("no messages");
            } else {
                for m in list.messages.iter().rev() {
                    println!(
                        "#{:<5} {}  {}: {}",
                        m.seq,
                        fmt_date(m.ts),
                        sender(&cfg, m),
                        body_text(m)
                    );
                }
            }
        }
        ChatCommand::Listen { no_receipts } => listen(&path, &mut cfg, out, !no_receipts).await?,
        ChatCommand::Group(cmd) => {
            let client = authed(&cfg)?;
            let base = client.base_url().to_string();
            match cmd {
                GroupCommand::Create { name, members } => {
                    let info = client
                        .create_group(&name, &members)
                        .await
                        .map_err(|e| hint(e, &base))?;
                    if out.json {
                        out.value(&info)?;
                    } else {
                        println!("created group {:?}: {}", name, info.chat_id);
                        for m in &info.members {
                            println!("  {}  {:?}", who(&cfg, &m.user_id), m.role);
                        }
                    }
                }
                GroupCommand::Add { chat, phone } => {
                    client
                        .add_member(&chat, &phone)
                        .await
                        .map_err(|e| hint(e, &base))?;
                    out.done(&format!("added {phone} to {chat}"))?;
                }
                GroupCommand::Remove { chat, user_id } => {
                    client
                        .remove_member(&chat, &user_id)
                        .await
                        .map_err(|e| hint(e, &base))?;
                    out.done(&format!("removed {user_id} from {chat}"))?;
                }
            }
        }
        ChatCommand::Business(cmd) => business(&cfg, out, cmd).await?,
    }
    Ok(())
}

/// `business …`: a business's profile and this user's choices about it.
async fn business(cfg: &Config, out: Out, cmd: BusinessCommand) -> anyhow::Result<()> {
    let client = authed(cfg)?;
    let phone = match &cmd {
        BusinessCommand::Show { phone }
        | BusinessCommand::Block { phone }
        | BusinessCommand::Unblock { phone }
        | BusinessCommand::StopMarketing { phone }
        | BusinessCommand::AllowMarketing { phone }
        | BusinessCommand::Report { phone, .. } => phone,
    };
    let id = user_id_from_phone_or_id(phone)?;
    let fail = |e: SdkError| match e {
        SdkError::Api { status: 404, .. } => anyhow::anyhow!(
            "{e}\nhint: +{id} is not a business on this server (or not registered at all)"
        ),
        e => hint(e, client.base_url()),
    };
    match cmd {
        BusinessCommand::Show { .. } => {
            let p = client.business(&id).await.map_err(fail)?;
            if out.json {
                out.value(&p)?;
            } else {
                print!("{}", business_text(&p));
            }
        }
        BusinessCommand::Block { .. } => {
            let r = client.block_business(&id).await.map_err(fail)?;
            if out.json {
                out.value(&r)?;
            } else {
                println!("blocked +{id}: it can no longer message you");
            }
        }
        BusinessCommand::Unblock { .. } => {
            let r = client.unblock_business(&id).await.map_err(fail)?;
            if out.json {
                out.value(&r)?;
            } else {
                println!("unblocked +{id}");
            }
        }
        BusinessCommand::StopMarketing { .. } => {
            let r = client
                .set_marketing_opt_out(&id, true)
                .await
                .map_err(fail)?;
            if out.json {
                out.value(&r)?;
            } else {
                println!(
                    "+{id} can no longer send you marketing messages (order updates and login codes still arrive)"
                );
            }
        }
        BusinessCommand::AllowMarketing { .. } => {
            let r = client
                .set_marketing_opt_out(&id, false)
                .await
                .map_err(fail)?;
            if out.json {
                out.value(&r)?;
            } else {
                println!("+{id} may send you marketing messages again");
            }
        }
        BusinessCommand::Report { reason, block, .. } => {
            let r = client
                .report_business(&id, reason.as_deref(), block)
                .await
                .map_err(fail)?;
            if out.json {
                out.value(&r)?;
            } else if r.blocked {
                println!("reported +{id}; it is blocked");
            } else {
                println!("reported +{id}");
            }
        }
    }
    Ok(())
}

/// A business profile as a few aligned lines.
fn business_text(p: &BusinessProfile) -> String {
    let badge = if p.verified { "  ✓ verified" } else { "" };
    let mut text = format!("{}{badge}  +{}\n", p.name, p.user_id);
    let websites = p.websites.join(" ");
    for (label, value) in [
        ("category", p.category.as_str()),
        ("about", p.description.as_str()),
        ("address", p.address.as_str()),
        ("hours", p.hours.as_str()),
        ("email", p.email.as_str()),
        ("websites", websites.as_str()),
        ("catalog", p.catalog_url.as_deref().unwrap_or("")),
    ] {
        if !value.is_empty() {
            text.push_str(&format!("  {label:<9} {value}\n"));
        }
    }
    let blocked = if p.blocked { "blocked" } else { "not blocked" };
    let marketing = if p.marketing_opt_out {
        "marketing stopped"
    } else {
        "marketing allowed"
    };
    text.push_str(&format!("  {:<9} {blocked}, {marketing}\n", "you"));
    text
}

/// A message named on the command line: a message id as it is, or a bare number (the
/// `#seq` that `history` shows) in the chat the send goes to.
fn message_ref(
    cfg: &Config,
    chat: Option<&str>,
    to: Option<&str>,
    m: String,
) -> anyhow::Result<String> {
    let Ok(seq) = m.trim_start_matches('#').parse::<u64>() else {
        return Ok(m);
    };
    let chat_id = match (chat, to, cfg.user_id.as_deref()) {
        (Some(chat), _, _) => chat.to_string(),
        (None, Some(to), Some(me)) => ids::direct_chat_id(me, &user_id_from_phone_or_id(to)?),
        _ => bail!("cannot tell which chat message #{seq} is in\nhint: pass --chat ID"),
    };
    Ok(ids::message_id(&chat_id, seq))
}

/// `--location 52.52,13.405`.
fn parse_lat_lon(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("{s:?} is not LAT,LON, e.g. 52.52,13.405");
    let (lat, lon) = s.split_once(',').ok_or_else(bad)?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let lon: f64 = lon.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(format!(
            "{s:?} is off the map: latitude -90 to 90, longitude -180 to 180"
        ));
    }
    Ok((lat, lon))
}

async fn verify(
    cfg: &mut Config,
    pending: &Pending,
    code: &str,
    device_name: &str,
) -> anyhow::Result<()> {
    let client = Client::new(&pending.server).map_err(sdk)?;
    let v = client
        .verify(&pending.registration_id, code, Some(device_name))
        .await
        .map_err(|e| hint(e, &pending.server))?;
    *cfg = Config {
        server: Some(pending.server.clone()),
        token: Some(v.token),
        user_id: Some(v.user_id),
        device_id: Some(v.device_id),
        phone: Some(pending.phone.clone()),
        // A new device starts its stream from the beginning.
        cursor: 0,
        pending: None,
    };
    Ok(())
}

/// `listen`: print the stream live, acknowledge deliveries, persist the cursor.
async fn listen(path: &Path, cfg: &mut Config, out: Out, receipts: bool) -> anyhow::Result<()> {
    let client = authed(cfg)?;
    let mut session = client
        .connect(cfg.cursor)
        .await
        .map_err(|e| hint(e, client.base_url()))?;
    if !out.json {
        eprintln!(
            "connected to {}; resuming after #{} (ctrl-c to stop)",
            client.base_url(),
            cfg.cursor
        );
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut save_tick = tokio::time::interval(Duration::from_secs(1));
    let mut saved = cfg.cursor;
    let result = loop {
        tokio::select! {
            _ = &mut ctrl_c => break Ok(()),
            _ = save_tick.tick() => {
                if session.cursor() != saved {
                    cfg.cursor = session.cursor();
                    save(path, cfg)?;
                    saved = cfg.cursor;
                }
            }
            frame = session.next() => {
                let frame = match frame {
                    Ok(f) => f,
                    Err(e) => break Err(hint(e, client.base_url())),
                };
                if out.json {
                    out.value(&frame)?;
                } else {
                    print_frame(cfg, &frame);
                }
                if receipts
                    && let ServerFrame::Message(m) = &frame
                    && Some(m.from.as_str()) != cfg.user_id.as_deref()
                {
                    session.receipt(&m.chat_id, m.seq, ReceiptStatus::Delivered).await.map_err(sdk)?;
                }
            }
        }
    };
    cfg.cursor = session.cursor();
    save(path, cfg)?;
    session.close().await;
    result
}

fn print_frame(cfg: &Config, frame: &ServerFrame) {
    match frame {
        ServerFrame::Message(m) => println!(
            "{}  {}  {}: {}",
            fmt_time(m.ts),
            short(&m.chat_id),
            sender(cfg, m),
            body_text(m)
        ),
        ServerFrame::Receipt(r) => println!(
            "{}  {}  {} {} up to #{}",
            fmt_time(r.ts),
            short(&r.chat_id),
            who(cfg, &r.user_id),
            r.status.as_str(),
            r.up_to_seq
        ),
        ServerFrame::Typing { chat_id, user_id } => {
            println!(
                "          {}  {} is typing…",
                short(chat_id),
                who(cfg, user_id)
            )
        }
        ServerFrame::Synced { inbox_seq } => {
            eprintln!("— caught up at #{inbox_seq}; live from here —")
        }
        ServerFrame::Error { code, message, .. } => eprintln!("server error: {message} ({code})"),
        ServerFrame::Ack { .. } | ServerFrame::Pong { .. } => {}
    }
}

/// Text output or JSON output, chosen once by `--json`.
#[derive(Clone, Copy)]
struct Out {
    json: bool,
}

impl Out {
    fn value<T: Serialize>(&self, v: &T) -> anyhow::Result<()> {
        println!("{}", serde_json::to_string(v)?);
        Ok(())
    }

    fn done(&self, text: &str) -> anyhow::Result<()> {
        if self.json {
            self.value(&serde_json::json!({"ok": true}))
        } else {
            println!("{text}");
            Ok(())
        }
    }

    fn logged_in(&self, cfg: &Config) -> anyhow::Result<()> {
        if self.json {
            self.value(&serde_json::json!({
                "user_id": cfg.user_id, "device_id": cfg.device_id, "server": cfg.server,
            }))
        } else {
            println!(
                "logged in as {} (user {}) on {}",
                cfg.phone.as_deref().unwrap_or("?"),
                cfg.user_id.as_deref().unwrap_or("?"),
                cfg.server.as_deref().unwrap_or("?")
            );
            Ok(())
        }
    }
}

/// The logged-in client of the config file at `path` (for `switchboard biz`).
pub(crate) fn authed_client(path: &Path) -> anyhow::Result<Client> {
    authed(&load(path)?)
}

fn authed(cfg: &Config) -> anyhow::Result<Client> {
    let (Some(server), Some(token)) = (&cfg.server, &cfg.token) else {
        bail!(
            "not logged in\nhint: `switchboard chat login --server http://127.0.0.1:8080 --phone +49…` (dev mode), or register + verify"
        );
    };
    Ok(Client::new(server).map_err(sdk)?.with_token(token.clone()))
}

/// An SDK error as an anyhow error, without a hint.
fn sdk(e: SdkError) -> anyhow::Error {
    anyhow::Error::new(e)
}

/// An SDK error with a hint for the usual causes.
fn hint(e: SdkError, server: &str) -> anyhow::Error {
    let tip = match &e {
        SdkError::Api { status: 401, .. } => {
            Some("the token was refused; log in again with `switchboard chat login`".to_string())
        }
        SdkError::Api { status: 404, .. } => {
            Some("no such chat, or you are not a member (see `switchboard chat chats`)".to_string())
        }
        SdkError::Api { status: 403, .. } => Some("only group admins may do that".to_string()),
        SdkError::Api { status: 429, .. } => {
            Some("rate limited; wait a while and retry".to_string())
        }
        SdkError::Api { code, .. } if code == "invalid_code" => {
            Some("check the code, or register again".to_string())
        }
        SdkError::Http(_) | SdkError::Io(_) | SdkError::WebSocket(_) => {
            Some(format!("is the server running at {server}?"))
        }
        _ => None,
    };
    match tip {
        Some(t) => anyhow::anyhow!("{e}\nhint: {t}"),
        None => anyhow::Error::new(e),
    }
}

pub(crate) fn default_config_path() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).context(
        "cannot find the config file: $HOME is not set\nhint: set SWITCHBOARD_CLI_CONFIG or pass --config FILE",
    )?;
    Ok(PathBuf::from(home).join(".config/switchboard/cli.toml"))
}

fn load(path: &Path) -> anyhow::Result<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| {
            format!(
                "cannot read the config file {}\nhint: fix or delete it",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read the config file {}", path.display())),
    }
}

/// Writes the config atomically (temp file + rename), readable by its owner only.
fn save(path: &Path, cfg: &Config) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the config folder {}", dir.display()))?;
    }
    let text = toml::to_string(cfg)?;
    let tmp = path.with_extension("toml.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().with_context(|| format!("cannot write the config file {}", path.display()))
}

/// "you" for our own user id, else the id (a phone's digits).
fn who(cfg: &Config, user_id: &str) -> String {
    if cfg.user_id.as_deref() == Some(user_id) {
        "you".to_string()
    } else {
        format!("+{user_id}")
    }
}

fn short(chat_id: &str) -> String {
    let s: String = chat_id.chars().take(10).collect();
    format!("[{s}]")
}

/// Who sent a message: "you", a person's number, or a business's name with its badge.
fn sender(cfg: &Config, m: &Message) -> String {
    match &m.from_business {
        Some(b) if b.verified => format!("{} ✓ verified (+{})", b.name, m.from),
        Some(b) => format!("{} (business, +{})", b.name, m.from),
        None => who(cfg, &m.from),
    }
}

/// A readable rendering of a message body: text as it is, every other kind on one
/// line (media shows its id, for `download`).
fn body_text(m: &Message) -> String {
    let text = match Body::from_stored(m.body.get()) {
        Ok(Body::Text { text }) => text,
        Ok(Body::Media {
            media_id,
            caption,
            filename,
            voice,
        }) => {
            let kind = if voice { "voice message" } else { "media" };
            let mut t = format!("[{kind} {media_id}]");
            for part in [filename, caption].into_iter().flatten() {
                t.push(' ');
                t.push_str(&part);
            }
            t
        }
        Ok(Body::Ciphertext { .. }) => "[encrypted]".to_string(),
        Ok(body) => body.preview(),
        // A kind this client does not know yet.
        Err(_) => m.body.get().to_string(),
    };
    // A reply shows which message it answers: `#seq` within the same chat.
    match m.reply_to.as_deref().map(|r| (r, ids::parse_message_id(r))) {
        Some((_, Some((chat, seq)))) if chat == m.chat_id => format!("↩#{seq} {text}"),
        Some((r, _)) => format!("↩ {r} {text}"),
        None => text,
    }
}

/// `HH:MM:SS` (UTC) of a Unix-millisecond time.
fn fmt_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix-millisecond time.
fn fmt_date(ms: i64) -> String {
    let (y, m, d) = switchboard_core::civil::civil_from_days(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02} {}", &fmt_time(ms)[..5])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_consistent() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            chat: ChatArgs,
        }
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["chat", "send", "--to", "+4915112345678", "hello", "there"])
            .expect("parses");
        assert!(matches!(cli.chat.command, ChatCommand::Send { .. }));
        assert!(
            Cli::try_parse_from(["chat", "send", "hello"]).is_err(),
            "needs --to or --chat"
        );
    }

    #[test]
    fn send_and_business_arguments() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            chat: ChatArgs,
        }
        let parse = |args: &[&str]| {
            let mut all = vec!["chat"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).map(|c| c.chat.command)
        };
        let to = ["send", "--to", "+4915112345678"];
        let with = |extra: &[&str]| parse(&[&to[..], extra].concat());
        for ok in [
            &["--location", "-33.86,151.21", "Opera", "House"][..],
            &["--react", "7", "👍"],
            &["--react", "7", ""],
            &["--button-reply", "keep-1", "Yes", "--reply-to", "7"],
            &["--list-reply", "t-2100", "21:00", "--reply-to", "8"],
            &["--reply-to", "7", "see", "above"],
        ] {
            assert!(with(ok).is_ok(), "{ok:?}: {:?}", with(ok).err());
        }
        for bad in [
            &["--location", "52.5"][..],
            &["--location", "91,0"],
            &["--react", "7"],
            &["--react", "7", "👍", "and", "text"],
            &["--button-reply", "keep-1", "Yes"],
            &["--location", "1,2", "--react", "7", "👍"],
            &["--file", "x.jpg", "--location", "1,2"],
        ] {
            assert!(with(bad).is_err(), "{bad:?} should be refused");
        }
        match with(&["--location", "52.52, 13.405"]) {
            Ok(ChatCommand::Send { location, .. }) => assert_eq!(location, Some((52.52, 13.405))),
            _ => panic!("a location send"),
        }
        for args in [
            &["business", "show", "+4930901820"][..],
            &["business", "block", "+4930901820"],
            &["business", "unblock", "+4930901820"],
            &["business", "stop-marketing", "+4930901820"],
            &["business", "allow-marketing", "+4930901820"],
            &["business", "report", "+4930901820"],
            &[
                "business",
                "report",
                "+4930901820",
                "--reason",
                "spam",
                "--block",
            ],
        ] {
            assert!(
                matches!(parse(args), Ok(ChatCommand::Business(_))),
                "{args:?}"
            );
        }
        assert!(parse(&["business", "show"]).is_err(), "needs a phone");
    }

    #[test]
    fn message_refs() {
        let cfg = Config {
            user_id: Some("4915112345678".into()),
            ..Config::default()
        };
        let r = |chat, to, m: &str| {
            message_ref(&cfg, chat, to, m.to_string()).map_err(|e| e.to_string())
        };
        assert_eq!(r(Some("g00ff"), None, "#7"), Ok("g00ff.7".into()));
        assert_eq!(r(Some("g00ff"), None, "7"), Ok("g00ff.7".into()));
        assert_eq!(
            r(None, Some("+4930901820"), "3"),
            Ok("d4915112345678-4930901820.3".into())
        );
        assert_eq!(r(None, None, "g1.2"), Ok("g1.2".into()));
        assert!(r(None, None, "3").is_err_and(|e| e.contains("--chat")));
    }

    fn message(body: &str, from_business: Option<(&str, bool)>, reply_to: Option<&str>) -> Message {
        Message {
            inbox_seq: Some(1),
            id: "dA-B.9".into(),
            chat_id: "dA-B".into(),
            seq: 9,
            from: "4930901820".into(),
            ts: 0,
            body: serde_json::value::RawValue::from_string(body.into()).expect("json"),
            reply_to: reply_to.map(str::to_string),
            client_id: None,
            from_business: from_business.map(|(name, verified)| {
                switchboard_client::proto::frames::FromBusiness {
                    name: name.into(),
                    verified,
                }
            }),
        }
    }

    #[test]
    fn rendering() {
        let cfg = Config::default();
        for (body, reply_to, expect) in [
            (r#"{"text":"hi"}"#, None, "hi"),
            (r#"{"text":"yes"}"#, Some("dA-B.4"), "↩#4 yes"),
            (r#"{"text":"yes"}"#, Some("g1.4"), "↩ g1.4 yes"),
            (
                r#"{"media_id":"ab12","caption":"cake"}"#,
                None,
                "[media ab12] cake",
            ),
            (
                r#"{"media_id":"ab12","filename":"menu.pdf","caption":"autumn"}"#,
                None,
                "[media ab12] menu.pdf autumn",
            ),
            (
                r#"{"media_id":"ab12","voice":true}"#,
                None,
                "[voice message ab12]",
            ),
            (
                r#"{"ciphertext":"AA","algorithm":"x"}"#,
                None,
                "[encrypted]",
            ),
            (
                r#"{"location":{"latitude":52.5,"longitude":13.4,"name":"Roma"}}"#,
                None,
                "[location] Roma (52.50000, 13.40000)",
            ),
            (
                r#"{"contacts":[{"name":{"formatted_name":"Roma Delivery"}}]}"#,
                None,
                "[contact] Roma Delivery",
            ),
            (
                r#"{"reaction":{"message_id":"dA-B.4","emoji":"❤️"}}"#,
                None,
                "[reacted ❤️ to dA-B.4]",
            ),
            (
                r#"{"button_reply":{"id":"k","title":"Yes, keep it"}}"#,
                Some("dA-B.7"),
                "↩#7 [tapped] Yes, keep it",
            ),
            (
                r#"{"template":{"name":"order_shipped","language":"en_US","category":"utility","body":"Your order\nshipped.","buttons":[{"type":"quick_reply","text":"Stop","payload":"STOP"}]}}"#,
                None,
                "[template order_shipped] Your order shipped. — [Stop]",
            ),
            (
                r#"{"interactive":{"type":"button","body":"Keep it?","buttons":[{"id":"y","title":"Yes"},{"id":"n","title":"No"}]}}"#,
                None,
                "[buttons] Keep it? — [Yes] [No]",
            ),
            (
                r#"{"interactive":{"type":"cta_url","body":"Menu","cta":{"display_text":"Open","url":"https://x.example"}}}"#,
                None,
                "[link] Menu — [Open ↗ https://x.example]",
            ),
            (r#"{"poll":{"q":"?"}}"#, None, r#"{"poll":{"q":"?"}}"#),
        ] {
            assert_eq!(body_text(&message(body, None, reply_to)), expect, "{body}");
        }
        let m = |b| message(r#"{"text":"hi"}"#, b, None);
        assert_eq!(sender(&cfg, &m(None)), "+4930901820");
        assert_eq!(
            sender(&cfg, &m(Some(("Trattoria Roma", true)))),
            "Trattoria Roma ✓ verified (+4930901820)"
        );
        assert_eq!(
            sender(&cfg, &m(Some(("Roma", false)))),
            "Roma (business, +4930901820)"
        );
    }

    #[test]
    fn business_profile_text() {
        let p: BusinessProfile = serde_json::from_str(
            r#"{"user_id":"4930901820","name":"Trattoria Roma","verified":true,"category":"RESTAURANT","description":"","address":"Oranienstraße 12","hours":"Tue–Sun","email":"","websites":["https://a.example","https://b.example"],"blocked":true,"marketing_opt_out":false}"#,
        )
        .expect("profile");
        assert_eq!(
            business_text(&p),
            "Trattoria Roma  ✓ verified  +4930901820\n  \
             category  RESTAURANT\n  \
             address   Oranienstraße 12\n  \
             hours     Tue–Sun\n  \
             websites  https://a.example https://b.example\n  \
             you       blocked, marketing allowed\n"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(fmt_date(0), "1970-01-01 00:00");
        assert_eq!(fmt_date(1_764_000_000_000), "2025-11-24 16:00");
        assert_eq!(fmt_time(1_764_000_000_000 + 61_000), "16:01:01");
    }

    #[test]
    fn config_round_trips_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sb-cli-{}", std::process::id()));
        let path = dir.join("cli.toml");
        let cfg = Config {
            server: Some("http://127.0.0.1:1".into()),
            token: Some("t".into()),
            cursor: 7,
            ..Config::default()
        };
        save(&path, &cfg).expect("save");
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let back = load(&path).expect("load");
        assert_eq!((back.cursor, back.token.as_deref()), (7, Some("t")));
        let _ = std::fs::remove_dir_all(dir);
    }
}
