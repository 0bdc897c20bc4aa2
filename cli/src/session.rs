//! The client state shared by one-shot commands and the REPL: the connection
//! (re-established on demand), the selected database, MULTI state, and the
//! sending, reading and printing of commands, as `redis-cli` does them.

use std::io::{self, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use resp::Frame;

use crate::conn::{os_error_text, Conn, ReadError, ABORT_REQUESTED};
use crate::docs::HelpTable;
use crate::format::{format_push, format_reply, OutputMode, RawDelims};

/// Set while Ctrl-C should interrupt the running command (`MONITOR`,
/// `SUBSCRIBE` in the REPL) instead of ending the program.
pub static ABORTABLE: AtomicBool = AtomicBool::new(false);

/// Settings from the command line.
#[derive(Clone, Debug)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub user: Option<Vec<u8>>,
    pub auth: Option<Vec<u8>>,
    /// The database to select on every (re)connection.
    pub db: i64,
    /// `-3`: switch to RESP3 with `HELLO 3` on connecting.
    pub resp3: bool,
    pub repeat: i64,
    pub interval: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub output: OutputMode,
    pub delims: RawDelims,
    /// `-e`: an error reply to a one-shot command exits with status 1.
    pub exit_on_error: bool,
    /// Print RESP3 pushes that arrive while waiting for a reply.
    pub show_pushes: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".to_owned(),
            port: 6379,
            user: None,
            auth: None,
            db: 0,
            resp3: false,
            repeat: 1,
            interval: None,
            connect_timeout: None,
            output: OutputMode::Standard,
            delims: RawDelims::default(),
            exit_on_error: false,
            show_pushes: true,
        }
    }
}

/// Writes to stdout and flushes. Output that nobody reads any more (a closed
/// pipe) ends the program quietly, as the default `SIGPIPE` does for
/// `redis-cli`.
pub fn emit(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
        std::process::exit(1);
    }
}

/// C's `atoi()`: optional blanks and sign, then digits; 0 if none.
pub fn atoi(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for c in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.wrapping_mul(10).wrapping_add(i64::from(c - b'0'));
    }
    if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

fn is(word: &[u8], name: &str) -> bool {
    word.eq_ignore_ascii_case(name.as_bytes())
}

/// Commands whose reply is text to print as is, even on a terminal.
fn is_verbatim_command(args: &[Vec<u8>]) -> bool {
    let cmd = &args[0];
    let argc = args.len();
    let sub = |name: &str| argc >= 2 && is(&args[1], name);
    is(cmd, "info")
        || is(cmd, "lolwut")
        || (is(cmd, "debug") && (sub("htstats") || sub("htstats-key") || sub("client-eviction")))
        || (is(cmd, "memory") && (sub("malloc-stats") || sub("doctor")))
        || (argc == 2 && is(cmd, "cluster") && (sub("nodes") || sub("info")))
        || (is(cmd, "client") && (sub("list") || sub("info")))
        || (argc == 3 && is(cmd, "latency") && sub("graph"))
        || (argc == 2 && is(cmd, "latency") && sub("doctor"))
        || (is(cmd, "proxy") && sub("info"))
}

/// The client.
#[derive(Debug)]
pub struct Session {
    pub cfg: Config,
    conn: Option<Conn>,
    /// The database currently selected on the connection.
    dbnum: i64,
    in_multi: bool,
    pre_multi_dbnum: i64,
    /// Whether the connection speaks RESP3 (after `-3` or `HELLO 3`).
    pub current_resp3: bool,
    /// In the REPL: connection losses are reported, not fatal.
    pub interactive: bool,
    /// Command help, once fetched from the server.
    pub help: Option<Rc<HelpTable>>,
}

impl Session {
    pub fn new(cfg: Config) -> Session {
        Session {
            cfg,
            conn: None,
            dbnum: 0,
            in_multi: false,
            pre_multi_dbnum: 0,
            current_resp3: false,
            interactive: false,
            help: None,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// `127.0.0.1:6379[2](TX)> `, or `not connected> `.
    pub fn prompt(&self) -> String {
        if self.conn.is_none() {
            return "not connected> ".to_owned();
        }
        let mut p = if self.cfg.host.contains(':') {
            format!("[{}]:{}", self.cfg.host, self.cfg.port)
        } else {
            format!("{}:{}", self.cfg.host, self.cfg.port)
        };
        if self.dbnum != 0 {
            p.push_str(&format!("[{}]", self.dbnum));
        }
        if self.in_multi {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    /// Connects unless connected (or always, with `force`), then
    /// authenticates, selects the database and switches protocol. Errors go
    /// to stderr unless `quiet`.
    pub fn connect(&mut self, force: bool, quiet: bool) -> bool {
        if self.conn.is_some() && !force {
            return true;
        }
        // A new connection starts in database 0, outside any transaction.
        self.conn = None;
        self.dbnum = 0;
        self.in_multi = false;
        let conn = match Conn::connect(&self.cfg.host, self.cfg.port, self.cfg.connect_timeout) {
            Ok(c) => c,
            Err(e) => {
                if !quiet {
                    eprintln!(
                        "Could not connect to Redis at {}:{}: {}",
                        self.cfg.host,
                        self.cfg.port,
                        os_error_text(&e)
                    );
                }
                return false;
            }
        };
        self.conn = Some(conn);
        self.current_resp3 = false;
        self.authenticate() && self.select_db() && self.switch_protocol()
    }

    /// Sends a command of the handshake; `None` (after saying so) when the
    /// connection failed.
    fn handshake_call(&mut self, args: &[&[u8]]) -> Option<Frame> {
        let conn = self.conn.as_mut()?;
        match conn.call(args) {
            Ok(f) => Some(f),
            Err(_) => {
                eprintln!("\nI/O error");
                None
            }
        }
    }

    fn authenticate(&mut self) -> bool {
        let Some(auth) = self.cfg.auth.clone() else {
            return true;
        };
        let user = self.cfg.user.clone();
        let reply = match &user {
            Some(u) => self.handshake_call(&[b"AUTH", u, &auth]),
            None => self.handshake_call(&[b"AUTH", &auth]),
        };
        match reply {
            None => false,
            Some(Frame::Error(e) | Frame::BlobError(e)) => {
                eprintln!("AUTH failed: {}", String::from_utf8_lossy(&e));
                false
            }
            Some(_) => true,
        }
    }

    /// Selects the configured database if it is not the current one.
    fn select_db(&mut self) -> bool {
        if self.cfg.db == self.dbnum {
            return true;
        }
        let db = self.cfg.db.to_string();
        match self.handshake_call(&[b"SELECT", db.as_bytes()]) {
            None => false,
            Some(Frame::Error(e) | Frame::BlobError(e)) => {
                eprintln!(
                    "SELECT {} failed: {}",
                    self.cfg.db,
                    String::from_utf8_lossy(&e)
                );
                false
            }
            Some(_) => {
                self.dbnum = self.cfg.db;
                true
            }
        }
    }

    fn switch_protocol(&mut self) -> bool {
        if !self.cfg.resp3 {
            return true;
        }
        match self.handshake_call(&[b"HELLO", b"3"]) {
            None => false,
            Some(Frame::Error(e) | Frame::BlobError(e)) => {
                eprintln!("HELLO 3 failed: {}", String::from_utf8_lossy(&e));
                false
            }
            Some(_) => {
                self.current_resp3 = true;
                true
            }
        }
    }

    /// Fetches the command help from `COMMAND DOCS` (or, from an older
    /// server, the names from `COMMAND`). Leaves `help` unset when not
    /// connected, so that it can be fetched later.
    pub fn init_help(&mut self) {
        if !self.connect(false, true) {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let table = match conn.call(&[b"COMMAND", b"DOCS"]) {
            Ok(reply) if !reply.is_error() => HelpTable::from_command_docs(&reply),
            Ok(_) => match conn.call(&[b"COMMAND"]) {
                Ok(reply) => HelpTable::from_command_info(&reply),
                Err(_) => None,
            },
            Err(_) => {
                self.conn = None;
                return;
            }
        };
        self.help = Some(Rc::new(table.unwrap_or_default()));
    }

    /// `help`, `help <command>`, `help @<group>`.
    pub fn output_help(&mut self, args: &[Vec<u8>]) {
        if args.is_empty() {
            emit(generic_help().as_bytes());
            return;
        }
        if self.help.is_none() {
            self.init_help();
        }
        let table = self.help.clone().unwrap_or_default();
        emit(table.help_text(args).as_bytes());
    }

    /// Prints a reply in the configured mode.
    fn print_reply(&self, frame: &Frame, verbatim: bool) {
        if !self.interactive && self.cfg.exit_on_error {
            if let Frame::Error(e) | Frame::BlobError(e) = frame {
                eprintln!("{}", String::from_utf8_lossy(e));
                std::process::exit(1);
            }
        }
        emit(&format_reply(
            frame,
            self.cfg.output,
            &self.cfg.delims,
            verbatim,
        ));
    }

    fn read(&mut self, abortable: bool) -> Result<Frame, ReadError> {
        match self.conn.as_mut() {
            Some(c) => c.read_frame(abortable),
            None => Err(ReadError::Eof),
        }
    }

    /// What to do when no reply could be read: after Ctrl-C, reconnect; after
    /// `SHUTDOWN`, drop the connection; in the REPL, hand a lost connection
    /// back to the caller; otherwise report and exit.
    fn read_failed(&mut self, e: ReadError, shutdown: bool) -> Result<(), ReadError> {
        if matches!(e, ReadError::Aborted) {
            self.connect(true, false);
            return Ok(());
        }
        if shutdown {
            self.conn = None;
            return Ok(());
        }
        if self.interactive && e.is_connection_lost() {
            return Err(e);
        }
        eprintln!("Error: {e}");
        std::process::exit(1);
    }

    /// Prints every frame until an error reply, Ctrl-C or a lost connection:
    /// `MONITOR` and `SUBSCRIBE` output.
    fn follow(&mut self, verbatim: bool) -> Result<(), ReadError> {
        ABORT_REQUESTED.store(false, Ordering::SeqCst);
        ABORTABLE.store(self.interactive, Ordering::SeqCst);
        let result = loop {
            match self.read(true) {
                Ok(frame) => {
                    self.print_reply(&frame, verbatim);
                    if frame.is_error() {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        ABORTABLE.store(false, Ordering::SeqCst);
        match result {
            Ok(()) => Ok(()),
            Err(e) => self.read_failed(e, false),
        }
    }

    /// Sends a command `repeat` times (forever if negative) and prints the
    /// replies. `Err` is a lost connection in the REPL.
    fn send_command(&mut self, args: &[Vec<u8>], repeat: i64) -> Result<(), ReadError> {
        let cmd = &args[0];
        let argc = args.len();
        let verbatim = is_verbatim_command(args);
        let shutdown = is(cmd, "shutdown");
        let monitor = is(cmd, "monitor");
        let subscribe = is(cmd, "subscribe") || is(cmd, "psubscribe") || is(cmd, "ssubscribe");
        let unsubscribe =
            is(cmd, "unsubscribe") || is(cmd, "punsubscribe") || is(cmd, "sunsubscribe");

        let mut remaining = repeat;
        while remaining != 0 {
            if remaining > 0 {
                remaining -= 1;
            }
            let sent = match self.conn.as_mut() {
                Some(c) => c.send(args).map_err(ReadError::Io),
                None => Err(ReadError::Eof),
            };
            if let Err(e) = sent {
                return self.read_failed(e, shutdown);
            }
            if monitor {
                return self.follow(verbatim);
            }
            if subscribe {
                if self.cfg.output == OutputMode::Standard {
                    emit(b"Reading messages... (press Ctrl-C to quit)\n");
                }
                return self.follow(verbatim);
            }
            // One confirmation per channel (at least one) for UNSUBSCRIBE.
            let mut expected = if unsubscribe {
                argc.saturating_sub(1).max(1)
            } else {
                1
            };
            let mut last = Frame::Null;
            while expected > 0 {
                let frame = match self.read(false) {
                    Ok(f) => f,
                    Err(e) => return self.read_failed(e, shutdown),
                };
                if matches!(frame, Frame::Push(_)) && !unsubscribe {
                    // Out-of-band data, not the reply we wait for.
                    if self.cfg.show_pushes {
                        emit(&format_push(&frame, self.cfg.output, &self.cfg.delims));
                    }
                    continue;
                }
                self.print_reply(&frame, verbatim);
                expected -= 1;
                if frame.is_error() {
                    expected = 0;
                }
                last = frame;
            }
            self.after_reply(args, &last);
            if let Some(interval) = self.cfg.interval {
                std::thread::sleep(interval);
            }
        }
        Ok(())
    }

    /// Tracks the state that the prompt shows, as `redis-cli` does.
    fn after_reply(&mut self, args: &[Vec<u8>], reply: &Frame) {
        let cmd = &args[0];
        let argc = args.len();
        let error = reply.is_error();
        if is(cmd, "select") && argc == 2 && !error {
            self.dbnum = atoi(&args[1]);
            self.cfg.db = self.dbnum;
        } else if is(cmd, "auth") && (argc == 2 || argc == 3) {
            self.select_db();
        } else if is(cmd, "multi") && argc == 1 && !error {
            self.in_multi = true;
            self.pre_multi_dbnum = self.dbnum;
        } else if is(cmd, "exec") && argc == 1 && self.in_multi {
            self.in_multi = false;
            if error || reply.is_null() {
                self.dbnum = self.pre_multi_dbnum;
                self.cfg.db = self.dbnum;
            }
        } else if is(cmd, "discard") && argc == 1 && !error {
            self.in_multi = false;
            self.dbnum = self.pre_multi_dbnum;
            self.cfg.db = self.dbnum;
        } else if is(cmd, "reset") && argc == 1 && !error {
            self.in_multi = false;
            self.dbnum = 0;
            self.cfg.db = 0;
            self.current_resp3 = false;
        } else if is(cmd, "hello") {
            match reply {
                Frame::Map(_) => self.current_resp3 = true,
                Frame::Array(_) => self.current_resp3 = false,
                _ => {}
            }
        }
    }

    /// Runs a command (`help` locally), connecting first if needed. Returns
    /// false when the server could not be reached.
    pub fn issue_command(&mut self, args: &[Vec<u8>], repeat: i64) -> bool {
        if is(&args[0], "help") || is(&args[0], "?") {
            self.output_help(&args[1..]);
            return true;
        }
        if self.conn.is_none() && !self.connect(true, false) {
            return false;
        }
        match self.send_command(args, repeat) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("Error: {e}");
                self.conn = None;
                false
            }
        }
    }

    /// REPL `connect <host> <port>`.
    pub fn reconnect_to(&mut self, host: &[u8], port: &[u8]) {
        self.cfg.host = String::from_utf8_lossy(host).into_owned();
        self.cfg.port = u16::try_from(atoi(port)).unwrap_or(0);
        self.connect(true, false);
    }
}

/// The text of a bare `help`.
pub fn generic_help() -> String {
    format!(
        "ferrum-cli {}\n\
         To get help about Ferrum commands type:\n      \
         \"help @<group>\" to get a list of commands in <group>\n      \
         \"help <command>\" for help on <command>\n      \
         \"help <tab>\" to get a list of possible help topics\n      \
         \"quit\" to exit\n\
         \n\
         To set ferrum-cli preferences:\n      \
         \":set hints\" enable online hints\n      \
         \":set nohints\" disable online hints\n\
         Set your preferences in ~/.ferrumclirc\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_is_lenient() {
        assert_eq!(atoi(b"2"), 2);
        assert_eq!(atoi(b" -3x"), -3);
        assert_eq!(atoi(b"+7"), 7);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
    }

    #[test]
    fn prompt_shows_db_and_transaction() {
        let mut s = Session::new(Config::default());
        assert_eq!(s.prompt(), "not connected> ");
        // A connection to a listener that never answers is enough here.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        s.cfg.port = l.local_addr().unwrap().port();
        assert!(s.connect(false, true));
        let port = s.cfg.port;
        assert_eq!(s.prompt(), format!("127.0.0.1:{port}> "));
        s.dbnum = 2;
        assert_eq!(s.prompt(), format!("127.0.0.1:{port}[2]> "));
        s.in_multi = true;
        assert_eq!(s.prompt(), format!("127.0.0.1:{port}[2](TX)> "));
        s.cfg.host = "::1".to_owned();
        s.dbnum = 0;
        s.in_multi = false;
        assert_eq!(s.prompt(), format!("[::1]:{port}> "));
    }

    #[test]
    fn verbatim_commands() {
        let v = |s: &str| -> Vec<Vec<u8>> { s.split(' ').map(|w| w.as_bytes().to_vec()).collect() };
        assert!(is_verbatim_command(&v("INFO")));
        assert!(is_verbatim_command(&v("info server")));
        assert!(is_verbatim_command(&v("client list")));
        assert!(is_verbatim_command(&v("CLUSTER NODES")));
        assert!(!is_verbatim_command(&v("cluster nodes x")));
        assert!(!is_verbatim_command(&v("client id")));
        assert!(!is_verbatim_command(&v("get info")));
    }
}
