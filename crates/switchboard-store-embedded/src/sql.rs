//! The relational half of the embedded store in SQLite: accounts, registrations,
//! devices, users, chats and members (and the business tables, whose queries are in
//! [`crate::business`]). Its schema, its migrations, and every query,
//! shared by the writer thread (which runs them inside its batch transaction) and the
//! read pool.
//!
//! Migrations are an append-only list; `PRAGMA user_version` records how many ran.
//! A database written by a newer build (a larger `user_version`) is refused; an older
//! one is upgraded in place at open, each migration in its own transaction.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::Path;
use switchboard_store::{
    Chat, ChatKind, Device, MemberRecord, Registration, Role, StoreError, StoreResult, User,
};
use switchboard_store::{parse_chat_kind, parse_role};

/// Every schema change ever made, in order. Only ever append.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    "CREATE TABLE registrations (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        code_hash TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE users (
        user_id TEXT PRIMARY KEY,
        display_name TEXT,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(user_id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        token_hash TEXT NOT NULL,
        revoked_at INTEGER
    ) STRICT;
    CREATE UNIQUE INDEX devices_token_hash ON devices(token_hash);
    CREATE INDEX devices_user ON devices(user_id, created_at);
    CREATE TABLE chats (
        chat_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
        name TEXT,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE members (
        chat_id TEXT NOT NULL REFERENCES chats(chat_id),
        user_id TEXT NOT NULL REFERENCES users(user_id),
        role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
        -- Join order within the chat: the oldest member has the smallest.
        pos INTEGER NOT NULL,
        PRIMARY KEY (chat_id, user_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX members_user ON members(user_id);",
    // 2: the business tables (`BusinessStore`).
    crate::business::MIGRATION,
    // 3: the business app's records (`RecordStore`).
    crate::records::MIGRATION,
];

pub fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {e}"))
}

fn pragmas(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(backend)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(backend)
}

/// Opens the write connection: WAL, `synchronous=FULL`, migrations applied.
pub fn open_writer(path: &Path) -> StoreResult<Connection> {
    let mut conn = Connection::open(path).map_err(|e| {
        StoreError::Backend(format!(
            "cannot open sqlite database {}: {e}",
            path.display()
        ))
    })?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(backend)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!(
            "sqlite database {} refused WAL mode (got {mode:?})",
            path.display()
        )));
    }
    pragmas(&conn)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Opens one connection of the read pool.
pub fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| {
        StoreError::Backend(format!(
            "cannot open sqlite database {}: {e}",
            path.display()
        ))
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(backend)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, path: &Path) -> StoreResult<()> {
    let known = MIGRATIONS.len() as i64;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    if version > known {
        return Err(StoreError::Format(format!(
            "sqlite database {} has schema version {version}, this build knows up to {known}; \
             hint: run a newer switchboard",
            path.display()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Backend(format!("sqlite migration {} failed: {e}", i + 1)))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

// --- registrations -------------------------------------------------------------------

pub fn create_registration(conn: &Connection, r: &Registration) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO registrations (id, user_id, code_hash, expires_at, attempts, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            r.id,
            r.user_id,
            r.code_hash,
            r.expires_at,
            r.attempts,
            r.created_at
        ],
    )
    .map_err(|e| conflict_or_backend(e, || format!("registration {} already exists", r.id)))?;
    Ok(())
}

pub fn registration(conn: &Connection, id: &str) -> StoreResult<Option<Registration>> {
    conn.prepare_cached(
        "SELECT id, user_id, code_hash, expires_at, attempts, created_at
         FROM registrations WHERE id = ?1",
    )
    .map_err(backend)?
    .query_row([id], |r| {
        Ok(Registration {
            id: r.get(0)?,
            user_id: r.get(1)?,
            code_hash: r.get(2)?,
            expires_at: r.get(3)?,
            attempts: r.get(4)?,
            created_at: r.get(5)?,
        })
    })
    .optional()
    .map_err(backend)
}

pub fn add_registration_attempt(conn: &Connection, id: &str) -> StoreResult<u32> {
    conn.prepare_cached(
        "UPDATE registrations SET attempts = attempts + 1 WHERE id = ?1 RETURNING attempts",
    )
    .map_err(backend)?
    .query_row([id], |r| r.get(0))
    .optional()
    .map_err(backend)?
    .ok_or_else(|| StoreError::NotFound(format!("registration {id}")))
}

pub fn delete_registration(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM registrations WHERE id = ?1", [id])
        .map_err(backend)?;
    Ok(())
}

// --- users and devices ---------------------------------------------------------------

pub fn ensure_user(conn: &Connection, user_id: &str, now: i64) -> StoreResult<User> {
    conn.prepare_cached(
        "INSERT INTO users (user_id, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )
    .map_err(backend)?
    .execute(params![user_id, now])
    .map_err(backend)?;
    user(conn, user_id)?
        .ok_or_else(|| StoreError::Backend(format!("user {user_id} vanished after insert")))
}

pub fn user(conn: &Connection, user_id: &str) -> StoreResult<Option<User>> {
    conn.prepare_cached("SELECT user_id, display_name, created_at FROM users WHERE user_id = ?1")
        .map_err(backend)?
        .query_row([user_id], |r| {
            Ok(User {
                user_id: r.get(0)?,
                display_name: r.get(1)?,
                created_at: r.get(2)?,
            })
        })
        .optional()
        .map_err(backend)
}

fn user_exists(conn: &Connection, user_id: &str) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM users WHERE user_id = ?1")
        .map_err(backend)?
        .exists([user_id])
        .map_err(backend)
}

fn require_user(conn: &Connection, user_id: &str) -> StoreResult<()> {
    if user_exists(conn, user_id)? {
        Ok(())
    } else {
        Err(StoreError::UnknownUser(user_id.to_string()))
    }
}

pub fn set_display_name(conn: &Connection, user_id: &str, name: Option<&str>) -> StoreResult<User> {
    conn.execute(
        "UPDATE users SET display_name = ?2 WHERE user_id = ?1",
        params![user_id, name],
    )
    .map_err(backend)?;
    user(conn, user_id)?.ok_or_else(|| StoreError::UnknownUser(user_id.to_string()))
}

pub fn create_device(conn: &Connection, d: &Device, token_hash: &str) -> StoreResult<()> {
    require_user(conn, &d.user_id)?;
    conn.execute(
        "INSERT INTO devices (device_id, user_id, name, created_at, token_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![d.device_id, d.user_id, d.name, d.created_at, token_hash],
    )
    .map_err(|e| conflict_or_backend(e, || format!("device {} or its token already exists", d.device_id)))?;
    Ok(())
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        device_id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        created_at: r.get(3)?,
    })
}

pub fn device_by_token(conn: &Connection, token_hash: &str) -> StoreResult<Option<Device>> {
    conn.prepare_cached(
        "SELECT device_id, user_id, name, created_at FROM devices
         WHERE token_hash = ?1 AND revoked_at IS NULL",
    )
    .map_err(backend)?
    .query_row([token_hash], device_row)
    .optional()
    .map_err(backend)
}

pub fn devices(conn: &Connection, user_id: &str) -> StoreResult<Vec<Device>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT device_id, user_id, name, created_at FROM devices
             WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY created_at, device_id",
        )
        .map_err(backend)?;
    let rows = stmt.query_map([user_id], device_row).map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

// --- chats and members ---------------------------------------------------------------

pub fn chat(conn: &Connection, chat_id: &str) -> StoreResult<Option<Chat>> {
    let head = conn
        .prepare_cached("SELECT kind, name, created_at FROM chats WHERE chat_id = ?1")
        .map_err(backend)?
        .query_row([chat_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()
        .map_err(backend)?;
    let Some((kind, name, created_at)) = head else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached("SELECT user_id, role FROM members WHERE chat_id = ?1 ORDER BY pos")
        .map_err(backend)?;
    let rows = stmt
        .query_map([chat_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(backend)?;
    let mut members = Vec::new();
    for row in rows {
        let (user_id, role) = row.map_err(backend)?;
        members.push(MemberRecord {
            user_id,
            role: parse_role(&role)?,
        });
    }
    Ok(Some(Chat {
        chat_id: chat_id.to_string(),
        kind: parse_chat_kind(&kind)?,
        name,
        created_at,
        members,
    }))
}

fn insert_member(conn: &Connection, chat_id: &str, user_id: &str, role: Role) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO members (chat_id, user_id, role, pos)
         VALUES (?1, ?2, ?3, (SELECT coalesce(max(pos), 0) + 1 FROM members WHERE chat_id = ?1))
         ON CONFLICT DO NOTHING",
    )
    .map_err(backend)?
    .execute(params![chat_id, user_id, role.as_str()])
    .map_err(backend)?;
    Ok(())
}

fn insert_chat(
    conn: &Connection,
    chat_id: &str,
    kind: ChatKind,
    name: Option<&str>,
    at: i64,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO chats (chat_id, kind, name, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )
        .map_err(backend)?
        .execute(params![chat_id, kind.as_str(), name, at])
        .map_err(backend)?;
    Ok(n == 1)
}

fn loaded(conn: &Connection, chat_id: &str) -> StoreResult<Chat> {
    chat(conn, chat_id)?.ok_or_else(|| {
        StoreError::Backend(format!("chat {chat_id} vanished inside its transaction"))
    })
}

pub fn direct_chat(conn: &Connection, a: &str, b: &str, now: i64) -> StoreResult<Chat> {
    require_user(conn, a)?;
    require_user(conn, b)?;
    let chat_id = switchboard_core::ids::direct_chat_id(a, b);
    if insert_chat(conn, &chat_id, ChatKind::Direct, None, now)? {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        insert_member(conn, &chat_id, lo, Role::Member)?;
        insert_member(conn, &chat_id, hi, Role::Member)?;
    }
    loaded(conn, &chat_id)
}

pub fn create_group(
    conn: &Connection,
    g: &switchboard_store::NewGroup,
    max_members: usize,
) -> StoreResult<Chat> {
    require_user(conn, &g.creator)?;
    let mut members: Vec<&str> = Vec::with_capacity(g.members.len());
    for m in &g.members {
        if m != &g.creator && !members.contains(&m.as_str()) {
            members.push(m);
        }
    }
    if members.len() + 1 > max_members {
        return Err(StoreError::GroupFull(g.chat_id.clone()));
    }
    for m in &members {
        require_user(conn, m)?;
    }
    if !insert_chat(
        conn,
        &g.chat_id,
        ChatKind::Group,
        Some(&g.name),
        g.created_at,
    )? {
        return Err(StoreError::Conflict(format!(
            "chat {} already exists",
            g.chat_id
        )));
    }
    insert_member(conn, &g.chat_id, &g.creator, Role::Admin)?;
    for m in members {
        insert_member(conn, &g.chat_id, m, Role::Member)?;
    }
    loaded(conn, &g.chat_id)
}

fn require_group(conn: &Connection, chat_id: &str) -> StoreResult<Chat> {
    let chat =
        chat(conn, chat_id)?.ok_or_else(|| StoreError::NotFound(format!("chat {chat_id}")))?;
    if chat.kind != ChatKind::Group {
        return Err(StoreError::Conflict(format!(
            "chat {chat_id} is a direct chat; members can change only in groups"
        )));
    }
    Ok(chat)
}

pub fn add_member(
    conn: &Connection,
    chat_id: &str,
    user_id: &str,
    role: Role,
    max_members: usize,
) -> StoreResult<Chat> {
    let chat = require_group(conn, chat_id)?;
    require_user(conn, user_id)?;
    if chat.is_member(user_id) {
        return Ok(chat);
    }
    if chat.members.len() >= max_members {
        return Err(StoreError::GroupFull(chat_id.to_string()));
    }
    insert_member(conn, chat_id, user_id, role)?;
    loaded(conn, chat_id)
}

pub fn remove_member(conn: &Connection, chat_id: &str, user_id: &str) -> StoreResult<Chat> {
    let chat = require_group(conn, chat_id)?;
    if !chat.is_member(user_id) {
        return Ok(chat);
    }
    conn.execute(
        "DELETE FROM members WHERE chat_id = ?1 AND user_id = ?2",
        params![chat_id, user_id],
    )
    .map_err(backend)?;
    conn.execute(
        "UPDATE members SET role = 'admin'
         WHERE chat_id = ?1
           AND NOT EXISTS (SELECT 1 FROM members WHERE chat_id = ?1 AND role = 'admin')
           AND pos = (SELECT min(pos) FROM members WHERE chat_id = ?1)",
        [chat_id],
    )
    .map_err(backend)?;
    loaded(conn, chat_id)
}

/// The chats a user is a member of (ids, kinds, names).
pub fn user_chat_heads(
    conn: &Connection,
    user_id: &str,
) -> StoreResult<Vec<(String, ChatKind, Option<String>)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT c.chat_id, c.kind, c.name FROM members m JOIN chats c ON c.chat_id = m.chat_id
             WHERE m.user_id = ?1 ORDER BY c.chat_id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map([user_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, kind, name) = row.map_err(backend)?;
        out.push((id, parse_chat_kind(&kind)?, name));
    }
    Ok(out)
}

pub(crate) fn conflict_or_backend(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Conflict(what()),
        _ => backend(e),
    }
}
