//! Start-up configuration: an optional redis.conf followed by `--option value`
//! pairs, exactly as redis-server reads its command line.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use commands::config::{apply_file_text, Values};

/// The configuration the server starts with, and the lines it ignored.
#[derive(Debug)]
pub struct Startup {
    pub values: Values,
    pub file: Option<PathBuf>,
    /// Directives Ferrum does not have: (source, line number, text).
    pub ignored: Vec<(String, usize, String)>,
}

/// Reads `args` (without the program name): `[config-file] [--name value ...]`.
/// As in redis-server, the options after the file are applied after it, as
/// if they were extra lines at its end.
pub fn from_args(args: &[String]) -> Result<Startup> {
    let mut values = Values::default();
    let mut ignored = Vec::new();
    let mut rest = args;
    let mut file = None;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            let path = PathBuf::from(first);
            let text = if first == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading config from stdin")?
            } else {
                std::fs::read_to_string(&path)
                    .with_context(|| format!("can't open config file '{first}'"))?
            };
            for (line, t) in apply_file_text(&mut values, &text)? {
                ignored.push((first.clone(), line, t));
            }
            file = Some(std::fs::canonicalize(&path).unwrap_or(path));
            rest = &args[1..];
        }
    }
    let mut lines = String::new();
    for a in rest {
        if let Some(name) = a.strip_prefix("--") {
            if name.is_empty() {
                bail!("empty option name on the command line");
            }
            if !lines.is_empty() {
                lines.push('\n');
            }
            lines.push_str(name);
        } else {
            if lines.is_empty() {
                bail!("unexpected argument '{a}': options are written --name value");
            }
            lines.push(' ');
            lines.push_str(&quote(a));
        }
    }
    for (line, t) in apply_file_text(&mut values, &lines)? {
        ignored.push(("command line".into(), line, t));
    }
    Ok(Startup {
        values,
        file,
        ignored,
    })
}

/// Quotes a command-line value so the config parser reads it back as one word.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && !s
            .bytes()
            .any(|c| c.is_ascii_whitespace() || c == b'"' || c == b'\'' || c == b'\\')
    {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn command_line_options() {
        let s = from_args(&args(&[
            "--port",
            "7001",
            "--bind",
            "127.0.0.1",
            "::1",
            "--requirepass",
            "a b",
        ]))
        .unwrap();
        assert_eq!(s.values.port, 7001);
        assert_eq!(s.values.bind, vec!["127.0.0.1", "::1"]);
        assert_eq!(s.values.requirepass.as_deref(), Some("a b"));
    }

    #[test]
    fn file_then_options() {
        let dir = std::env::temp_dir().join(format!("ferrum-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("redis.conf");
        std::fs::write(&f, "port 7002\ndatabases 4\nno-such-thing yes\n").unwrap();
        let s = from_args(&args(&[f.to_str().unwrap(), "--port", "7003"])).unwrap();
        assert_eq!(s.values.port, 7003);
        assert_eq!(s.values.databases, 4);
        assert_eq!(s.ignored.len(), 1);
        assert_eq!(s.ignored[0].1, 3);
    }

    #[test]
    fn bad_value_is_an_error() {
        assert!(from_args(&args(&["--port", "notanumber"])).is_err());
        assert!(from_args(&args(&["stray"])).is_err());
    }
}
