//! Recorded replies: `foo.txt` → `foo.expected`, written by
//! `cargo xtask compat --record` from a real Redis.
//!
//! ```text
//! # redis 7.0.15
//! # Replies recorded by `cargo xtask compat --record`; do not edit.
//! > SET k v
//! +OK\r\n
//! > GET k
//! $1\r\nv\r\n
//! ```
//!
//! Each reply-producing step of the scenario has one entry: `> ` and the
//! step's line as written, then its reply on one line (see
//! [`crate::compare::Outcome::to_line`]). Entries are matched to steps in
//! order; the step text guards against a scenario edited since recording.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::compare::Outcome;

#[derive(Debug, Clone)]
pub struct Record {
    pub redis_version: String,
    pub entries: Vec<(String, Outcome)>,
}

/// The record file of a scenario file.
pub fn path_for(scenario: &Path) -> PathBuf {
    scenario.with_extension("expected")
}

pub fn load(path: &Path) -> Result<Option<Record>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    parse(&text)
        .with_context(|| format!("in {}", path.display()))
        .map(Some)
}

pub fn parse(text: &str) -> Result<Record> {
    let mut redis_version = String::new();
    let mut entries = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if let Some(v) = line.strip_prefix("# redis ") {
            redis_version = v.trim().to_string();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let Some(step) = line.strip_prefix("> ") else {
            bail!("line {}: expected '> <step>'", i + 1);
        };
        let Some((j, reply)) = lines.next() else {
            bail!("line {}: step without a reply", i + 1);
        };
        let outcome =
            Outcome::from_line(reply).map_err(|e| anyhow::anyhow!("line {}: {e}", j + 1))?;
        entries.push((step.to_string(), outcome));
    }
    Ok(Record {
        redis_version,
        entries,
    })
}

pub fn render(rec: &Record) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# redis {}", rec.redis_version);
    s.push_str("# Replies recorded by `cargo xtask compat --record`; do not edit.\n");
    for (step, outcome) in &rec.entries {
        let _ = writeln!(s, "> {step}");
        let _ = writeln!(s, "{}", outcome.to_line());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let text = "# redis 7.0.15\n# Replies recorded by `cargo xtask compat --record`; do not edit.\n> SET k v\n+OK\\r\\n\n> #! recv 100\n<no reply>\n";
        let r = parse(text).unwrap();
        assert_eq!(r.redis_version, "7.0.15");
        assert_eq!(r.entries.len(), 2);
        assert_eq!(render(&r), text);
        assert!(parse("> GET k\n").is_err());
        assert!(parse("GET k\n").is_err());
    }
}
