//! Integration tests: each starts the real server on 127.0.0.1:0 with its own data
//! directory and talks to it over the network, as a client would.

mod accounts;
mod admin;
mod app_account;
mod app_authz;
mod app_automation;
mod app_broadcasts;
mod app_catalog;
mod app_inbox;
mod app_labels;
mod app_links;
mod app_stats;
mod app_templates;
mod app_verification;
mod appkit;
mod biz;
mod chats;
mod cloud;
mod cluster;
mod live;
mod media;
mod ops;
mod support;
