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
    // With the AOF off, the dataset comes from `dir`/`dbfilename` (with it
    // on, the AOF is the source of truth, as in Redis). A file that cannot be
    // read in full stops the start: serving an empty or partial dataset would
    // overwrite the good data on the next save.
    if !server.config.read(|v| v.appendonly) {
        let t = std::time::Instant::now();
        match commands::persistence::load_on_start(&server) {
            Ok(Some(stats)) => tracing::info!(
                "DB loaded from disk: {} keys, {} with a deadline, {} already expired and skipped (RDB version {}) in {:.3} seconds",
                stats.keys,
                stats.expires,
                stats.expired_skipped,
                stats.version,
                t.elapsed().as_secs_f64()
            ),
            Ok(None) => {}
            Err(e) => {
                tracing::error!("Fatal error loading the DB, {e}. Exiting.");
                std::process::exit(1);
            }
        }
    }
    let aof_state = match ferrum_server::aof::AofState::start(&server) {
        Ok(s) => s,
        Err(e) => {
            // Printed as well as logged: a server that refuses its AOF
            // must say why wherever its output goes.
            tracing::error!("{e:#}");
            eprintln!("{e:#}");
            std::process::exit(1);
        }
    };
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
        tokio::spawn(aof_state.auto_rewrite_loop(server.clone()));
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
