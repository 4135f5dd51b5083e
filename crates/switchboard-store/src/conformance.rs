//! The conformance suite every [`Store`] backend runs, so the embedded and the
//! PostgreSQL deployments cannot behave differently.
//!
//! A backend's test file calls [`store_conformance_tests!`](crate::store_conformance_tests)
//! with a factory; each case becomes one `#[test]` that builds its own tokio runtime and
//! gets a fresh store:
//!
//! ```text
//! async fn fresh(sink: Arc<dyn CommitSink>) -> TestStore {
//!     let dir = tempfile::tempdir().expect("a temporary directory");
//!     let store = MyStore::open(dir.path(), sink).expect("the store opens");
//!     TestStore::new(Arc::new(store)).with_guard(dir)
//! }
//! switchboard_store::store_conformance_tests!(fresh);
//! ```
//!
//! The cases never sleep to synchronise: they wait on the [`RecordingSink`] and on the
//! store's answers. To check that something was *not* delivered, a case sends a later
//! marker and checks the user's stream once the marker arrived (deliveries are ordered
//! per user).

use crate::{
    Appended, Chat, ChatKind, CommitSink, Delivery, Device, InboxEntry, InboxItem, NewGroup,
    NewMessage, NewReceipt, ReceiptStatus, Registration, Role, Store, StoreError, StoredMessage,
};
use std::any::Any;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a case waits for deliveries before it fails (a failsafe, not a clock).
const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// A [`CommitSink`] that keeps every delivery, in the order the store committed them.
#[derive(Default)]
pub struct RecordingSink {
    /// Everything seen so far, in commit order.
    seen: Mutex<Vec<Delivery>>,
    /// Wakes `wait_for` callers after each `committed` call.
    changed: tokio::sync::Notify,
}

impl RecordingSink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A copy of every delivery so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().clone()
    }

    /// How many deliveries were seen so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The deliveries addressed to one user, in order.
    pub fn for_user(&self, user_id: &str) -> Vec<Delivery> {
        self.lock()
            .iter()
            .filter(|d| d.user_id == user_id)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` deliveries were seen and returns all of them. Panics
    /// after a generous limit, naming what it waited for.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                {
                    let seen = self.lock();
                    if seen.len() >= n {
                        return seen.clone();
                    }
                }
                changed.await;
            }
        };
        match tokio::time::timeout(WAIT_LIMIT, wait).await {
            Ok(seen) => seen,
            Err(_) => panic!(
                "the sink saw {} deliveries, expected at least {n} within {WAIT_LIMIT:?}",
                self.len()
            ),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Delivery>> {
        // A panicking test thread poisons the lock; the data is still fine to read.
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CommitSink for RecordingSink {
    fn committed(&self, deliveries: Vec<Delivery>) {
        self.lock().extend(deliveries);
        self.changed.notify_waiters();
    }
}

/// A store under test and whatever must live as long as it (a temporary directory, a
/// database schema to drop).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    guard: Option<Box<dyn Any + Send>>,
}

impl TestStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store, guard: None }
    }

    /// Keeps `guard` alive until the case has finished and the store is closed.
    pub fn with_guard(mut self, guard: impl Any + Send) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }
}

/// What a case gets: a fresh store and the sink it reports to.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub sink: Arc<RecordingSink>,
}

/// The runtime one case runs in: multi-threaded when `threads` > 1. Shared by this
/// suite and the business suite.
pub(crate) fn test_runtime(threads: usize) -> tokio::runtime::Runtime {
    if threads > 1 {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("a test runtime starts")
}

/// Runs one case on a fresh store in its own runtime (`threads` > 1: multi-threaded),
/// then closes the store. Used by [`store_conformance_tests!`](crate::store_conformance_tests).
pub fn run<F, FFut, C, CFut>(factory: F, case: C, threads: usize)
where
    F: FnOnce(Arc<dyn CommitSink>) -> FFut,
    FFut: Future<Output = TestStore>,
    C: FnOnce(Ctx) -> CFut,
    CFut: Future<Output = ()>,
{
    let runtime = test_runtime(threads);
    runtime.block_on(async move {
        let sink = RecordingSink::new();
        let test_store = factory(sink.clone()).await;
        let ctx = Ctx {
            store: test_store.store.clone(),
            sink,
        };
        case(ctx).await;
        test_store
            .store
            .close()
            .await
            .expect("close succeeds after a case");
        drop(test_store);
    });
}

/// Expands into one `#[test]` per conformance case. `$factory` is a path to an
/// `async fn(Arc<dyn CommitSink>) -> TestStore` that opens a fresh, empty store.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:path) => {
        $crate::__conformance_cases!($factory;
            registration_lifecycle: 1,
            users_are_idempotent: 1,
            devices_and_tokens: 1,
            revoked_devices: 1,
            direct_chats: 1,
            create_group: 2,
            group_membership: 2,
            append_assigns_gapless_seqs: 1,
            append_is_idempotent: 2,
            append_rejects_bad_input: 1,
            append_fans_out_to_every_member: 1,
            removed_member_gets_no_later_messages: 1,
            concurrent_appends: 4,
            receipts_move_watermarks: 1,
            receipts_fan_out: 1,
            history_pages_newest_first: 1,
            inbox_pages_oldest_first: 1,
            user_chats_overview: 1,
            rate_hit_fixed_window: 4,
            close_refuses_later_calls: 1,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($factory:path; $($name:ident : $threads:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::run($factory, $crate::conformance::cases::$name, $threads);
            }
        )*
    };
}

/// The same rule as `switchboard_core::ids::direct_chat_id`, repeated so this crate
/// does not depend on the domain crate.
pub fn direct_chat_id(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("d{lo}-{hi}")
}

/// The same rule as `switchboard_core::ids::message_id`.
pub fn message_id(chat_id: &str, seq: u64) -> String {
    format!("{chat_id}.{seq}")
}

/// The cases, each an `async fn(Ctx)`.
pub mod cases {
    use super::*;

    const MAX_GROUP_MEMBERS: usize = 1024;

    // --- helpers ------------------------------------------------------------------

    async fn users(store: &dyn Store, ids: &[&str]) {
        for id in ids {
            store.ensure_user(id, 100).await.expect("ensure_user");
        }
    }

    fn msg(chat: &str, sender: &str, device: &str, client_id: &str, body: &str) -> NewMessage {
        NewMessage {
            chat_id: chat.to_string(),
            sender: sender.to_string(),
            sender_device: device.to_string(),
            client_id: client_id.to_string(),
            body: body.to_string(),
            reply_to: None,
            ts: 1_000,
        }
    }

    fn text(i: impl std::fmt::Display) -> String {
        format!(r#"{{"type":"text","text":"m{i}"}}"#)
    }

    fn receipt(
        chat: &str,
        user: &str,
        device: &str,
        up_to: u64,
        status: ReceiptStatus,
    ) -> NewReceipt {
        NewReceipt {
            chat_id: chat.to_string(),
            user_id: user.to_string(),
            device_id: device.to_string(),
            up_to_seq: up_to,
            status,
            ts: 2_000,
        }
    }

    async fn group(store: &dyn Store, id: &str, creator: &str, members: &[&str]) -> Chat {
        store
            .create_group(&NewGroup {
                chat_id: id.to_string(),
                name: format!("group {id}"),
                creator: creator.to_string(),
                members: members.iter().map(|m| m.to_string()).collect(),
                created_at: 100,
            })
            .await
            .expect("create_group")
    }

    /// The whole stream of a user, read in pages.
    async fn whole_inbox(store: &dyn Store, user: &str) -> Vec<InboxItem> {
        let mut all = Vec::new();
        loop {
            let after = all.last().map_or(0, |i: &InboxItem| i.inbox_seq);
            let page = store.inbox(user, after, 100).await.expect("inbox");
            if page.is_empty() {
                return all;
            }
            all.extend(page);
        }
    }

    fn messages_of(items: &[InboxItem]) -> Vec<(String, u64)> {
        items
            .iter()
            .filter_map(|i| match &i.entry {
                InboxEntry::Message(m) => Some((m.chat_id.clone(), m.seq)),
                InboxEntry::Receipt(_) => None,
            })
            .collect()
    }

    /// (receipt user, up_to, status) of every receipt in a stream.
    fn receipts_of(items: &[InboxItem]) -> Vec<(String, u64, ReceiptStatus)> {
        items
            .iter()
            .filter_map(|i| match &i.entry {
                InboxEntry::Receipt(r) => Some((r.user_id.clone(), r.up_to_seq, r.status)),
                InboxEntry::Message(_) => None,
            })
            .collect()
    }

    fn roles(chat: &Chat) -> Vec<(&str, Role)> {
        chat.members
            .iter()
            .map(|m| (m.user_id.as_str(), m.role))
            .collect()
    }

    /// Fails unless `result` is the error `expected` names (compared by code and text).
    #[track_caller]
    fn assert_err<T: std::fmt::Debug>(result: Result<T, StoreError>, expected: StoreError) {
        match result {
            Err(e) => assert_eq!(
                (e.code(), e.to_string()),
                (expected.code(), expected.to_string()),
                "wrong error"
            ),
            Ok(v) => panic!("expected the error {expected:?}, got {v:?}"),
        }
    }

    // --- accounts -----------------------------------------------------------------

    pub async fn registration_lifecycle(ctx: Ctx) {
        let store = &*ctx.store;
        let reg = Registration {
            id: "r1".into(),
            user_id: "4915100000001".into(),
            code_hash: "ab".repeat(32),
            expires_at: 400,
            attempts: 0,
            created_at: 100,
        };
        store.create_registration(&reg).await.expect("create");
        assert_eq!(
            store.registration("r1").await.expect("get"),
            Some(reg.clone())
        );
        assert_eq!(store.registration("r2").await.expect("get"), None);
        for expected in 1..=3 {
            assert_eq!(
                store.add_registration_attempt("r1").await.expect("attempt"),
                expected
            );
        }
        let stored = store
            .registration("r1")
            .await
            .expect("get")
            .expect("still there");
        assert_eq!(stored.attempts, 3);
        assert_err(
            store.add_registration_attempt("r2").await,
            StoreError::NotFound("registration r2".into()),
        );
        store.delete_registration("r1").await.expect("delete");
        assert_eq!(store.registration("r1").await.expect("get"), None);
        store
            .delete_registration("r1")
            .await
            .expect("delete is idempotent");
    }

    pub async fn users_are_idempotent(ctx: Ctx) {
        let store = &*ctx.store;
        assert_eq!(store.user("491").await.expect("user"), None);
        let first = store.ensure_user("491", 100).await.expect("ensure");
        assert_eq!(
            (
                first.user_id.as_str(),
                first.display_name.clone(),
                first.created_at
            ),
            ("491", None, 100)
        );
        let again = store.ensure_user("491", 999).await.expect("ensure again");
        assert_eq!(again, first, "ensure_user keeps the first record");
        let named = store
            .set_display_name("491", Some("Ada"))
            .await
            .expect("name");
        assert_eq!(named.display_name.as_deref(), Some("Ada"));
        assert_eq!(store.user("491").await.expect("user"), Some(named));
        assert_eq!(
            store
                .ensure_user("491", 5)
                .await
                .expect("ensure")
                .display_name
                .as_deref(),
            Some("Ada")
        );
        let cleared = store.set_display_name("491", None).await.expect("clear");
        assert_eq!(cleared.display_name, None);
        assert_err(
            store.set_display_name("492", Some("x")).await,
            StoreError::UnknownUser("492".into()),
        );
    }

    pub async fn revoked_devices(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["491", "492"]).await;
        for (id, user, hash) in [
            ("d1", "491", "h1"),
            ("d2", "491", "h2"),
            ("d3", "492", "h3"),
        ] {
            store
                .create_device(
                    &Device {
                        device_id: id.into(),
                        user_id: user.into(),
                        name: id.into(),
                        created_at: 1,
                    },
                    hash,
                )
                .await
                .expect("device");
        }
        // Only the owner's own device, once.
        assert!(
            !store
                .revoke_device("492", "d1", 5)
                .await
                .expect("not theirs")
        );
        assert!(store.revoke_device("491", "d1", 5).await.expect("revoke"));
        assert!(!store.revoke_device("491", "d1", 6).await.expect("again"));
        assert!(
            !store
                .revoke_device("491", "nope", 6)
                .await
                .expect("unknown")
        );
        assert_eq!(store.device_by_token("h1").await.expect("by token"), None);
        assert!(
            store
                .device_by_token("h2")
                .await
                .expect("by token")
                .is_some()
        );
        let left: Vec<String> = store
            .devices("491")
            .await
            .expect("devices")
            .into_iter()
            .map(|d| d.device_id)
            .collect();
        assert_eq!(left, vec!["d2".to_owned()]);
    }

    pub async fn devices_and_tokens(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["491", "492"]).await;
        let device = |id: &str, user: &str, at| Device {
            device_id: id.into(),
            user_id: user.into(),
            name: format!("phone {id}"),
            created_at: at,
        };
        let d1 = device("d1", "491", 10);
        let d2 = device("d2", "491", 20);
        let d3 = device("d3", "492", 30);
        store.create_device(&d1, "h1").await.expect("d1");
        store.create_device(&d2, "h2").await.expect("d2");
        store.create_device(&d3, "h3").await.expect("d3");
        for (hash, expected) in [
            ("h1", Some(&d1)),
            ("h2", Some(&d2)),
            ("h3", Some(&d3)),
            ("h4", None),
        ] {
            assert_eq!(
                store
                    .device_by_token(hash)
                    .await
                    .expect("by token")
                    .as_ref(),
                expected,
                "{hash}"
            );
        }
        assert_eq!(
            store.devices("491").await.expect("devices"),
            vec![d1.clone(), d2]
        );
        assert_eq!(store.devices("493").await.expect("devices"), vec![]);
        assert_err(
            store.create_device(&device("d9", "493", 1), "h9").await,
            StoreError::UnknownUser("493".into()),
        );
        assert!(
            store
                .create_device(&device("d5", "492", 1), "h1")
                .await
                .is_err(),
            "a token digest is unique"
        );
        assert_eq!(
            store.device_by_token("h1").await.expect("by token"),
            Some(d1)
        );
    }

    // --- chats --------------------------------------------------------------------

    pub async fn direct_chats(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["491", "492", "493"]).await;
        let ab = store.direct_chat("492", "491", 100).await.expect("direct");
        assert_eq!(ab.chat_id, direct_chat_id("491", "492"));
        assert_eq!(ab.kind, ChatKind::Direct);
        assert_eq!(ab.created_at, 100);
        assert!(ab.is_member("491") && ab.is_member("492") && !ab.is_member("493"));
        assert_eq!(ab.members.len(), 2);
        let ba = store
            .direct_chat("491", "492", 500)
            .await
            .expect("direct again");
        assert_eq!(ba, ab, "the same chat for the same pair, either order");
        assert_eq!(
            store.chat(&ab.chat_id).await.expect("chat"),
            Some(ab.clone())
        );
        let ac = store.direct_chat("491", "493", 100).await.expect("direct");
        assert_ne!(ac.chat_id, ab.chat_id);
        assert_err(
            store.direct_chat("491", "499", 100).await,
            StoreError::UnknownUser("499".into()),
        );
        assert_err(
            store.direct_chat("499", "491", 100).await,
            StoreError::UnknownUser("499".into()),
        );
        assert_eq!(
            store
                .chat(&direct_chat_id("491", "499"))
                .await
                .expect("chat"),
            None
        );
    }

    async fn many_users(store: &Arc<dyn Store>, n: usize) -> Vec<String> {
        let ids: Vec<String> = (0..n).map(|i| format!("49{i:06}")).collect();
        let mut set = tokio::task::JoinSet::new();
        for chunk in ids.chunks(64) {
            let (store, chunk) = (store.clone(), chunk.to_vec());
            set.spawn(async move {
                for id in chunk {
                    store.ensure_user(&id, 1).await.expect("ensure_user");
                }
            });
        }
        while let Some(done) = set.join_next().await {
            done.expect("task");
        }
        ids
    }

    pub async fn create_group(ctx: Ctx) {
        let store = &ctx.store;
        let ids = many_users(store, MAX_GROUP_MEMBERS + 1).await;
        let chat = group(&**store, "g1", &ids[0], &[&ids[1], &ids[2]]).await;
        assert_eq!(chat.kind, ChatKind::Group);
        assert_eq!(chat.name.as_deref(), Some("group g1"));
        assert_eq!(chat.created_at, 100);
        assert_eq!(
            roles(&chat),
            vec![
                (ids[0].as_str(), Role::Admin),
                (ids[1].as_str(), Role::Member),
                (ids[2].as_str(), Role::Member)
            ]
        );
        assert_eq!(store.chat("g1").await.expect("chat"), Some(chat));
        assert_eq!(store.chat("g2").await.expect("chat"), None);

        let new = |id: &str, creator: &str, members: &[String]| NewGroup {
            chat_id: id.into(),
            name: id.into(),
            creator: creator.into(),
            members: members.to_vec(),
            created_at: 1,
        };
        // Unknown members and creators are refused and leave nothing behind.
        assert_err(
            store
                .create_group(&new("g3", &ids[0], &["49x".to_string()]))
                .await,
            StoreError::UnknownUser("49x".into()),
        );
        assert_err(
            store.create_group(&new("g3", "49y", &[])).await,
            StoreError::UnknownUser("49y".into()),
        );
        assert_eq!(store.chat("g3").await.expect("chat"), None);
        // The limit counts the creator: 1 + 1023 fits, 1 + 1024 does not.
        assert_err(
            store
                .create_group(&new("g4", &ids[0], &ids[1..=MAX_GROUP_MEMBERS]))
                .await,
            StoreError::GroupFull("g4".into()),
        );
        assert_eq!(store.chat("g4").await.expect("chat"), None);
        let full = store
            .create_group(&new("g5", &ids[0], &ids[1..MAX_GROUP_MEMBERS]))
            .await
            .expect("a group of exactly the limit");
        assert_eq!(full.members.len(), MAX_GROUP_MEMBERS);
        assert_err(
            store
                .add_member("g5", &ids[MAX_GROUP_MEMBERS], Role::Member)
                .await,
            StoreError::GroupFull("g5".into()),
        );
        // Adding someone already in it is still fine when full.
        let same = store
            .add_member("g5", &ids[7], Role::Member)
            .await
            .expect("idempotent");
        assert_eq!(same.members.len(), MAX_GROUP_MEMBERS);
        store.remove_member("g5", &ids[7]).await.expect("remove");
        let again = store
            .add_member("g5", &ids[MAX_GROUP_MEMBERS], Role::Member)
            .await
            .expect("room again");
        assert_eq!(again.members.len(), MAX_GROUP_MEMBERS);
        assert_eq!(
            again.members.last().map(|m| m.user_id.as_str()),
            Some(ids[MAX_GROUP_MEMBERS].as_str())
        );
    }

    pub async fn group_membership(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2", "3", "4", "5"]).await;
        group(store, "g1", "1", &["2", "3"]).await;
        let added = store
            .add_member("g1", "4", Role::Member)
            .await
            .expect("add");
        assert_eq!(
            roles(&added),
            vec![
                ("1", Role::Admin),
                ("2", Role::Member),
                ("3", Role::Member),
                ("4", Role::Member)
            ]
        );
        assert_eq!(
            store
                .add_member("g1", "4", Role::Member)
                .await
                .expect("again"),
            added,
            "adding is idempotent"
        );
        assert_err(
            store.add_member("g1", "9", Role::Member).await,
            StoreError::UnknownUser("9".into()),
        );
        assert_err(
            store.add_member("g9", "4", Role::Member).await,
            StoreError::NotFound("chat g9".into()),
        );
        assert_err(
            store.remove_member("g9", "4").await,
            StoreError::NotFound("chat g9".into()),
        );

        // The last admin leaves: the oldest remaining member takes over.
        let left = store.remove_member("g1", "1").await.expect("remove");
        assert_eq!(
            roles(&left),
            vec![("2", Role::Admin), ("3", Role::Member), ("4", Role::Member)]
        );
        assert_eq!(
            store.remove_member("g1", "1").await.expect("again"),
            left,
            "removing is idempotent"
        );
        // With another admin present, nobody is promoted.
        store
            .add_member("g1", "5", Role::Admin)
            .await
            .expect("add admin");
        let left = store.remove_member("g1", "2").await.expect("remove");
        assert_eq!(
            roles(&left),
            vec![("3", Role::Member), ("4", Role::Member), ("5", Role::Admin)]
        );
        assert_eq!(store.chat("g1").await.expect("chat"), Some(left));
        // Someone who left and comes back joins at the end.
        let back = store
            .add_member("g1", "1", Role::Member)
            .await
            .expect("back");
        assert_eq!(back.members.last().map(|m| m.user_id.as_str()), Some("1"));
    }

    // --- append -------------------------------------------------------------------

    pub async fn append_assigns_gapless_seqs(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2", "3"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        group(store, "g1", "1", &["3"]).await;
        // Two chats interleaved: each counts on its own.
        let plan = [
            (&*d, 1),
            ("g1", 1),
            (&*d, 2),
            (&*d, 3),
            ("g1", 2),
            (&*d, 4),
            ("g1", 3),
        ];
        for (i, (chat, expected)) in plan.into_iter().enumerate() {
            let mut m = msg(chat, "1", "dev1", &format!("c{i}"), &text(i));
            m.ts = 10 + i as i64;
            let got = store.append(m).await.expect("append");
            assert_eq!(
                got,
                Appended {
                    id: message_id(chat, expected),
                    chat_id: chat.to_string(),
                    seq: expected,
                    ts: 10 + i as i64,
                    duplicate: false,
                }
            );
        }
    }

    pub async fn append_is_idempotent(ctx: Ctx) {
        let store = &ctx.store;
        users(&**store, &["1", "2"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        let first = store
            .append(msg(&d, "1", "a1", "c1", "first"))
            .await
            .expect("append");
        assert!(!first.duplicate);
        let mut retry = msg(&d, "1", "a1", "c1", "second body");
        retry.ts = 99_999;
        let again = store.append(retry).await.expect("retry");
        assert_eq!(
            again,
            Appended {
                duplicate: true,
                ..first.clone()
            }
        );
        let history = store.history(&d, None, 10).await.expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].body, "first");

        // The same client_id from another device is another message.
        let other = store
            .append(msg(&d, "1", "a2", "c1", "other"))
            .await
            .expect("append");
        assert_eq!((other.seq, other.duplicate), (2, false));

        // Concurrent retries of one send: one original, the rest duplicates of it
        // (several rounds, so retries land in the same group commit as the original).
        const ROUNDS: u64 = 8;
        for round in 0..ROUNDS {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..32 {
                let (store, d) = (store.clone(), d.clone());
                let client_id = format!("race{round}");
                set.spawn(async move {
                    store
                        .append(msg(&d, "2", "b1", &client_id, "r"))
                        .await
                        .expect("append")
                });
            }
            let mut results = Vec::new();
            while let Some(r) = set.join_next().await {
                results.push(r.expect("task"));
            }
            let seq = 3 + round;
            assert_eq!(
                results.iter().filter(|a| !a.duplicate).count(),
                1,
                "round {round}: {results:?}"
            );
            assert!(
                results
                    .iter()
                    .all(|a| a.seq == seq && a.id == message_id(&d, seq)),
                "round {round}: {results:?}"
            );
        }

        // Nothing else was written: one more message lands at the next seq and each
        // user's stream holds exactly the messages.
        let last = 3 + ROUNDS;
        let marker = store
            .append(msg(&d, "2", "b1", "marker", "m"))
            .await
            .expect("append");
        assert_eq!(marker.seq, last);
        ctx.sink.wait_for(2 * last as usize).await;
        for user in ["1", "2"] {
            let seqs: Vec<u64> = ctx
                .sink
                .for_user(user)
                .iter()
                .map(|d| d.item.inbox_seq)
                .collect();
            assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "deliveries of {user}");
            let inbox = whole_inbox(&**store, user).await;
            assert_eq!(
                messages_of(&inbox),
                (1..=last).map(|s| (d.clone(), s)).collect::<Vec<_>>()
            );
        }
        assert_eq!(ctx.sink.len(), 2 * last as usize);
    }

    pub async fn append_rejects_bad_input(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2", "3"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        let other = store
            .direct_chat("1", "3", 1)
            .await
            .expect("direct")
            .chat_id;
        store
            .append(msg(&d, "1", "a", "c1", "one"))
            .await
            .expect("append");
        store
            .append(msg(&other, "1", "a", "c2", "x"))
            .await
            .expect("append");

        assert_err(
            store.append(msg(&d, "3", "c", "c1", "x")).await,
            StoreError::NotMember(d.clone()),
        );
        assert_err(
            store.append(msg("gnope", "1", "a", "c3", "x")).await,
            StoreError::NotFound("chat gnope".into()),
        );
        for bad in [
            message_id(&other, 1),
            message_id(&d, 2),
            message_id(&d, 0),
            "nope".to_string(),
        ] {
            let mut m = msg(&d, "1", "a", &format!("bad-{bad}"), "x");
            m.reply_to = Some(bad.clone());
            assert_err(store.append(m).await, StoreError::InvalidReply(bad));
        }
        // Nothing of the refused sends was stored: the next message is seq 2.
        let mut ok = msg(&d, "2", "b", "c4", "answer");
        ok.reply_to = Some(message_id(&d, 1));
        let got = store.append(ok).await.expect("a valid reply");
        assert_eq!(got.seq, 2);
        let history = store.history(&d, None, 10).await.expect("history");
        assert_eq!(history[0].reply_to, Some(message_id(&d, 1)));
        assert_eq!(history[1].reply_to, None);
    }

    pub async fn append_fans_out_to_every_member(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2", "3", "4"]).await;
        group(store, "g1", "1", &["2", "3"]).await;
        let mut m = msg("g1", "2", "dev-2", "c1", r#"{"type":"text","text":"hi"}"#);
        m.ts = 1234;
        let got = store.append(m).await.expect("append");
        let stored = StoredMessage {
            id: message_id("g1", 1),
            chat_id: "g1".into(),
            seq: 1,
            sender: "2".into(),
            sender_device: "dev-2".into(),
            client_id: "c1".into(),
            ts: 1234,
            body: r#"{"type":"text","text":"hi"}"#.into(),
            reply_to: None,
        };
        assert_eq!(got.id, stored.id);
        let seen = ctx.sink.wait_for(3).await;
        let mut users_seen: Vec<&str> = seen.iter().map(|d| d.user_id.as_str()).collect();
        users_seen.sort();
        assert_eq!(
            users_seen,
            vec!["1", "2", "3"],
            "every member, the sender included"
        );
        for d in &seen {
            assert_eq!(d.origin_device.as_deref(), Some("dev-2"));
            assert_eq!(
                d.item,
                InboxItem {
                    inbox_seq: 1,
                    entry: InboxEntry::Message(Arc::new(stored.clone()))
                }
            );
        }
        for user in ["1", "2", "3"] {
            let inbox = store.inbox(user, 0, 10).await.expect("inbox");
            assert_eq!(
                inbox,
                vec![InboxItem {
                    inbox_seq: 1,
                    entry: InboxEntry::Message(Arc::new(stored.clone()))
                }]
            );
        }
        assert_eq!(store.inbox("4", 0, 10).await.expect("inbox"), vec![]);
        assert_eq!(
            store.history("g1", None, 10).await.expect("history"),
            vec![stored]
        );
    }

    pub async fn removed_member_gets_no_later_messages(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2", "3"]).await;
        group(store, "g1", "1", &["2", "3"]).await;
        store
            .append(msg("g1", "1", "a", "c1", "before"))
            .await
            .expect("append");
        store.remove_member("g1", "3").await.expect("remove");
        assert_err(
            store.append(msg("g1", "3", "c", "c9", "x")).await,
            StoreError::NotMember("g1".into()),
        );
        store
            .append(msg("g1", "1", "a", "c2", "after"))
            .await
            .expect("append");
        ctx.sink.wait_for(5).await;
        assert_eq!(
            messages_of(&whole_inbox(store, "3").await),
            vec![("g1".to_string(), 1)]
        );
        assert_eq!(
            messages_of(&whole_inbox(store, "2").await),
            vec![("g1".to_string(), 1), ("g1".to_string(), 2)]
        );
        assert_eq!(ctx.sink.for_user("3").len(), 1);
        store
            .add_member("g1", "3", Role::Member)
            .await
            .expect("back");
        store
            .append(msg("g1", "2", "b", "c3", "again"))
            .await
            .expect("append");
        ctx.sink.wait_for(8).await;
        assert_eq!(
            messages_of(&whole_inbox(store, "3").await),
            vec![("g1".to_string(), 1), ("g1".to_string(), 3)]
        );
    }

    pub async fn concurrent_appends(ctx: Ctx) {
        const TASKS: usize = 40;
        const SENDS: usize = 50;
        let store = &ctx.store;
        let u: Vec<String> = (0..8).map(|i| format!("7{i}")).collect();
        let refs: Vec<&str> = u.iter().map(String::as_str).collect();
        users(&**store, &refs).await;
        let mut chats: Vec<(String, Vec<&str>)> = Vec::new();
        for (id, members) in [
            ("g0", &refs[0..4]),
            ("g1", &refs[2..6]),
            ("g2", &refs[4..8]),
            ("g3", &[refs[0], refs[3], refs[6]][..]),
        ] {
            group(&**store, id, members[0], &members[1..]).await;
            chats.push((id.to_string(), members.to_vec()));
        }
        for (a, b) in [(1, 6), (0, 7)] {
            let chat = store
                .direct_chat(refs[a], refs[b], 1)
                .await
                .expect("direct");
            chats.push((chat.chat_id, vec![refs[a], refs[b]]));
        }

        let mut set = tokio::task::JoinSet::new();
        for t in 0..TASKS {
            let user = u[t % u.len()].clone();
            let mine: Vec<String> = chats
                .iter()
                .filter(|(_, m)| m.contains(&user.as_str()))
                .map(|(c, _)| c.clone())
                .collect();
            let store = store.clone();
            set.spawn(async move {
                let mut got = Vec::new();
                for k in 0..SENDS {
                    let chat = &mine[(t + k) % mine.len()];
                    let a = store
                        .append(msg(
                            chat,
                            &user,
                            &format!("{user}-t{t}"),
                            &format!("{k}"),
                            &text(k),
                        ))
                        .await
                        .expect("append");
                    assert!(!a.duplicate);
                    got.push(a);
                }
                got
            });
        }
        let mut per_chat: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
        while let Some(done) = set.join_next().await {
            for a in done.expect("task") {
                assert_eq!(a.id, message_id(&a.chat_id, a.seq));
                per_chat.entry(a.chat_id).or_default().push(a.seq);
            }
        }
        let mut expected_inbox: std::collections::BTreeMap<&str, u64> = Default::default();
        let mut total_deliveries = 0;
        for (chat, members) in &chats {
            let mut seqs = per_chat.remove(chat).unwrap_or_default();
            seqs.sort_unstable();
            let n = seqs.len() as u64;
            assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "seqs of {chat}");
            let history = store.history(chat, None, 500).await.expect("history");
            assert_eq!(
                history.iter().map(|m| m.seq).collect::<Vec<_>>(),
                (1..=n).rev().collect::<Vec<_>>()
            );
            for m in members {
                *expected_inbox.entry(m).or_default() += n;
                total_deliveries += n as usize;
            }
        }
        assert_eq!(
            expected_inbox.values().sum::<u64>() as usize,
            total_deliveries
        );
        ctx.sink.wait_for(total_deliveries).await;
        for (user, m) in expected_inbox {
            let inbox = whole_inbox(&**store, user).await;
            assert_eq!(
                inbox.iter().map(|i| i.inbox_seq).collect::<Vec<_>>(),
                (1..=m).collect::<Vec<_>>(),
                "inbox of {user}"
            );
            let delivered: Vec<u64> = ctx
                .sink
                .for_user(user)
                .iter()
                .map(|d| d.item.inbox_seq)
                .collect();
            assert_eq!(
                delivered,
                (1..=m).collect::<Vec<_>>(),
                "deliveries of {user}, in order"
            );
            let items: Vec<InboxItem> = ctx
                .sink
                .for_user(user)
                .into_iter()
                .map(|d| d.item)
                .collect();
            assert_eq!(
                items, inbox,
                "the sink saw what the inbox holds, for {user}"
            );
        }
    }

    // --- receipts -----------------------------------------------------------------

    pub async fn receipts_move_watermarks(ctx: Ctx) {
        use ReceiptStatus::{Delivered, Read};
        let store = &*ctx.store;
        users(store, &["1", "2", "3"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        for i in 0..3 {
            store
                .append(msg(&d, "1", "a", &format!("c{i}"), "x"))
                .await
                .expect("append");
        }
        // (status, up_to, advanced, new receipts in 1's stream, in 2's stream)
        let table = [
            (Delivered, 2, true, vec![("2", 2, Delivered)], vec![]),
            (Delivered, 1, false, vec![], vec![]),
            (Delivered, 2, false, vec![], vec![]),
            (Read, 1, true, vec![("2", 1, Read)], vec![("2", 1, Read)]),
            (Read, 1, false, vec![], vec![]),
            (Read, 3, true, vec![("2", 3, Read)], vec![("2", 3, Read)]),
            // `read` implied `delivered` up to 3.
            (Delivered, 3, false, vec![], vec![]),
            (Read, 0, false, vec![], vec![]),
        ];
        let mut expect1 = Vec::new();
        let mut expect2 = Vec::new();
        for (i, (status, up_to, advanced, to1, to2)) in table.into_iter().enumerate() {
            let out = store
                .receipt(receipt(&d, "2", "b", up_to, status))
                .await
                .expect("receipt");
            assert_eq!(out.advanced, advanced, "row {i}");
            expect1.extend(to1.into_iter().map(|(u, s, st)| (u.to_string(), s, st)));
            expect2.extend(to2.into_iter().map(|(u, s, st)| (u.to_string(), s, st)));
            assert_eq!(
                receipts_of(&whole_inbox(store, "1").await),
                expect1,
                "1's stream after row {i}"
            );
            assert_eq!(
                receipts_of(&whole_inbox(store, "2").await),
                expect2,
                "2's stream after row {i}"
            );
        }
        assert_err(
            store.receipt(receipt(&d, "2", "b", 4, Read)).await,
            StoreError::InvalidSeq { got: 4, last: 3 },
        );
        assert_err(
            store.receipt(receipt(&d, "3", "c", 1, Read)).await,
            StoreError::NotMember(d.clone()),
        );
        assert_err(
            store.receipt(receipt("gx", "2", "b", 1, Read)).await,
            StoreError::NotFound("chat gx".into()),
        );
        // The other side's watermark is its own.
        let out = store
            .receipt(receipt(&d, "1", "a", 2, Delivered))
            .await
            .expect("receipt");
        assert!(out.advanced);
    }

    pub async fn receipts_fan_out(ctx: Ctx) {
        use ReceiptStatus::{Delivered, Read};
        let store = &*ctx.store;
        users(store, &["1", "2", "3", "4"]).await;
        group(store, "g1", "1", &["2", "3", "4"]).await;
        for (i, sender) in ["1", "2", "1"].into_iter().enumerate() {
            store
                .append(msg(
                    "g1",
                    sender,
                    &format!("dev-{sender}"),
                    &format!("c{i}"),
                    "x",
                ))
                .await
                .expect("append");
        }
        let base = ctx.sink.wait_for(12).await.len();
        // (user, up_to, status, users whose stream gets the receipt)
        let table: [(&str, u64, ReceiptStatus, &[&str]); 4] = [
            ("3", 2, Read, &["1", "2", "3"]),
            ("4", 1, Delivered, &["1"]),
            ("3", 3, Read, &["1", "3"]),
            // 2 reads its own message and one of 1's: only 1 and 2 itself hear of it.
            ("2", 3, Read, &["1", "2"]),
        ];
        let mut expected = base;
        for (i, (user, up_to, status, to)) in table.into_iter().enumerate() {
            let out = store
                .receipt(receipt("g1", user, &format!("dev-{user}"), up_to, status))
                .await
                .expect("receipt");
            assert!(out.advanced, "row {i}");
            expected += to.len();
            let seen = ctx.sink.wait_for(expected).await;
            let new = &seen[expected - to.len()..];
            let mut who: Vec<&str> = new.iter().map(|d| d.user_id.as_str()).collect();
            who.sort();
            assert_eq!(who, to.to_vec(), "row {i}");
            for d in new {
                assert_eq!(
                    d.origin_device.as_deref(),
                    Some(&*format!("dev-{user}")),
                    "row {i}"
                );
                match &d.item.entry {
                    InboxEntry::Receipt(r) => {
                        assert_eq!(
                            (
                                r.chat_id.as_str(),
                                r.user_id.as_str(),
                                r.up_to_seq,
                                r.status,
                                r.ts
                            ),
                            ("g1", user, up_to, status, 2_000)
                        );
                    }
                    other => panic!("row {i}: expected a receipt, got {other:?}"),
                }
            }
        }
        assert_eq!(ctx.sink.len(), expected);
        for (user, n) in [("1", 4), ("2", 2), ("3", 2), ("4", 0)] {
            assert_eq!(
                receipts_of(&whole_inbox(store, user).await).len(),
                n,
                "receipts in {user}'s stream"
            );
        }
    }

    // --- reads --------------------------------------------------------------------

    pub async fn history_pages_newest_first(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        for i in 1..=7 {
            let mut m = msg(
                &d,
                if i % 2 == 0 { "2" } else { "1" },
                "dev",
                &format!("c{i}"),
                &text(i),
            );
            m.ts = 100 + i;
            store.append(m).await.expect("append");
        }
        let seqs = |page: Vec<StoredMessage>| page.iter().map(|m| m.seq).collect::<Vec<_>>();
        let table: [(Option<u64>, usize, &[u64]); 7] = [
            (None, 3, &[7, 6, 5]),
            (Some(5), 3, &[4, 3, 2]),
            (Some(2), 3, &[1]),
            (Some(1), 3, &[]),
            (None, 100, &[7, 6, 5, 4, 3, 2, 1]),
            (Some(100), 2, &[7, 6]),
            (None, 0, &[]),
        ];
        for (before, limit, expected) in table {
            let page = store.history(&d, before, limit).await.expect("history");
            assert_eq!(
                seqs(page),
                expected.to_vec(),
                "before {before:?}, limit {limit}"
            );
        }
        let page = store.history(&d, Some(5), 1).await.expect("history");
        assert_eq!(
            page,
            vec![StoredMessage {
                id: message_id(&d, 4),
                chat_id: d.clone(),
                seq: 4,
                sender: "2".into(),
                sender_device: "dev".into(),
                client_id: "c4".into(),
                ts: 104,
                body: text(4),
                reply_to: None,
            }]
        );
        assert_eq!(
            store.history("gnone", None, 10).await.expect("history"),
            vec![]
        );
    }

    pub async fn inbox_pages_oldest_first(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        for i in 1..=4 {
            store
                .append(msg(&d, "2", "b", &format!("c{i}"), &text(i)))
                .await
                .expect("append");
        }
        store
            .receipt(receipt(&d, "1", "a", 2, ReceiptStatus::Read))
            .await
            .expect("receipt");
        store
            .append(msg(&d, "1", "a", "c5", &text(5)))
            .await
            .expect("append");
        let all = whole_inbox(store, "1").await;
        assert_eq!(
            all.iter().map(|i| i.inbox_seq).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6]
        );
        assert_eq!(
            messages_of(&all),
            (1..=5).map(|s| (d.clone(), s)).collect::<Vec<_>>()
        );
        assert!(
            matches!(&all[4].entry, InboxEntry::Receipt(r) if r.user_id == "1" && r.up_to_seq == 2)
        );
        for (after, limit) in [(0, 2), (2, 2), (4, 10), (5, 1), (6, 5), (0, 0)] {
            let page = store.inbox("1", after, limit).await.expect("inbox");
            let expected: Vec<InboxItem> = all
                .iter()
                .filter(|i| i.inbox_seq > after)
                .take(limit)
                .cloned()
                .collect();
            assert_eq!(page, expected, "after {after}, limit {limit}");
        }
        // 2 sent everything and got the receipt of 1.
        let two = whole_inbox(store, "2").await;
        assert_eq!(two.len(), 6);
        assert_eq!(
            receipts_of(&two),
            vec![("1".to_string(), 2, ReceiptStatus::Read)]
        );
        assert_eq!(store.inbox("3", 0, 10).await.expect("inbox"), vec![]);
    }

    pub async fn user_chats_overview(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2", "3"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        group(store, "g1", "3", &["1"]).await;
        for (i, sender) in ["2", "2", "1"].into_iter().enumerate() {
            store
                .append(msg(&d, sender, "dev", &format!("c{i}"), &text(i)))
                .await
                .expect("append");
        }
        let overview = |list: Vec<crate::ChatOverview>, chat: &str| {
            let o = list
                .into_iter()
                .find(|o| o.chat_id == chat)
                .unwrap_or_else(|| panic!("{chat} listed"));
            (
                o.kind,
                o.last_seq,
                o.unread,
                o.last_message.map(|m| (m.seq, m.body)),
            )
        };
        let list = store.user_chats("1").await.expect("user_chats");
        assert_eq!(list.len(), 2);
        assert_eq!(
            overview(list.clone(), &d),
            (ChatKind::Direct, 3, 2, Some((3, text(2))))
        );
        assert_eq!(overview(list.clone(), "g1"), (ChatKind::Group, 0, 0, None));
        assert_eq!(
            list.iter()
                .find(|o| o.chat_id == "g1")
                .and_then(|o| o.name.clone())
                .as_deref(),
            Some("group g1")
        );
        assert_eq!(
            overview(store.user_chats("2").await.expect("user_chats"), &d),
            (ChatKind::Direct, 3, 1, Some((3, text(2))))
        );

        // A `delivered` receipt does not clear unread; `read` does, up to its seq.
        store
            .receipt(receipt(&d, "1", "a", 2, ReceiptStatus::Delivered))
            .await
            .expect("receipt");
        assert_eq!(
            overview(store.user_chats("1").await.expect("user_chats"), &d).2,
            2
        );
        store
            .receipt(receipt(&d, "1", "a", 1, ReceiptStatus::Read))
            .await
            .expect("receipt");
        assert_eq!(
            overview(store.user_chats("1").await.expect("user_chats"), &d).2,
            1
        );
        store
            .receipt(receipt(&d, "1", "a", 3, ReceiptStatus::Read))
            .await
            .expect("receipt");
        assert_eq!(
            overview(store.user_chats("1").await.expect("user_chats"), &d).2,
            0
        );
        store
            .append(msg(&d, "2", "dev", "c9", "new"))
            .await
            .expect("append");
        assert_eq!(
            overview(store.user_chats("1").await.expect("user_chats"), &d),
            (ChatKind::Direct, 4, 1, Some((4, "new".to_string())))
        );

        store.remove_member("g1", "1").await.expect("remove");
        assert_eq!(store.user_chats("1").await.expect("user_chats").len(), 1);
        assert!(store.user_chats("9").await.expect("user_chats").is_empty());
    }

    pub async fn rate_hit_fixed_window(ctx: Ctx) {
        let store = &ctx.store;
        let hit = |key: &'static str, max: u32, now: i64| {
            let store = store.clone();
            async move { store.rate_hit(key, max, 1000, now).await.expect("rate_hit") }
        };
        assert!(hit("a", 2, 0).await);
        assert!(hit("a", 2, 10).await);
        assert!(
            !hit("a", 2, 20).await,
            "the third hit in the window is refused"
        );
        assert!(
            !hit("a", 2, 999).await,
            "a refused hit does not move the window"
        );
        assert!(hit("b", 2, 20).await, "keys are independent");
        assert!(
            hit("a", 2, 1000).await,
            "a new window starts after window_ms"
        );
        assert!(hit("a", 2, 1500).await);
        assert!(!hit("a", 2, 1999).await);
        assert!(!hit("z", 0, 0).await, "max 0 allows nothing");
        // Concurrent hits on one key: exactly `max` are allowed.
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.rate_hit("c", 5, 60_000, 7).await.expect("rate_hit")
            }));
        }
        let mut allowed = 0;
        for t in tasks {
            if t.await.expect("the task runs") {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "exactly max concurrent hits are allowed");
    }

    pub async fn close_refuses_later_calls(ctx: Ctx) {
        let store = &*ctx.store;
        users(store, &["1", "2"]).await;
        let d = store
            .direct_chat("1", "2", 1)
            .await
            .expect("direct")
            .chat_id;
        store
            .append(msg(&d, "1", "a", "c1", "x"))
            .await
            .expect("append");
        store.close().await.expect("close");
        store.close().await.expect("close is idempotent");
        assert_err(
            store.append(msg(&d, "1", "a", "c2", "x")).await,
            StoreError::Closed,
        );
        assert_err(store.ensure_user("3", 1).await, StoreError::Closed);
        assert_err(store.history(&d, None, 10).await, StoreError::Closed);
    }
}

/// A benchmark that is also a test, shared by every backend: `total` durable appends
/// from 200 concurrent senders over 1,000 direct chats (set up 8 at a time), checked
/// through the sink (two inbox entries per message). Returns messages/s of the sends.
pub async fn concurrent_append_load(
    store: Arc<dyn Store>,
    sink: &RecordingSink,
    total: usize,
) -> f64 {
    const SENDERS: usize = 200;
    const CHATS: usize = 1000;
    let mut setup = tokio::task::JoinSet::new();
    for part in 0..8 {
        let store = store.clone();
        setup.spawn(async move {
            let mut chats = Vec::new();
            for i in (part..CHATS).step_by(8) {
                let (a, b) = (format!("1{i:05}"), format!("2{i:05}"));
                store.ensure_user(&a, 1).await.expect("user");
                store.ensure_user(&b, 1).await.expect("user");
                chats.push((store.direct_chat(&a, &b, 1).await.expect("chat").chat_id, a));
            }
            chats
        });
    }
    let mut chats = Vec::with_capacity(CHATS);
    while let Some(part) = setup.join_next().await {
        chats.extend(part.expect("setup"));
    }
    chats.sort();
    let chats = Arc::new(chats);
    let before = sink.len();
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for s in 0..SENDERS {
        let (store, chats) = (store.clone(), chats.clone());
        set.spawn(async move {
            for k in (s..total).step_by(SENDERS) {
                let (chat, sender) = &chats[k.wrapping_mul(2_654_435_761) % CHATS];
                store
                    .append(NewMessage {
                        chat_id: chat.clone(),
                        sender: sender.clone(),
                        sender_device: format!("dev-{s}"),
                        client_id: format!("{k}"),
                        body: r#"{"text":"Guten Morgen, ist die Torte fertig?"}"#.into(),
                        reply_to: None,
                        ts: k as i64,
                    })
                    .await
                    .expect("append");
            }
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("sender");
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(
        sink.len() - before,
        2 * total,
        "two inbox entries per direct message"
    );
    total as f64 / secs
}
