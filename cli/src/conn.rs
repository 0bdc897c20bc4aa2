//! A blocking connection to the server: sends commands as RESP arrays and
//! reads reply frames.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use resp::{Frame, FrameDecoder};

/// Set by the Ctrl-C handler while a command that only ends on Ctrl-C
/// (`MONITOR`, `SUBSCRIBE`) is running in the REPL.
pub static ABORT_REQUESTED: AtomicBool = AtomicBool::new(false);

/// How often a blocked read looks at [`ABORT_REQUESTED`].
const POLL: Duration = Duration::from_millis(100);

/// Why no reply could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The server closed the connection.
    Eof,
    /// A socket error.
    Io(io::Error),
    /// Bytes that are not RESP.
    Protocol(resp::FrameError),
    /// Ctrl-C while waiting.
    Aborted,
}

impl ReadError {
    /// Errors after which the REPL reconnects instead of exiting.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            ReadError::Eof => true,
            ReadError::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
}

impl std::fmt::Display for ReadError {
    /// Worded as hiredis words its errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Eof => f.write_str("Server closed the connection"),
            ReadError::Io(e) => f.write_str(&os_error_text(e)),
            ReadError::Protocol(e) => write!(f, "{e}"),
            ReadError::Aborted => f.write_str("Interrupted"),
        }
    }
}

/// An I/O error as C's `strerror()` would word it: Rust appends
/// ` (os error N)` and prefixes lookup failures.
pub fn os_error_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => &s[..i],
        None => &s,
    };
    s.strip_prefix("failed to lookup address information: ")
        .unwrap_or(s)
        .to_owned()
}

/// The RESP array encoding of a command.
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

/// One connection to the server.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    decoder: FrameDecoder,
}

impl Conn {
    /// Connects to `host:port`, trying each address the name resolves to.
    pub fn connect(host: &str, port: u16, timeout: Option<Duration>) -> io::Result<Conn> {
        let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "Name or service not known");
        for addr in addrs {
            let attempt = match timeout {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(POLL))?;
                    return Ok(Conn {
                        stream,
                        buf: BytesMut::with_capacity(16 * 1024),
                        decoder: FrameDecoder::new(),
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Sends one command.
    pub fn send(&mut self, args: &[Vec<u8>]) -> io::Result<()> {
        self.stream.write_all(&encode_command(args))
    }

    /// Reads the next frame. With `abortable`, gives up with
    /// [`ReadError::Aborted`] once Ctrl-C has been pressed.
    pub fn read_frame(&mut self, abortable: bool) -> Result<Frame, ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(ReadError::Protocol)?
            {
                return Ok(frame);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Eof),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if abortable && ABORT_REQUESTED.load(Ordering::SeqCst) {
                        return Err(ReadError::Aborted);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&[u8]]) -> Result<Frame, ReadError> {
        let owned: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        self.send(&owned).map_err(ReadError::Io)?;
        self.read_frame(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_commands_as_bulk_arrays() {
        let cmd = encode_command(&[b"SET".to_vec(), b"k".to_vec(), b"a b\r\n".to_vec()]);
        assert_eq!(cmd, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na b\r\n\r\n");
        assert_eq!(encode_command(&[b"".to_vec()]), b"*1\r\n$0\r\n\r\n");
    }

    #[test]
    fn error_texts_match_strerror() {
        let e = io::Error::from_raw_os_error(111);
        assert_eq!(os_error_text(&e), "Connection refused");
        assert_eq!(ReadError::Eof.to_string(), "Server closed the connection");
    }

    #[test]
    fn reads_frames_split_across_packets() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut req = [0u8; 64];
            let n = s.read(&mut req).unwrap();
            assert_eq!(&req[..n], b"*1\r\n$4\r\nPING\r\n");
            s.write_all(b"*2\r\n$1\r\na").unwrap();
            std::thread::sleep(Duration::from_millis(150));
            s.write_all(b"\r\n:7\r\n+PONG\r\n").unwrap();
        });
        let mut c = Conn::connect("127.0.0.1", port, None).unwrap();
        let reply = c.call(&[b"PING"]).unwrap();
        assert_eq!(reply.to_string(), "1) \"a\"\n2) (integer) 7");
        assert_eq!(c.read_frame(false).unwrap().to_string(), "PONG");
        server.join().unwrap();
        assert!(matches!(c.read_frame(false), Err(ReadError::Eof)));
    }
}
