//! Shared helpers for integration tests: a server on port 0 and a plain
//! blocking RESP client that returns exact reply bytes.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use commands::config::Values;
use ferrum_server::Running;
use resp::{Frame, FrameDecoder};

/// Starts a server on a free port with default settings.
pub fn start() -> Running {
    start_with(|_| {})
}

/// Starts a server on a free port after `f` adjusts the settings.
pub fn start_with(f: impl FnOnce(&mut Values)) -> Running {
    let mut v = Values {
        port: 0,
        ..Values::default()
    };
    f(&mut v);
    Running::start(v).expect("server starts")
}

/// A blocking test connection.
pub struct Conn {
    pub stream: TcpStream,
    buf: BytesMut,
    dec: FrameDecoder,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            stream,
            buf: BytesMut::new(),
            dec: FrameDecoder::new(),
        }
    }

    /// Encodes arguments as a multibulk request.
    pub fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one reply frame.
    pub fn read_frame(&mut self) -> Frame {
        loop {
            if let Some(f) = self.dec.decode(&mut self.buf).expect("valid reply") {
                return f;
            }
            let mut tmp = [0u8; 65536];
            let n = self.stream.read(&mut tmp).expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// Reads one reply and returns its exact wire bytes.
    pub fn read_raw(&mut self) -> Vec<u8> {
        self.read_frame().to_vec()
    }

    /// True when the server has closed the connection (reads EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut tmp = [0u8; 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(_) => return false,
            }
        }
    }

    /// Sends a command of binary arguments and returns the reply frame.
    pub fn cmd_bin(&mut self, args: &[&[u8]]) -> Frame {
        self.send_raw(&Self::encode(args));
        self.read_frame()
    }

    /// Sends a command and returns the reply frame.
    pub fn cmd(&mut self, args: &[&str]) -> Frame {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.cmd_bin(&a)
    }

    /// Sends a command and returns the exact reply bytes as a string (lossy),
    /// convenient for asserting exact wire output.
    pub fn raw(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send_raw(&Self::encode(&a));
        String::from_utf8_lossy(&self.read_raw()).into_owned()
    }
}

/// Splits a command line on spaces (no quoting) for terse tests.
pub fn words(s: &str) -> Vec<&str> {
    s.split(' ').filter(|w| !w.is_empty()).collect()
}

/// The server under test: a fresh Ferrum, or the external server named by
/// `FERRUM_TESTS_AGAINST=host:port`, so that a test's expected bytes can be
/// checked against real Redis with the same code.
pub struct Target {
    own: Option<Running>,
    pub addr: SocketAddr,
}

impl Target {
    pub fn conn(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// True when testing Ferrum itself (Redis 7.2 semantics), false against
    /// an external server (which may be an older Redis).
    pub fn is_ferrum(&self) -> bool {
        self.own.is_some()
    }
}

/// Settings tests may change, with Redis's defaults: an external server is
/// put back to them before each test.
const DEFAULTS: &[(&str, &str)] = &[
    ("hash-max-listpack-entries", "128"),
    ("hash-max-listpack-value", "64"),
    ("set-max-intset-entries", "512"),
    ("set-max-listpack-entries", "128"),
    ("set-max-listpack-value", "64"),
    ("zset-max-listpack-entries", "128"),
    ("zset-max-listpack-value", "64"),
    ("list-max-listpack-size", "-2"),
];

/// A fresh Ferrum, or the flushed external server.
pub fn target() -> Target {
    match std::env::var("FERRUM_TESTS_AGAINST") {
        Ok(addr) => {
            let addr = addr.parse().expect("FERRUM_TESTS_AGAINST is host:port");
            let mut c = Conn::connect(addr);
            assert_eq!(c.raw(&["FLUSHALL"]), "+OK\r\n");
            for (k, v) in DEFAULTS {
                // Older servers may not know every option; that is fine.
                c.raw(&["CONFIG", "SET", k, v]);
            }
            Target { own: None, addr }
        }
        Err(_) => {
            let srv = start();
            Target {
                addr: srv.addr,
                own: Some(srv),
            }
        }
    }
}

/// A target and a connection to it.
pub fn client() -> (Target, Conn) {
    let t = target();
    let c = t.conn();
    (t, c)
}

/// Runs a space-separated command line and returns the exact reply.
pub fn r(c: &mut Conn, line: &str) -> String {
    c.raw(&words(line))
}

/// Runs each command line and checks its exact reply.
pub fn check(c: &mut Conn, cases: &[(&str, &str)]) {
    for (line, want) in cases {
        assert_eq!(r(c, line), *want, "{line}");
    }
}

/// Runs a command with binary arguments and returns the exact reply bytes.
pub fn bin(c: &mut Conn, args: &[&[u8]]) -> Vec<u8> {
    c.send_raw(&Conn::encode(args));
    c.read_raw()
}

/// A bulk string as RESP writes it.
pub fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// An array of bulk strings, as RESP2 writes it; an item `(nil)` stands for
/// a null bulk string (as redis-cli shows it).
pub fn arr(items: &[&str]) -> String {
    let mut out = format!("*{}\r\n", items.len());
    for i in items {
        if *i == "(nil)" {
            out.push_str("$-1\r\n");
        } else {
            out.push_str(&bulk(i));
        }
    }
    out
}

/// A fresh, empty temporary directory, unique within this test process.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ferrum-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One field of an INFO section, as text.
pub fn info_field(c: &mut Conn, section: &str, field: &str) -> String {
    let Frame::Bulk(b) = c.cmd(&["INFO", section]) else {
        panic!("INFO reply is a bulk string");
    };
    let text = String::from_utf8_lossy(&b).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}
