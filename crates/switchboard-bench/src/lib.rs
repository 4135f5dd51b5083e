//! The load generator behind `switchboard bench`.
//!
//! Scenarios, each bounded in count and time and meant for a server on loopback:
//! - `idle`: many idle WebSocket connections spread over child processes (this binary
//!   re-executed with the hidden `idle-child` subcommand), and the server's RSS per
//!   connection when `--server-pid` is given;
//! - `direct`: sender/receiver pairs, each sender keeping K sends in flight (or paced to
//!   a fixed total rate): acks/s, deliveries/s, send→ack and send→receive latency;
//! - `group`: one group, S senders, fan-out deliveries/s and latency;
//! - `media`: per payload size, concurrent uploads (as documents) then verified
//!   downloads: uploads/s, MiB/s each way, latency, the server's RSS every 100 ms when
//!   `--server-pid` is given, and a raw disk write of the same bytes for comparison.
//!
//! - `cloud`: the business API: template sends through `POST /messages` with K in
//!   flight to many customers, webhook events counted by a receiver in this process.
//!
//! Users are registered through the public API (dev mode returns the code). Against a
//! 127.x server, registrations and connections are spread over many 127.x.y.z source
//! addresses, so per-address rate limits and the ephemeral port range apply per address.

mod cloud;
mod idle;
mod load;
mod media;
mod report;
mod users;

use clap::{Args, Subcommand};

pub use cloud::CloudArgs;
pub use idle::{IdleArgs, IdleChildArgs};
pub use load::{DirectArgs, GroupArgs};
pub use media::MediaArgs;
pub use users::{CommonArgs, User};

/// `switchboard bench`: pick a scenario.
#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Hold many idle connections; report server memory per connection.
    Idle(IdleArgs),
    /// 1:1 messaging throughput and latency.
    Direct(DirectArgs),
    /// Group fan-out throughput and latency.
    Group(GroupArgs),
    /// Media upload/download throughput, latency and server memory.
    Media(MediaArgs),
    /// Business API: template sends, delivery and webhook throughput.
    Cloud(CloudArgs),
    /// Internal: one child process of `idle`.
    #[command(hide = true)]
    IdleChild(IdleChildArgs),
}

/// Runs one scenario.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.scenario {
        Scenario::Idle(a) => idle::run(a).await,
        Scenario::Direct(a) => load::run_direct(a).await,
        Scenario::Group(a) => load::run_group(a).await,
        Scenario::Media(a) => media::run(a).await,
        Scenario::Cloud(a) => cloud::run(a).await,
        Scenario::IdleChild(a) => idle::child(a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "bench",
            "direct",
            "--server",
            "http://127.0.0.1:1",
            "--pairs",
            "2",
            "--rate",
            "100",
        ])
        .expect("parses");
        assert!(matches!(cli.bench.scenario, Scenario::Direct(_)));
        let cli = Cli::try_parse_from([
            "bench",
            "media",
            "--server",
            "http://127.0.0.1:1",
            "--sizes",
            "1MiB,50MiB",
            "--count",
            "3",
        ])
        .expect("parses");
        assert!(matches!(cli.bench.scenario, Scenario::Media(_)));
    }
}
