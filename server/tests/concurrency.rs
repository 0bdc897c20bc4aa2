//! Many clients at once on overlapping keys: multi-key commands must be
//! atomic against every other client, on every worker thread.
//!
//! Each invariant below holds for any serial order of the commands but breaks
//! as soon as one command is seen half done: a reader finding MSET's keys
//! with different values, RENAME's source and destination both present or
//! both absent, DEL leaving one of two keys it was asked to remove, or INCR
//! losing an update.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::{start_with, Conn};
use resp::Frame;

const CLIENTS: usize = 200;
/// How long the clients hammer the server; the whole test stays well under
/// ten seconds even in a debug build.
const RUN_FOR: Duration = Duration::from_millis(2_500);
/// Upper bound on requests per client, so a fast machine does not spend the
/// whole period on one test.
const MAX_OPS: usize = 2_000;

const MKEYS: [&str; 4] = ["m:1", "m:2", "m:3", "m:4"];

#[derive(Clone, Copy, Debug)]
enum Role {
    /// MSET of one fresh value to the four m-keys.
    MsetWriter,
    /// MGET of the four m-keys (in both orders): all equal.
    MgetReader,
    /// RENAME ping-pong between pp:a and pp:b.
    Renamer,
    /// EXISTS pp:a pp:b: exactly one of them.
    RenameChecker,
    /// INCR on shared counters.
    Incrementer,
    /// MSET d:1 d:2 then DEL d:1 d:2; EXISTS over both is 0 or 2.
    SetDeleter,
}

fn role(i: usize) -> Role {
    match i % 10 {
        0 | 1 => Role::MsetWriter,
        2 | 3 => Role::MgetReader,
        4 => Role::Renamer,
        5 => Role::RenameChecker,
        6 | 7 => Role::Incrementer,
        _ => Role::SetDeleter,
    }
}

#[derive(Default)]
struct Tally {
    incrs: [AtomicU64; 3],
    renames: AtomicU64,
    mgets_with_a_new_value: AtomicU64,
    checks: AtomicU64,
}

fn bulk(f: &Frame) -> Option<Vec<u8>> {
    match f {
        Frame::Bulk(b) => Some(b.to_vec()),
        Frame::NullBulk => None,
        other => panic!("expected a bulk string or null, got {other:?}"),
    }
}

fn run_client(addr: std::net::SocketAddr, id: usize, start: &Barrier, tally: &Tally) {
    let mut c = Conn::connect(addr);
    start.wait();
    let until = Instant::now() + RUN_FOR;
    let mut last_seen: Option<Vec<u8>> = None;
    for op in 0..MAX_OPS {
        if Instant::now() >= until {
            break;
        }
        match role(id) {
            Role::MsetWriter => {
                let v = format!("{id}-{op}");
                let mut args = vec!["MSET"];
                for k in MKEYS {
                    args.push(k);
                    args.push(&v);
                }
                assert_eq!(c.cmd(&args), Frame::Simple("OK".into()));
            }
            Role::MgetReader => {
                let args: Vec<&str> = if op & 1 == 0 {
                    std::iter::once("MGET").chain(MKEYS).collect()
                } else {
                    std::iter::once("MGET")
                        .chain(MKEYS.into_iter().rev())
                        .collect()
                };
                let Frame::Array(vals) = c.cmd(&args) else {
                    panic!("MGET replies with an array");
                };
                let vals: Vec<_> = vals.iter().map(bulk).collect();
                assert!(
                    vals.iter().all(|v| *v == vals[0]),
                    "torn MSET seen by MGET: {vals:?}"
                );
                assert!(vals[0].is_some(), "the m-keys exist from the start");
                if last_seen.as_ref() != vals[0].as_ref() {
                    tally.mgets_with_a_new_value.fetch_add(1, Ordering::Relaxed);
                    last_seen = vals[0].clone();
                }
                tally.checks.fetch_add(1, Ordering::Relaxed);
            }
            Role::Renamer => {
                let (from, to) = if op & 1 == 0 {
                    ("pp:a", "pp:b")
                } else {
                    ("pp:b", "pp:a")
                };
                match c.cmd(&["RENAME", from, to]) {
                    Frame::Simple(s) if &s[..] == b"OK" => {
                        tally.renames.fetch_add(1, Ordering::Relaxed);
                    }
                    Frame::Error(e) => assert_eq!(&e[..], b"ERR no such key"),
                    other => panic!("RENAME: {other:?}"),
                }
            }
            Role::RenameChecker => {
                assert_eq!(
                    c.cmd(&["EXISTS", "pp:a", "pp:b"]),
                    Frame::Integer(1),
                    "RENAME seen half done"
                );
                tally.checks.fetch_add(1, Ordering::Relaxed);
            }
            Role::Incrementer => {
                let n = (id + op) % 3;
                let key = format!("ctr:{n}");
                assert!(matches!(c.cmd(&["INCR", &key]), Frame::Integer(_)));
                tally.incrs[n].fetch_add(1, Ordering::Relaxed);
            }
            Role::SetDeleter => match op % 3 {
                0 => {
                    let v = format!("{id}-{op}");
                    c.cmd(&["MSET", "d:1", &v, "d:2", &v]);
                }
                1 => {
                    let Frame::Integer(n) = c.cmd(&["DEL", "d:1", "d:2"]) else {
                        panic!("DEL replies with an integer");
                    };
                    assert!(n == 0 || n == 2, "DEL removed {n} of two keys");
                }
                _ => {
                    let Frame::Integer(n) = c.cmd(&["EXISTS", "d:2", "d:1"]) else {
                        panic!("EXISTS replies with an integer");
                    };
                    assert!(n == 0 || n == 2, "{n} of the two d-keys exist");
                    let Frame::Array(vals) = c.cmd(&["MGET", "d:1", "d:2"]) else {
                        panic!("MGET replies with an array");
                    };
                    assert_eq!(bulk(&vals[0]), bulk(&vals[1]), "torn MSET or DEL");
                    tally.checks.fetch_add(1, Ordering::Relaxed);
                }
            },
        }
    }
}

#[test]
fn multi_key_commands_are_atomic_under_contention() {
    let began = Instant::now();
    let srv = start_with(|v| v.threads = 4);
    let addr = srv.addr;
    let mut setup = Conn::connect(addr);
    let mut init = vec!["MSET"];
    for k in MKEYS {
        init.push(k);
        init.push("init");
    }
    assert_eq!(setup.raw(&init), "+OK\r\n");
    assert_eq!(setup.raw(&["SET", "pp:a", "token"]), "+OK\r\n");

    let start = Arc::new(Barrier::new(CLIENTS));
    let tally = Arc::new(Tally::default());
    let handles: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let start = start.clone();
            let tally = tally.clone();
            thread::Builder::new()
                .name(format!("client-{id}"))
                .stack_size(256 * 1024)
                .spawn(move || run_client(addr, id, &start, &tally))
                .expect("spawn client thread")
        })
        .collect();
    let mut failures = 0;
    for h in handles {
        if h.join().is_err() {
            failures += 1;
        }
    }
    assert_eq!(failures, 0, "{failures} clients saw a broken invariant");

    // Every INCR was counted exactly once.
    for n in 0..3 {
        let want = tally.incrs[n].load(Ordering::Relaxed);
        let got = match setup.cmd(&["GET", &format!("ctr:{n}")]) {
            Frame::Bulk(b) => std::str::from_utf8(&b).unwrap().parse::<u64>().unwrap(),
            Frame::NullBulk => 0,
            other => panic!("{other:?}"),
        };
        assert_eq!(got, want, "ctr:{n}");
    }
    // The token survived every rename, under the name the count predicts.
    let renames = tally.renames.load(Ordering::Relaxed);
    let (here, gone) = if renames & 1 == 0 {
        ("pp:a", "pp:b")
    } else {
        ("pp:b", "pp:a")
    };
    assert_eq!(setup.raw(&["GET", here]), "$5\r\ntoken\r\n");
    assert_eq!(setup.raw(&["EXISTS", gone]), ":0\r\n");
    // The m-keys still agree, and the run really interleaved writers with
    // readers rather than running them one after the other.
    let Frame::Array(vals) = setup.cmd(&["MGET", "m:1", "m:2", "m:3", "m:4"]) else {
        panic!("MGET replies with an array");
    };
    assert!(vals.iter().all(|v| *v == vals[0]));
    assert!(renames > 10, "only {renames} renames succeeded");
    assert!(
        tally.mgets_with_a_new_value.load(Ordering::Relaxed) > 40,
        "readers hardly ever saw a new MSET"
    );
    assert!(tally.checks.load(Ordering::Relaxed) > 1_000);
    assert!(began.elapsed() < Duration::from_secs(10));
}
