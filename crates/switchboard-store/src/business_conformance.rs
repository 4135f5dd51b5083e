//! The conformance suite every [`BusinessStore`] backend runs, so the embedded and
//! the PostgreSQL deployments keep business data the same way.
//!
//! A backend's test file calls
//! [`business_conformance_tests!`](crate::business_conformance_tests) with a factory;
//! each case becomes one `#[test]` that builds its own tokio runtime and gets a fresh,
//! empty store:
//!
//! ```text
//! async fn fresh() -> BusinessTestStore {
//!     let dir = tempfile::tempdir().expect("a temporary directory");
//!     let store = MyStore::open(dir.path(), Arc::new(NoSink)).expect("the store opens");
//!     BusinessTestStore::new(Arc::new(store)).with_guard(dir)
//! }
//! switchboard_store::business_conformance_tests!(fresh);
//! ```
//!
//! Times are plain numbers passed in (milliseconds); no case sleeps.

use crate::{
    Business, BusinessStore, BusinessToken, CustomerFlags, DispatchCursor, FeedbackKind,
    MessageMeta, PendingExpiry, StatusProgress, Store, StoreError, Template, UsageRecord,
    WebhookConfig,
};
use std::any::Any;
use std::future::Future;
use std::sync::Arc;

/// A business store under test, the [`Store`] view of the same backend (to close it
/// after the case), and whatever must live as long as it (a temporary directory, a
/// database schema to drop).
pub struct BusinessTestStore {
    pub store: Arc<dyn BusinessStore>,
    closer: Arc<dyn Store>,
    guard: Option<Box<dyn Any + Send>>,
}

impl BusinessTestStore {
    pub fn new<S: BusinessStore + Store>(store: Arc<S>) -> Self {
        Self {
            store: store.clone(),
            closer: store,
            guard: None,
        }
    }

    /// Keeps `guard` alive until the case has finished and the store is closed.
    pub fn with_guard(mut self, guard: impl Any + Send) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }
}

/// Runs one case on a fresh store in its own runtime (`threads` > 1: multi-threaded),
/// then closes the store. Used by
/// [`business_conformance_tests!`](crate::business_conformance_tests).
pub fn run<F, FFut, C, CFut>(factory: F, case: C, threads: usize)
where
    F: FnOnce() -> FFut,
    FFut: Future<Output = BusinessTestStore>,
    C: FnOnce(Arc<dyn BusinessStore>) -> CFut,
    CFut: Future<Output = ()>,
{
    let runtime = crate::conformance::test_runtime(threads);
    runtime.block_on(async move {
        let test_store = factory().await;
        case(test_store.store.clone()).await;
        test_store
            .closer
            .close()
            .await
            .expect("close succeeds after a case");
        drop(test_store);
    });
}

/// Expands into one `#[test]` per business conformance case. `$factory` is a path to
/// an `async fn() -> BusinessTestStore` that opens a fresh, empty store.
#[macro_export]
macro_rules! business_conformance_tests {
    ($factory:path) => {
        $crate::__business_conformance_cases!($factory;
            business_lookups: 1,
            business_conflicts: 1,
            business_update: 1,
            businesses_oldest_first: 1,
            business_tokens: 1,
            template_create_and_conflicts: 1,
            template_lookups_and_order: 1,
            template_update_and_delete: 1,
            webhooks: 1,
            customer_flags: 1,
            feedback_since: 1,
            reach_counts_distinct_customers: 1,
            message_meta: 1,
            expiries_due_in_order_with_limit: 1,
            expiries_not_yet_due_are_excluded: 1,
            expiry_add_is_idempotent: 1,
            expiry_remove: 1,
            expiries_isolated_by_business: 1,
            usage_recorded_once: 1,
            usage_range: 1,
            idempotency_lifecycle: 1,
            idempotency_release_and_expiry: 1,
            idempotency_concurrent_claims: 4,
            dispatch_cursor: 1,
            status_progress: 1,
            outbox_events: 1,
            outbox_concurrent_pushes: 4,
            leases: 1,
            records_versions: 1,
            records_batches_are_atomic: 1,
            records_prefix_listing: 1,
            records_concurrent_writers: 4,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __business_conformance_cases {
    ($factory:path; $($name:ident : $threads:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::business_conformance::run(
                    $factory,
                    $crate::business_conformance::cases::$name,
                    $threads,
                );
            }
        )*
    };
}

/// The cases, each an `async fn(Arc<dyn BusinessStore>)`.
pub mod cases {
    use super::*;

    type S = Arc<dyn BusinessStore>;

    // --- helpers ------------------------------------------------------------------

    /// Business number `n`: waba `10n`, phone number id `20n`, user `49n`.
    fn business(n: u32, created_at: i64) -> Business {
        Business {
            waba_id: format!("10{n}"),
            phone_number_id: format!("20{n}"),
            user_id: format!("49{n}"),
            name: format!("Shop {n}"),
            vertical: "RETAIL".into(),
            verification: "unverified".into(),
            verification_reason: None,
            profile: r#"{"about":"hi"}"#.into(),
            throughput_mps: Some(80),
            messaging_tier: None,
            created_at,
        }
    }

    fn template(id: &str, waba: &str, name: &str, language: &str, at: i64) -> Template {
        Template {
            template_id: id.into(),
            waba_id: waba.into(),
            name: name.into(),
            language: language.into(),
            category: "MARKETING".into(),
            parameter_format: "POSITIONAL".into(),
            components: r#"[{"type":"BODY","text":"Hello {{1}}"}]"#.into(),
            status: "PENDING".into(),
            reason: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn usage(waba: &str, message_id: &str, ts: i64) -> UsageRecord {
        UsageRecord {
            waba_id: waba.into(),
            message_id: message_id.into(),
            category: "marketing".into(),
            country: "49".into(),
            price_micros: 131_000,
            currency: "EUR".into(),
            ts,
        }
    }

    fn expiry(waba: &str, message_id: &str, expires_at: i64) -> PendingExpiry {
        PendingExpiry {
            waba_id: waba.into(),
            message_id: message_id.into(),
            client_id: format!("c-{message_id}"),
            chat_id: "d491-492".into(),
            // Beyond u32, to show the full width survives.
            seq: (1 << 40) + expires_at.unsigned_abs(),
            recipient: "492".into(),
            expires_at,
        }
    }

    fn is_conflict<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::Conflict(_)))
    }

    // --- businesses and tokens ------------------------------------------------------

    pub async fn business_lookups(s: S) {
        let b = business(1, 100);
        s.create_business(&b).await.expect("create");
        assert_eq!(s.business("101").await.expect("by waba"), Some(b.clone()));
        assert_eq!(
            s.business_by_phone_number_id("201")
                .await
                .expect("by phone number id"),
            Some(b.clone())
        );
        assert_eq!(s.business_by_user("491").await.expect("by user"), Some(b));
        assert_eq!(s.business("999").await.expect("unknown waba"), None);
        assert_eq!(
            s.business_by_phone_number_id("999")
                .await
                .expect("unknown phone number id"),
            None
        );
        assert_eq!(s.business_by_user("999").await.expect("unknown user"), None);

        // Optional fields round-trip as None and Some.
        let mut other = business(2, 100);
        other.throughput_mps = None;
        other.verification_reason = Some("documents unreadable".into());
        s.create_business(&other).await.expect("create another");
        assert_eq!(s.business("102").await.expect("by waba"), Some(other));
    }

    pub async fn business_conflicts(s: S) {
        let b = business(1, 100);
        s.create_business(&b).await.expect("create");
        let mut same_user = business(2, 100);
        same_user.user_id = b.user_id.clone();
        assert!(
            is_conflict(s.create_business(&same_user).await),
            "same user"
        );
        let mut same_phone = business(3, 100);
        same_phone.phone_number_id = b.phone_number_id.clone();
        assert!(
            is_conflict(s.create_business(&same_phone).await),
            "same phone number id"
        );
        let mut same_waba = business(4, 100);
        same_waba.waba_id = b.waba_id.clone();
        assert!(
            is_conflict(s.create_business(&same_waba).await),
            "same waba"
        );
        // Nothing of the refused ones was stored.
        assert_eq!(s.businesses().await.expect("list"), vec![b]);
        assert_eq!(s.business("102").await.expect("lookup"), None);
        assert_eq!(
            s.business_by_phone_number_id("204").await.expect("lookup"),
            None
        );
    }

    pub async fn business_update(s: S) {
        let b = business(1, 100);
        s.create_business(&b).await.expect("create");
        let mut changed = b.clone();
        changed.name = "Renamed".into();
        changed.vertical = "TRAVEL".into();
        changed.verification = "rejected".into();
        changed.verification_reason = Some("no website".into());
        changed.profile = r#"{"about":"new"}"#.into();
        changed.throughput_mps = None;
        changed.messaging_tier = Some("TIER_100K".into());
        s.update_business(&changed).await.expect("update");
        assert_eq!(s.business("101").await.expect("get"), Some(changed.clone()));
        assert_eq!(
            s.business_by_user("491").await.expect("by user"),
            Some(changed.clone())
        );

        let mut back = changed.clone();
        back.verification_reason = None;
        back.throughput_mps = Some(1000);
        back.messaging_tier = None;
        s.update_business(&back).await.expect("update again");
        assert_eq!(s.business("101").await.expect("get"), Some(back));

        let missing = business(9, 100);
        assert!(matches!(
            s.update_business(&missing).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(s.business("109").await.expect("get"), None);
    }

    pub async fn businesses_oldest_first(s: S) {
        assert!(s.businesses().await.expect("empty").is_empty());
        let (a, b, c) = (business(1, 300), business(2, 100), business(3, 200));
        for x in [&a, &b, &c] {
            s.create_business(x).await.expect("create");
        }
        assert_eq!(s.businesses().await.expect("list"), vec![b, c, a]);
    }

    pub async fn business_tokens(s: S) {
        s.create_business(&business(1, 100)).await.expect("create");
        let t = BusinessToken {
            token_hash: "h1".into(),
            waba_id: "101".into(),
            scopes: vec![
                "whatsapp_business_messaging".into(),
                "whatsapp_business_management".into(),
            ],
            created_at: 100,
            expires_at: Some(5_000),
        };
        s.add_business_token(&t).await.expect("add");
        let forever = BusinessToken {
            token_hash: "h2".into(),
            waba_id: "101".into(),
            scopes: Vec::new(),
            created_at: 100,
            expires_at: None,
        };
        s.add_business_token(&forever).await.expect("add");
        assert_eq!(s.business_token("h1").await.expect("get"), Some(t));
        assert_eq!(s.business_token("h2").await.expect("get"), Some(forever));
        assert_eq!(s.business_token("nope").await.expect("unknown"), None);
    }

    // --- templates ------------------------------------------------------------------

    pub async fn template_create_and_conflicts(s: S) {
        let t = template("1001", "101", "welcome", "en_US", 10);
        s.create_template(&t).await.expect("create");
        let dup = template("1002", "101", "welcome", "en_US", 11);
        assert!(is_conflict(s.create_template(&dup).await), "same name");
        assert_eq!(s.template("1002").await.expect("refused one"), None);
        // Another language or another business is fine.
        let de = template("1003", "101", "welcome", "de", 12);
        s.create_template(&de).await.expect("another language");
        let other = template("1004", "102", "welcome", "en_US", 13);
        s.create_template(&other).await.expect("another business");
        assert_eq!(s.template("1001").await.expect("get"), Some(t));
        assert_eq!(s.template("1003").await.expect("get"), Some(de));
        assert_eq!(s.template("1004").await.expect("get"), Some(other));
    }

    pub async fn template_lookups_and_order(s: S) {
        let a = template("7", "101", "b_second", "en_US", 20);
        let b = template("12", "101", "a_first", "en_US", 10);
        let mut c = template("9", "101", "c_third", "en_US", 30);
        c.reason = Some("because".into());
        let elsewhere = template("8", "102", "a_first", "en_US", 5);
        for t in [&a, &b, &c, &elsewhere] {
            s.create_template(t).await.expect("create");
        }
        assert_eq!(
            s.template_by_name("101", "a_first", "en_US")
                .await
                .expect("by name"),
            Some(b.clone())
        );
        assert_eq!(
            s.template_by_name("102", "a_first", "en_US")
                .await
                .expect("by name elsewhere"),
            Some(elsewhere.clone())
        );
        assert_eq!(
            s.template_by_name("101", "a_first", "de")
                .await
                .expect("other language"),
            None
        );
        assert_eq!(s.template("404").await.expect("unknown"), None);
        assert_eq!(
            s.templates("101").await.expect("list"),
            vec![b, a, c.clone()]
        );
        assert_eq!(s.templates("102").await.expect("list"), vec![elsewhere]);
        assert!(s.templates("103").await.expect("none").is_empty());
        assert_eq!(s.template("9").await.expect("get"), Some(c));
    }

    pub async fn template_update_and_delete(s: S) {
        let t = template("1001", "101", "welcome", "en_US", 10);
        s.create_template(&t).await.expect("create");
        let mut u = t.clone();
        u.category = "UTILITY".into();
        u.parameter_format = "NAMED".into();
        u.components = "[]".into();
        u.status = "REJECTED".into();
        u.reason = Some("INVALID_FORMAT".into());
        u.updated_at = 50;
        s.update_template(&u).await.expect("update");
        assert_eq!(s.template("1001").await.expect("get"), Some(u.clone()));
        assert_eq!(
            s.template_by_name("101", "welcome", "en_US")
                .await
                .expect("by name"),
            Some(u.clone())
        );
        let mut back = u.clone();
        back.status = "APPROVED".into();
        back.reason = None;
        back.updated_at = 60;
        s.update_template(&back).await.expect("update");
        assert_eq!(s.template("1001").await.expect("get"), Some(back));
        assert!(matches!(
            s.update_template(&template("404", "101", "x", "en_US", 1))
                .await,
            Err(StoreError::NotFound(_))
        ));

        assert!(s.delete_template("1001").await.expect("delete"));
        assert!(!s.delete_template("1001").await.expect("delete again"));
        assert!(!s.delete_template("404").await.expect("delete unknown"));
        assert_eq!(s.template("1001").await.expect("gone"), None);
        assert!(s.templates("101").await.expect("list").is_empty());
        // The name is free again.
        s.create_template(&template("1002", "101", "welcome", "en_US", 70))
            .await
            .expect("create after delete");
    }

    // --- webhooks -------------------------------------------------------------------

    pub async fn webhooks(s: S) {
        assert_eq!(s.webhook("101").await.expect("none"), None);
        assert!(s.webhooks().await.expect("none").is_empty());
        let w = WebhookConfig {
            waba_id: "101".into(),
            url: "https://example.com/hook".into(),
            verify_token: "vt".into(),
            app_secret: "secret".into(),
            updated_at: 10,
        };
        s.set_webhook(&w).await.expect("set");
        assert_eq!(s.webhook("101").await.expect("get"), Some(w.clone()));
        let replaced = WebhookConfig {
            url: "https://example.com/other".into(),
            verify_token: "vt2".into(),
            app_secret: "secret2".into(),
            updated_at: 20,
            ..w
        };
        s.set_webhook(&replaced).await.expect("replace");
        assert_eq!(s.webhook("101").await.expect("get"), Some(replaced.clone()));
        let second = WebhookConfig {
            waba_id: "102".into(),
            url: "https://example.org/".into(),
            verify_token: "v".into(),
            app_secret: "s".into(),
            updated_at: 5,
        };
        s.set_webhook(&second).await.expect("set");
        let mut all = s.webhooks().await.expect("list");
        all.sort_by(|a, b| a.waba_id.cmp(&b.waba_id));
        assert_eq!(all, vec![replaced, second]);
    }

    // --- customers --------------------------------------------------------------------

    pub async fn customer_flags(s: S) {
        assert_eq!(
            s.customer_flags("101", "4915").await.expect("default"),
            CustomerFlags::default()
        );
        let blocked = CustomerFlags {
            blocked: true,
            marketing_opt_out: false,
        };
        s.set_customer_flags("101", "4915", &blocked, 10)
            .await
            .expect("set");
        assert_eq!(s.customer_flags("101", "4915").await.expect("get"), blocked);
        // Another business, another customer: untouched.
        assert_eq!(
            s.customer_flags("102", "4915")
                .await
                .expect("other business"),
            CustomerFlags::default()
        );
        assert_eq!(
            s.customer_flags("101", "4916")
                .await
                .expect("other customer"),
            CustomerFlags::default()
        );
        let opted_out = CustomerFlags {
            blocked: false,
            marketing_opt_out: true,
        };
        s.set_customer_flags("101", "4915", &opted_out, 20)
            .await
            .expect("replace");
        assert_eq!(
            s.customer_flags("101", "4915").await.expect("get"),
            opted_out
        );
        s.set_customer_flags("102", "4915", &blocked, 20)
            .await
            .expect("set other business");
        assert_eq!(
            s.customer_flags("101", "4915").await.expect("get"),
            opted_out
        );
        assert_eq!(s.customer_flags("102", "4915").await.expect("get"), blocked);
    }

    pub async fn feedback_since(s: S) {
        assert_eq!(s.feedback_since("101", 0).await.expect("none"), (0, 0));
        s.add_feedback("101", "a", FeedbackKind::Block, 10)
            .await
            .expect("add");
        s.add_feedback("101", "b", FeedbackKind::Block, 20)
            .await
            .expect("add");
        s.add_feedback("101", "b", FeedbackKind::Report, 20)
            .await
            .expect("add");
        // The same feedback twice at the same time counts twice.
        s.add_feedback("101", "c", FeedbackKind::Report, 30)
            .await
            .expect("add");
        s.add_feedback("101", "c", FeedbackKind::Report, 30)
            .await
            .expect("add");
        s.add_feedback("102", "a", FeedbackKind::Block, 30)
            .await
            .expect("add elsewhere");
        assert_eq!(s.feedback_since("101", 0).await.expect("all"), (2, 3));
        assert_eq!(s.feedback_since("101", 20).await.expect("at 20"), (1, 3));
        assert_eq!(s.feedback_since("101", 21).await.expect("after 20"), (0, 2));
        assert_eq!(s.feedback_since("101", 31).await.expect("later"), (0, 0));
        assert_eq!(s.feedback_since("102", 0).await.expect("other"), (1, 0));
    }

    pub async fn reach_counts_distinct_customers(s: S) {
        assert_eq!(s.reached_since("101", 0).await.expect("none"), 0);
        assert!(!s.was_reached_since("101", "a", 0).await.expect("none"));
        s.note_reached("101", "a", 10).await.expect("reach");
        s.note_reached("101", "b", 20).await.expect("reach");
        s.note_reached("101", "a", 15).await.expect("reach again");
        s.note_reached("102", "c", 20)
            .await
            .expect("reach elsewhere");
        assert_eq!(s.reached_since("101", 0).await.expect("all"), 2);
        assert_eq!(s.reached_since("101", 15).await.expect("at 15"), 2);
        assert_eq!(s.reached_since("101", 16).await.expect("after 15"), 1);
        assert_eq!(s.reached_since("101", 21).await.expect("later"), 0);
        assert_eq!(s.reached_since("102", 0).await.expect("other"), 1);
        assert!(s.was_reached_since("101", "a", 15).await.expect("a at 15"));
        assert!(!s.was_reached_since("101", "a", 16).await.expect("a after"));
        assert!(!s.was_reached_since("102", "a", 0).await.expect("isolated"));
        // Reaching again moves the customer's time forward.
        s.note_reached("101", "a", 40).await.expect("reach later");
        assert!(s.was_reached_since("101", "a", 40).await.expect("a at 40"));
        assert_eq!(s.reached_since("101", 21).await.expect("later"), 1);
        assert_eq!(s.reached_since("101", 0).await.expect("all"), 2);
    }

    // --- message meta ---------------------------------------------------------------

    pub async fn message_meta(s: S) {
        assert_eq!(s.message_meta("101", "c1").await.expect("none"), None);
        let m = MessageMeta {
            waba_id: "101".into(),
            client_id: "c1".into(),
            category: "marketing".into(),
            billable: true,
            pricing_type: "regular".into(),
            biz_opaque_callback_data: Some("cb".into()),
            template_name: Some("welcome".into()),
            created_at: 10,
        };
        s.put_message_meta(&m).await.expect("put");
        let plain = MessageMeta {
            client_id: "c2".into(),
            category: "service".into(),
            billable: false,
            pricing_type: "free_customer_service".into(),
            biz_opaque_callback_data: None,
            template_name: None,
            ..m.clone()
        };
        s.put_message_meta(&plain).await.expect("put");
        assert_eq!(s.message_meta("101", "c1").await.expect("get"), Some(m));
        assert_eq!(s.message_meta("101", "c2").await.expect("get"), Some(plain));
        assert_eq!(s.message_meta("102", "c1").await.expect("isolated"), None);
    }

    // --- time-to-live ------------------------------------------------------------------

    pub async fn expiries_due_in_order_with_limit(s: S) {
        assert!(
            s.due_expiries("101", 1_000, 10)
                .await
                .expect("none")
                .is_empty()
        );
        let a = expiry("101", "m.3", 300);
        let b = expiry("101", "m.1", 100);
        let c = expiry("101", "m.2", 200);
        for x in [&a, &b, &c] {
            s.add_expiry(x).await.expect("add");
        }
        // Oldest first, not in the order they were added; every field kept.
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("all"),
            vec![b.clone(), c.clone(), a.clone()]
        );
        assert_eq!(
            s.due_expiries("101", 1_000, 2).await.expect("limited"),
            vec![b.clone(), c.clone()]
        );
        assert_eq!(s.due_expiries("101", 1_000, 1).await.expect("one"), vec![b]);
        assert!(
            s.due_expiries("101", 1_000, 0)
                .await
                .expect("zero")
                .is_empty()
        );
    }

    pub async fn expiries_not_yet_due_are_excluded(s: S) {
        let early = expiry("101", "m.1", 100);
        let late = expiry("101", "m.2", 200);
        s.add_expiry(&late).await.expect("add");
        s.add_expiry(&early).await.expect("add");
        assert!(
            s.due_expiries("101", 99, 10)
                .await
                .expect("none yet")
                .is_empty()
        );
        // Due at `expires_at` itself.
        assert_eq!(
            s.due_expiries("101", 100, 10).await.expect("at"),
            vec![early.clone()]
        );
        assert_eq!(
            s.due_expiries("101", 199, 10).await.expect("before late"),
            vec![early.clone()]
        );
        assert_eq!(
            s.due_expiries("101", 200, 10).await.expect("both"),
            vec![early, late]
        );
    }

    pub async fn expiry_add_is_idempotent(s: S) {
        let e = expiry("101", "m.1", 100);
        s.add_expiry(&e).await.expect("add");
        s.add_expiry(&e).await.expect("add again");
        s.add_expiry(&e).await.expect("and again");
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("once"),
            vec![e]
        );
    }

    pub async fn expiry_remove(s: S) {
        let a = expiry("101", "m.1", 100);
        let b = expiry("101", "m.2", 200);
        s.add_expiry(&a).await.expect("add");
        s.add_expiry(&b).await.expect("add");
        s.remove_expiry("101", "m.1").await.expect("remove");
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("rest"),
            vec![b.clone()]
        );
        // Gone already, or never there: no error, nothing else touched.
        s.remove_expiry("101", "m.1").await.expect("remove again");
        s.remove_expiry("101", "never")
            .await
            .expect("remove absent");
        s.remove_expiry("102", "m.2").await.expect("other business");
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("still"),
            vec![b.clone()]
        );
        // A removed expiry can be added again.
        s.add_expiry(&a).await.expect("re-add");
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("back"),
            vec![a, b]
        );
        s.remove_expiry("101", "m.1").await.expect("remove");
        s.remove_expiry("101", "m.2").await.expect("remove");
        assert!(
            s.due_expiries("101", 1_000, 10)
                .await
                .expect("empty")
                .is_empty()
        );
    }

    pub async fn expiries_isolated_by_business(s: S) {
        // The same message id in two businesses: two expiries.
        let mine = expiry("101", "m.1", 100);
        let theirs = expiry("102", "m.1", 50);
        let only_theirs = expiry("102", "m.2", 60);
        for x in [&mine, &theirs, &only_theirs] {
            s.add_expiry(x).await.expect("add");
        }
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("mine"),
            vec![mine.clone()]
        );
        assert_eq!(
            s.due_expiries("102", 1_000, 10).await.expect("theirs"),
            vec![theirs.clone(), only_theirs.clone()]
        );
        assert!(
            s.due_expiries("103", 1_000, 10)
                .await
                .expect("nobody's")
                .is_empty()
        );
        s.remove_expiry("102", "m.1").await.expect("remove theirs");
        assert_eq!(
            s.due_expiries("101", 1_000, 10).await.expect("mine kept"),
            vec![mine]
        );
        assert_eq!(
            s.due_expiries("102", 1_000, 10).await.expect("theirs left"),
            vec![only_theirs]
        );
    }

    // --- usage ------------------------------------------------------------------------

    pub async fn usage_recorded_once(s: S) {
        let u = usage("101", "m.1", 10);
        assert!(s.record_usage(&u).await.expect("first"));
        let mut again = usage("101", "m.1", 20);
        again.price_micros = 999;
        assert!(!s.record_usage(&again).await.expect("second"));
        assert_eq!(s.usage("101", 0, 100).await.expect("range"), vec![u]);
    }

    pub async fn usage_range(s: S) {
        let a = usage("101", "m.3", 30);
        let b = usage("101", "m.1", 10);
        let c = usage("101", "m.2", 20);
        let d = usage("101", "m.4", 40);
        let elsewhere = usage("102", "n.1", 20);
        for x in [&a, &b, &c, &d, &elsewhere] {
            assert!(s.record_usage(x).await.expect("record"));
        }
        assert_eq!(
            s.usage("101", 0, 100).await.expect("all"),
            vec![b.clone(), c.clone(), a.clone(), d.clone()]
        );
        // [from, to): 10 is in, 40 is out.
        assert_eq!(
            s.usage("101", 10, 40).await.expect("range"),
            vec![b, c.clone(), a]
        );
        assert_eq!(s.usage("101", 20, 21).await.expect("one"), vec![c]);
        assert!(s.usage("101", 41, 100).await.expect("none").is_empty());
        assert_eq!(
            s.usage("102", 0, 100).await.expect("other"),
            vec![elsewhere]
        );
    }

    // --- Idempotency-Key ----------------------------------------------------------------

    pub async fn idempotency_lifecycle(s: S) {
        assert_eq!(
            s.idempotency_claim("101", "k1", "req-a", 100, 0)
                .await
                .expect("claim"),
            None
        );
        let seen = s
            .idempotency_claim("101", "k1", "req-b", 110, 0)
            .await
            .expect("claim again")
            .expect("the first claim is seen");
        assert_eq!(seen.status, 0, "still in progress");
        assert_eq!(seen.request_hash, "req-a");
        assert_eq!(seen.created_at, 100);
        // The same key of another business is another key.
        assert_eq!(
            s.idempotency_claim("102", "k1", "req-c", 110, 0)
                .await
                .expect("other business"),
            None
        );
        s.idempotency_complete("101", "k1", 200, r#"{"ok":true}"#)
            .await
            .expect("complete");
        let done = s
            .idempotency_claim("101", "k1", "req-a", 120, 0)
            .await
            .expect("claim after completion")
            .expect("the answer is seen");
        assert_eq!(done.status, 200);
        assert_eq!(done.body, r#"{"ok":true}"#);
        assert_eq!(done.request_hash, "req-a");
        assert_eq!(done.created_at, 100);
    }

    pub async fn idempotency_release_and_expiry(s: S) {
        assert_eq!(
            s.idempotency_claim("101", "k1", "req", 100, 0)
                .await
                .expect("claim"),
            None
        );
        s.idempotency_release("101", "k1").await.expect("release");
        assert_eq!(
            s.idempotency_claim("101", "k1", "req", 110, 0)
                .await
                .expect("claim after release"),
            None
        );
        s.idempotency_complete("101", "k1", 201, "{}")
            .await
            .expect("complete");
        // Not yet expired: created_at 110 is not before 110.
        let kept = s
            .idempotency_claim("101", "k1", "req2", 200, 110)
            .await
            .expect("claim")
            .expect("kept");
        assert_eq!(kept.status, 201);
        // Expired: replaced by the new claim.
        assert_eq!(
            s.idempotency_claim("101", "k1", "req2", 300, 111)
                .await
                .expect("claim after expiry"),
            None
        );
        let fresh = s
            .idempotency_claim("101", "k1", "req3", 310, 111)
            .await
            .expect("claim")
            .expect("the new claim");
        assert_eq!(fresh.request_hash, "req2");
        assert_eq!(fresh.status, 0);
        assert_eq!(fresh.created_at, 300);
    }

    pub async fn idempotency_concurrent_claims(s: S) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..16 {
            let s = s.clone();
            tasks.spawn(async move {
                s.idempotency_claim("101", "key", &format!("req-{i}"), 100 + i, 0)
                    .await
            });
        }
        let mut winners = 0;
        let mut seen = 0;
        while let Some(res) = tasks.join_next().await {
            match res.expect("task").expect("claim") {
                None => winners += 1,
                Some(r) => {
                    assert_eq!(r.status, 0);
                    seen += 1;
                }
            }
        }
        assert_eq!((winners, seen), (1, 15));
    }

    // --- dispatcher state -------------------------------------------------------------

    pub async fn dispatch_cursor(s: S) {
        assert_eq!(
            s.dispatch_cursor("101").await.expect("default"),
            DispatchCursor::default()
        );
        let c = DispatchCursor {
            inbox_seq: 42,
            event_seq: 7,
        };
        s.set_dispatch_cursor("101", c).await.expect("set");
        assert_eq!(s.dispatch_cursor("101").await.expect("get"), c);
        let d = DispatchCursor {
            inbox_seq: 43,
            event_seq: 9,
        };
        s.set_dispatch_cursor("101", d).await.expect("set again");
        assert_eq!(s.dispatch_cursor("101").await.expect("get"), d);
        assert_eq!(
            s.dispatch_cursor("102").await.expect("other"),
            DispatchCursor::default()
        );
    }

    pub async fn status_progress(s: S) {
        assert_eq!(
            s.status_progress("101", "d1-2").await.expect("default"),
            StatusProgress::default()
        );
        let p = StatusProgress {
            delivered: 5,
            read: 3,
        };
        s.set_status_progress("101", "d1-2", p).await.expect("set");
        assert_eq!(s.status_progress("101", "d1-2").await.expect("get"), p);
        assert_eq!(
            s.status_progress("101", "d1-3").await.expect("other chat"),
            StatusProgress::default()
        );
        assert_eq!(
            s.status_progress("102", "d1-2")
                .await
                .expect("other business"),
            StatusProgress::default()
        );
        let q = StatusProgress {
            delivered: 6,
            read: 6,
        };
        s.set_status_progress("101", "d1-2", q)
            .await
            .expect("set again");
        assert_eq!(s.status_progress("101", "d1-2").await.expect("get"), q);
    }

    pub async fn outbox_events(s: S) {
        assert!(s.events_after("101", 0, 10).await.expect("none").is_empty());
        for (i, expected) in [1u64, 2, 3].into_iter().enumerate() {
            let seq = s
                .push_event("101", &format!(r#"{{"n":{i}}}"#), 100 + i as i64)
                .await
                .expect("push");
            assert_eq!(seq, expected);
        }
        assert_eq!(s.push_event("102", "{}", 5).await.expect("other"), 1);
        assert_eq!(
            s.push_event("101", r#"{"n":3}"#, 103).await.expect("push"),
            4
        );

        let all = s.events_after("101", 0, 10).await.expect("all");
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert_eq!(all[0].payload, r#"{"n":0}"#);
        assert_eq!(all[0].created_at, 100);
        assert_eq!(all[3].payload, r#"{"n":3}"#);

        let page = s.events_after("101", 1, 2).await.expect("page");
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 3]);
        let rest = s.events_after("101", 3, 2).await.expect("rest");
        assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4]);
        assert!(s.events_after("101", 4, 2).await.expect("end").is_empty());
        assert!(s.events_after("101", 0, 0).await.expect("zero").is_empty());
        let other = s.events_after("102", 0, 10).await.expect("other");
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].payload, "{}");
    }

    pub async fn outbox_concurrent_pushes(s: S) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let s = s.clone();
            tasks.spawn(async move { s.push_event("101", &format!("{i}"), i).await });
        }
        let mut seqs = Vec::new();
        while let Some(res) = tasks.join_next().await {
            seqs.push(res.expect("task").expect("push"));
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=8).collect::<Vec<u64>>());
        let stored = s.events_after("101", 0, 100).await.expect("read");
        assert_eq!(
            stored.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=8).collect::<Vec<u64>>()
        );
    }

    pub async fn leases(s: S) {
        assert!(s.try_lease("gc", "node-a", 1_000, 100).await.expect("free"));
        assert!(
            s.try_lease("gc", "node-a", 1_050, 100)
                .await
                .expect("renew")
        );
        // Renewed until 1_150: another holder must wait.
        assert!(!s.try_lease("gc", "node-b", 1_100, 100).await.expect("held"));
        assert!(!s.try_lease("gc", "node-b", 1_149, 100).await.expect("held"));
        // Another lease name is independent.
        assert!(
            s.try_lease("other", "node-b", 1_100, 100)
                .await
                .expect("free")
        );
        assert!(
            s.try_lease("gc", "node-b", 1_151, 100)
                .await
                .expect("expired")
        );
        assert!(
            !s.try_lease("gc", "node-a", 1_200, 100)
                .await
                .expect("taken")
        );
        assert!(
            s.try_lease("gc", "node-b", 1_200, 100)
                .await
                .expect("renew")
        );
    }

    // --- business app records -------------------------------------------------------

    pub async fn records_versions(s: S) {
        use crate::Expect;
        assert!(s.record("101", "label", "a").await.expect("get").is_none());
        let v = s
            .put_record("101", "label", "a", "{\"n\":1}".into(), Expect::Absent, 10)
            .await
            .expect("create");
        assert_eq!(v, 1);
        let again = s
            .put_record("101", "label", "a", "{}".into(), Expect::Absent, 11)
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let stale = s
            .put_record("101", "label", "a", "{}".into(), Expect::Version(7), 11)
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        let v2 = s
            .put_record(
                "101",
                "label",
                "a",
                "{\"n\":2}".into(),
                Expect::Version(1),
                12,
            )
            .await
            .expect("update");
        assert_eq!(v2, 2);
        let v3 = s
            .put_record("101", "label", "a", "{\"n\":3}".into(), Expect::Any, 13)
            .await
            .expect("blind update");
        assert_eq!(v3, 3);
        let r = s
            .record("101", "label", "a")
            .await
            .expect("get")
            .expect("some");
        assert_eq!(
            (r.value.as_str(), r.version, r.updated_at),
            ("{\"n\":3}", 3, 13)
        );
        // Tenants and kinds are separate spaces.
        assert!(s.record("102", "label", "a").await.expect("get").is_none());
        assert!(s.record("101", "order", "a").await.expect("get").is_none());
        let wrong = s
            .delete_record("101", "label", "a", Expect::Version(2), 14)
            .await;
        assert!(matches!(wrong, Err(StoreError::Conflict(_))), "{wrong:?}");
        assert!(
            s.delete_record("101", "label", "a", Expect::Version(3), 14)
                .await
                .expect("delete")
        );
        assert!(
            !s.delete_record("101", "label", "a", Expect::Any, 15)
                .await
                .expect("gone")
        );
        let missing = s
            .delete_record("101", "label", "a", Expect::Version(3), 16)
            .await;
        assert!(
            matches!(missing, Err(StoreError::Conflict(_))),
            "{missing:?}"
        );
        // Recreated records start again at version 1.
        let v = s
            .put_record("101", "label", "a", "{}".into(), Expect::Absent, 17)
            .await
            .expect("recreate");
        assert_eq!(v, 1);
        let big = s
            .put_record(
                "101",
                "label",
                "b",
                "x".repeat(crate::MAX_RECORD_VALUE + 1),
                Expect::Any,
                18,
            )
            .await;
        assert!(matches!(big, Err(StoreError::InvalidInput(_))), "{big:?}");
    }

    pub async fn records_batches_are_atomic(s: S) {
        use crate::{Expect, RecordWrite};
        s.put_record("101", "conv", "c1", "1".into(), Expect::Absent, 1)
            .await
            .expect("seed");
        // The second write's expectation fails: the first must not be applied.
        let res = s
            .apply_records(
                &[
                    RecordWrite::put("101", "conv", "c2", "2".into(), Expect::Absent),
                    RecordWrite::put("101", "conv", "c1", "x".into(), Expect::Version(9)),
                ],
                2,
            )
            .await;
        assert!(matches!(res, Err(StoreError::Conflict(_))), "{res:?}");
        assert!(s.record("101", "conv", "c2").await.expect("get").is_none());
        assert_eq!(
            s.record("101", "conv", "c1")
                .await
                .expect("get")
                .expect("c1")
                .value,
            "1"
        );
        // A batch across tenants (an index record beside its document) applies whole.
        let v = s
            .apply_records(
                &[
                    RecordWrite::put("101", "conv", "c2", "2".into(), Expect::Absent),
                    RecordWrite::put(
                        crate::GLOBAL_TENANT,
                        "idx",
                        "k",
                        "101".into(),
                        Expect::Absent,
                    ),
                    RecordWrite::delete("101", "conv", "c1", Expect::Version(1)),
                ],
                3,
            )
            .await
            .expect("batch");
        assert_eq!(v, vec![1, 1, 0]);
        assert!(s.record("101", "conv", "c1").await.expect("get").is_none());
        assert!(
            s.record(crate::GLOBAL_TENANT, "idx", "k")
                .await
                .expect("get")
                .is_some()
        );
        let twice = s
            .apply_records(
                &[
                    RecordWrite::put("101", "conv", "c3", "a".into(), Expect::Any),
                    RecordWrite::put("101", "conv", "c3", "b".into(), Expect::Any),
                ],
                4,
            )
            .await;
        assert!(
            matches!(twice, Err(StoreError::InvalidInput(_))),
            "{twice:?}"
        );
    }

    pub async fn records_prefix_listing(s: S) {
        use crate::Expect;
        for key in ["a/1", "a/2", "a/3", "ab", "b/1", "a", "é/1", "é/2", "ê"] {
            s.put_record("101", "k", key, format!("\"{key}\""), Expect::Any, 1)
                .await
                .expect("put");
        }
        s.put_record("102", "k", "a/9", "0".into(), Expect::Any, 1)
            .await
            .expect("other tenant");
        let keys = |v: Vec<crate::Record>| v.into_iter().map(|r| r.key).collect::<Vec<_>>();
        let all = s.records("101", "k", "", None, 100).await.expect("all");
        assert_eq!(
            keys(all),
            vec!["a", "a/1", "a/2", "a/3", "ab", "b/1", "é/1", "é/2", "ê"]
        );
        let a = s.records("101", "k", "a/", None, 100).await.expect("a/");
        assert_eq!(keys(a), vec!["a/1", "a/2", "a/3"]);
        let page = s
            .records("101", "k", "a/", Some("a/1"), 1)
            .await
            .expect("page");
        assert_eq!(keys(page), vec!["a/2"]);
        let e = s.records("101", "k", "é/", None, 100).await.expect("é/");
        assert_eq!(keys(e), vec!["é/1", "é/2"]);
        assert_eq!(s.count_records("101", "k", "a/").await.expect("count"), 3);
        assert_eq!(s.count_records("101", "k", "").await.expect("count"), 9);
        assert_eq!(s.count_records("101", "k", "zz").await.expect("count"), 0);
        assert_eq!(s.count_records("102", "k", "").await.expect("count"), 1);
    }

    pub async fn records_concurrent_writers(s: S) {
        use crate::Expect;
        s.put_record("101", "ctr", "n", "0".into(), Expect::Absent, 1)
            .await
            .expect("seed");
        // 8 writers each add 5 with read-modify-write under `Expect::Version`:
        // conflicts retry, none is lost.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let s = s.clone();
            tasks.spawn(async move {
                let mut done = 0;
                while done < 5 {
                    let r = s
                        .record("101", "ctr", "n")
                        .await
                        .expect("get")
                        .expect("some");
                    let n: u64 = r.value.parse().expect("number");
                    match s
                        .put_record(
                            "101",
                            "ctr",
                            "n",
                            (n + 1).to_string(),
                            Expect::Version(r.version),
                            2,
                        )
                        .await
                    {
                        Ok(_) => done += 1,
                        Err(StoreError::Conflict(_)) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.expect("task");
        }
        let r = s
            .record("101", "ctr", "n")
            .await
            .expect("get")
            .expect("some");
        assert_eq!((r.value.as_str(), r.version), ("40", 41));
    }
}
