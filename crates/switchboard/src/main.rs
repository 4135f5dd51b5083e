//! `switchboard`: one binary for the server, its admin tasks, a terminal chat client
//! and the load generator.

mod biz;
mod chat;

/// The writer thread and the connection tasks allocate many small, short-lived
/// buffers; glibc's allocator spent a quarter of the writer's time in malloc and
/// consolidation under load (perf), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "A WhatsApp-class messenger server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(switchboard_server::cli::ServeArgs),
    /// Platform administration.
    Admin(switchboard_server::cli::AdminArgs),
    /// Chat from the terminal (a protocol v1 client).
    Chat(chat::ChatArgs),
    /// The business app from the terminal (for a business's team).
    Biz(biz::BizArgs),
    /// The load generator.
    Bench(switchboard_bench::BenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking work (storage reads) is bounded by the store; a small pool keeps
        // thread stacks and per-thread allocator heaps from piling up under bursts.
        .max_blocking_threads(64)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => switchboard_server::cli::serve(args).await,
            Command::Admin(args) => switchboard_server::cli::admin(args).await,
            Command::Chat(args) => chat::run(args).await,
            Command::Biz(args) => biz::run(args).await,
            Command::Bench(args) => switchboard_bench::run(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
