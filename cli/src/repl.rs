//! The interactive mode: a rustyline prompt with history, argument hints and
//! command completion when stdin is a terminal; otherwise commands are read
//! from stdin, one per line, without a prompt.

use std::borrow::Cow;
use std::io::{self, BufRead, IsTerminal};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::history::{FileHistory, History};
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use crate::docs::HelpTable;
use crate::format::OutputMode;
use crate::session::{emit, Session};
use crate::split::split_args;

/// A hint shown in grey after the cursor. Unlike rustyline's default string
/// hints it cannot be accepted into the line: it is a synopsis, not text to
/// insert.
#[derive(Debug)]
pub struct ArgHint(String);

impl Hint for ArgHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

/// Hints and completion from the server's command docs.
#[derive(Debug, Default)]
pub struct CliHelper {
    pub table: Option<Rc<HelpTable>>,
    pub hints: bool,
}

impl CliHelper {
    /// The hint for `line` with the cursor at its end, with the blank that
    /// separates it from the typed text.
    pub fn hint_text(&self, line: &str) -> Option<String> {
        if !self.hints {
            return None;
        }
        let hint = self.table.as_ref()?.hint_for_input(line)?;
        let ends_with_space = line.bytes().last().is_some_and(crate::split::is_space);
        Some(if ends_with_space {
            hint
        } else {
            format!(" {hint}")
        })
    }
}

impl Hinter for CliHelper {
    type Hint = ArgHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<ArgHint> {
        if pos < line.len() {
            return None;
        }
        self.hint_text(line).map(ArgHint)
    }
}

impl Completer for CliHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let Some(table) = &self.table else {
            return Ok((0, Vec::new()));
        };
        let candidates = table
            .completions(&line[..pos])
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((0, candidates))
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
    }
}

impl Validator for CliHelper {}

impl Helper for CliHelper {}

/// What the REPL does after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    Quit,
    ClearScreen,
}

/// `redis-cli`'s leading repeat count (`3 INCR x`): `None` when the word is
/// not a number, `Some(Err(()))` when it is not a valid count.
pub fn parse_repeat(word: &[u8]) -> Option<Result<i64, ()>> {
    let s = std::str::from_utf8(word).ok()?;
    let t = s.trim_start();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if s.is_empty() {
        // strtol() converts nothing and leaves the end pointer at the end.
        return Some(Err(()));
    }
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if n > 0 => Some(Ok(n)),
        _ => Some(Err(())),
    }
}

fn is(word: &[u8], name: &str) -> bool {
    word.eq_ignore_ascii_case(name.as_bytes())
}

/// Commands kept out of the history because they carry secrets.
pub fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let argc = argv.len();
    let Some(cmd) = argv.first() else {
        return false;
    };
    if is(cmd, "auth") {
        return true;
    }
    if argc > 1
        && is(cmd, "acl")
        && ["deluser", "setuser", "getuser"]
            .iter()
            .any(|s| is(&argv[1], s))
    {
        return true;
    }
    if argc > 2 && is(cmd, "config") && is(&argv[1], "set") {
        const SECRET: [&str; 5] = [
            "masterauth",
            "masteruser",
            "tls-key-file-pass",
            "tls-client-key-file-pass",
            "requirepass",
        ];
        return argv[2..]
            .iter()
            .step_by(2)
            .any(|p| SECRET.iter().any(|s| is(p, s)));
    }
    if argc > 4 && is(cmd, "hello") {
        // HELLO [protover [AUTH username password] [SETNAME clientname]]
        let mut j = 2;
        while j < argc {
            let more = argc - 1 - j;
            if is(&argv[j], "auth") && more >= 2 {
                return true;
            } else if is(&argv[j], "setname") && more > 0 {
                j += 2;
            } else {
                return false;
            }
        }
        return false;
    }
    if argc > 7 && is(cmd, "migrate") {
        // MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS ...]
        for (j, word) in argv.iter().enumerate().skip(6) {
            let more = argc - 1 - j;
            if (is(word, "auth") && more > 0) || (is(word, "auth2") && more >= 2) {
                return true;
            }
            if is(word, "keys") && more > 0 {
                return false;
            }
        }
    }
    false
}

/// Runs one input line. The second value tells whether the line belongs in
/// the history.
pub fn run_line(session: &mut Session, hints: &mut bool, line: &[u8]) -> (Action, bool) {
    let Some(argv) = split_args(line) else {
        emit(b"Invalid argument(s)\n");
        return (Action::Continue, true);
    };
    if argv.is_empty() {
        return (Action::Continue, false);
    }
    let (repeat, skip) = match (argv.len() > 1).then(|| parse_repeat(&argv[0])).flatten() {
        Some(Ok(n)) => (n, 1),
        Some(Err(())) => {
            emit(b"Invalid redis-cli repeat command option value.\n");
            return (Action::Continue, false);
        }
        None => (1, 0),
    };
    let record = !is_sensitive(&argv[skip..]);
    let cmd = &argv[0];
    if is(cmd, "quit") || is(cmd, "exit") {
        return (Action::Quit, record);
    }
    if cmd.starts_with(b":") {
        set_preference(&argv, hints, true);
        return (Action::Continue, record);
    }
    if argv.len() == 3 && is(cmd, "connect") {
        session.reconnect_to(&argv[1], &argv[2]);
    } else if argv.len() == 1 && is(cmd, "clear") {
        return (Action::ClearScreen, record);
    } else {
        let start = Instant::now();
        session.issue_command(&argv[skip..], repeat);
        let elapsed = start.elapsed();
        if elapsed.as_millis() >= 500 && session.cfg.output == OutputMode::Standard {
            emit(format!("({:.2}s)\n", elapsed.as_secs_f64()).as_bytes());
        }
    }
    (Action::Continue, record)
}

/// `:set hints` / `:set nohints`, typed or read from the rc file.
fn set_preference(argv: &[Vec<u8>], hints: &mut bool, interactive: bool) {
    let origin = if interactive { "" } else { ".ferrumclirc: " };
    let word = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
    if is(&argv[0], ":set") && argv.len() >= 2 {
        if is(&argv[1], "hints") {
            *hints = true;
        } else if is(&argv[1], "nohints") {
            *hints = false;
        } else {
            emit(
                format!(
                    "{origin}unknown ferrum-cli preference '{}'\n",
                    word(&argv[1])
                )
                .as_bytes(),
            );
        }
    } else {
        emit(
            format!(
                "{origin}unknown ferrum-cli internal command '{}'\n",
                word(&argv[0])
            )
            .as_bytes(),
        );
    }
}

/// A dotfile: the path in `env` if set (none for `/dev/null`), else
/// `$HOME/<name>`.
fn dotfile(env: &str, name: &str) -> Option<PathBuf> {
    match std::env::var_os(env) {
        Some(p) if !p.is_empty() => (p != "/dev/null").then(|| PathBuf::from(p)),
        _ => {
            let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
            Some(PathBuf::from(home).join(name))
        }
    }
}

fn load_preferences(hints: &mut bool) {
    let Some(path) = dotfile("FERRUMCLI_RCFILE", ".ferrumclirc") else {
        return;
    };
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    for line in text.split(|&c| c == b'\n') {
        if let Some(argv) = split_args(line) {
            if !argv.is_empty() {
                set_preference(&argv, hints, false);
            }
        }
    }
}

/// The REPL. Returns when the user quits or input ends.
pub fn repl(session: &mut Session) {
    session.interactive = true;
    if io::stdin().is_terminal() {
        session.init_help();
        tty_loop(session);
    } else {
        pipe_loop(session);
    }
}

fn tty_loop(session: &mut Session) {
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::Circular)
        .build();
    let mut editor: Editor<CliHelper, FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Cannot start the line editor: {e}");
            pipe_loop(session);
            return;
        }
    };
    let mut hints = true;
    load_preferences(&mut hints);
    editor.set_helper(Some(CliHelper {
        table: session.help.clone(),
        hints,
    }));
    let history = dotfile("FERRUMCLI_HISTFILE", ".ferrumcli_history");
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        if session.help.is_none() && session.is_connected() {
            session.init_help();
        }
        if let Some(helper) = editor.helper_mut() {
            helper.hints = hints;
            if helper.table.is_none() {
                helper.table = session.help.clone();
            }
        }
        let line = match editor.readline(&session.prompt()) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("{e}");
                break;
            }
        };
        if line.is_empty() {
            continue;
        }
        let (action, record) = run_line(session, &mut hints, line.as_bytes());
        if record {
            let _ = editor.history_mut().add(&line);
            if let Some(path) = &history {
                let _ = editor.save_history(path);
            }
        }
        match action {
            Action::Continue => {}
            Action::Quit => break,
            Action::ClearScreen => {
                let _ = editor.clear_screen();
            }
        }
    }
}

fn pipe_loop(session: &mut Session) {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    let mut hints = false;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        match run_line(session, &mut hints, &line).0 {
            Action::Continue => {}
            Action::Quit => break,
            Action::ClearScreen => {
                if io::stdout().is_terminal() {
                    emit(b"\x1b[H\x1b[2J");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::{ArgKind, ArgSpec, CommandHelp};

    fn words(s: &str) -> Vec<Vec<u8>> {
        split_args(s.as_bytes()).unwrap()
    }

    #[test]
    fn repeat_prefix() {
        assert_eq!(parse_repeat(b"3"), Some(Ok(3)));
        assert_eq!(parse_repeat(b"+3"), Some(Ok(3)));
        assert_eq!(parse_repeat(b"0"), Some(Err(())));
        assert_eq!(parse_repeat(b"-2"), Some(Err(())));
        assert_eq!(parse_repeat(b""), Some(Err(())));
        assert_eq!(parse_repeat(b"99999999999999999999"), Some(Err(())));
        assert_eq!(parse_repeat(b"3x"), None);
        assert_eq!(parse_repeat(b"ping"), None);
        assert_eq!(parse_repeat(b"-"), None);
    }

    #[test]
    fn sensitive_commands_stay_out_of_history() {
        assert!(is_sensitive(&words("AUTH secret")));
        assert!(is_sensitive(&words("auth user secret")));
        assert!(is_sensitive(&words("acl setuser bob on >pw")));
        assert!(is_sensitive(&words("config set maxmemory 1 requirepass x")));
        assert!(!is_sensitive(&words("config set maxmemory 1")));
        assert!(is_sensitive(&words("hello 3 AUTH user pw")));
        assert!(is_sensitive(&words("hello 3 SETNAME n AUTH user pw")));
        assert!(!is_sensitive(&words("hello 3 SETNAME n x y")));
        assert!(is_sensitive(&words(
            "migrate h 1 \"\" 0 10 COPY AUTH pw KEYS a"
        )));
        assert!(!is_sensitive(&words(
            "migrate h 1 \"\" 0 10 COPY KEYS auth b"
        )));
        assert!(!is_sensitive(&words("get auth")));
    }

    #[test]
    fn helper_hints() {
        let get = CommandHelp::new("get", vec![ArgSpec::new("key", ArgKind::Key)]);
        let mut helper = CliHelper {
            table: Some(Rc::new(HelpTable::with_commands(vec![get]))),
            hints: true,
        };
        assert_eq!(helper.hint_text("get ").as_deref(), Some("key"));
        assert_eq!(helper.hint_text("get  ").as_deref(), Some("key"));
        // While a word is being typed the hint is the one before it.
        assert_eq!(helper.hint_text("get k").as_deref(), Some(" key"));
        assert_eq!(helper.hint_text("get").as_deref(), None);
        helper.hints = false;
        assert_eq!(helper.hint_text("get "), None);
        assert_eq!(helper.highlight_hint("key"), "\x1b[90mkey\x1b[0m");
    }

    #[test]
    fn preferences() {
        let mut hints = true;
        set_preference(&words(":set nohints"), &mut hints, true);
        assert!(!hints);
        set_preference(&words(":SET HINTS"), &mut hints, true);
        assert!(hints);
    }
}
