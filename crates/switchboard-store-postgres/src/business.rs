//! [`BusinessStore`] on PostgreSQL: the business tables of migration 3 ([`crate::schema`]).
//!
//! Every call is one statement (or one short transaction) on the pool; none goes
//! through the message writer. What must be atomic across nodes is one statement:
//! an `Idempotency-Key` is claimed by `INSERT … ON CONFLICT DO NOTHING RETURNING`, an
//! event is numbered by an upsert of its business's counter row (whose row lock
//! serialises every node) and inserted by the same statement, and a lease is taken
//! by an upsert whose `WHERE` only lets the holder or an expired lease through.
//! Distribution keys (`waba_id` first wherever there is one) are in `SCHEMA.md`.

use crate::{PgStore, conflict_or, pg_err, to_i64};
use async_trait::async_trait;
use switchboard_store::{
    Business, BusinessStore, BusinessToken, CustomerFlags, DispatchCursor, FeedbackKind,
    IdempotencyRecord, MessageMeta, OutboxEvent, PendingExpiry, StatusProgress, StoreError,
    StoreResult, Template, UsageRecord, WebhookConfig,
};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

/// Column `i` of `row`, or a format error (a type the schema does not allow).
fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> StoreResult<T> {
    row.try_get(i)
        .map_err(|e| StoreError::Format(format!("postgresql column {i}: {e}")))
}

/// A stored integer as the unsigned type the API has, or a format error naming it.
fn stored<T: TryFrom<i64>>(v: i64, what: &str) -> StoreResult<T> {
    T::try_from(v).map_err(|_| StoreError::Format(format!("{what} {v} is out of range")))
}

const BUSINESS_COLUMNS: &str = "waba_id, phone_number_id, user_id, name, vertical, verification, \
     verification_reason, profile, throughput_mps, created_at, messaging_tier";

fn business_row(r: &Row) -> StoreResult<Business> {
    Ok(Business {
        waba_id: col(r, 0)?,
        phone_number_id: col(r, 1)?,
        user_id: col(r, 2)?,
        name: col(r, 3)?,
        vertical: col(r, 4)?,
        verification: col(r, 5)?,
        verification_reason: col(r, 6)?,
        profile: col(r, 7)?,
        throughput_mps: col::<Option<i64>>(r, 8)?
            .map(|v| stored(v, "throughput_mps"))
            .transpose()?,
        created_at: col(r, 9)?,
        messaging_tier: col(r, 10)?,
    })
}

const TEMPLATE_COLUMNS: &str = "template_id, waba_id, name, language, category, parameter_format, \
     components, status, reason, created_at, updated_at";

fn template_row(r: &Row) -> StoreResult<Template> {
    Ok(Template {
        template_id: col(r, 0)?,
        waba_id: col(r, 1)?,
        name: col(r, 2)?,
        language: col(r, 3)?,
        category: col(r, 4)?,
        parameter_format: col(r, 5)?,
        components: col(r, 6)?,
        status: col(r, 7)?,
        reason: col(r, 8)?,
        created_at: col(r, 9)?,
        updated_at: col(r, 10)?,
    })
}

const WEBHOOK_COLUMNS: &str = "waba_id, url, verify_token, app_secret, updated_at";

fn webhook_row(r: &Row) -> StoreResult<WebhookConfig> {
    Ok(WebhookConfig {
        waba_id: col(r, 0)?,
        url: col(r, 1)?,
        verify_token: col(r, 2)?,
        app_secret: col(r, 3)?,
        updated_at: col(r, 4)?,
    })
}

fn usage_row(r: &Row) -> StoreResult<UsageRecord> {
    Ok(UsageRecord {
        waba_id: col(r, 0)?,
        message_id: col(r, 1)?,
        category: col(r, 2)?,
        country: col(r, 3)?,
        price_micros: col(r, 4)?,
        currency: col(r, 5)?,
        ts: col(r, 6)?,
    })
}

const EXPIRY_COLUMNS: &str = "waba_id, message_id, client_id, chat_id, seq, recipient, expires_at";

fn expiry_row(r: &Row) -> StoreResult<PendingExpiry> {
    Ok(PendingExpiry {
        waba_id: col(r, 0)?,
        message_id: col(r, 1)?,
        client_id: col(r, 2)?,
        chat_id: col(r, 3)?,
        seq: stored(col(r, 4)?, "expiry seq")?,
        recipient: col(r, 5)?,
        expires_at: col(r, 6)?,
    })
}

fn idempotency_row(r: &Row) -> StoreResult<IdempotencyRecord> {
    Ok(IdempotencyRecord {
        request_hash: col(r, 0)?,
        status: stored(i64::from(col::<i32>(r, 1)?), "idempotency status")?,
        body: col(r, 2)?,
        created_at: col(r, 3)?,
    })
}

fn rows<T>(rows: &[Row], f: impl Fn(&Row) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(f).collect()
}

impl PgStore {
    async fn business_where(&self, column: &str, value: &str) -> StoreResult<Option<Business>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {BUSINESS_COLUMNS} FROM businesses WHERE {column} = $1"),
                &[&value],
            )
            .await
            .map_err(pg_err)?;
        row.as_ref().map(business_row).transpose()
    }

    /// Runs one statement that writes and returns how many rows it touched.
    async fn exec(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(sql, params).await.map_err(pg_err)
    }
}

#[async_trait]
impl BusinessStore for PgStore {
    async fn create_business(&self, b: &Business) -> StoreResult<()> {
        let c = self.client().await?;
        let mps = b.throughput_mps.map(i64::from);
        c.execute(
            "INSERT INTO businesses (waba_id, phone_number_id, user_id, name, vertical,
                 verification, verification_reason, profile, throughput_mps, created_at,
                 messaging_tier)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &b.waba_id,
                &b.phone_number_id,
                &b.user_id,
                &b.name,
                &b.vertical,
                &b.verification,
                &b.verification_reason,
                &b.profile,
                &mps,
                &b.created_at,
                &b.messaging_tier,
            ],
        )
        .await
        .map_err(|e| {
            conflict_or(e, || {
                format!(
                    "business {} (phone number id {}, user {}) conflicts with an existing one",
                    b.waba_id, b.phone_number_id, b.user_id
                )
            })
        })?;
        Ok(())
    }

    async fn business(&self, waba_id: &str) -> StoreResult<Option<Business>> {
        self.business_where("waba_id", waba_id).await
    }

    async fn business_by_phone_number_id(
        &self,
        phone_number_id: &str,
    ) -> StoreResult<Option<Business>> {
        self.business_where("phone_number_id", phone_number_id)
            .await
    }

    async fn business_by_user(&self, user_id: &str) -> StoreResult<Option<Business>> {
        self.business_where("user_id", user_id).await
    }

    async fn businesses(&self) -> StoreResult<Vec<Business>> {
        let c = self.client().await?;
        let found = c
            .query(
                &format!(
                    "SELECT {BUSINESS_COLUMNS} FROM businesses
                     ORDER BY created_at, length(waba_id), waba_id"
                ),
                &[],
            )
            .await
            .map_err(pg_err)?;
        rows(&found, business_row)
    }

    async fn update_business(&self, b: &Business) -> StoreResult<()> {
        let mps = b.throughput_mps.map(i64::from);
        let n = self
            .exec(
                "UPDATE businesses SET name = $2, vertical = $3, verification = $4,
                     verification_reason = $5, profile = $6, throughput_mps = $7,
                     messaging_tier = $8
                 WHERE waba_id = $1",
                &[
                    &b.waba_id,
                    &b.name,
                    &b.vertical,
                    &b.verification,
                    &b.verification_reason,
                    &b.profile,
                    &mps,
                    &b.messaging_tier,
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("business {}", b.waba_id)));
        }
        Ok(())
    }

    async fn add_business_token(&self, t: &BusinessToken) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO business_tokens (token_hash, waba_id, scopes, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &t.token_hash,
                &t.waba_id,
                &t.scopes,
                &t.created_at,
                &t.expires_at,
            ],
        )
        .await
        .map_err(|e| conflict_or(e, || "this business token already exists".to_string()))?;
        Ok(())
    }

    async fn business_token(&self, token_hash: &str) -> StoreResult<Option<BusinessToken>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT token_hash, waba_id, scopes, created_at, expires_at
                 FROM business_tokens WHERE token_hash = $1",
                &[&token_hash],
            )
            .await
            .map_err(pg_err)?;
        row.map(|r| {
            Ok(BusinessToken {
                token_hash: col(&r, 0)?,
                waba_id: col(&r, 1)?,
                scopes: col(&r, 2)?,
                created_at: col(&r, 3)?,
                expires_at: col(&r, 4)?,
            })
        })
        .transpose()
    }

    async fn create_template(&self, t: &Template) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(
            &format!(
                "INSERT INTO templates ({TEMPLATE_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ),
            &[
                &t.template_id,
                &t.waba_id,
                &t.name,
                &t.language,
                &t.category,
                &t.parameter_format,
                &t.components,
                &t.status,
                &t.reason,
                &t.created_at,
                &t.updated_at,
            ],
        )
        .await
        .map_err(|e| {
            conflict_or(e, || {
                format!(
                    "template {:?} ({}) already exists, or id {} is taken",
                    t.name, t.language, t.template_id
                )
            })
        })?;
        Ok(())
    }

    async fn template(&self, template_id: &str) -> StoreResult<Option<Template>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE template_id = $1"),
                &[&template_id],
            )
            .await
            .map_err(pg_err)?;
        row.as_ref().map(template_row).transpose()
    }

    async fn template_by_name(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
    ) -> StoreResult<Option<Template>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates
                     WHERE waba_id = $1 AND name = $2 AND language = $3"
                ),
                &[&waba_id, &name, &language],
            )
            .await
            .map_err(pg_err)?;
        row.as_ref().map(template_row).transpose()
    }

    async fn templates(&self, waba_id: &str) -> StoreResult<Vec<Template>> {
        let c = self.client().await?;
        let found = c
            .query(
                &format!(
                    "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE waba_id = $1
                     ORDER BY created_at, length(template_id), template_id"
                ),
                &[&waba_id],
            )
            .await
            .map_err(pg_err)?;
        rows(&found, template_row)
    }

    async fn update_template(&self, t: &Template) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE templates SET category = $2, parameter_format = $3, components = $4,
                     status = $5, reason = $6, updated_at = $7
                 WHERE template_id = $1",
                &[
                    &t.template_id,
                    &t.category,
                    &t.parameter_format,
                    &t.components,
                    &t.status,
                    &t.reason,
                    &t.updated_at,
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("template {}", t.template_id)));
        }
        Ok(())
    }

    async fn delete_template(&self, template_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM templates WHERE template_id = $1",
                &[&template_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn set_webhook(&self, w: &WebhookConfig) -> StoreResult<()> {
        self.exec(
            "INSERT INTO webhooks (waba_id, url, verify_token, app_secret, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (waba_id) DO UPDATE SET url = EXCLUDED.url,
                 verify_token = EXCLUDED.verify_token, app_secret = EXCLUDED.app_secret,
                 updated_at = EXCLUDED.updated_at",
            &[
                &w.waba_id,
                &w.url,
                &w.verify_token,
                &w.app_secret,
                &w.updated_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn webhook(&self, waba_id: &str) -> StoreResult<Option<WebhookConfig>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE waba_id = $1"),
                &[&waba_id],
            )
            .await
            .map_err(pg_err)?;
        row.as_ref().map(webhook_row).transpose()
    }

    async fn webhooks(&self) -> StoreResult<Vec<WebhookConfig>> {
        let c = self.client().await?;
        let found = c
            .query(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY waba_id"),
                &[],
            )
            .await
            .map_err(pg_err)?;
        rows(&found, webhook_row)
    }

    async fn customer_flags(&self, waba_id: &str, customer: &str) -> StoreResult<CustomerFlags> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT blocked, marketing_opt_out FROM customer_flags
                 WHERE waba_id = $1 AND customer = $2",
                &[&waba_id, &customer],
            )
            .await
            .map_err(pg_err)?;
        match row {
            None => Ok(CustomerFlags::default()),
            Some(r) => Ok(CustomerFlags {
                blocked: col(&r, 0)?,
                marketing_opt_out: col(&r, 1)?,
            }),
        }
    }

    async fn set_customer_flags(
        &self,
        waba_id: &str,
        customer: &str,
        flags: &CustomerFlags,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO customer_flags (waba_id, customer, blocked, marketing_opt_out, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (waba_id, customer) DO UPDATE SET blocked = EXCLUDED.blocked,
                 marketing_opt_out = EXCLUDED.marketing_opt_out, updated_at = EXCLUDED.updated_at",
            &[
                &waba_id,
                &customer,
                &flags.blocked,
                &flags.marketing_opt_out,
                &now,
            ],
        )
        .await?;
        Ok(())
    }

    async fn add_feedback(
        &self,
        waba_id: &str,
        customer: &str,
        kind: FeedbackKind,
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO feedback (waba_id, customer, kind, ts) VALUES ($1, $2, $3, $4)",
            &[&waba_id, &customer, &kind.as_str(), &now],
        )
        .await?;
        Ok(())
    }

    async fn feedback_since(&self, waba_id: &str, since: i64) -> StoreResult<(u64, u64)> {
        let c = self.client().await?;
        let r = c
            .query_one(
                "SELECT count(*) FILTER (WHERE kind = 'block'),
                        count(*) FILTER (WHERE kind = 'report')
                 FROM feedback WHERE waba_id = $1 AND ts >= $2",
                &[&waba_id, &since],
            )
            .await
            .map_err(pg_err)?;
        Ok((
            stored(col(&r, 0)?, "feedback count")?,
            stored(col(&r, 1)?, "feedback count")?,
        ))
    }

    async fn note_reached(&self, waba_id: &str, customer: &str, now: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO reached (waba_id, customer, reached_at) VALUES ($1, $2, $3)
             ON CONFLICT (waba_id, customer)
             DO UPDATE SET reached_at = greatest(reached.reached_at, EXCLUDED.reached_at)",
            &[&waba_id, &customer, &now],
        )
        .await?;
        Ok(())
    }

    async fn reached_since(&self, waba_id: &str, since: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        let r = c
            .query_one(
                "SELECT count(*) FROM reached WHERE waba_id = $1 AND reached_at >= $2",
                &[&waba_id, &since],
            )
            .await
            .map_err(pg_err)?;
        stored(col(&r, 0)?, "reach count")
    }

    async fn was_reached_since(
        &self,
        waba_id: &str,
        customer: &str,
        since: i64,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT 1 FROM reached WHERE waba_id = $1 AND customer = $2 AND reached_at >= $3",
                &[&waba_id, &customer, &since],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.is_some())
    }

    async fn put_message_meta(&self, m: &MessageMeta) -> StoreResult<()> {
        self.exec(
            "INSERT INTO message_meta (waba_id, client_id, category, billable, pricing_type,
                 biz_opaque_callback_data, template_name, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (waba_id, client_id) DO UPDATE SET category = EXCLUDED.category,
                 billable = EXCLUDED.billable, pricing_type = EXCLUDED.pricing_type,
                 biz_opaque_callback_data = EXCLUDED.biz_opaque_callback_data,
                 template_name = EXCLUDED.template_name, created_at = EXCLUDED.created_at",
            &[
                &m.waba_id,
                &m.client_id,
                &m.category,
                &m.billable,
                &m.pricing_type,
                &m.biz_opaque_callback_data,
                &m.template_name,
                &m.created_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn message_meta(
        &self,
        waba_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<MessageMeta>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT waba_id, client_id, category, billable, pricing_type,
                        biz_opaque_callback_data, template_name, created_at
                 FROM message_meta WHERE waba_id = $1 AND client_id = $2",
                &[&waba_id, &client_id],
            )
            .await
            .map_err(pg_err)?;
        row.map(|r| {
            Ok(MessageMeta {
                waba_id: col(&r, 0)?,
                client_id: col(&r, 1)?,
                category: col(&r, 2)?,
                billable: col(&r, 3)?,
                pricing_type: col(&r, 4)?,
                biz_opaque_callback_data: col(&r, 5)?,
                template_name: col(&r, 6)?,
                created_at: col(&r, 7)?,
            })
        })
        .transpose()
    }

    async fn add_expiry(&self, e: &PendingExpiry) -> StoreResult<()> {
        self.exec(
            &format!(
                "INSERT INTO business_expiries ({EXPIRY_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
            ),
            &[
                &e.waba_id,
                &e.message_id,
                &e.client_id,
                &e.chat_id,
                &to_i64(e.seq),
                &e.recipient,
                &e.expires_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn due_expiries(
        &self,
        waba_id: &str,
        now: i64,
        limit: usize,
    ) -> StoreResult<Vec<PendingExpiry>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = c
            .query(
                &format!(
                    "SELECT {EXPIRY_COLUMNS} FROM business_expiries
                     WHERE waba_id = $1 AND expires_at <= $2
                     ORDER BY expires_at, message_id LIMIT $3"
                ),
                &[&waba_id, &now, &limit],
            )
            .await
            .map_err(pg_err)?;
        rows(&found, expiry_row)
    }

    async fn remove_expiry(&self, waba_id: &str, message_id: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM business_expiries WHERE waba_id = $1 AND message_id = $2",
            &[&waba_id, &message_id],
        )
        .await?;
        Ok(())
    }

    async fn record_usage(&self, u: &UsageRecord) -> StoreResult<bool> {
        let n = self
            .exec(
                "INSERT INTO business_usage (waba_id, message_id, category, country,
                     price_micros, currency, ts)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &u.waba_id,
                    &u.message_id,
                    &u.category,
                    &u.country,
                    &u.price_micros,
                    &u.currency,
                    &u.ts,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn usage(&self, waba_id: &str, from: i64, to: i64) -> StoreResult<Vec<UsageRecord>> {
        let c = self.client().await?;
        let found = c
            .query(
                "SELECT waba_id, message_id, category, country, price_micros, currency, ts
                 FROM business_usage WHERE waba_id = $1 AND ts >= $2 AND ts < $3
                 ORDER BY ts, message_id",
                &[&waba_id, &from, &to],
            )
            .await
            .map_err(pg_err)?;
        rows(&found, usage_row)
    }

    async fn idempotency_claim(
        &self,
        waba_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        expire_before: i64,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let c = self.client().await?;
        // Expired answers of this business go first, so the table stays bounded and
        // an expired record of this very key is replaced below.
        c.execute(
            "DELETE FROM idempotency_keys WHERE waba_id = $1 AND created_at < $2",
            &[&waba_id, &expire_before],
        )
        .await
        .map_err(pg_err)?;
        // The insert decides: on a conflict it waits for the other claim's commit
        // and then returns nothing. The record read after it can vanish in between
        // (released, or expired by another claim): then claim again.
        for _ in 0..3 {
            let claimed = c
                .query_opt(
                    "INSERT INTO idempotency_keys (waba_id, idem_key, request_hash, status, body,
                         created_at)
                     VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT DO NOTHING RETURNING 1",
                    &[&waba_id, &key, &request_hash, &now],
                )
                .await
                .map_err(pg_err)?;
            if claimed.is_some() {
                return Ok(None);
            }
            let seen = c
                .query_opt(
                    "SELECT request_hash, status, body, created_at FROM idempotency_keys
                     WHERE waba_id = $1 AND idem_key = $2",
                    &[&waba_id, &key],
                )
                .await
                .map_err(pg_err)?;
            if let Some(r) = seen {
                return idempotency_row(&r).map(Some);
            }
        }
        Err(StoreError::Backend(format!(
            "idempotency key {key:?} kept changing while being claimed; hint: retry"
        )))
    }

    async fn idempotency_complete(
        &self,
        waba_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        self.exec(
            "UPDATE idempotency_keys SET status = $3, body = $4
             WHERE waba_id = $1 AND idem_key = $2 AND status = 0",
            &[&waba_id, &key, &i32::from(status), &body],
        )
        .await?;
        Ok(())
    }

    async fn idempotency_release(&self, waba_id: &str, key: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM idempotency_keys WHERE waba_id = $1 AND idem_key = $2 AND status = 0",
            &[&waba_id, &key],
        )
        .await?;
        Ok(())
    }

    async fn dispatch_cursor(&self, waba_id: &str) -> StoreResult<DispatchCursor> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT inbox_seq, event_seq FROM dispatch_cursors WHERE waba_id = $1",
                &[&waba_id],
            )
            .await
            .map_err(pg_err)?;
        match row {
            None => Ok(DispatchCursor::default()),
            Some(r) => Ok(DispatchCursor {
                inbox_seq: stored(col(&r, 0)?, "dispatch inbox_seq")?,
                event_seq: stored(col(&r, 1)?, "dispatch event_seq")?,
            }),
        }
    }

    async fn set_dispatch_cursor(&self, waba_id: &str, cursor: DispatchCursor) -> StoreResult<()> {
        self.exec(
            "INSERT INTO dispatch_cursors (waba_id, inbox_seq, event_seq) VALUES ($1, $2, $3)
             ON CONFLICT (waba_id) DO UPDATE SET inbox_seq = EXCLUDED.inbox_seq,
                 event_seq = EXCLUDED.event_seq",
            &[
                &waba_id,
                &to_i64(cursor.inbox_seq),
                &to_i64(cursor.event_seq),
            ],
        )
        .await?;
        Ok(())
    }

    async fn status_progress(&self, waba_id: &str, chat_id: &str) -> StoreResult<StatusProgress> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT delivered, read FROM status_progress WHERE waba_id = $1 AND chat_id = $2",
                &[&waba_id, &chat_id],
            )
            .await
            .map_err(pg_err)?;
        match row {
            None => Ok(StatusProgress::default()),
            Some(r) => Ok(StatusProgress {
                delivered: stored(col(&r, 0)?, "delivered progress")?,
                read: stored(col(&r, 1)?, "read progress")?,
            }),
        }
    }

    async fn set_status_progress(
        &self,
        waba_id: &str,
        chat_id: &str,
        progress: StatusProgress,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO status_progress (waba_id, chat_id, delivered, read) VALUES ($1, $2, $3, $4)
             ON CONFLICT (waba_id, chat_id) DO UPDATE SET delivered = EXCLUDED.delivered,
                 read = EXCLUDED.read",
            &[
                &waba_id,
                &chat_id,
                &to_i64(progress.delivered),
                &to_i64(progress.read),
            ],
        )
        .await?;
        Ok(())
    }

    async fn push_event(&self, waba_id: &str, payload: &str, now: i64) -> StoreResult<u64> {
        let c = self.client().await?;
        // One statement, so one transaction: the counter row's lock (taken by the
        // upsert, held to the commit) numbers the events of every node in turn.
        let r = c
            .query_one(
                "WITH n AS (
                     INSERT INTO event_counters AS c (waba_id, last_seq) VALUES ($1, 1)
                     ON CONFLICT (waba_id) DO UPDATE SET last_seq = c.last_seq + 1
                     RETURNING last_seq
                 )
                 INSERT INTO outbox_events (waba_id, seq, payload, created_at)
                 SELECT $1, last_seq, $2, $3 FROM n
                 RETURNING seq",
                &[&waba_id, &payload, &now],
            )
            .await
            .map_err(pg_err)?;
        stored(col(&r, 0)?, "event seq")
    }

    async fn events_after(
        &self,
        waba_id: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEvent>> {
        let c = self.client().await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = c
            .query(
                "SELECT seq, payload, created_at FROM outbox_events
                 WHERE waba_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&waba_id, &to_i64(after), &limit],
            )
            .await
            .map_err(pg_err)?;
        rows(&found, |r| {
            Ok(OutboxEvent {
                seq: stored(col(r, 0)?, "event seq")?,
                payload: col(r, 1)?,
                created_at: col(r, 2)?,
            })
        })
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        let until = now.saturating_add(ttl_ms);
        let row = c
            .query_opt(
                "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,
                     expires_at = EXCLUDED.expires_at
                 WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < $4
                 RETURNING 1",
                &[&name, &holder, &until, &now],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.is_some())
    }
}
