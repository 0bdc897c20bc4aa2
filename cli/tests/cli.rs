//! End-to-end tests of the `ferrum-cli` binary against an in-process fake
//! server: a TCP listener that answers each command with canned RESP bytes
//! and records what it received.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use bytes::BytesMut;
use resp::RequestParser;

type Responder = dyn Fn(&[String]) -> Option<Vec<u8>> + Send + Sync;

/// A fake server: `respond` maps each command (its arguments, lossily as
/// text) to the raw reply bytes, or `None` to close the connection.
struct FakeServer {
    port: u16,
    received: Arc<Mutex<Vec<Vec<String>>>>,
}

impl FakeServer {
    fn start(respond: impl Fn(&[String]) -> Option<Vec<u8>> + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let respond: Arc<Responder> = Arc::new(respond);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let log = Arc::clone(&log);
                let respond = Arc::clone(&respond);
                thread::spawn(move || serve(stream, &log, &*respond));
            }
        });
        FakeServer { port, received }
    }

    /// The commands received so far, upper-casing nothing.
    fn received(&self) -> Vec<Vec<String>> {
        self.received.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, log: &Mutex<Vec<Vec<String>>>, respond: &Responder) {
    let mut parser = RequestParser::default();
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Ok(Some(req)) = parser.parse(&mut buf) {
            let args: Vec<String> = req
                .args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            log.lock().unwrap().push(args.clone());
            match respond(&args) {
                Some(reply) => {
                    if stream.write_all(&reply).is_err() {
                        return;
                    }
                }
                None => return,
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Canned replies of a small Redis-like server.
fn canned(args: &[String]) -> Option<Vec<u8>> {
    let cmd = args[0].to_ascii_lowercase();
    let reply: &[u8] = match cmd.as_str() {
        "ping" => b"+PONG\r\n",
        "auth" | "select" | "set" => b"+OK\r\n",
        "get" if args.get(1).map(String::as_str) == Some("nokey") => b"$-1\r\n",
        "get" => b"$3\r\nbar\r\n",
        "incr" => b":1\r\n",
        "lrange" => b"*3\r\n$1\r\na\r\n$3\r\nb c\r\n$0\r\n\r\n",
        "nested" => b"*2\r\n$1\r\na\r\n*2\r\n:1\r\n*1\r\n$1\r\nz\r\n",
        "empty" => b"*0\r\n",
        "binary" => b"$3\r\n\x00\xffx\r\n",
        "info" => b"$31\r\n# Server\r\nredis_version:7.2.4\r\n\r\n", // ends with CRLF
        "hello" => b"%2\r\n$6\r\nserver\r\n$6\r\nferrum\r\n$5\r\nproto\r\n:3\r\n",
        "resp3" => b"*4\r\n,1.5\r\n#t\r\n_\r\n~1\r\n$1\r\nm\r\n",
        "map" => b"%2\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nn\r\n*2\r\n:1\r\n:2\r\n",
        "echo" => {
            let v = args.get(1).cloned().unwrap_or_default();
            return Some(format!("${}\r\n{v}\r\n", v.len()).into_bytes());
        }
        "command" => DOCS,
        "hangup" => return None,
        _ => {
            return Some(
                format!(
                    "-ERR unknown command '{}', with args beginning with: \r\n",
                    args[0]
                )
                .into_bytes(),
            )
        }
    };
    Some(reply.to_vec())
}

/// `COMMAND DOCS` for GET only.
const DOCS: &[u8] = b"*2\r\n$3\r\nget\r\n*8\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n\
$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$9\r\narguments\r\n\
*1\r\n*4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n";

/// Runs `ferrum-cli -p <port> args...` with `stdin` as input; `tty` sets
/// FAKETTY so that the output is formatted as on a terminal.
fn run(port: u16, args: &[&str], stdin: &[u8], tty: bool) -> Output {
    let home = std::env::temp_dir().join("ferrum-cli-test-home");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrum-cli"));
    cmd.arg("-p")
        .arg(port.to_string())
        .args(args)
        .env("HOME", home)
        .env_remove("FAKETTY")
        .env_remove("REDISCLI_AUTH")
        .env_remove("FERRUMCLI_AUTH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if tty {
        cmd.env("FAKETTY", "1");
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn terminal_formatting() {
    let s = FakeServer::start(canned);
    let tty = |args: &[&str]| {
        let o = run(s.port, args, b"", true);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(tty(&["ping"]), "PONG\n");
    assert_eq!(tty(&["get", "foo"]), "\"bar\"\n");
    assert_eq!(tty(&["get", "nokey"]), "(nil)\n");
    assert_eq!(tty(&["incr", "n"]), "(integer) 1\n");
    assert_eq!(
        tty(&["lrange", "l", "0", "-1"]),
        "1) \"a\"\n2) \"b c\"\n3) \"\"\n"
    );
    assert_eq!(
        tty(&["nested"]),
        "1) \"a\"\n2) 1) (integer) 1\n   2) 1) \"z\"\n"
    );
    assert_eq!(tty(&["empty"]), "(empty array)\n");
    assert_eq!(tty(&["binary"]), "\"\\x00\\xffx\"\n");
    // INFO is text to read: printed as is even on a terminal.
    assert_eq!(tty(&["info"]), "# Server\r\nredis_version:7.2.4\r\n");
}

#[test]
fn raw_formatting_when_stdout_is_not_a_terminal() {
    let s = FakeServer::start(canned);
    let raw = |args: &[&str]| stdout(&run(s.port, args, b"", false));
    assert_eq!(raw(&["get", "foo"]), "bar\n");
    assert_eq!(raw(&["get", "nokey"]), "\n");
    assert_eq!(raw(&["incr", "n"]), "1\n");
    assert_eq!(raw(&["lrange", "l", "0", "-1"]), "a\nb c\n\n");
    assert_eq!(raw(&["nested"]), "a\n1\nz\n");
    assert_eq!(run(s.port, &["binary"], b"", false).stdout, b"\x00\xffx\n");
    // --no-raw forces the terminal form, --raw the raw one.
    assert_eq!(raw(&["--no-raw", "get", "foo"]), "\"bar\"\n");
    assert_eq!(
        stdout(&run(s.port, &["--raw", "get", "foo"], b"", true)),
        "bar\n"
    );
    // -d and -D set the delimiters.
    assert_eq!(
        raw(&["-d", ",", "-D", ";", "lrange", "l", "0", "-1"]),
        "a,b c,;"
    );
}

#[test]
fn resp3_types() {
    let s = FakeServer::start(canned);
    let o = run(s.port, &["-3", "resp3"], b"", true);
    assert_eq!(
        stdout(&o),
        "1) (double) 1.5\n2) (true)\n3) (nil)\n4) 1~ \"m\"\n"
    );
    let o = run(s.port, &["-3", "map"], b"", true);
    // A multi-line value starts on its own line, as redis-cli prints it.
    assert_eq!(
        stdout(&o),
        "1# \"k\" => \"v\"\n2# \"n\" => \n   1) (integer) 1\n   2) (integer) 2\n"
    );
    let o = run(s.port, &["-3", "map"], b"", false);
    assert_eq!(stdout(&o), "k v\nn 1\n2\n");
    let hello: Vec<_> = s
        .received()
        .into_iter()
        .filter(|c| c[0] == "HELLO")
        .collect();
    assert_eq!(hello.len(), 3);
    assert_eq!(hello[0], ["HELLO", "3"]);
}

#[test]
fn errors_are_printed_and_exit_zero_unless_dash_e() {
    let s = FakeServer::start(canned);
    let o = run(s.port, &["foo", "bar"], b"", true);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "(error) ERR unknown command 'foo', with args beginning with: \n"
    );
    let o = run(s.port, &["foo"], b"", false);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "ERR unknown command 'foo', with args beginning with: \n\n"
    );
    let o = run(s.port, &["-e", "foo"], b"", false);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        "ERR unknown command 'foo', with args beginning with: \n"
    );
}

#[test]
fn unreachable_server_and_lost_connection() {
    // A port nobody listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = run(port, &["ping"], b"", false);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
    let s = FakeServer::start(canned);
    let o = run(s.port, &["hangup"], b"", false);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "Error: Server closed the connection\n");
}

#[test]
fn handshake_auth_and_select() {
    let s = FakeServer::start(canned);
    let o = run(
        s.port,
        &["--user", "bob", "-a", "pw", "-n", "2", "ping"],
        b"",
        false,
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o), "PONG\n");
    assert_eq!(
        stderr(&o),
        "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n"
    );
    assert_eq!(
        s.received(),
        vec![vec!["AUTH", "bob", "pw"], vec!["SELECT", "2"], vec!["ping"]]
    );
    let o = run(
        s.port,
        &["--no-auth-warning", "-a", "pw", "ping"],
        b"",
        false,
    );
    assert_eq!(stderr(&o), "");
}

#[test]
fn repeat_and_stdin_argument() {
    let s = FakeServer::start(canned);
    let o = run(s.port, &["-r", "3", "incr", "x"], b"", false);
    assert_eq!(stdout(&o), "1\n1\n1\n");
    let o = run(s.port, &["-x", "echo"], b"from\nstdin", false);
    assert_eq!(stdout(&o), "from\nstdin\n");
    let got = s.received();
    assert_eq!(got.iter().filter(|c| c[0] == "incr").count(), 3);
    assert!(got.contains(&vec!["echo".to_owned(), "from\nstdin".to_owned()]));
}

#[test]
fn commands_from_stdin() {
    let s = FakeServer::start(canned);
    let input =
        b"ping\n\n   \nset k \"a b\\x41\"\n'bad\n2 incr x\n0 incr x\nget nokey\nquit\nping\n";
    let o = run(s.port, &[], input, true);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        "PONG\nOK\nInvalid argument(s)\n(integer) 1\n(integer) 1\n\
         Invalid redis-cli repeat command option value.\n(nil)\n"
    );
    let got = s.received();
    assert!(got.contains(&vec!["set".to_owned(), "k".to_owned(), "a bA".to_owned()]));
    // Nothing after `quit`.
    assert_eq!(got.iter().filter(|c| c[0] == "ping").count(), 1);
}

#[test]
fn help_from_command_docs() {
    let s = FakeServer::start(canned);
    let o = run(s.port, &["help", "get"], b"", false);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        "\r\n  \x1b[1mGET\x1b[0m \x1b[90mkey\x1b[0m\r\n  \x1b[33msummary:\x1b[0m Get the value of a key\r\n  \
         \x1b[33msince:\x1b[0m 1.0.0\r\n  \x1b[33mgroup:\x1b[0m string\r\n\r\n"
    );
    assert!(s
        .received()
        .contains(&vec!["COMMAND".to_owned(), "DOCS".to_owned()]));
}

#[test]
fn options_end_at_the_command() {
    let s = FakeServer::start(canned);
    let o = run(s.port, &["echo", "-h"], b"", false);
    assert_eq!(stdout(&o), "-h\n");
    let o = run(s.port, &["--bogus", "ping"], b"", false);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "Unrecognized option or bad number of args for: '--bogus'\n"
    );
    let o = run(s.port, &["--version"], b"", false);
    assert!(stdout(&o).starts_with("ferrum-cli "));
}
