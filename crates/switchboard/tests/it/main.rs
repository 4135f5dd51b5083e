//! End-to-end tests of the `switchboard` binary: the crash test and the CLI.

mod cli;
mod crash;
mod support;
