//! MULTI/EXEC/DISCARD/WATCH/UNWATCH: exact replies in RESP2 and RESP3,
//! queueing errors, WATCH against other clients, expiry and flushes, blocked
//! clients served by a transaction, and atomicity under many threads.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{start, Conn};

fn client_list_field(c: &mut Conn, id: &str, field: &str) -> String {
    let list = c.raw(&["CLIENT", "LIST", "ID", id]);
    list.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in {list}"))
}

fn client_id(c: &mut Conn) -> String {
    let r = c.raw(&["CLIENT", "ID"]);
    r.trim_start_matches(':').trim_end().to_string()
}

#[test]
fn exec_replies_with_every_queued_reply() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.raw(&["SET", "s", "x"]), "+QUEUED\r\n");
    assert_eq!(c.raw(&["INCR", "s"]), "+QUEUED\r\n");
    assert_eq!(c.raw(&["GET", "s"]), "+QUEUED\r\n");
    assert_eq!(c.raw(&["INCR", "n"]), "+QUEUED\r\n");
    // A runtime error stays in its place; the rest still runs.
    assert_eq!(
        c.raw(&["EXEC"]),
        "*4\r\n+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\nx\r\n:1\r\n"
    );
    assert_eq!(c.raw(&["GET", "n"]), "$1\r\n1\r\n");
    // An empty transaction is an empty array.
    c.raw(&["MULTI"]);
    assert_eq!(c.raw(&["EXEC"]), "*0\r\n");
}

#[test]
fn resp3_replies_inside_exec_use_resp3() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.cmd(&["HELLO", "3"]);
    c.raw(&["HSET", "h", "f", "v"]);
    c.raw(&["MULTI"]);
    c.raw(&["HGETALL", "h"]);
    c.raw(&["GET", "missing"]);
    assert_eq!(c.raw(&["EXEC"]), "*2\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n_\r\n");
}

#[test]
fn control_errors_have_redis_texts() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(c.raw(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(c.raw(&["DISCARD"]), "-ERR DISCARD without MULTI\r\n");
    assert_eq!(
        c.raw(&["EXEC", "x"]),
        "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
    );
    assert_eq!(
        c.raw(&["MULTI", "x"]),
        "-ERR wrong number of arguments for 'multi' command\r\n"
    );
    assert_eq!(
        c.raw(&["WATCH"]),
        "-ERR wrong number of arguments for 'watch' command\r\n"
    );
    c.raw(&["MULTI"]);
    assert_eq!(c.raw(&["SET", "a", "1"]), "+QUEUED\r\n");
    // Nested MULTI and WATCH are refused but do not abort the transaction.
    assert_eq!(c.raw(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(
        c.raw(&["WATCH", "x"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(c.raw(&["EXEC"]), "*1\r\n+OK\r\n");
    // A rejected EXEC discards the transaction.
    c.raw(&["MULTI"]);
    c.raw(&["SET", "a", "2"]);
    assert!(c
        .raw(&["EXEC", "x"])
        .starts_with("-EXECABORT Transaction discarded because of: "));
    assert_eq!(c.raw(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(c.raw(&["GET", "a"]), "$1\r\n1\r\n");
}

#[test]
fn queueing_errors_abort_exec() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["MULTI"]);
    assert_eq!(
        c.raw(&["SET", "a"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(c.raw(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(
        c.raw(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(c.raw(&["EXISTS", "a"]), ":0\r\n");

    c.raw(&["MULTI"]);
    assert_eq!(
        c.raw(&["NOSUCH", "a"]),
        "-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n"
    );
    c.raw(&["SET", "a", "1"]);
    assert_eq!(
        c.raw(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    // The client is out of the transaction afterwards.
    assert_eq!(c.raw(&["SET", "a", "1"]), "+OK\r\n");
}

#[test]
fn no_multi_commands_are_refused_inside_multi() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["MULTI"]);
    // SHUTDOWN carries the no_multi flag: refused, and the server stays up.
    assert_eq!(
        c.raw(&["SHUTDOWN"]),
        "-ERR Command not allowed inside a transaction\r\n"
    );
    assert_eq!(c.raw(&["PING"]), "+QUEUED\r\n");
    assert_eq!(
        c.raw(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(c.raw(&["PING"]), "+PONG\r\n");
}

#[test]
fn discard_and_reset_drop_the_transaction() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["MULTI"]);
    c.raw(&["SET", "a", "1"]);
    assert_eq!(c.raw(&["DISCARD"]), "+OK\r\n");
    assert_eq!(c.raw(&["EXISTS", "a"]), ":0\r\n");
    c.raw(&["MULTI"]);
    c.raw(&["SET", "a", "1"]);
    assert_eq!(c.raw(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.raw(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    assert_eq!(c.raw(&["EXISTS", "a"]), ":0\r\n");
    // RESET also forgets watched keys.
    let mut other = Conn::connect(srv.addr);
    c.raw(&["WATCH", "w"]);
    c.raw(&["RESET"]);
    other.raw(&["SET", "w", "1"]);
    c.raw(&["MULTI"]);
    c.raw(&["PING"]);
    assert_eq!(c.raw(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn quit_inside_multi_closes() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["MULTI"]);
    assert_eq!(c.raw(&["QUIT"]), "+OK\r\n");
    assert!(c.is_closed());
}

#[test]
fn client_list_shows_multi_state() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let mut other = Conn::connect(srv.addr);
    let id = client_id(&mut c);
    assert_eq!(client_list_field(&mut other, &id, "multi"), "-1");
    c.raw(&["MULTI"]);
    c.raw(&["SET", "a", "1"]);
    c.raw(&["GET", "a"]);
    assert_eq!(client_list_field(&mut other, &id, "flags"), "x");
    assert_eq!(client_list_field(&mut other, &id, "multi"), "2");
    c.raw(&["EXEC"]);
    assert_eq!(client_list_field(&mut other, &id, "flags"), "N");
    assert_eq!(client_list_field(&mut other, &id, "multi"), "-1");
    // A touched watch shows `d`; the transaction then stops queueing.
    c.raw(&["WATCH", "k"]);
    other.raw(&["SET", "k", "1"]);
    assert_eq!(client_list_field(&mut other, &id, "flags"), "d");
    c.raw(&["MULTI"]);
    c.raw(&["PING"]);
    assert_eq!(client_list_field(&mut other, &id, "flags"), "xd");
    assert_eq!(client_list_field(&mut other, &id, "multi"), "0");
    assert_eq!(c.raw(&["EXEC"]), "*-1\r\n");
    assert_eq!(client_list_field(&mut other, &id, "flags"), "N");
}

#[test]
fn watch_fails_exec_when_another_client_writes() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    b.raw(&["SET", "k", "1"]);
    assert_eq!(a.raw(&["WATCH", "k"]), "+OK\r\n");
    b.raw(&["SET", "k", "1"]);
    a.raw(&["MULTI"]);
    a.raw(&["SET", "k", "2"]);
    assert_eq!(a.raw(&["EXEC"]), "*-1\r\n");
    assert_eq!(a.raw(&["GET", "k"]), "$1\r\n1\r\n");
    // EXEC forgot the watch: the next transaction runs.
    a.raw(&["MULTI"]);
    a.raw(&["SET", "k", "2"]);
    assert_eq!(a.raw(&["EXEC"]), "*1\r\n+OK\r\n");
    // RESP3 clients get a null.
    a.cmd(&["HELLO", "3"]);
    a.raw(&["WATCH", "k"]);
    b.raw(&["DEL", "k"]);
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "_\r\n");
}

#[test]
fn watch_sees_writes_made_after_multi_and_own_writes() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    a.raw(&["WATCH", "k"]);
    a.raw(&["MULTI"]);
    b.raw(&["SADD", "k", "m"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*-1\r\n");
    // Its own write before MULTI counts too.
    a.raw(&["WATCH", "k"]);
    a.raw(&["SREM", "k", "m"]);
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*-1\r\n");
}

#[test]
fn watch_ignores_writes_that_change_nothing_and_other_keys() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    a.raw(&["WATCH", "k", "k2"]);
    b.raw(&["SET", "other", "1"]);
    b.raw(&["DEL", "k"]); // nothing to delete
    b.raw(&["SELECT", "1"]);
    b.raw(&["SET", "k", "1"]); // same name, other database
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn unwatch_and_discard_forget_the_watch() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    a.raw(&["WATCH", "k"]);
    b.raw(&["SET", "k", "1"]);
    assert_eq!(a.raw(&["UNWATCH"]), "+OK\r\n");
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*1\r\n+PONG\r\n");

    a.raw(&["WATCH", "k"]);
    a.raw(&["MULTI"]);
    b.raw(&["SET", "k", "2"]);
    a.raw(&["DISCARD"]);
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*1\r\n+PONG\r\n");
}

#[test]
fn watch_follows_redis7_expiry_rules() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    // Already stale when watched: EXEC succeeds, also after its deletion.
    b.raw(&["SET", "k", "v", "PX", "20"]);
    thread::sleep(Duration::from_millis(40));
    a.raw(&["WATCH", "k"]);
    b.raw(&["GET", "k"]); // lazy expiry deletes it
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*1\r\n+PONG\r\n");
    // ... but a write after that deletion is a change.
    b.raw(&["SET", "k", "v", "PX", "20"]);
    thread::sleep(Duration::from_millis(40));
    a.raw(&["WATCH", "k"]);
    b.raw(&["SET", "k", "new"]);
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*-1\r\n");
    // A key that goes stale after WATCH fails EXEC though nobody touched it.
    b.raw(&["SET", "k", "v", "PX", "100"]);
    a.raw(&["WATCH", "k"]);
    thread::sleep(Duration::from_millis(150));
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*-1\r\n");
}

#[test]
fn flushes_and_swapdb_touch_only_existing_watched_keys() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    let run = |a: &mut Conn| {
        a.raw(&["MULTI"]);
        a.raw(&["PING"]);
        a.raw(&["EXEC"])
    };
    // FLUSHDB of a missing watched key: no change.
    a.raw(&["WATCH", "k"]);
    b.raw(&["FLUSHDB"]);
    assert_eq!(run(&mut a), "*1\r\n+PONG\r\n");
    // FLUSHDB and FLUSHALL of an existing one: a change.
    b.raw(&["SET", "k", "1"]);
    a.raw(&["WATCH", "k"]);
    b.raw(&["FLUSHDB"]);
    assert_eq!(run(&mut a), "*-1\r\n");
    b.raw(&["SET", "k", "1"]);
    a.raw(&["WATCH", "k"]);
    b.raw(&["FLUSHALL"]);
    assert_eq!(run(&mut a), "*-1\r\n");
    // FLUSHDB of another database: no change.
    b.raw(&["SET", "k", "1"]);
    a.raw(&["WATCH", "k"]);
    b.raw(&["SELECT", "1"]);
    b.raw(&["FLUSHDB"]);
    assert_eq!(run(&mut a), "*1\r\n+PONG\r\n");
    // SWAPDB bringing the key in, or taking it away: a change.
    b.raw(&["FLUSHALL"]);
    b.raw(&["SET", "k", "1"]); // in db 1
    a.raw(&["WATCH", "k"]); // in db 0, missing
    b.raw(&["SWAPDB", "0", "1"]);
    assert_eq!(run(&mut a), "*-1\r\n");
    a.raw(&["WATCH", "k"]); // now exists in db 0
    b.raw(&["SWAPDB", "0", "1"]);
    assert_eq!(run(&mut a), "*-1\r\n");
    // SWAPDB of databases without the key: no change.
    b.raw(&["FLUSHALL"]);
    a.raw(&["WATCH", "k"]);
    b.raw(&["SWAPDB", "0", "1"]);
    assert_eq!(run(&mut a), "*1\r\n+PONG\r\n");
}

#[test]
fn watch_across_databases_and_disconnect() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    a.raw(&["SELECT", "2"]);
    a.raw(&["WATCH", "k"]);
    a.raw(&["SELECT", "0"]);
    b.raw(&["SELECT", "2"]);
    b.raw(&["SET", "k", "1"]);
    a.raw(&["MULTI"]);
    a.raw(&["PING"]);
    assert_eq!(a.raw(&["EXEC"]), "*-1\r\n");
    // A watching client that disconnects leaves nothing behind.
    a.raw(&["WATCH", "x", "y"]);
    assert_eq!(srv.server.watches.clients(), 1);
    drop(a);
    let t = Instant::now();
    while srv.server.watches.clients() != 0 || srv.server.watches.keys() != 0 {
        assert!(t.elapsed() < Duration::from_secs(5), "watch not cleaned up");
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(srv.server.observers.load(Ordering::Relaxed), 0);
}

#[test]
fn blocking_commands_do_not_block_inside_exec() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["MULTI"]);
    c.raw(&["BLPOP", "nolist", "0"]);
    c.raw(&["BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"]);
    assert_eq!(c.raw(&["EXEC"]), "*2\r\n*-1\r\n$-1\r\n");
}

#[test]
fn exec_serves_clients_blocked_on_its_keys() {
    let srv = start();
    let mut waiter = Conn::connect(srv.addr);
    let mut c = Conn::connect(srv.addr);
    waiter.send_raw(&Conn::encode(&[b"BLPOP", b"q", b"0"]));
    let t = Instant::now();
    while srv.server.blocking.count() != 1 {
        assert!(t.elapsed() < Duration::from_secs(5));
        thread::sleep(Duration::from_millis(5));
    }
    c.raw(&["MULTI"]);
    c.raw(&["RPUSH", "q", "a", "b"]);
    c.raw(&["LLEN", "q"]);
    // LLEN inside the transaction still sees both: the waiter is served
    // after the whole transaction, before anyone else.
    assert_eq!(c.raw(&["EXEC"]), "*2\r\n:2\r\n:2\r\n");
    assert_eq!(
        String::from_utf8_lossy(&waiter.read_raw()),
        "*2\r\n$1\r\nq\r\n$1\r\na\r\n"
    );
    assert_eq!(c.raw(&["LRANGE", "q", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
}

#[test]
fn self_locking_and_database_changing_commands_run_inside_exec() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.raw(&["MULTI"]);
    c.raw(&["SET", "a", "1"]);
    c.raw(&["INFO", "keyspace"]);
    c.raw(&["CONFIG", "RESETSTAT"]);
    c.raw(&["SELECT", "3"]);
    c.raw(&["SET", "b", "2"]);
    c.raw(&["DBSIZE"]);
    c.raw(&["FLUSHALL"]);
    c.raw(&["DBSIZE"]);
    let reply = c.raw(&["EXEC"]);
    // INFO takes store-wide locks itself, so EXEC runs it once its own
    // locks are released (see `commands::multi`): it sees the end state.
    assert!(reply.starts_with("*8\r\n+OK\r\n$"), "{reply}");
    assert!(reply.contains("# Keyspace"), "{reply}");
    assert!(
        reply.ends_with("+OK\r\n+OK\r\n+OK\r\n:1\r\n+OK\r\n:0\r\n"),
        "{reply}"
    );
    // SELECT inside the transaction sticks, as in Redis.
    assert_eq!(c.raw(&["SET", "c", "1"]), "+OK\r\n");
    c.raw(&["SELECT", "0"]);
    assert_eq!(c.raw(&["EXISTS", "c"]), ":0\r\n");
}

/// Writers move one unit from `a` to `b` (or back) in transactions whose
/// keys live in different shards; readers read both in one MGET (which
/// locks both) and must always see the invariant a + b = 0 kept.
#[test]
fn no_client_observes_a_partial_transaction() {
    let srv = start();
    let addr = srv.addr;
    // Pick two keys in different shards.
    let store = &srv.server.store;
    let a = "acct:a".to_string();
    let b = (0..)
        .map(|i| format!("acct:b{i}"))
        .find(|k| store.slot(0, k.as_bytes()) != store.slot(0, a.as_bytes()))
        .unwrap();
    let mut setup = Conn::connect(addr);
    setup.raw(&["MSET", &a, "0", &b, "0"]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (a, b) = (a.clone(), b.clone());
        writers.push(thread::spawn(move || {
            let mut c = Conn::connect(addr);
            for i in 0..300 {
                let (from, to) = if (i + w) % 2 == 0 { (&a, &b) } else { (&b, &a) };
                c.raw(&["MULTI"]);
                c.raw(&["DECR", from]);
                c.raw(&["INCR", "counter"]);
                c.raw(&["INCR", to]);
                let r = c.raw(&["EXEC"]);
                assert!(r.starts_with("*3\r\n:"), "{r}");
            }
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (a, b, stop) = (a.clone(), b.clone(), stop.clone());
        readers.push(thread::spawn(move || {
            let mut c = Conn::connect(addr);
            let mut seen = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = c.raw(&["MGET", &a, &b]);
                let nums: Vec<i64> = r
                    .lines()
                    .filter(|l| !l.starts_with('*') && !l.starts_with('$'))
                    .map(|l| l.parse().unwrap())
                    .collect();
                assert_eq!(nums[0] + nums[1], 0, "partial transaction seen: {r}");
                seen += 1;
            }
            seen
        }));
    }
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(reads > 0);
    assert_eq!(setup.raw(&["GET", "counter"]), "$4\r\n1200\r\n");
    let r = setup.raw(&["MGET", &a, &b]);
    assert_eq!(r, "*2\r\n$1\r\n0\r\n$1\r\n0\r\n");
}

/// Optimistic locking: many clients increment one counter with
/// WATCH/GET/MULTI/SET/EXEC, retrying on a null EXEC; no update is lost.
#[test]
fn watch_based_increments_lose_nothing() {
    let srv = start();
    let addr = srv.addr;
    let mut handles = Vec::new();
    for _ in 0..4 {
        handles.push(thread::spawn(move || {
            let mut c = Conn::connect(addr);
            let mut retries = 0;
            for _ in 0..100 {
                loop {
                    c.raw(&["WATCH", "ctr"]);
                    let v = c.raw(&["GET", "ctr"]);
                    let n: i64 = v.lines().nth(1).map_or(0, |l| l.parse().unwrap());
                    c.raw(&["MULTI"]);
                    c.raw(&["SET", "ctr", &(n + 1).to_string()]);
                    if c.raw(&["EXEC"]) == "*1\r\n+OK\r\n" {
                        break;
                    }
                    retries += 1;
                }
            }
            retries
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let mut c = Conn::connect(addr);
    assert_eq!(c.raw(&["GET", "ctr"]), "$3\r\n400\r\n");
}

/// Runs `write` from another client between WATCH and EXEC on `key` and
/// returns EXEC's reply.
fn exec_after_write(a: &mut Conn, b: &mut Conn, key: &str, write: &[&str]) -> String {
    assert_eq!(a.raw(&["WATCH", key]), "+OK\r\n");
    b.cmd(write);
    assert_eq!(a.raw(&["MULTI"]), "+OK\r\n");
    assert_eq!(a.raw(&["PING"]), "+QUEUED\r\n");
    a.raw(&["EXEC"])
}

/// List and sorted-set writes signal the keys they modify (Redis's
/// signalModifiedKey): LPUSH and ZADD, creating or growing, fail a
/// watching EXEC, as do pops, moves (both keys) and removals; writes that
/// change nothing leave it alone.
#[test]
fn list_and_zset_writes_fail_a_watching_exec() {
    let srv = start();
    let mut a = Conn::connect(srv.addr);
    let mut b = Conn::connect(srv.addr);
    let aborted = "*-1\r\n";
    let ran = "*1\r\n+PONG\r\n";
    assert_eq!(
        exec_after_write(&mut a, &mut b, "l", &["LPUSH", "l", "x"]),
        aborted
    );
    assert_eq!(
        exec_after_write(&mut a, &mut b, "l", &["LPUSH", "l", "y"]),
        aborted
    );
    assert_eq!(
        exec_after_write(&mut a, &mut b, "z", &["ZADD", "z", "1", "m"]),
        aborted
    );
    assert_eq!(
        exec_after_write(&mut a, &mut b, "z", &["ZADD", "z", "2", "m"]),
        aborted
    );
    let cases: &[(&str, &[&str], &str)] = &[
        ("l", &["LPUSHX", "nosuch", "x"], ran),
        ("l", &["RPUSHX", "l", "x"], aborted),
        ("l", &["LINSERT", "l", "BEFORE", "x", "w"], aborted),
        ("l", &["LINSERT", "l", "BEFORE", "nosuch", "w"], ran),
        ("l", &["LSET", "l", "0", "v"], aborted),
        ("l", &["LREM", "l", "0", "nosuch"], ran),
        ("l", &["LREM", "l", "1", "w"], aborted),
        ("l", &["LTRIM", "l", "0", "-1"], aborted),
        ("dst", &["LMOVE", "l", "dst", "LEFT", "LEFT"], aborted),
        ("l", &["RPOPLPUSH", "l", "dst"], aborted),
        ("l", &["LPOP", "l"], aborted),
        ("l", &["LPOP", "l"], ran),
        ("z", &["ZADD", "z", "NX", "5", "m"], ran),
        ("z", &["ZINCRBY", "z", "1", "m"], aborted),
        ("z", &["ZREM", "z", "nosuch"], ran),
        ("z", &["ZREMRANGEBYSCORE", "z", "100", "200"], ran),
        ("z", &["ZPOPMIN", "z"], aborted),
        ("u", &["ZUNIONSTORE", "u", "1", "dst"], ran),
        ("z", &["ZADD", "z", "1", "a", "2", "b"], aborted),
        ("u", &["ZUNIONSTORE", "u", "1", "z"], aborted),
        ("u", &["ZRANGESTORE", "u", "z", "0", "0"], aborted),
        ("u", &["ZREMRANGEBYRANK", "u", "0", "-1"], aborted),
        ("z", &["ZMPOP", "1", "z", "MAX", "COUNT", "5"], aborted),
    ];
    for (key, write, expected) in cases {
        assert_eq!(
            exec_after_write(&mut a, &mut b, key, write),
            *expected,
            "WATCH {key}, then {write:?}"
        );
    }
}
