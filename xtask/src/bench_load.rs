//! The benchmark's own RESP client: probes, pipelined bulk loading (for the
//! memory workloads) and the fixed-rate latency run.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::BytesMut;
use resp::request::encode_command;
use resp::{Frame, FrameDecoder};

use super::procs::{check_interrupt, interrupted};

/// How long one reply may take before the connection counts as stuck.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// A blocking RESP2 connection.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    buf: BytesMut,
    dec: FrameDecoder,
    chunk: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Result<Client> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
        Ok(Client {
            stream,
            buf: BytesMut::with_capacity(64 * 1024),
            dec: FrameDecoder::new(),
            chunk: vec![0; 64 * 1024],
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).context("sending")
    }

    /// Reads the next reply.
    pub fn read(&mut self) -> Result<Frame> {
        match self.try_read()? {
            Some(f) => Ok(f),
            None => bail!("no reply within {}s", REPLY_TIMEOUT.as_secs()),
        }
    }

    /// The next reply, or None when none came within the socket's read
    /// timeout.
    fn try_read(&mut self) -> Result<Option<Frame>> {
        loop {
            if let Some(f) = self.dec.decode(&mut self.buf)? {
                return Ok(Some(f));
            }
            match self.stream.read(&mut self.chunk) {
                Ok(0) => bail!("the server closed the connection"),
                Ok(n) => self.buf.extend_from_slice(&self.chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(None)
                }
                Err(e) => return Err(e).context("reading a reply"),
            }
        }
    }

    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame> {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.send(&out)?;
        self.read()
    }

    /// An integer reply to `args` (DBSIZE, LLEN).
    pub fn int<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<i64> {
        match self.call(args)? {
            Frame::Integer(n) => Ok(n),
            f => bail!("expected an integer, got {f:?}"),
        }
    }
}

/// The text of an error reply, or None for any other reply.
pub fn error_text(f: &Frame) -> Option<String> {
    match f {
        Frame::Error(e) | Frame::BlobError(e) => Some(String::from_utf8_lossy(e).into_owned()),
        _ => None,
    }
}

/// Sends `total` commands made by `make(i, out)` over one connection,
/// streaming: a writer thread sends them in batches of `batch` while this
/// thread reads and checks every reply, so the server never waits for a
/// round trip (TCP flow control bounds what is in flight). Fails on the
/// first error reply, on Ctrl-C, after `limit`, or when the server stalls.
pub fn load<F>(addr: SocketAddr, total: usize, batch: usize, limit: Duration, make: F) -> Result<()>
where
    F: Fn(usize, &mut Vec<u8>) + Sync,
{
    let mut c = Client::connect(addr)?;
    let mut w = c.stream.try_clone()?;
    c.stream
        .set_read_timeout(Some(Duration::from_millis(100)))?;
    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + limit;
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Result<()> {
            let mut out = Vec::with_capacity(batch * 64);
            let mut i = 0;
            // The reader reports interruptions and time-outs.
            while i < total && !stop.load(Ordering::Relaxed) && !interrupted() {
                out.clear();
                let n = batch.min(total - i);
                for k in i..i + n {
                    make(k, &mut out);
                }
                w.write_all(&out).context("sending")?;
                i += n;
            }
            Ok(())
        });
        let read = (|| -> Result<()> {
            let mut last = Instant::now();
            let mut done = 0;
            while done < total {
                check_interrupt()?;
                if Instant::now() > deadline {
                    bail!("loading took longer than {}s", limit.as_secs());
                }
                match c.try_read()? {
                    Some(f) => {
                        if let Some(e) = error_text(&f) {
                            bail!("error reply while loading: {e}");
                        }
                        done += 1;
                        last = Instant::now();
                    }
                    None if last.elapsed() > REPLY_TIMEOUT => {
                        bail!("no reply for {}s", REPLY_TIMEOUT.as_secs())
                    }
                    None => {}
                }
            }
            Ok(())
        })();
        if read.is_err() {
            stop.store(true, Ordering::Relaxed);
            // Unblocks a writer stuck on a full socket.
            let _ = c.stream.shutdown(Shutdown::Both);
        }
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the writer thread panicked")));
        read?;
        written
    })
}

/// Round-trip times from the fixed-rate run, in microseconds.
#[derive(Debug, Default)]
pub struct Latencies {
    pub samples: Vec<f64>,
    /// Requests that could not be sent on time because the previous reply
    /// was late (the schedule then catches up without sleeping).
    pub late: usize,
}

/// `conns` connections, each sending GET and SET (alternately, random keys
/// among `keys`, 3-byte values) one at a time, together `rate` requests per
/// second, for `duration`. Each round trip is timed from the write to the
/// full reply.
pub fn fixed_rate(
    addr: SocketAddr,
    conns: usize,
    rate: f64,
    duration: Duration,
    keys: usize,
) -> Result<Latencies> {
    let interval = Duration::from_secs_f64(conns as f64 / rate);
    let barrier = Arc::new(Barrier::new(conns));
    // Connect every client before starting any thread, so that a failed
    // connection cannot leave threads waiting at the barrier.
    let clients = (0..conns)
        .map(|_| Client::connect(addr))
        .collect::<Result<Vec<_>>>()?;
    let mut handles = Vec::new();
    for (t, mut c) in clients.into_iter().enumerate() {
        let barrier = barrier.clone();
        handles.push(std::thread::spawn(move || -> Result<Latencies> {
            barrier.wait();
            // Stagger the connections evenly over one interval.
            let start = Instant::now() + interval.mul_f64(t as f64 / conns as f64);
            let end = start + duration;
            let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (t as u64 + 1);
            let mut lat = Latencies::default();
            let mut out = Vec::with_capacity(64);
            for i in 0u32.. {
                let target = start + interval * i;
                // Bounded in time even when replies come late.
                if target >= end || interrupted() || Instant::now() > end + REPLY_TIMEOUT {
                    break;
                }
                let now = Instant::now();
                if target > now {
                    std::thread::sleep(target - now);
                } else if now - target > interval {
                    lat.late += 1;
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let key = format!("lat:{}", rng % keys as u64);
                out.clear();
                if i % 2 == 0 {
                    encode_command(&["GET", &key], &mut out);
                } else {
                    encode_command(&["SET", &key, "abc"], &mut out);
                }
                let t0 = Instant::now();
                c.send(&out)?;
                let f = c.read()?;
                lat.samples.push(t0.elapsed().as_secs_f64() * 1e6);
                if let Some(e) = error_text(&f) {
                    bail!("error reply: {e}");
                }
            }
            Ok(lat)
        }));
    }
    let mut all = Latencies::default();
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok(l)) => {
                all.samples.extend(l.samples);
                all.late += l.late;
            }
            Ok(Err(e)) => first_err = first_err.or(Some(e)),
            Err(_) => first_err = first_err.or(Some(anyhow::anyhow!("a client thread panicked"))),
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    check_interrupt()?;
    Ok(all)
}

/// The p-th percentile (0..=100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // The epsilon keeps 99.9% of 1000 at rank 999 despite rounding.
    let rank = (p / 100.0 * sorted.len() as f64 - 1e-9).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 500.0);
        assert_eq!(percentile(&v, 99.0), 990.0);
        assert_eq!(percentile(&v, 99.9), 999.0);
        assert_eq!(percentile(&v, 100.0), 1000.0);
        assert_eq!(percentile(&[7.0], 99.9), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
