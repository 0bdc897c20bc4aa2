//! Scenario files: `tests/compat/<family>/<name>.txt`.
//!
//! One command per line in redis-cli syntax (quotes and escapes as redis-cli's
//! `sdssplitargs` reads them). Blank lines and lines starting with `#` are
//! comments, except directives, which start with `#!`:
//!
//! Modifiers, for the next reply-producing line only:
//! - `#! unordered`: compare aggregates as multisets (at every level).
//! - `#! approx <tolerance>`: numbers (integers, doubles, numeric bulk
//!   strings) may differ by up to the tolerance.
//! - `#! any`: any reply is accepted (it must arrive).
//! - `#! type`: only the reply's RESP type is compared.
//! - `#! shape`: types, aggregate sizes and map keys are compared; scalar
//!   values are not (HELLO, CLIENT INFO, ...).
//! - `#! send`: the next command is sent without waiting for its reply
//!   (a blocking command); read the reply later with `#! recv`.
//!
//! Statements:
//! - `#! client <n>`: the following lines run on client `n` (1, 2, 3, ...;
//!   client 1 is the default). Each client is a connection of its own,
//!   opened on first use.
//! - `#! proto 2|3`: `HELLO 2|3` on the current client; the reply is
//!   compared by shape.
//! - `#! sleep <ms>`: waits.
//! - `#! recv [<ms>]`: reads the next reply on the current client, waiting
//!   up to `ms` (default 5000); no reply in time is itself a reply
//!   (`<no reply>`), so `#! recv 100` checks that a client is still blocked.
//! - `#! raw <part> ...`: sends bytes as they are (parts in redis-cli quoting,
//!   concatenated; a bare `xN` repeats the previous part N times), then
//!   collects every reply until the server closes the connection or stays
//!   quiet for a moment. A closed connection is reopened on next use.
//! - `#! reconnect`: closes the current client's connection and opens a new
//!   one (RESP2, database 0).

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::text::split_args;

/// How two replies are compared.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Check {
    pub unordered: bool,
    pub approx: Option<f64>,
    pub level: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    #[default]
    Exact,
    Shape,
    Type,
    Any,
}

impl Check {
    pub fn is_exact(&self) -> bool {
        *self == Check::default()
    }

    /// The directive lines that select this check.
    pub fn directives(&self) -> Vec<String> {
        let mut v = Vec::new();
        match self.level {
            Level::Exact => {}
            Level::Shape => v.push("#! shape".to_string()),
            Level::Type => v.push("#! type".to_string()),
            Level::Any => v.push("#! any".to_string()),
        }
        if self.unordered {
            v.push("#! unordered".into());
        }
        if let Some(t) = self.approx {
            v.push(format!("#! approx {t}"));
        }
        v
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    /// A command; `wait` is false for `#! send`.
    Command {
        args: Vec<Vec<u8>>,
        wait: bool,
    },
    Raw(Vec<u8>),
    Recv {
        timeout_ms: u64,
    },
    Proto(u8),
    Sleep(u64),
    Reconnect,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based line in the scenario file.
    pub line: usize,
    /// The line as written, trimmed (records are keyed by it).
    pub text: String,
    /// 0-based client index.
    pub client: usize,
    pub action: Action,
    pub check: Check,
}

impl Step {
    /// Whether the step yields a reply that is compared and recorded.
    pub fn has_reply(&self) -> bool {
        match &self.action {
            Action::Command { wait, .. } => *wait,
            Action::Raw(_) | Action::Recv { .. } | Action::Proto(_) => true,
            Action::Sleep(_) | Action::Reconnect => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Scenario {
    /// Path relative to tests/compat, with `/` separators.
    pub name: String,
    pub steps: Vec<Step>,
}

pub fn load(path: &Path, name: String) -> Result<Scenario> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text, name)
}

pub fn parse(text: &str, name: String) -> Result<Scenario> {
    let mut steps = Vec::new();
    let mut client = 0usize;
    let mut pending = Check::default();
    let mut pending_send = false;
    let mut modifier_line = 0usize;
    for (i, raw_line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw_line.trim();
        let at = || format!("{name}:{lineno}");
        if line.is_empty() {
            continue;
        }
        if let Some(d) = line.strip_prefix("#!") {
            let words: Vec<&str> = d.split_whitespace().collect();
            let Some((&word, rest)) = words.split_first() else {
                bail!("{}: empty directive", at());
            };
            let num = |what: &str| -> Result<u64> {
                match rest {
                    [n] => n
                        .parse()
                        .with_context(|| format!("{}: bad {what} '{n}'", at())),
                    _ => bail!("{}: '#! {word}' takes one number ({what})", at()),
                }
            };
            let mut step = |action: Action, check: Check| {
                steps.push(Step {
                    line: lineno,
                    text: line.to_string(),
                    client,
                    action,
                    check,
                });
            };
            match word {
                "unordered" => pending.unordered = true,
                "approx" => {
                    let t: f64 = match rest {
                        [t] => t
                            .parse()
                            .with_context(|| format!("{}: bad tolerance", at()))?,
                        _ => bail!("{}: '#! approx' takes a tolerance", at()),
                    };
                    pending.approx = Some(t);
                }
                "any" => pending.level = Level::Any,
                "type" => pending.level = Level::Type,
                "shape" => pending.level = Level::Shape,
                "send" => pending_send = true,
                "client" => {
                    let n = num("client number")? as usize;
                    if n == 0 || n > 16 {
                        bail!("{}: clients are numbered 1 to 16", at());
                    }
                    client = n - 1;
                    continue;
                }
                "sleep" => step(Action::Sleep(num("milliseconds")?), Check::default()),
                "reconnect" => step(Action::Reconnect, Check::default()),
                "proto" => {
                    let p = num("protocol")?;
                    if p != 2 && p != 3 {
                        bail!("{}: protocol is 2 or 3", at());
                    }
                    let check = Check {
                        level: Level::Shape,
                        ..pending
                    };
                    step(Action::Proto(p as u8), check);
                    pending = Check::default();
                }
                "recv" => {
                    let timeout_ms = if rest.is_empty() {
                        5000
                    } else {
                        num("milliseconds")?
                    };
                    step(Action::Recv { timeout_ms }, pending);
                    pending = Check::default();
                }
                "raw" => {
                    let body = d.trim_start().strip_prefix("raw").unwrap_or_default();
                    let bytes = raw_bytes(body).with_context(at)?;
                    step(Action::Raw(bytes), pending);
                    pending = Check::default();
                }
                other => bail!("{}: unknown directive '#! {other}'", at()),
            }
            if matches!(
                word,
                "unordered" | "approx" | "any" | "type" | "shape" | "send"
            ) {
                modifier_line = lineno;
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let args: Vec<Vec<u8>> = split_args(line)
            .map_err(|e| anyhow::anyhow!("{}: {e}", at()))?
            .into_iter()
            .map(|t| t.bytes)
            .collect();
        if args.is_empty() {
            continue;
        }
        steps.push(Step {
            line: lineno,
            text: line.to_string(),
            client,
            action: Action::Command {
                args,
                wait: !pending_send,
            },
            check: pending,
        });
        pending = Check::default();
        pending_send = false;
    }
    if pending != Check::default() || pending_send {
        bail!("{name}:{modifier_line}: a modifier with no command after it");
    }
    Ok(Scenario { name, steps })
}

/// The bytes of a `#! raw` line: redis-cli-quoted parts, concatenated; an
/// unquoted `xN` repeats the previous part N times in all.
fn raw_bytes(body: &str) -> Result<Vec<u8>> {
    let tokens = split_args(body).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    for t in tokens {
        if !t.quoted
            && t.bytes.len() > 1
            && t.bytes[0] == b'x'
            && t.bytes[1..].iter().all(u8::is_ascii_digit)
        {
            let n: usize = std::str::from_utf8(&t.bytes[1..])?.parse()?;
            let Some(prev) = last.take() else {
                bail!("'xN' must follow a part");
            };
            if n == 0 {
                bail!("'x0' is not a repetition");
            }
            for _ in 1..n {
                out.extend_from_slice(&prev);
            }
            continue;
        }
        out.extend_from_slice(&t.bytes);
        last = Some(t.bytes);
    }
    if out.is_empty() {
        bail!("'#! raw' needs bytes to send");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_directives() {
        let s = parse(
            "# a comment\n\
             SET k \"a b\"\n\
             \n\
             #! unordered\n\
             KEYS *\n\
             #! client 2\n\
             #! send\n\
             BLPOP l 0\n\
             #! client 1\n\
             #! approx 1\n\
             TTL k\n\
             #! sleep 10\n\
             #! proto 3\n\
             #! recv 100\n\
             #! raw \"*1\\r\\n\" \"$4\\r\\nPING\\r\\n\"\n\
             #! raw \"a\" x3 \"\\r\\n\"\n",
            "t.txt".into(),
        )
        .unwrap();
        let st = &s.steps;
        assert_eq!(st.len(), 9);
        assert_eq!(st[0].line, 2);
        assert!(matches!(&st[0].action, Action::Command { args, wait: true } if args[2] == b"a b"));
        assert!(st[1].check.unordered);
        assert_eq!(st[2].client, 1);
        assert!(matches!(st[2].action, Action::Command { wait: false, .. }));
        assert!(!st[2].has_reply());
        assert_eq!(st[3].client, 0);
        assert_eq!(st[3].check.approx, Some(1.0));
        assert!(matches!(st[4].action, Action::Sleep(10)));
        assert!(matches!(st[5].action, Action::Proto(3)));
        assert_eq!(st[5].check.level, Level::Shape);
        assert!(matches!(st[6].action, Action::Recv { timeout_ms: 100 }));
        assert!(matches!(&st[7].action, Action::Raw(b) if b == b"*1\r\n$4\r\nPING\r\n"));
        assert!(matches!(&st[8].action, Action::Raw(b) if b == b"aaa\r\n"));
    }

    #[test]
    fn rejects_mistakes() {
        for bad in [
            "#! unordered\n",
            "#! nosuch\n",
            "SET \"k\n",
            "#! client 0\n",
            "#! proto 4\n",
            "#! approx\nGET k\n",
            "#! raw\n",
            "#! raw x3\n",
        ] {
            assert!(parse(bad, "t".into()).is_err(), "{bad:?}");
        }
    }
}
