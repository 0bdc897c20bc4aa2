//! Project automation: `cargo xtask <task>`.

mod bench;
mod compare;
mod compat;
mod conn;
mod fuzz;
mod gen_spec;
mod readme;
mod record;
mod scenario;
mod servers;
mod text;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Ferrum's project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Regenerate commands/src/spec.rs from Redis's command metadata JSON.
    GenSpec {
        /// Path to Redis 7.2's commands.json.
        json: PathBuf,
    },
    /// The whole suite: `cargo test --workspace`, then the compat scenarios
    /// against the recorded replies, and against a live Redis when
    /// redis-server is on PATH.
    Test {
        /// Skip `cargo test --workspace` (compat scenarios only).
        #[arg(long)]
        no_cargo_test: bool,
        /// Never start redis-server, even when it is on PATH.
        #[arg(long)]
        recorded_only: bool,
    },
    /// Write the list of supported commands into README.md.
    Commands {
        /// Only check that README.md's list is current (exit 1 if not).
        #[arg(long)]
        check: bool,
    },
    /// Run tests/compat scenarios on redis-server and ferrum-server and
    /// compare their raw replies.
    Compat {
        /// Store Redis's replies next to each scenario (`foo.txt` → `foo.expected`).
        #[arg(long)]
        record: bool,
        /// Only scenario files whose path (under tests/compat) contains this.
        #[arg(long)]
        filter: Option<String>,
        /// Check Ferrum against the recorded replies only, without Redis.
        #[arg(long, conflicts_with = "record")]
        recorded_only: bool,
        /// Build ferrum-server in release mode (debug by default).
        #[arg(long)]
        release: bool,
        /// Use this ferrum-server binary instead of building one.
        #[arg(long)]
        ferrum: Option<PathBuf>,
        /// Show every step.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Benchmark Ferrum against redis-server (throughput, CPU time per
    /// request, memory per key, latency, scaling); see docs/PERFORMANCE.md.
    Bench {
        /// The roughly one-minute version (fewer rounds, 100k keys).
        #[arg(long)]
        quick: bool,
        /// Where to write the Markdown summary (a CSV goes next to it).
        /// Default: target/bench/summary.md.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rounds of each alternating measurement (default: 5, or 1 with --quick).
        #[arg(long)]
        rounds: Option<usize>,
        /// Use this ferrum-server binary instead of building one (release).
        #[arg(long)]
        ferrum: Option<PathBuf>,
    },
    /// Differential fuzzing of Ferrum against redis-server.
    FuzzDiff {
        /// Seed of the run; the same seed generates the same sequences.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of commands to run in all.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Redis command groups to draw commands from (string, generic,
        /// connection, server, list, hash, ...; `all` for every group).
        #[arg(long, value_delimiter = ',', default_value = "string,generic")]
        group: Vec<String>,
        /// Commands per sequence (each sequence starts from an empty server).
        #[arg(long, default_value_t = 30)]
        length: usize,
        /// Go on after a difference and collect distinct ones.
        #[arg(long)]
        keep_going: bool,
        /// Only these commands (e.g. `set,getex,object|encoding`).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Never these commands.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Build ferrum-server in release mode (debug by default).
        #[arg(long)]
        release: bool,
        /// Use this ferrum-server binary instead of building one.
        #[arg(long)]
        ferrum: Option<PathBuf>,
        /// Print every command with Redis's reply.
        #[arg(long, short)]
        verbose: bool,
        /// Speak RESP3 (HELLO 3 at the start of every sequence).
        #[arg(long)]
        resp3: bool,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool> {
    let cli = Cli::parse();
    match cli.task {
        Task::GenSpec { json } => {
            let out = workspace_root().join("commands/src/spec.rs");
            gen_spec::run(&json, &out)?;
            println!("wrote {}", out.display());
            Ok(true)
        }
        Task::Commands { check } => readme::run(check),
        Task::Bench {
            quick,
            out,
            rounds,
            ferrum,
        } => bench::run(&bench::Options {
            quick,
            out,
            rounds,
            ferrum,
        }),
        Task::Test {
            no_cargo_test,
            recorded_only,
        } => test(no_cargo_test, recorded_only),
        Task::Compat {
            record,
            filter,
            recorded_only,
            release,
            ferrum,
            verbose,
        } => {
            let opts = compat::Options {
                record,
                live: if recorded_only {
                    compat::Live::Never
                } else if record {
                    compat::Live::Require
                } else {
                    compat::Live::Auto
                },
                filter,
                release,
                verbose,
                ferrum,
            };
            let sum = compat::run(&opts)?;
            println!("{}", sum.line());
            Ok(sum.failed == 0)
        }
        Task::FuzzDiff {
            seed,
            count,
            group,
            length,
            keep_going,
            only,
            exclude,
            release,
            ferrum,
            verbose,
            resp3,
        } => fuzz::run(&fuzz::Options {
            seed,
            count,
            groups: group.iter().map(|g| g.to_lowercase()).collect(),
            length,
            keep_going,
            only: only.iter().map(|o| o.to_lowercase()).collect(),
            exclude: exclude.iter().map(|o| o.to_lowercase()).collect(),
            release,
            ferrum,
            verbose,
            resp3,
        }),
    }
}

/// `cargo xtask test`.
fn test(no_cargo_test: bool, recorded_only: bool) -> Result<bool> {
    let mut ok = true;
    if !no_cargo_test {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        println!("==> cargo test --workspace");
        let status = Command::new(cargo)
            .current_dir(workspace_root())
            .args(["test", "--workspace", "--no-fail-fast"])
            .status()?;
        if !status.success() {
            println!("cargo test --workspace failed ({status})");
            ok = false;
        }
    }
    println!("==> compat scenarios");
    let opts = compat::Options {
        record: false,
        live: if recorded_only {
            compat::Live::Never
        } else {
            compat::Live::Auto
        },
        filter: None,
        release: false,
        verbose: false,
        ferrum: None,
    };
    let sum = match compat::run(&opts) {
        Ok(s) => s,
        Err(e) => {
            println!("compat: could not run: {e:#}");
            compat::Summary {
                failed: 1,
                ..compat::Summary::default()
            }
        }
    };
    if !ok {
        println!("cargo test --workspace: FAILED (see above)");
    }
    println!("{}", sum.line());
    Ok(ok && sum.failed == 0)
}

/// The workspace root: xtask lives one level below it.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}
