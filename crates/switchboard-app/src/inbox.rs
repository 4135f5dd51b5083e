//! The shared team inbox: one conversation per customer, its status
//! (open → pending → resolved, or snoozed until a time), who on the team works it,
//! and fair auto-assignment. Everything here is a pure decision over plain data;
//! the server's worker and API load the records, call these functions and store the
//! result.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Record kind of a conversation; key: the customer's user id.
pub const KIND: &str = "conversation";
/// Record kind of a note; key: `{customer}/{ts:013}-{random}`.
pub const NOTE_KIND: &str = "note";
/// Record kind of a mention (a copy of the note per mentioned member); key:
/// `{user_id}/{ts:013}-{random}`.
pub const MENTION_KIND: &str = "mention";
/// Record kind of the snooze index; key: `{until:013}/{customer}`.
pub const SNOOZE_KIND: &str = "snooze";
/// Record kind of the round-robin pointer; key: [`POINTER_KEY`].
pub const STATE_KIND: &str = "inbox_state";
pub const POINTER_KEY: &str = "round_robin";
/// Key (of [`STATE_KIND`]) of the time the worker next sweeps the queue.
pub const SWEEP_KEY: &str = "sweep";
/// How often the worker hands out queued conversations even without an event.
pub const SWEEP_MS: i64 = 60_000;
/// The settings key (`kinds::SETTINGS`) of [`Settings`].
pub const SETTINGS_KEY: &str = "inbox";

/// How long "replying" lasts after `POST …/typing`.
pub const REPLYING_MS: i64 = 10_000;
/// How long after a send another agent is told someone just replied.
pub const RECENT_REPLY_MS: i64 = 30_000;
/// Characters of the last message kept as the conversation's preview.
pub const PREVIEW_CHARS: usize = 80;
/// Characters of a note.
pub const MAX_NOTE: usize = 4096;
/// The furthest a snooze may reach: a year.
pub const MAX_SNOOZE_MS: i64 = 366 * 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Pending,
    Resolved,
    Snoozed,
}

impl Status {
    pub fn parse(s: &str) -> AppResult<Status> {
        match s {
            "open" => Ok(Status::Open),
            "pending" => Ok(Status::Pending),
            "resolved" => Ok(Status::Resolved),
            "snoozed" => Ok(Status::Snoozed),
            _ => Err(AppError::invalid(
                "invalid_status",
                format!("unknown status {s:?}; use open, pending, resolved or snoozed"),
            )),
        }
    }

    /// Counts against the assignee's capacity.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Pending)
    }
}

/// The inbox settings of a business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub auto_assign: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { auto_assign: true }
    }
}

/// The latest send by a team member, for "someone else is replying".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastReply {
    pub by: String,
    pub ts: i64,
}

/// One customer's conversation with the business; stored under [`KIND`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub customer: String,
    pub status: Status,
    #[serde(default)]
    pub snoozed_until: Option<i64>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// Label ids (deleted labels are filtered out on read).
    #[serde(default)]
    pub labels: Vec<String>,
    /// When the current open period began (created or reopened).
    pub opened_at: i64,
    /// Since when the customer awaits a human answer.
    #[serde(default)]
    pub waiting_since: Option<i64>,
    #[serde(default)]
    pub last_inbound_at: Option<i64>,
    #[serde(default)]
    pub last_outbound_at: Option<i64>,
    /// The newest activity (sorts the list).
    pub last_activity: i64,
    #[serde(default)]
    pub preview: String,
    /// Customer messages the team has not answered yet.
    #[serde(default)]
    pub unread: u32,
    /// The chat seq last applied by the worker (replays are skipped).
    #[serde(default)]
    pub last_seq: u64,
    /// Members replying now: user id → until (ms).
    #[serde(default)]
    pub replying: BTreeMap<String, i64>,
    #[serde(default)]
    pub last_reply: Option<LastReply>,
}

/// A short one-line preview of a message.
pub fn preview(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(PREVIEW_CHARS)
        .collect();
    line.trim().to_owned()
}

impl Conversation {
    pub fn new(customer: &str, now: i64) -> Conversation {
        Conversation {
            customer: customer.to_owned(),
            status: Status::Open,
            snoozed_until: None,
            assignee: None,
            labels: Vec::new(),
            opened_at: now,
            waiting_since: None,
            last_inbound_at: None,
            last_outbound_at: None,
            last_activity: now,
            preview: String::new(),
            unread: 0,
            last_seq: 0,
            replying: BTreeMap::new(),
            last_reply: None,
        }
    }

    /// A customer message (`seq` of the chat at `ts`): creates or reopens the
    /// conversation and makes the customer wait. `None` when `seq` was applied.
    pub fn inbound(
        cur: Option<Conversation>,
        customer: &str,
        seq: u64,
        ts: i64,
        text: &str,
    ) -> Option<Conversation> {
        let mut c = cur.unwrap_or_else(|| Conversation::new(customer, ts));
        if c.last_seq >= seq && c.last_seq != 0 {
            return None;
        }
        if matches!(c.status, Status::Resolved) {
            c.opened_at = ts;
        }
        if matches!(c.status, Status::Resolved | Status::Snoozed) {
            c.status = Status::Open;
            c.snoozed_until = None;
        }
        c.waiting_since.get_or_insert(ts);
        c.last_inbound_at = Some(ts);
        c.last_activity = c.last_activity.max(ts);
        c.preview = preview(text);
        c.unread = c.unread.saturating_add(1);
        c.last_seq = seq;
        Some(c)
    }

    /// A business message. With `human`, the customer's wait ends: answers the
    /// first-response time of this wait (counted once). `None` when `seq` was applied.
    pub fn outbound(&mut self, seq: u64, ts: i64, text: &str, human: bool) -> Option<Option<i64>> {
        if self.last_seq >= seq {
            return None;
        }
        self.last_seq = seq;
        self.last_outbound_at = Some(ts);
        self.last_activity = self.last_activity.max(ts);
        self.preview = preview(text);
        if !human {
            return Some(None);
        }
        self.unread = 0;
        Some(self.waiting_since.take().map(|w| (ts - w).max(0)))
    }

    /// Members other than `me` replying now or who sent within the last 30 s.
    pub fn others_replying(&self, me: &str, now: i64) -> Vec<String> {
        let mut out: Vec<String> = self
            .replying
            .iter()
            .filter(|(who, until)| who.as_str() != me && **until > now)
            .map(|(who, _)| who.clone())
            .collect();
        if let Some(r) = &self.last_reply
            && r.by != me
            && now - r.ts < RECENT_REPLY_MS
            && !out.contains(&r.by)
        {
            out.push(r.by.clone());
        }
        out
    }

    /// Marks `who` as replying for [`REPLYING_MS`], dropping expired marks.
    pub fn mark_replying(&mut self, who: &str, now: i64) {
        self.replying.retain(|_, until| *until > now);
        self.replying.insert(who.to_owned(), now + REPLYING_MS);
    }

    /// A member sent a message now: the team has read the conversation.
    pub fn sent_by(&mut self, who: &str, now: i64) {
        self.replying.remove(who);
        self.replying.retain(|_, until| *until > now);
        self.last_reply = Some(LastReply {
            by: who.to_owned(),
            ts: now,
        });
        self.unread = 0;
    }
}

/// A change of status requested through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub status: Option<Status>,
    pub snoozed_until: Option<i64>,
}

/// What a status change did, for the caller's side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changed {
    /// The conversation was resolved now: its resolution time.
    pub resolved_after: Option<i64>,
}

/// Applies a status change at `now`. A snooze needs a time in the future (at most a
/// year ahead); `snoozed_until` alone means "snooze". Reopening a resolved
/// conversation starts a new open period.
pub fn change_status(c: &mut Conversation, ch: StatusChange, now: i64) -> AppResult<Changed> {
    let status = match (ch.status, ch.snoozed_until) {
        (None, None) => return Ok(Changed::default()),
        (None, Some(_)) => Status::Snoozed,
        (Some(s), _) => s,
    };
    let mut out = Changed::default();
    match status {
        Status::Snoozed => {
            let until = ch.snoozed_until.ok_or_else(|| {
                AppError::invalid(
                    "invalid_snooze",
                    "snoozing needs snoozed_until (ms since the epoch)",
                )
            })?;
            if until <= now || until - now > MAX_SNOOZE_MS {
                return Err(AppError::invalid(
                    "invalid_snooze",
                    format!("snoozed_until must be in the future and within a year (got {until})"),
                ));
            }
            c.snoozed_until = Some(until);
        }
        _ if ch.snoozed_until.is_some() => {
            return Err(AppError::invalid(
                "invalid_snooze",
                "snoozed_until goes only with status snoozed",
            ));
        }
        Status::Resolved => {
            c.snoozed_until = None;
            if c.status != Status::Resolved {
                out.resolved_after = Some((now - c.opened_at).max(0));
            }
            c.waiting_since = None;
        }
        Status::Open | Status::Pending => {
            c.snoozed_until = None;
            if c.status == Status::Resolved {
                c.opened_at = now;
            }
        }
    }
    c.status = status;
    c.last_activity = c.last_activity.max(now);
    Ok(out)
}

/// A snoozed conversation whose time has come opens again.
pub fn wake(c: &mut Conversation, now: i64) -> bool {
    match (c.status, c.snoozed_until) {
        (Status::Snoozed, Some(until)) if until <= now => {
            c.status = Status::Open;
            c.snoozed_until = None;
            c.last_activity = c.last_activity.max(now);
            true
        }
        _ => false,
    }
}

/// Whether `actor` (an agent unless `admin`) may set the assignee from `current` to
/// `next`: agents take a conversation or let go of their own; admins assign anyone.
pub fn check_assign(
    actor: &str,
    admin: bool,
    current: Option<&str>,
    next: Option<&str>,
) -> AppResult<()> {
    if admin {
        return Ok(());
    }
    let ok = match next {
        Some(n) => n == actor,
        None => current.is_none_or(|c| c == actor),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "an agent assigns conversations only to themself; assigning others needs the admin role".into(),
        ))
    }
}

/// A member as auto-assignment sees them, in the team's rotation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: String,
    pub available: bool,
    pub capacity: u32,
    /// Open or pending conversations assigned to them now.
    pub load: u32,
}

/// A conversation waiting for an agent: customer and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub customer: String,
    pub since: i64,
}

/// The next agent after `pointer` (the last one given a conversation) in rotation
/// order who is available and below capacity; `None` when everyone is full.
pub fn pick(candidates: &[Candidate], pointer: Option<&str>) -> Option<usize> {
    let n = candidates.len();
    if n == 0 {
        return None;
    }
    let start = pointer
        .and_then(|p| candidates.iter().position(|c| c.user_id == p))
        .map_or(0, |i| i + 1);
    (0..n).map(|k| (start + k) % n).find(|&i| {
        candidates
            .get(i)
            .is_some_and(|c| c.available && c.load < c.capacity)
    })
}

/// Assigns waiting conversations, oldest first, round-robin from `pointer`, until
/// everyone is full. Answers the assignments (customer, agent) and the new pointer.
pub fn assign(
    mut candidates: Vec<Candidate>,
    mut waiting: Vec<Waiting>,
    mut pointer: Option<String>,
) -> (Vec<(String, String)>, Option<String>) {
    waiting.sort_by(|a, b| (a.since, &a.customer).cmp(&(b.since, &b.customer)));
    let mut out = Vec::new();
    for w in waiting {
        let Some(i) = pick(&candidates, pointer.as_deref()) else {
            break;
        };
        let Some(c) = candidates.get_mut(i) else {
            break;
        };
        c.load += 1;
        pointer = Some(c.user_id.clone());
        out.push((w.customer, c.user_id.clone()));
    }
    (out, pointer)
}

/// The team members a note mentions: `@` and the digits of their phone (the user
/// id). Unknown mentions stay plain text. Each member once, in order.
pub fn mentions(text: &str, members: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        let after = after.strip_prefix('+').unwrap_or(after);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && members.contains(&digits) && !out.contains(&digits) {
            out.push(digits.clone());
        }
        rest = &after[digits.len()..];
    }
    out
}

/// Whom a conversation list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Anyone,
    Nobody,
    User(String),
}

impl AssigneeFilter {
    /// `none`, `me` (= `me_id`) or a user id.
    pub fn parse(s: Option<&str>, me_id: &str) -> AppResult<AssigneeFilter> {
        match s {
            None | Some("") => Ok(AssigneeFilter::Anyone),
            Some("none") => Ok(AssigneeFilter::Nobody),
            Some("me") => Ok(AssigneeFilter::User(me_id.to_owned())),
            Some(id) if (8..=15).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(AssigneeFilter::User(id.to_owned()))
            }
            Some(other) => Err(AppError::invalid(
                "invalid_assignee",
                format!("assignee must be a user id, me or none (got {other:?})"),
            )),
        }
    }

    pub fn matches(&self, assignee: Option<&str>) -> bool {
        match self {
            AssigneeFilter::Anyone => true,
            AssigneeFilter::Nobody => assignee.is_none(),
            AssigneeFilter::User(u) => assignee == Some(u.as_str()),
        }
    }
}

/// The position of a conversation in the list (newest activity first), also its
/// page cursor: `{activity}.{customer}`.
pub fn cursor(c: &Conversation) -> String {
    format!("{}.{}", c.last_activity, c.customer)
}

/// Whether `c` comes after the cursor `after` in list order.
pub fn after_cursor(c: &Conversation, after: &str) -> AppResult<bool> {
    let bad = || {
        AppError::invalid(
            "invalid_cursor",
            format!("bad cursor {after:?}; pass a next value"),
        )
    };
    let (ts, customer) = after.split_once('.').ok_or_else(bad)?;
    let ts: i64 = ts.parse().map_err(|_| bad())?;
    Ok((std::cmp::Reverse(c.last_activity), c.customer.as_str())
        > (std::cmp::Reverse(ts), customer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, available: bool, capacity: u32, load: u32) -> Candidate {
        Candidate {
            user_id: id.into(),
            available,
            capacity,
            load,
        }
    }

    fn wait(c: &str, since: i64) -> Waiting {
        Waiting {
            customer: c.into(),
            since,
        }
    }

    #[test]
    fn round_robin_is_fair() {
        let team = vec![
            cand("a", true, 5, 0),
            cand("b", true, 5, 0),
            cand("c", true, 5, 0),
        ];
        let (got, ptr) = assign(
            team.clone(),
            vec![wait("1", 1), wait("2", 2), wait("3", 3), wait("4", 4)],
            None,
        );
        let who: Vec<&str> = got.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(who, ["a", "b", "c", "a"]);
        assert_eq!(ptr.as_deref(), Some("a"));
        // The pointer carries over between calls.
        let (got, _) = assign(team, vec![wait("5", 5)], ptr);
        assert_eq!(got, [("5".to_owned(), "b".to_owned())]);
    }

    #[test]
    fn capacity_queue_order_and_availability() {
        let team = vec![
            cand("a", true, 1, 0),
            cand("away", false, 9, 0),
            cand("b", true, 1, 1),
            cand("c", true, 2, 1),
        ];
        // Oldest first; a and c have room, b is full, away gets nothing.
        let (got, ptr) = assign(
            team,
            vec![wait("new", 30), wait("old", 10), wait("mid", 20)],
            None,
        );
        assert_eq!(
            got,
            [
                ("old".to_owned(), "a".to_owned()),
                ("mid".to_owned(), "c".to_owned())
            ]
        );
        assert_eq!(ptr.as_deref(), Some("c"));
        assert_eq!(pick(&[cand("a", true, 0, 0)], None), None);
        assert_eq!(pick(&[], None), None);
        // An unknown pointer (a removed member) starts from the top.
        assert_eq!(pick(&[cand("a", true, 1, 0)], Some("gone")), Some(0));
    }

    #[test]
    fn inbound_opens_and_outbound_answers_once() {
        let c = Conversation::inbound(None, "49", 1, 100, "Hallo").expect("new");
        assert_eq!(
            (c.status, c.waiting_since, c.unread),
            (Status::Open, Some(100), 1)
        );
        assert!(
            Conversation::inbound(Some(c.clone()), "49", 1, 100, "Hallo").is_none(),
            "replay"
        );
        let mut c = Conversation::inbound(Some(c), "49", 2, 150, "noch da?").expect("second");
        assert_eq!((c.waiting_since, c.unread), (Some(100), 2));
        assert_eq!(c.outbound(3, 160, "auto", false), Some(None));
        assert_eq!(c.waiting_since, Some(100), "automation does not answer");
        assert_eq!(c.outbound(4, 400, "Hi!", true), Some(Some(300)));
        assert_eq!(c.outbound(5, 500, "more", true), Some(None), "counted once");
        assert_eq!(c.outbound(5, 500, "more", true), None, "replay");
        // Resolved, then the customer writes: a new open period.
        change_status(
            &mut c,
            StatusChange {
                status: Some(Status::Resolved),
                snoozed_until: None,
            },
            1000,
        )
        .expect("resolve");
        let c = Conversation::inbound(Some(c), "49", 6, 2000, "again").expect("reopen");
        assert_eq!(
            (c.status, c.opened_at, c.waiting_since),
            (Status::Open, 2000, Some(2000))
        );
    }

    #[test]
    fn status_changes() {
        let mut c = Conversation::new("49", 100);
        let snooze = |until| StatusChange {
            status: None,
            snoozed_until: Some(until),
        };
        assert_eq!(
            change_status(&mut c, snooze(50), 100).map_err(|e| e.code()),
            Err("invalid_snooze")
        );
        change_status(&mut c, snooze(5000), 100).expect("snooze");
        assert_eq!(c.status, Status::Snoozed);
        assert!(!wake(&mut c, 4999));
        assert!(wake(&mut c, 5000));
        assert_eq!((c.status, c.snoozed_until), (Status::Open, None));
        let resolve = StatusChange {
            status: Some(Status::Resolved),
            snoozed_until: None,
        };
        assert_eq!(
            change_status(&mut c, resolve, 700)
                .expect("resolve")
                .resolved_after,
            Some(600)
        );
        assert_eq!(
            change_status(&mut c, resolve, 800)
                .expect("again")
                .resolved_after,
            None
        );
        let bad = StatusChange {
            status: Some(Status::Open),
            snoozed_until: Some(9000),
        };
        assert!(change_status(&mut c, bad, 900).is_err());
        assert!(Status::parse("closed").is_err());
    }

    #[test]
    fn assigning_rules() {
        assert!(check_assign("me", false, None, Some("me")).is_ok());
        assert!(check_assign("me", false, Some("me"), None).is_ok());
        assert!(check_assign("me", false, Some("you"), None).is_err());
        assert!(check_assign("me", false, None, Some("you")).is_err());
        assert!(check_assign("boss", true, Some("you"), Some("me")).is_ok());
    }

    #[test]
    fn replying_and_mentions() {
        let mut c = Conversation::new("49", 0);
        c.mark_replying("anna", 1000);
        assert_eq!(c.others_replying("ben", 5000), ["anna"]);
        assert!(c.others_replying("anna", 5000).is_empty());
        assert!(c.others_replying("ben", 11_001).is_empty());
        c.sent_by("anna", 20_000);
        assert_eq!(c.others_replying("ben", 49_999), ["anna"]);
        assert!(c.others_replying("ben", 50_000).is_empty());

        let team = vec!["4915100000001".to_owned(), "4915100000002".to_owned()];
        assert_eq!(
            mentions(
                "@4915100000002 and @+4915100000001, @4915100000002 again, @123 @ x@",
                &team
            ),
            ["4915100000002", "4915100000001"]
        );
        assert!(mentions("no mentions", &team).is_empty());
    }

    #[test]
    fn filters_and_cursors() {
        assert_eq!(
            AssigneeFilter::parse(Some("me"), "49151").expect("me"),
            AssigneeFilter::User("49151".into())
        );
        assert!(AssigneeFilter::parse(Some("bob"), "1").is_err());
        assert!(AssigneeFilter::Nobody.matches(None));
        let mut a = Conversation::new("1", 0);
        a.last_activity = 200;
        let mut b = Conversation::new("2", 0);
        b.last_activity = 100;
        assert!(after_cursor(&b, &cursor(&a)).expect("ok"));
        assert!(!after_cursor(&a, &cursor(&a)).expect("ok"));
        assert!(after_cursor(&a, "junk").is_err());
        assert_eq!(preview("line\nbreak"), "line break");
    }
}
