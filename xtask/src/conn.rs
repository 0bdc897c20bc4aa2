//! A small blocking RESP client that keeps every reply's raw bytes, so that
//! replies can be compared byte for byte.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::BytesMut;
use resp::{Frame, FrameDecoder};

/// One reply as received: its exact bytes and its decoded form.
#[derive(Debug, Clone)]
pub struct RawFrame {
    pub raw: Vec<u8>,
    pub frame: Frame,
}

/// What one read produced.
#[derive(Debug)]
pub enum Read1 {
    Frame(RawFrame),
    /// Nothing arrived in time.
    Timeout,
    /// The server closed the connection (or reset it).
    Closed,
    /// The server sent bytes that are not RESP.
    Garbage(String),
}

#[derive(Debug)]
pub struct Conn {
    stream: Option<TcpStream>,
    buf: BytesMut,
    dec: FrameDecoder,
    addr: SocketAddr,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true).ok();
        Ok(Conn {
            stream: Some(stream),
            buf: BytesMut::with_capacity(16 * 1024),
            dec: FrameDecoder::new(),
            addr,
        })
    }

    /// Drops the connection and opens a new one.
    pub fn reconnect(&mut self) -> Result<()> {
        *self = Conn::connect(self.addr)?;
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        self.stream.is_none()
    }

    /// Writes `bytes`. A server that already closed the connection is not an
    /// error here: the next read reports it.
    pub fn send(&mut self, bytes: &[u8]) {
        if let Some(s) = self.stream.as_mut() {
            if s.write_all(bytes).is_err() {
                // Keep the stream: replies sent before the close may still be
                // readable.
            }
        }
    }

    /// Sends one command as a multibulk request.
    pub fn send_command(&mut self, args: &[Vec<u8>]) {
        self.send(&encode_command(args));
    }

    /// Reads the next frame, waiting at most `timeout`.
    pub fn read(&mut self, timeout: Duration) -> Read1 {
        let deadline = Instant::now() + timeout;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if !self.buf.is_empty() {
                let mut probe = self.buf.clone();
                match self.dec.decode(&mut probe) {
                    Ok(Some(frame)) => {
                        let n = self.buf.len() - probe.len();
                        let raw = self.buf.split_to(n).to_vec();
                        return Read1::Frame(RawFrame { raw, frame });
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.stream = None;
                        let text = format!("{e}: {}", crate::text::escape(&self.buf));
                        self.buf.clear();
                        return Read1::Garbage(crate::text::shorten(&text, 200));
                    }
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                return Read1::Closed;
            };
            let now = Instant::now();
            if now >= deadline {
                return Read1::Timeout;
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            if stream.set_read_timeout(Some(wait)).is_err() {
                self.stream = None;
                return Read1::Closed;
            }
            match stream.read(&mut chunk) {
                Ok(0) => {
                    self.stream = None;
                    if self.buf.is_empty() {
                        return Read1::Closed;
                    }
                    // A truncated frame: report what is there.
                    let text = format!("truncated reply: {}", crate::text::escape(&self.buf));
                    self.buf.clear();
                    return Read1::Garbage(crate::text::shorten(&text, 200));
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Read1::Timeout;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.stream = None;
                    return Read1::Closed;
                }
            }
        }
    }

    /// Sends a command and returns its reply (test set-up and resets).
    pub fn call(&mut self, args: &[&str]) -> Result<Frame> {
        let args: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.send_command(&args);
        match self.read(Duration::from_secs(10)) {
            Read1::Frame(f) => Ok(f.frame),
            Read1::Timeout => anyhow::bail!("{}: no reply to {:?} within 10s", self.addr, args),
            Read1::Closed => anyhow::bail!("{}: connection closed", self.addr),
            Read1::Garbage(g) => anyhow::bail!("{}: bad reply: {g}", self.addr),
        }
    }
}

/// The multibulk form of a command.
pub fn encode_command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}
