//! Connection commands end to end: SELECT, QUIT, RESET, HELLO, AUTH and
//! CLIENT, checked byte for byte against what Redis 7.2 sends.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{start, start_with, Conn};
use resp::Frame;

/// The text of a CLIENT LIST / CLIENT INFO reply (bulk in RESP2, verbatim
/// `txt` in RESP3).
fn text(f: Frame) -> String {
    match f {
        Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
        Frame::Verbatim { format, text } => {
            assert_eq!(&format, b"txt");
            String::from_utf8(text.to_vec()).unwrap()
        }
        other => panic!("not a text reply: {other:?}"),
    }
}

/// Splits a CLIENT LIST line into its `name=value` fields.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').expect("name=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(line: &str, name: &str) -> String {
    fields(line)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        .1
}

fn client_id(c: &mut Conn) -> i64 {
    match c.cmd(&["CLIENT", "ID"]) {
        Frame::Integer(n) => n,
        other => panic!("CLIENT ID gave {other:?}"),
    }
}

/// The peer address the server sees for `c`.
fn addr_of(c: &Conn) -> String {
    c.stream.local_addr().unwrap().to_string()
}

/// Reads everything until the server closes the connection.
fn read_to_eof(c: &mut Conn) -> String {
    let mut all = Vec::new();
    c.stream.read_to_end(&mut all).expect("read until close");
    String::from_utf8_lossy(&all).into_owned()
}

fn hello_reply(proto: u8, id: i64) -> String {
    let body = format!(
        "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:{proto}\r\n\
         $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
         $7\r\nmodules\r\n*0\r\n"
    );
    if proto == 3 {
        format!("%7\r\n{body}")
    } else {
        format!("*14\r\n{body}")
    }
}

const NOAUTH_HELLO: &str = "-NOAUTH HELLO must be called with the client already authenticated, \
     otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client \
     and select the RESP protocol version at the same time\r\n";

// ---------------------------------------------------------------------------
// SELECT, QUIT

#[test]
fn select_switches_database() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["SET", "k", "zero"]), "+OK\r\n");
    assert_eq!(c.raw(&["SELECT", "15"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$-1\r\n");
    assert_eq!(c.raw(&["SET", "k", "fifteen"]), "+OK\r\n");
    let info = text(c.cmd(&["CLIENT", "INFO"]));
    assert_eq!(field(info.trim_end(), "db"), "15");
    assert_eq!(c.raw(&["select", "0"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$4\r\nzero\r\n");
}

#[test]
fn select_errors() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["SELECT", "16"]),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(
        c.raw(&["SELECT", "-1"]),
        "-ERR DB index is out of range\r\n"
    );
    for bad in ["x", "1.5", "", " 1", "01", "99999999999999999999"] {
        assert_eq!(
            c.raw(&["SELECT", bad]),
            "-ERR value is not an integer or out of range\r\n",
            "SELECT {bad:?}"
        );
    }
    assert_eq!(
        c.raw(&["SELECT", "2147483648"]),
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
    );
    assert_eq!(
        c.raw(&["SELECT"]),
        "-ERR wrong number of arguments for 'select' command\r\n"
    );
    // Nothing changed.
    let info = text(c.cmd(&["CLIENT", "INFO"]));
    assert_eq!(field(info.trim_end(), "db"), "0");
}

#[test]
fn select_respects_configured_databases() {
    let srv = start_with(|v| v.databases = 2);
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(c.raw(&["SELECT", "2"]), "-ERR DB index is out of range\r\n");
}

#[test]
fn quit_replies_then_closes() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["QUIT"]), "+OK\r\n");
    assert!(c.is_closed());
    // Extra arguments are ignored, and commands after QUIT in the same
    // batch are not run.
    let mut c = Conn::connect(srv.addr);
    c.send_raw(b"QUIT now please\r\nSET after quit\r\n");
    assert_eq!(read_to_eof(&mut c), "+OK\r\n");
    let mut d = Conn::connect(srv.addr);
    assert_eq!(d.raw(&["GET", "after"]), "$-1\r\n");
}

#[test]
fn quit_needs_no_authentication() {
    let srv = start_with(|v| v.requirepass = Some("pw".into()));
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["QUIT"]), "+OK\r\n");
    assert!(c.is_closed());
}

// ---------------------------------------------------------------------------
// HELLO

#[test]
fn hello_resp2_and_resp3_shapes() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let id = client_id(&mut c);
    assert_eq!(c.raw(&["HELLO"]), hello_reply(2, id));
    assert_eq!(c.raw(&["HELLO", "2"]), hello_reply(2, id));
    assert_eq!(c.raw(&["HELLO", "3"]), hello_reply(3, id));
    // Now speaking RESP3: nulls and CLIENT INFO change shape.
    assert_eq!(c.raw(&["GET", "missing"]), "_\r\n");
    let raw = c.raw(&["CLIENT", "INFO"]);
    assert!(raw.starts_with('='), "{raw}");
    assert!(raw.contains("\r\ntxt:id="), "{raw}");
    assert!(raw.ends_with(" resp=3 lib-name= lib-ver=\n\r\n"), "{raw}");
    // HELLO without a version keeps RESP3.
    assert_eq!(c.raw(&["HELLO"]), hello_reply(3, id));
    assert_eq!(c.raw(&["HELLO", "2"]), hello_reply(2, id));
    assert_eq!(c.raw(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn hello_errors() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    for bad in ["1", "4", "0", "-3"] {
        assert_eq!(
            c.raw(&["HELLO", bad]),
            "-NOPROTO unsupported protocol version\r\n"
        );
    }
    for bad in ["x", "3.0", "", "AUTH"] {
        assert_eq!(
            c.raw(&["HELLO", bad]),
            "-ERR Protocol version is not an integer or out of range\r\n",
            "HELLO {bad:?}"
        );
    }
    assert_eq!(
        c.raw(&["HELLO", "3", "auth"]),
        "-ERR Syntax error in HELLO option 'auth'\r\n"
    );
    assert_eq!(
        c.raw(&["HELLO", "3", "AUTH", "default"]),
        "-ERR Syntax error in HELLO option 'AUTH'\r\n"
    );
    assert_eq!(
        c.raw(&["HELLO", "3", "SETNAME"]),
        "-ERR Syntax error in HELLO option 'SETNAME'\r\n"
    );
    assert_eq!(
        c.raw(&["HELLO", "3", "bogus", "x"]),
        "-ERR Syntax error in HELLO option 'bogus'\r\n"
    );
    assert_eq!(
        c.raw(&["HELLO", "3", "SETNAME", "a b"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    // None of the failures switched protocol.
    assert_eq!(c.raw(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn hello_setname_and_auth_without_password() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let id = client_id(&mut c);
    assert_eq!(
        c.raw(&["HELLO", "3", "SETNAME", "conn-1"]),
        hello_reply(3, id)
    );
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$6\r\nconn-1\r\n");
    // The default user has no password: any password is accepted.
    assert_eq!(
        c.raw(&["HELLO", "2", "AUTH", "default", "anything", "SETNAME", "x"]),
        hello_reply(2, id)
    );
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$1\r\nx\r\n");
    // Other users do not exist.
    assert_eq!(
        c.raw(&["HELLO", "3", "AUTH", "bob", "anything"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // An empty name removes the name.
    assert_eq!(c.raw(&["HELLO", "2", "SETNAME", ""]), hello_reply(2, id));
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$-1\r\n");
}

// ---------------------------------------------------------------------------
// AUTH

#[test]
fn auth_without_requirepass() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["AUTH", "pw"]),
        "-ERR AUTH <password> called without any password configured for the default user. \
         Are you sure your configuration is correct?\r\n"
    );
    assert_eq!(c.raw(&["AUTH", "default", "whatever"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["AUTH", "Default", "whatever"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.raw(&["AUTH", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.raw(&["AUTH"]),
        "-ERR wrong number of arguments for 'auth' command\r\n"
    );
}

#[test]
fn auth_with_requirepass() {
    let srv = start_with(|v| v.requirepass = Some("pw".into()));
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.raw(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.raw(&["CLIENT", "ID"]),
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(c.raw(&["HELLO", "3"]), NOAUTH_HELLO);
    assert_eq!(c.raw(&["HELLO"]), NOAUTH_HELLO);
    for (user, pass) in [("default", "wrong"), ("default", "pW"), ("bob", "pw")] {
        assert_eq!(
            c.raw(&["AUTH", user, pass]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
    }
    for pass in ["wrong", "", "pw ", "p", "pwpw"] {
        assert_eq!(
            c.raw(&["AUTH", pass]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
    }
    assert_eq!(c.raw(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.raw(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$-1\r\n");
    // A failed attempt does not undo an earlier success.
    assert_eq!(
        c.raw(&["AUTH", "nope"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.raw(&["GET", "k"]), "$-1\r\n");
    let id = client_id(&mut c);
    assert_eq!(c.raw(&["HELLO", "3"]), hello_reply(3, id));

    // The two-argument form with the default user.
    let mut d = Conn::connect(srv.addr);
    assert_eq!(d.raw(&["AUTH", "default", "pw"]), "+OK\r\n");
    assert_eq!(d.raw(&["PING"]), "+PONG\r\n");
}

#[test]
fn hello_auth_with_requirepass() {
    let srv = start_with(|v| v.requirepass = Some("pw".into()));
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["HELLO", "3", "AUTH", "default", "bad"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    // Still RESP2 and unauthenticated.
    assert_eq!(c.raw(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    // A bad protocol version is refused before the credentials are looked at.
    assert_eq!(
        c.raw(&["HELLO", "4", "AUTH", "default", "pw"]),
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(c.raw(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    // HELLO without AUTH but with SETNAME is still refused.
    assert_eq!(c.raw(&["HELLO", "3", "SETNAME", "n"]), NOAUTH_HELLO);

    let id = client_id_after_auth(&mut c);
    assert_eq!(
        c.raw(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me"]),
        hello_reply(3, id)
    );
    assert_eq!(c.raw(&["GET", "k"]), "_\r\n");
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$2\r\nme\r\n");
}

/// CLIENT ID needs authentication; reads the id from HELLO's reply instead.
fn client_id_after_auth(c: &mut Conn) -> i64 {
    match c.cmd(&["HELLO", "2", "AUTH", "default", "pw"]) {
        Frame::Array(items) => match items[7] {
            Frame::Integer(id) => id,
            ref other => panic!("id was {other:?}"),
        },
        other => panic!("HELLO gave {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// RESET

#[test]
fn reset_restores_a_fresh_connection() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let id = client_id(&mut c);
    assert_eq!(c.raw(&["SELECT", "3"]), "+OK\r\n");
    assert_eq!(c.raw(&["CLIENT", "SETNAME", "before"]), "+OK\r\n");
    assert_eq!(
        c.raw(&["CLIENT", "SETINFO", "LIB-NAME", "mylib"]),
        "+OK\r\n"
    );
    assert_eq!(c.raw(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(c.raw(&["CLIENT", "NO-TOUCH", "on"]), "+OK\r\n");
    assert_eq!(c.raw(&["HELLO", "3"]), hello_reply(3, id));
    assert_eq!(c.raw(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$-1\r\n");
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$-1\r\n");
    let info = text(c.cmd(&["CLIENT", "INFO"]));
    let line = info.trim_end();
    assert_eq!(field(line, "id"), id.to_string());
    assert_eq!(field(line, "db"), "0");
    assert_eq!(field(line, "resp"), "2");
    assert_eq!(field(line, "name"), "");
    assert_eq!(field(line, "flags"), "N");
    // The library attributes describe the other end and survive RESET.
    assert_eq!(field(line, "lib-name"), "mylib");
    assert_eq!(
        c.raw(&["RESET", "x"]),
        "-ERR wrong number of arguments for 'reset' command\r\n"
    );
}

#[test]
fn reset_turns_replies_back_on() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.send_raw(
        &[
            Conn::encode(&[b"CLIENT", b"REPLY", b"OFF"]),
            Conn::encode(&[b"PING", b"hidden"]),
            Conn::encode(&[b"RESET"]),
            Conn::encode(&[b"PING", b"shown"]),
        ]
        .concat(),
    );
    assert_eq!(c.read_raw(), b"+RESET\r\n");
    assert_eq!(c.read_raw(), b"$5\r\nshown\r\n");
}

#[test]
fn reset_deauthenticates_when_requirepass_is_set() {
    let srv = start_with(|v| v.requirepass = Some("pw".into()));
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.raw(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(c.raw(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.raw(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.raw(&["AUTH", "pw"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$1\r\nv\r\n");
}

// ---------------------------------------------------------------------------
// CLIENT ID, SETNAME, GETNAME, SETINFO, HELP

#[test]
fn client_id_is_unique_and_increasing() {
    let srv = start();
    // Each connection answers before the next one opens, so ids follow the
    // order of connecting.
    let mut a = Conn::connect(srv.addr);
    let ia = client_id(&mut a);
    let mut b = Conn::connect(srv.addr);
    let ib = client_id(&mut b);
    assert!(ia > 0 && ib > ia, "{ia} {ib}");
    assert_eq!(client_id(&mut a), ia);
    assert_eq!(
        a.raw(&["CLIENT", "ID", "x"]),
        "-ERR wrong number of arguments for 'client|id' command\r\n"
    );
}

#[test]
fn client_setname_getname() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$-1\r\n");
    for bad in ["a b", "a\nb", "caf\u{e9}", "tab\there", "del\u{7f}"] {
        assert_eq!(
            c.raw(&["CLIENT", "SETNAME", bad]),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
            "{bad:?}"
        );
    }
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(c.raw(&["CLIENT", "SETNAME", "worker:1"]), "+OK\r\n");
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$8\r\nworker:1\r\n");
    assert_eq!(c.raw(&["client", "setname", ""]), "+OK\r\n");
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "$-1\r\n");
    assert_eq!(
        c.raw(&["CLIENT", "SETNAME"]),
        "-ERR wrong number of arguments for 'client|setname' command\r\n"
    );
    c.raw(&["HELLO", "3"]);
    assert_eq!(c.raw(&["CLIENT", "GETNAME"]), "_\r\n");
}

#[test]
fn client_setinfo() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["CLIENT", "SETINFO", "lib-name", "redis-py"]),
        "+OK\r\n"
    );
    assert_eq!(c.raw(&["CLIENT", "SETINFO", "LIB-VER", "5.0.1"]), "+OK\r\n");
    let info = text(c.cmd(&["CLIENT", "INFO"]));
    assert!(
        info.ends_with(" lib-name=redis-py lib-ver=5.0.1\n"),
        "{info}"
    );
    assert_eq!(
        c.raw(&["CLIENT", "SETINFO", "lib-foo", "x"]),
        "-ERR Unrecognized option 'lib-foo'\r\n"
    );
    assert_eq!(
        c.raw(&["CLIENT", "SETINFO", "LIB-NAME", "a b"]),
        "-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.raw(&["CLIENT", "SETINFO", "lib-ver", "1\n2"]),
        "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.raw(&["CLIENT", "SETINFO", "lib-name"]),
        "-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    );
    // An empty value clears the attribute.
    assert_eq!(c.raw(&["CLIENT", "SETINFO", "lib-name", ""]), "+OK\r\n");
    let info = text(c.cmd(&["CLIENT", "INFO"]));
    assert!(info.ends_with(" lib-name= lib-ver=5.0.1\n"), "{info}");
}

#[test]
fn client_help_and_unknown_subcommands() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let Frame::Array(lines) = c.cmd(&["CLIENT", "HELP"]) else {
        panic!("HELP is an array");
    };
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| match l {
            Frame::Simple(s) => String::from_utf8(s.to_vec()).unwrap(),
            other => panic!("HELP line {other:?}"),
        })
        .collect();
    assert_eq!(
        lines[0],
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    for sub in [
        "GETNAME",
        "ID",
        "INFO",
        "KILL <ip:port>",
        "NO-EVICT (ON|OFF)",
        "NO-TOUCH (ON|OFF)",
        "REPLY (ON|OFF|SKIP)",
        "SETNAME <name>",
        "HELP",
    ] {
        assert!(lines.iter().any(|l| l == sub), "{sub} missing");
    }
    assert_eq!(
        c.raw(&["CLIENT", "NOSUCH"]),
        "-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(
        c.raw(&["CLIENT"]),
        "-ERR wrong number of arguments for 'client' command\r\n"
    );
}

// ---------------------------------------------------------------------------
// CLIENT LIST, INFO

const LIST_FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
    "lib-name",
    "lib-ver",
];

const NUMERIC: &[&str] = &[
    "fd",
    "age",
    "idle",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
];

fn check_line(line: &str, expect: &[(&str, &str)]) {
    let f = fields(line);
    let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, LIST_FIELDS, "{line}");
    for (k, v) in &f {
        if NUMERIC.contains(&k.as_str()) {
            assert!(v.parse::<u64>().is_ok(), "{k}={v} in {line}");
        }
    }
    for (k, v) in expect {
        assert_eq!(field(line, k), *v, "{k} in {line}");
    }
}

#[test]
fn client_list_two_connections() {
    let srv = start();
    // Each connection answers before the next one opens, so ids follow the
    // order of connecting.
    let mut a = Conn::connect(srv.addr);
    let ia = client_id(&mut a);
    let mut b = Conn::connect(srv.addr);
    let ib = client_id(&mut b);
    assert_eq!(a.raw(&["CLIENT", "SETNAME", "alpha"]), "+OK\r\n");
    assert_eq!(a.raw(&["SELECT", "4"]), "+OK\r\n");
    let list = text(b.cmd(&["CLIENT", "LIST"]));
    assert!(list.ends_with('\n'));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    let laddr = srv.addr.to_string();
    let (ia_s, ib_s) = (ia.to_string(), ib.to_string());
    let (addr_a, addr_b) = (addr_of(&a), addr_of(&b));
    check_line(
        lines[0],
        &[
            ("id", &ia_s),
            ("addr", &addr_a),
            ("laddr", &laddr),
            ("name", "alpha"),
            ("flags", "N"),
            ("db", "4"),
            ("sub", "0"),
            ("psub", "0"),
            ("ssub", "0"),
            ("multi", "-1"),
            ("argv-mem", "0"),
            ("obl", "0"),
            ("events", "r"),
            ("cmd", "select"),
            ("user", "default"),
            ("redir", "-1"),
            ("resp", "2"),
            ("lib-name", ""),
            ("lib-ver", ""),
        ],
    );
    check_line(
        lines[1],
        &[
            ("id", &ib_s),
            ("addr", &addr_b),
            ("name", ""),
            ("db", "0"),
            // The caller's line shows the running command and its arguments.
            ("cmd", "client|list"),
            ("argv-mem", "10"),
            ("qbuf", "26"),
            ("idle", "0"),
        ],
    );
    // RESP2: a bulk string; RESP3: verbatim text.
    let raw = b.raw(&["CLIENT", "LIST"]);
    let (head, body) = raw.split_once("\r\n").unwrap();
    assert_eq!(head, format!("${}", body.len() - 2));
    assert!(body.starts_with(&format!("id={ia} ")), "{raw}");
    assert!(body.ends_with("\n\r\n"));
    b.raw(&["HELLO", "3"]);
    let raw = b.raw(&["CLIENT", "LIST"]);
    let body = raw.split_once("\r\n").unwrap().1;
    assert!(body.starts_with(&format!("txt:id={ia} ")), "{raw}");
    let len: usize = raw[1..raw.find("\r\n").unwrap()].parse().unwrap();
    assert_eq!(
        len + 2,
        body.len(),
        "verbatim length counts txt: and the text"
    );
}

#[test]
fn client_info_is_the_callers_line() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let id = client_id(&mut c);
    let raw = c.raw(&["CLIENT", "INFO"]);
    let (head, body) = raw.split_once("\r\n").unwrap();
    assert_eq!(head, format!("${}", body.len() - 2));
    assert!(body.ends_with("\n\r\n"));
    let line = body.trim_end();
    check_line(
        line,
        &[
            ("id", &id.to_string()),
            ("addr", &addr_of(&c)),
            ("cmd", "client|info"),
            ("argv-mem", "10"),
            ("flags", "N"),
            ("resp", "2"),
        ],
    );
}

#[test]
fn client_list_filters() {
    let srv = start();
    // Each connection answers before the next one opens, so ids follow the
    // order of connecting.
    let mut a = Conn::connect(srv.addr);
    let ia = client_id(&mut a);
    let mut b = Conn::connect(srv.addr);
    let ib = client_id(&mut b);
    let ids = |list: String| -> Vec<String> { list.lines().map(|l| field(l, "id")).collect() };
    assert_eq!(
        ids(text(a.cmd(&["CLIENT", "LIST", "TYPE", "normal"]))),
        [ia.to_string(), ib.to_string()]
    );
    for t in ["master", "replica", "slave", "PUBSUB"] {
        assert_eq!(a.raw(&["CLIENT", "LIST", "TYPE", t]), "$0\r\n\r\n");
    }
    // IDs in the order given, repeats included, unknown ones skipped.
    let (sa, sb) = (ia.to_string(), ib.to_string());
    assert_eq!(
        ids(text(a.cmd(&[
            "CLIENT", "LIST", "ID", &sb, "99999", &sa, &sb, "-5"
        ]))),
        [sb.clone(), sa.clone(), sb.clone()]
    );
    assert_eq!(a.raw(&["CLIENT", "LIST", "ID", "99999"]), "$0\r\n\r\n");
    assert_eq!(
        a.raw(&["CLIENT", "LIST", "ID", &sa, "x"]),
        "-ERR Invalid client ID\r\n"
    );
    assert_eq!(
        a.raw(&["CLIENT", "LIST", "TYPE", "bogus"]),
        "-ERR Unknown client type 'bogus'\r\n"
    );
    for bad in [
        &["CLIENT", "LIST", "ID"][..],
        &["CLIENT", "LIST", "TYPE"],
        &["CLIENT", "LIST", "TYPE", "normal", "ID", "1"],
        &["CLIENT", "LIST", "foo"],
        &["CLIENT", "LIST", "foo", "bar"],
    ] {
        assert_eq!(a.raw(bad), "-ERR syntax error\r\n", "{bad:?}");
    }
}

// ---------------------------------------------------------------------------
// CLIENT KILL

#[test]
fn client_kill_old_form() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    let ib = client_id(&mut b);
    assert_eq!(
        a.raw(&["CLIENT", "KILL", "1.2.3.4:5"]),
        "-ERR No such client\r\n"
    );
    assert_eq!(a.raw(&["CLIENT", "KILL", &addr_of(&b)]), "+OK\r\n");
    assert!(b.is_closed());
    let list = text(a.cmd(&["CLIENT", "LIST"]));
    assert!(!list.contains(&format!("id={ib} ")), "{list}");
    // Killing it again finds nothing.
    assert_eq!(
        a.raw(&["CLIENT", "KILL", &addr_of(&b)]),
        "-ERR No such client\r\n"
    );
    // The old form may name the caller: it replies, then closes.
    let me = addr_of(&a);
    assert_eq!(a.raw(&["CLIENT", "KILL", &me]), "+OK\r\n");
    assert!(a.is_closed());
}

#[test]
fn client_kill_filters() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    let mut c = Conn::connect(srv.addr);
    let ia = client_id(&mut a).to_string();
    let ib = client_id(&mut b).to_string();
    client_id(&mut c);
    // SKIPME defaults to yes: killing by the caller's own id finds nothing.
    assert_eq!(a.raw(&["CLIENT", "KILL", "ID", &ia]), ":0\r\n");
    assert_eq!(a.raw(&["CLIENT", "KILL", "ID", "99999"]), ":0\r\n");
    assert_eq!(a.raw(&["CLIENT", "KILL", "ID", &ib]), ":1\r\n");
    assert!(b.is_closed());
    // Filters combine: C's address with an id that is not C's matches nothing.
    assert_eq!(
        a.raw(&["CLIENT", "KILL", "ADDR", &addr_of(&c), "ID", &ia]),
        ":0\r\n"
    );
    assert_eq!(
        a.raw(&["CLIENT", "KILL", "MAXAGE", "100000", "SKIPME", "no"]),
        ":0\r\n"
    );
    assert_eq!(
        a.raw(&["CLIENT", "KILL", "USER", "default", "ADDR", &addr_of(&c)]),
        ":1\r\n"
    );
    assert!(c.is_closed());
    // LADDR and TYPE match every remaining connection; only the caller is left
    // and it is skipped.
    let laddr = srv.addr.to_string();
    assert_eq!(
        a.raw(&["CLIENT", "KILL", "LADDR", &laddr, "TYPE", "normal"]),
        ":0\r\n"
    );
    assert_eq!(a.raw(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_kill_self_with_skipme_no() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    client_id(&mut b);
    // Kills both: the other at once, the caller after its reply.
    a.send_raw(&Conn::encode(&[
        b"CLIENT", b"KILL", b"TYPE", b"normal", b"SKIPME", b"no",
    ]));
    assert_eq!(read_to_eof(&mut a), ":2\r\n");
    assert!(b.is_closed());
}

#[test]
fn client_kill_maxage() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut old = Conn::connect(srv.addr);
    client_id(&mut old);
    std::thread::sleep(Duration::from_millis(2100));
    let mut young = Conn::connect(srv.addr);
    client_id(&mut young);
    assert_eq!(a.raw(&["CLIENT", "KILL", "MAXAGE", "2"]), ":1\r\n");
    assert!(old.is_closed());
    assert_eq!(young.raw(&["PING"]), "+PONG\r\n");
}

#[test]
fn client_kill_errors() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    for (args, reply) in [
        (
            &["ID", "0"][..],
            "-ERR client-id should be greater than 0\r\n",
        ),
        (&["ID", "-1"], "-ERR client-id should be greater than 0\r\n"),
        (
            &["ID", "abc"],
            "-ERR client-id should be greater than 0\r\n",
        ),
        (&["TYPE", "bogus"], "-ERR Unknown client type 'bogus'\r\n"),
        (&["USER", "bob"], "-ERR No such user 'bob'\r\n"),
        (&["SKIPME", "maybe"], "-ERR syntax error\r\n"),
        (&["MAXAGE", "0"], "-ERR syntax error\r\n"),
        (
            &["MAXAGE", "x"],
            "-ERR maxage is not an integer or out of range\r\n",
        ),
        (&["ID", "3", "extra"], "-ERR syntax error\r\n"),
        (&["foo", "bar"], "-ERR syntax error\r\n"),
    ] {
        let mut cmd = vec!["CLIENT", "KILL"];
        cmd.extend_from_slice(args);
        assert_eq!(a.raw(&cmd), reply, "{args:?}");
    }
    assert_eq!(
        a.raw(&["CLIENT", "KILL"]),
        "-ERR wrong number of arguments for 'client|kill' command\r\n"
    );
    assert_eq!(a.raw(&["PING"]), "+PONG\r\n");
}

// ---------------------------------------------------------------------------
// CLIENT REPLY, NO-EVICT, NO-TOUCH

#[test]
fn client_reply_on_off_skip() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let batch: Vec<&[&[u8]]> = vec![
        &[b"CLIENT", b"REPLY", b"SKIP"],
        // SKIP drops the next reply, but REPLY ON clears it and answers.
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"PING"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"PING", b"1"],
        &[b"PING", b"2"],
        &[b"CLIENT", b"REPLY", b"OFF"],
        &[b"PING", b"3"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"NOSUCHCOMMAND"],
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"PING", b"4"],
        &[b"CLIENT", b"REPLY", b"maybe"],
        &[b"QUIT"],
    ];
    let mut raw = Vec::new();
    for cmd in batch {
        raw.extend_from_slice(&Conn::encode(cmd));
    }
    c.send_raw(&raw);
    assert_eq!(
        read_to_eof(&mut c),
        "+OK\r\n+PONG\r\n$1\r\n2\r\n+OK\r\n$1\r\n4\r\n-ERR syntax error\r\n+OK\r\n"
    );
}

#[test]
fn client_reply_off_survives_batches() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.send_raw(&Conn::encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    c.send_raw(&Conn::encode(&[b"SET", b"k", b"v"]));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(c.raw(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(c.raw(&["GET", "k"]), "$1\r\nv\r\n");
}

#[test]
fn client_no_evict_and_no_touch_flags() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let flags = |c: &mut Conn| field(text(c.cmd(&["CLIENT", "INFO"])).trim_end(), "flags");
    assert_eq!(c.raw(&["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    assert_eq!(flags(&mut c), "e");
    assert_eq!(c.raw(&["CLIENT", "NO-TOUCH", "ON"]), "+OK\r\n");
    assert_eq!(flags(&mut c), "eT");
    assert_eq!(c.raw(&["CLIENT", "NO-EVICT", "off"]), "+OK\r\n");
    assert_eq!(flags(&mut c), "T");
    assert_eq!(c.raw(&["CLIENT", "NO-TOUCH", "Off"]), "+OK\r\n");
    assert_eq!(flags(&mut c), "N");
    for sub in ["NO-EVICT", "NO-TOUCH"] {
        assert_eq!(c.raw(&["CLIENT", sub, "maybe"]), "-ERR syntax error\r\n");
    }
    assert_eq!(
        c.raw(&["CLIENT", "NO-TOUCH"]),
        "-ERR wrong number of arguments for 'client|no-touch' command\r\n"
    );
}
