//! Project automation: `cargo xtask <task>`.

mod gen_spec;

use std::path::PathBuf;

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
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.task {
        Task::GenSpec { json } => {
            let out = workspace_root().join("commands/src/spec.rs");
            gen_spec::run(&json, &out)?;
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

/// The workspace root: xtask lives one level below it.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}
