//! Integration tests: each starts the real server on 127.0.0.1:0 with its own data
//! directory and talks to it over the network, as a client would.

mod accounts;
mod admin;
mod app_account;
mod app_automation;
mod app_broadcasts;
mod app_catalog;
mod app_inbox;
mod appkit;
mod biz;
mod chats;
mod cloud;
mod cluster;
mod live;
mod media;
mod ops;
mod support;
