//! `ferrum-server [/path/to/redis.conf] [--option value ...]`

use std::sync::Arc;

use anyhow::Result;
use clap::Parser;
use commands::state::Server;
use ferrum_server::{bind, conf, memory_stats, serve};

#[derive(Parser)]
#[command(
    name = "ferrum-server",
    version,
    about = "Ferrum: a Redis-compatible in-memory data store",
    after_help = "Examples:\n  ferrum-server\n  ferrum-server /etc/redis/redis.conf\n  ferrum-server --port 7777 --databases 4\n  ferrum-server /etc/redis.conf --loglevel verbose"
)]
struct Args {
    /// An optional redis.conf, then options as `--name value` (any option
    /// redis.conf accepts, e.g. --port 6380 --bind 127.0.0.1 --databases 16).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CONFIG] [--OPTION VALUE"
    )]
    rest: Vec<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let startup = conf::from_args(&args.rest)?;
    let level = match startup.values.loglevel.as_str() {
        "debug" => "debug",
        "verbose" => "info",
        "notice" => "info",
        "warning" => "warn",
        _ => "error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .init();
    for (src, line, text) in &startup.ignored {
        tracing::warn!("{src}, line {line}: option not supported by Ferrum, ignored: '{text}'");
    }
    let registry = commands::init();
    tracing::debug!("{} commands registered", registry.entries().len());
    let threads = match startup.values.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    let mut server = Server::new(startup.values, startup.file, storage::Clock::system());
    server.memory = memory_stats;
    let server = Arc::new(server);
    rt.block_on(async move {
        let listeners = bind(&server).await?;
        let port = server.tcp_port.load(std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            "Ferrum {} ready to accept connections on port {port} ({threads} threads)",
            env!("CARGO_PKG_VERSION")
        );
        let s = server.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("received a signal, shutting down");
            s.shutdown.request();
        });
        serve(server, listeners).await?;
        tracing::info!("Ferrum is now ready to exit, bye bye...");
        Ok::<_, anyhow::Error>(())
    })?;
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
