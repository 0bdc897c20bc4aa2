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
