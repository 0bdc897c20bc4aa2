//! `ferrum-cli`: a small `redis-cli` for Ferrum (and any Redis-compatible
//! server).
//!
//! With a command on the command line it runs it and prints the reply;
//! without one it starts an interactive prompt (or, when stdin is not a
//! terminal, runs the commands read from stdin, one per line). Output, exit
//! codes, argument quoting and hints follow `redis-cli` 7.2.

mod conn;
mod docs;
mod format;
mod repl;
mod session;
mod split;

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::conn::ABORT_REQUESTED;
use crate::format::{OutputMode, RawDelims};
use crate::session::{Config, Session, ABORTABLE};

#[derive(Parser, Debug)]
#[command(
    name = "ferrum-cli",
    about = "Command line client for Ferrum, a Redis-compatible data store",
    disable_help_flag = true,
    disable_version_flag = true,
    after_help = "Examples:\n  \
        ferrum-cli -u redis://default:PASSWORD@localhost:6379/0\n  \
        cat /etc/passwd | ferrum-cli -x set mypasswd\n  \
        ferrum-cli -r 100 lpush mylist x\n  \
        ferrum-cli -r 100 -i 1 info | grep used_memory_human:\n\n\
        When no command is given, ferrum-cli starts in interactive mode.\n\
        Type \"help\" in interactive mode for information on available commands\n\
        and settings."
)]
struct Opts {
    /// Server hostname.
    #[arg(short = 'h', value_name = "hostname", default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', value_name = "port", default_value_t = 6379)]
    port: u16,
    /// Connection timeout in seconds (decimals allowed).
    #[arg(short = 't', value_name = "timeout")]
    timeout: Option<f64>,
    /// Password to use when connecting to the server (the FERRUMCLI_AUTH or
    /// REDISCLI_AUTH environment variable is safer).
    #[arg(short = 'a', long = "pass", value_name = "password")]
    password: Option<OsString>,
    /// Username for ACL style 'AUTH username pass'. Needs -a.
    #[arg(long = "user", value_name = "username")]
    user: Option<OsString>,
    /// Server URI: redis://user:password@host:port/dbnum.
    #[arg(short = 'u', value_name = "uri")]
    uri: Option<String>,
    /// Execute the command N times (forever if negative).
    #[arg(
        short = 'r',
        value_name = "repeat",
        allow_negative_numbers = true,
        default_value_t = 1
    )]
    repeat: i64,
    /// With -r, wait <interval> seconds after each command (e.g. -i 0.1).
    #[arg(short = 'i', value_name = "interval")]
    interval: Option<f64>,
    /// Database number.
    #[arg(short = 'n', value_name = "db", allow_negative_numbers = true)]
    db: Option<i64>,
    /// Start the session in RESP2 protocol mode.
    #[arg(short = '2')]
    resp2: bool,
    /// Start the session in RESP3 protocol mode (sends HELLO 3).
    #[arg(short = '3')]
    resp3: bool,
    /// Read the last argument from STDIN.
    #[arg(short = 'x')]
    stdin_last: bool,
    /// Delimiter between response bulks for raw formatting (default: \n).
    #[arg(short = 'd', value_name = "delimiter")]
    bulk_delimiter: Option<OsString>,
    /// Delimiter between responses for raw formatting (default: \n).
    #[arg(short = 'D', value_name = "delimiter")]
    reply_delimiter: Option<OsString>,
    /// Return exit error code when command execution fails.
    #[arg(short = 'e')]
    exit_on_error: bool,
    /// Use raw formatting for replies (default when STDOUT is not a tty).
    #[arg(long = "raw", overrides_with = "no_raw")]
    raw: bool,
    /// Force formatted output even when STDOUT is not a tty.
    #[arg(long = "no-raw", overrides_with = "raw")]
    no_raw: bool,
    /// Whether to print RESP3 PUSH messages (default: yes when STDOUT is a tty).
    #[arg(long = "show-pushes", value_name = "yn")]
    show_pushes: Option<String>,
    /// Don't show the warning about passwords given on the command line.
    #[arg(long = "no-auth-warning")]
    no_auth_warning: bool,
    /// Output this help and exit.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Output version and exit.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// The command to run, and its arguments.
    #[arg(
        value_name = "cmd",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

/// `%XX` decoding of URI parts.
fn percent_decode(s: &str) -> Result<Vec<u8>, &'static str> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if b.len() - i < 3 {
                return Err("Incomplete URI encoding");
            }
            let (hi, lo) = (b[i + 1], b[i + 2]);
            if !hi.is_ascii_hexdigit() || !lo.is_ascii_hexdigit() {
                return Err("Illegal character in URI encoding");
            }
            let hex = |c: u8| {
                if c.is_ascii_digit() {
                    c - b'0'
                } else {
                    c.to_ascii_lowercase() - b'a' + 10
                }
            };
            let v = hex(hi) * 16 + hex(lo);
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Applies `redis://[[user:]password@][host][:port][/db]` to the config.
fn apply_uri(uri: &str, cfg: &mut Config) -> Result<(), String> {
    const SCHEME: &str = "redis://";
    if uri.len() < SCHEME.len() || !uri[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        if uri.len() >= 9 && uri[..9].eq_ignore_ascii_case("rediss://") {
            return Err("TLS (rediss://) is not supported".to_owned());
        }
        return Err("Invalid URI scheme".to_owned());
    }
    let mut rest = &uri[SCHEME.len()..];
    if let Some(at) = rest.rfind('@') {
        let userinfo = &rest[..at];
        let password = match userinfo.split_once(':') {
            Some((user, password)) => {
                if !user.is_empty() {
                    cfg.user = Some(percent_decode(user)?);
                }
                password
            }
            None => userinfo,
        };
        cfg.auth = Some(percent_decode(password)?);
        rest = &rest[at + 1..];
    }
    let (hostport, path) = match rest.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if !hostport.is_empty() {
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, Some(p)),
            _ => (hostport, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !host.is_empty() {
            cfg.host = host.to_owned();
        }
        if let Some(p) = port {
            let port = session::atoi(p.as_bytes());
            cfg.port = u16::try_from(port).map_err(|_| "Invalid server port.".to_owned())?;
        }
    }
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        cfg.db = session::atoi(db.as_bytes());
    }
    Ok(())
}

fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s))
}

fn run(opts: Opts) -> Result<u8, String> {
    if opts.version {
        println!("ferrum-cli {}", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    if let Some(first) = opts.command.first() {
        let first = first.to_string_lossy();
        if first.len() > 1 && first.starts_with('-') {
            return Err(format!(
                "Unrecognized option or bad number of args for: '{first}'"
            ));
        }
    }
    let stdout_tty = std::io::stdout().is_terminal() || std::env::var_os("FAKETTY").is_some();
    let mut cfg = Config {
        host: opts.host,
        port: opts.port,
        user: opts.user.map(OsStringExt::into_vec),
        auth: opts.password.map(OsStringExt::into_vec),
        db: opts.db.unwrap_or(0),
        resp3: opts.resp3 && !opts.resp2,
        repeat: opts.repeat,
        interval: opts.interval.and_then(seconds),
        connect_timeout: opts.timeout.and_then(seconds),
        output: if stdout_tty {
            OutputMode::Standard
        } else {
            OutputMode::Raw
        },
        delims: RawDelims::default(),
        exit_on_error: opts.exit_on_error,
        show_pushes: stdout_tty,
    };
    if opts.raw {
        cfg.output = OutputMode::Raw;
    } else if opts.no_raw {
        cfg.output = OutputMode::Standard;
    }
    if let Some(d) = opts.bulk_delimiter {
        cfg.delims.multi_bulk = d.into_vec();
    }
    if let Some(d) = opts.reply_delimiter {
        cfg.delims.command = d.into_vec();
    }
    if let Some(yn) = &opts.show_pushes {
        cfg.show_pushes = match yn.to_ascii_lowercase().as_str() {
            "y" | "yes" => true,
            "n" | "no" => false,
            _ => {
                return Err(format!(
                    "Unknown --show-pushes value '{yn}' (valid: '[y]es', '[n]o')"
                ))
            }
        };
    }
    if let Some(uri) = &opts.uri {
        apply_uri(uri, &mut cfg)?;
    }
    if cfg.auth.is_some() && !opts.no_auth_warning {
        eprintln!("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.");
    }
    if cfg.auth.is_none() {
        cfg.auth = ["FERRUMCLI_AUTH", "REDISCLI_AUTH"]
            .iter()
            .find_map(std::env::var_os)
            .map(OsStringExt::into_vec);
    }

    let mut session = Session::new(cfg);
    if opts.command.is_empty() {
        // Ctrl-C interrupts MONITOR and SUBSCRIBE; otherwise it quits.
        let _ = ctrlc::set_handler(|| {
            if ABORTABLE.load(Ordering::SeqCst) {
                ABORT_REQUESTED.store(true, Ordering::SeqCst);
            } else {
                std::process::exit(1);
            }
        });
        // In the REPL a failed connection is retried with every command.
        session.connect(false, false);
        repl::repl(&mut session);
        return Ok(0);
    }

    // As redis-cli does: a failed AUTH or SELECT is reported but the command
    // still runs; an unreachable server is reported when the command is sent.
    session.connect(false, true);
    let mut args: Vec<Vec<u8>> = opts
        .command
        .into_iter()
        .map(OsStringExt::into_vec)
        .collect();
    if opts.stdin_last {
        let mut data = Vec::new();
        std::io::stdin()
            .read_to_end(&mut data)
            .map_err(|e| format!("Cannot read STDIN: {e}"))?;
        args.push(data);
    }
    let repeat = session.cfg.repeat;
    Ok(if session.issue_command(&args, repeat) {
        0
    } else {
        1
    })
}

fn main() -> ExitCode {
    let opts = Opts::parse();
    match run(opts) {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parts() {
        let mut cfg = Config::default();
        apply_uri("redis://bob:s%40cret@example.com:6380/3", &mut cfg).unwrap();
        assert_eq!(cfg.user.as_deref(), Some(&b"bob"[..]));
        assert_eq!(cfg.auth.as_deref(), Some(&b"s@cret"[..]));
        assert_eq!(cfg.host, "example.com");
        assert_eq!(cfg.port, 6380);
        assert_eq!(cfg.db, 3);

        let mut cfg = Config::default();
        apply_uri("REDIS://pw@localhost", &mut cfg).unwrap();
        assert_eq!(cfg.user, None);
        assert_eq!(cfg.auth.as_deref(), Some(&b"pw"[..]));
        assert_eq!(
            (cfg.host.as_str(), cfg.port, cfg.db),
            ("localhost", 6379, 0)
        );

        let mut cfg = Config::default();
        apply_uri("redis://[::1]:7000", &mut cfg).unwrap();
        assert_eq!((cfg.host.as_str(), cfg.port), ("::1", 7000));

        assert!(apply_uri("http://x", &mut Config::default()).is_err());
        assert!(apply_uri("rediss://x", &mut Config::default()).is_err());
        assert!(apply_uri("redis://a:%4@x", &mut Config::default()).is_err());
    }

    #[test]
    fn options_stop_at_the_command() {
        let o =
            Opts::try_parse_from(["ferrum-cli", "-p", "7000", "-3", "set", "-h", "-x"]).unwrap();
        assert_eq!(o.port, 7000);
        assert!(o.resp3);
        assert!(!o.stdin_last);
        assert_eq!(o.command, ["set", "-h", "-x"]);
        let o = Opts::try_parse_from([
            "ferrum-cli",
            "-r",
            "-1",
            "-i",
            "0.5",
            "--raw",
            "--no-raw",
            "ping",
        ])
        .unwrap();
        assert_eq!(o.repeat, -1);
        assert_eq!(o.interval, Some(0.5));
        assert!(o.no_raw && !o.raw);
    }
}
