//! End-to-end tests of the `switchboard` binary: the crash test and the CLI.

mod cli;
mod cluster_crash;
mod crash;
mod pywa;
mod support;
mod web;
mod webhook_crash;
