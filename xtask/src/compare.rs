//! Outcomes of reply-producing steps and how two of them are compared.

use resp::Frame;

use crate::conn::{Conn, RawFrame, Read1};
use crate::scenario::{Check, Level};
use crate::text::{escape, unescape};

/// Everything one step got back from a server.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub frames: Vec<RawFrame>,
    /// The server closed the connection.
    pub closed: bool,
    /// Nothing (more) arrived in time where a reply was awaited.
    pub no_reply: bool,
    /// Bytes that are not RESP.
    pub garbage: Option<String>,
}

impl Outcome {
    /// Adds the result of one read; returns whether reading should go on.
    pub fn push(&mut self, r: Read1) -> bool {
        match r {
            Read1::Frame(f) => {
                self.frames.push(f);
                true
            }
            Read1::Timeout => false,
            Read1::Closed => {
                self.closed = true;
                false
            }
            Read1::Garbage(g) => {
                self.garbage = Some(g);
                self.closed = true;
                false
            }
        }
    }

    /// Reads exactly one reply.
    pub fn read_one(conn: &mut Conn, timeout: std::time::Duration) -> Outcome {
        let mut o = Outcome::default();
        let r = conn.read(timeout);
        if matches!(r, Read1::Timeout) {
            o.no_reply = true;
        }
        o.push(r);
        o
    }

    /// The one-line form used in `.expected` files and reports: the escaped
    /// bytes of every frame, then `<closed>` if the server closed the
    /// connection, or `<no reply>`.
    pub fn to_line(&self) -> String {
        let mut s = String::new();
        for f in &self.frames {
            s.push_str(&escape(&f.raw));
        }
        if let Some(g) = &self.garbage {
            s.push_str("<garbage: ");
            s.push_str(&g.replace(['<', '>'], "?"));
            s.push('>');
        } else if self.closed {
            s.push_str("<closed>");
        }
        if self.no_reply {
            s.push_str("<no reply>");
        }
        s
    }

    /// Parses [`Outcome::to_line`]'s form.
    pub fn from_line(line: &str) -> Result<Outcome, String> {
        let mut o = Outcome::default();
        let mut rest = line;
        if let Some(r) = rest.strip_suffix("<no reply>") {
            o.no_reply = true;
            rest = r;
        }
        if let Some(r) = rest.strip_suffix("<closed>") {
            o.closed = true;
            rest = r;
        } else if let Some(i) = rest.find("<garbage: ") {
            o.garbage = Some(rest[i + 10..].trim_end_matches('>').to_string());
            o.closed = true;
            rest = &rest[..i];
        }
        let bytes = unescape(rest)?;
        let mut conn_buf = bytes::BytesMut::from(&bytes[..]);
        let mut dec = resp::FrameDecoder::new();
        while !conn_buf.is_empty() {
            let before = conn_buf.clone();
            match dec.decode(&mut conn_buf) {
                Ok(Some(frame)) => {
                    let n = before.len() - conn_buf.len();
                    o.frames.push(RawFrame {
                        raw: before[..n].to_vec(),
                        frame,
                    });
                }
                Ok(None) => return Err("truncated reply".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(o)
    }

    /// Human-readable form for reports: the raw line, shortened.
    pub fn show(&self) -> String {
        crate::text::shorten(&self.to_line(), 400)
    }
}

/// Whether `a` and `b` agree under `check`.
pub fn same(a: &Outcome, b: &Outcome, check: &Check) -> bool {
    if a.closed != b.closed
        || a.no_reply != b.no_reply
        || a.garbage.is_some() != b.garbage.is_some()
    {
        return false;
    }
    if a.frames.len() != b.frames.len() {
        return false;
    }
    a.frames
        .iter()
        .zip(&b.frames)
        .all(|(x, y)| same_frame(x, y, check))
}

fn same_frame(a: &RawFrame, b: &RawFrame, check: &Check) -> bool {
    if check.level == Level::Any {
        return true;
    }
    if check.is_exact() {
        return a.raw == b.raw;
    }
    match check.level {
        Level::Type => type_byte(&a.frame) == type_byte(&b.frame),
        Level::Shape => {
            let (x, y) = if check.unordered {
                (canonical(&a.frame), canonical(&b.frame))
            } else {
                (a.frame.clone(), b.frame.clone())
            };
            same_shape(&x, &y)
        }
        _ => {
            let (x, y) = if check.unordered {
                (canonical(&a.frame), canonical(&b.frame))
            } else {
                (a.frame.clone(), b.frame.clone())
            };
            match check.approx {
                Some(tol) => close(&x, &y, tol),
                None => x.to_vec() == y.to_vec(),
            }
        }
    }
}

/// The RESP type byte of a frame.
pub fn type_byte(f: &Frame) -> u8 {
    match f {
        Frame::Simple(_) => b'+',
        Frame::Error(_) => b'-',
        Frame::Integer(_) => b':',
        Frame::Bulk(_) | Frame::NullBulk => b'$',
        Frame::NullArray | Frame::Array(_) => b'*',
        Frame::Null => b'_',
        Frame::Map(_) => b'%',
        Frame::Set(_) => b'~',
        Frame::Push(_) => b'>',
        Frame::Double(_) => b',',
        Frame::Boolean(_) => b'#',
        Frame::BigNumber(_) => b'(',
        Frame::BlobError(_) => b'!',
        Frame::Verbatim { .. } => b'=',
        Frame::Attribute { .. } => b'|',
    }
}

/// The frame with the elements of every aggregate sorted (by their wire
/// form), so that multisets compare equal.
pub fn canonical(f: &Frame) -> Frame {
    fn sort(items: &[Frame]) -> Vec<Frame> {
        let mut v: Vec<(Vec<u8>, Frame)> = items
            .iter()
            .map(|x| {
                let c = canonical(x);
                (c.to_vec(), c)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter().map(|(_, f)| f).collect()
    }
    match f {
        Frame::Array(items) => Frame::Array(sort(items)),
        Frame::Set(items) => Frame::Set(sort(items)),
        Frame::Push(items) => Frame::Push(sort(items)),
        Frame::Map(pairs) => {
            let mut v: Vec<(Vec<u8>, (Frame, Frame))> = pairs
                .iter()
                .map(|(k, v)| {
                    let (k, v) = (canonical(k), canonical(v));
                    let mut key = k.to_vec();
                    key.extend(v.to_vec());
                    (key, (k, v))
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            Frame::Map(v.into_iter().map(|(_, p)| p).collect())
        }
        other => other.clone(),
    }
}

fn same_shape(a: &Frame, b: &Frame) -> bool {
    if type_byte(a) != type_byte(b) || a.is_null() != b.is_null() {
        return false;
    }
    match (a, b) {
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1.to_vec() == k2.to_vec() && same_shape(v1, v2))
        }
        _ => true,
    }
}

fn number(f: &Frame) -> Option<f64> {
    match f {
        Frame::Integer(n) => Some(*n as f64),
        Frame::Double(d) => Some(*d),
        Frame::Bulk(b) | Frame::Simple(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn close(a: &Frame, b: &Frame, tol: f64) -> bool {
    if type_byte(a) != type_byte(b) {
        return false;
    }
    match (a, b) {
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close(p, q, tol))
        }
        (Frame::Map(x), Frame::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| close(k1, k2, tol) && close(v1, v2, tol))
        }
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= tol,
            _ => a.to_vec() == b.to_vec(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(bytes: &[u8]) -> Outcome {
        Outcome::from_line(&escape(bytes)).unwrap()
    }

    #[test]
    fn line_form_round_trips() {
        for line in [
            "+OK\\r\\n",
            "-ERR x\\r\\n<closed>",
            "<no reply>",
            ":1\\r\\n:2\\r\\n",
            "<closed>",
        ] {
            assert_eq!(Outcome::from_line(line).unwrap().to_line(), line);
        }
        assert!(Outcome::from_line("$3\\r\\nab").is_err());
    }

    #[test]
    fn checks() {
        let exact = Check::default();
        let unordered = Check {
            unordered: true,
            ..Check::default()
        };
        let a = out(b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        let b = out(b"*2\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert!(!same(&a, &b, &exact));
        assert!(same(&a, &b, &unordered));
        let approx = Check {
            approx: Some(1.0),
            ..Check::default()
        };
        assert!(same(&out(b":99\r\n"), &out(b":100\r\n"), &approx));
        assert!(!same(&out(b":98\r\n"), &out(b":100\r\n"), &approx));
        assert!(same(
            &out(b"$3\r\n1.5\r\n"),
            &out(b"$3\r\n2.0\r\n"),
            &approx
        ));
        assert!(!same(&out(b":1\r\n"), &out(b"$1\r\n1\r\n"), &approx));
        let shape = Check {
            level: Level::Shape,
            ..Check::default()
        };
        assert!(same(
            &out(b"%1\r\n$2\r\nid\r\n:5\r\n"),
            &out(b"%1\r\n$2\r\nid\r\n:7\r\n"),
            &shape
        ));
        assert!(!same(
            &out(b"%1\r\n$2\r\nid\r\n:5\r\n"),
            &out(b"%1\r\n$2\r\nix\r\n:5\r\n"),
            &shape
        ));
        assert!(!same(&out(b"$-1\r\n"), &out(b"_\r\n"), &shape));
        let ty = Check {
            level: Level::Type,
            ..Check::default()
        };
        assert!(same(&out(b"$1\r\nx\r\n"), &out(b"$2\r\nxy\r\n"), &ty));
        assert!(!same(&out(b"+x\r\n"), &out(b"$2\r\nxy\r\n"), &ty));
        let mut closed = out(b"-ERR\r\n");
        closed.closed = true;
        assert!(!same(&closed, &out(b"-ERR\r\n"), &exact));
    }
}
