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
use switchboard_client::{Client, Error as SdkError, ServerFrame, SessionConfig, Target};

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
    /// Send a text message (or, with --file, a photo, video, voice note or document)
    /// to a person or a chat.
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
        /// The text; several words are joined with spaces.
        #[arg(required_unless_present = "file", num_args = 0..)]
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
                            who(&cfg, &m.from),
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
            text,
        } => {
            let client = authed(&cfg)?;
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
            let client_id = match media {
                Some(media) => {
                    let mut body = serde_json::json!({ "media_id": media.media_id });
                    if !text.is_empty() {
                        body["caption"] = serde_json::Value::String(text.clone());
                    }
                    let body = serde_json::value::to_raw_value(&body)?;
                    session.send(target, body, None).await.map_err(sdk)?
                }
                None => session.send_text(target, &text).await.map_err(sdk)?,
            };
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
                        who(&cfg, &m.from),
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
    }
    Ok(())
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
            who(cfg, &m.from),
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

fn default_config_path() -> anyhow::Result<PathBuf> {
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

/// A readable rendering of a message body (text, media, ciphertext).
fn body_text(m: &Message) -> String {
    let v: serde_json::Value = serde_json::from_str(m.body.get()).unwrap_or_default();
    let text = if let Some(t) = v.get("text").and_then(|t| t.as_str()) {
        t.to_string()
    } else if let Some(id) = v.get("media_id").and_then(|t| t.as_str()) {
        match v.get("caption").and_then(|c| c.as_str()) {
            Some(c) => format!("[media {id}] {c}"),
            None => format!("[media {id}]"),
        }
    } else if v.get("ciphertext").is_some() {
        "[encrypted]".to_string()
    } else {
        m.body.get().to_string()
    };
    let badge = match &m.from_business {
        Some(b) if b.verified => format!("({} ✓) ", b.name),
        Some(b) => format!("({}) ", b.name),
        None => String::new(),
    };
    format!("{badge}{text}")
}

/// `HH:MM:SS` (UTC) of a Unix-millisecond time.
fn fmt_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix-millisecond time.
fn fmt_date(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
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
