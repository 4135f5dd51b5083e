//! Helpers for the business app's tests: users with tokens, a user turning their
//! account into a business, and raw JSON calls that return `(status, body)`.

// Shared by every app test module; each uses a different part.
#![allow(dead_code)]

use serde_json::{Value, json};

use crate::support::{TestServer, uid};

/// A registered user: token and user id.
#[derive(Clone)]
pub struct User {
    pub token: String,
    pub user_id: String,
}

/// The business a test works with, and its owner.
#[derive(Clone)]
pub struct Shop {
    pub waba_id: String,
    /// The business's own user id (customers chat with this user).
    pub user_id: String,
    pub owner: User,
}

pub struct App {
    pub http: reqwest::Client,
    pub base: String,
}

impl App {
    pub fn new(server: &TestServer) -> App {
        App {
            http: reqwest::Client::new(),
            base: server.base.clone(),
        }
    }

    /// A JSON call with a user's token (or none); `(status, body)` (`Null` when the
    /// body is not JSON).
    pub async fn call(
        &self,
        token: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, who: &User, path: &str) -> (u16, Value) {
        self.call(Some(&who.token), reqwest::Method::GET, path, None)
            .await
    }

    pub async fn post(&self, who: &User, path: &str, body: Value) -> (u16, Value) {
        self.call(Some(&who.token), reqwest::Method::POST, path, Some(body))
            .await
    }

    pub async fn put(&self, who: &User, path: &str, body: Value) -> (u16, Value) {
        self.call(Some(&who.token), reqwest::Method::PUT, path, Some(body))
            .await
    }

    pub async fn patch(&self, who: &User, path: &str, body: Value) -> (u16, Value) {
        self.call(Some(&who.token), reqwest::Method::PATCH, path, Some(body))
            .await
    }

    pub async fn delete(&self, who: &User, path: &str) -> (u16, Value) {
        self.call(Some(&who.token), reqwest::Method::DELETE, path, None)
            .await
    }
}

/// Registers `phone` (dev codes) and returns the user.
pub async fn user(server: &TestServer, phone: &str) -> User {
    let (_, token) = server.user(phone).await;
    User {
        token,
        user_id: uid(phone),
    }
}

/// Registers `phone` and turns the account into the business `name`.
pub async fn shop(server: &TestServer, app: &App, phone: &str, name: &str) -> Shop {
    let owner = user(server, phone).await;
    let (status, body) = app
        .post(
            &owner,
            "/v1/biz",
            json!({"name": name, "vertical": "RETAIL"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    Shop {
        waba_id: body["waba_id"].as_str().expect("waba_id").to_owned(),
        user_id: body["user_id"].as_str().expect("user_id").to_owned(),
        owner,
    }
}

/// Polls `f` until it returns `Some` (the app worker reacts asynchronously); panics
/// after 10 s.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..400 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}
