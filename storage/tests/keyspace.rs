//! Expiry and SCAN, driven by a manual clock so that no test sleeps.

use std::collections::HashSet;
use std::time::Duration;

use storage::keyspace::lru_clock;
use storage::{Clock, Store, Value};

const T0: i64 = 1_700_000_000_000;

fn store(clock: &Clock) -> Store {
    Store::new(2, 4, clock.clone())
}

fn key(prefix: &str, i: usize) -> Vec<u8> {
    format!("{prefix}:{i}").into_bytes()
}

#[test]
fn lazy_expiry_deletes_on_access_after_the_deadline_only() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    {
        let mut ks = s.lock_dbs(&[0]);
        ks.set_with_expire(0, b"k", Value::string(b"v"), Some(T0 + 100));
        ks.set(0, b"persistent", Value::string(b"p"), false);
    }
    // Exactly at the deadline the key is still alive: expiry needs now > deadline.
    clock.set(T0 + 100);
    {
        let mut ks = s.lock_dbs(&[0]);
        assert!(ks.get(0, b"k").is_some());
        assert_eq!(ks.expire_at(0, b"k"), Some(T0 + 100));
    }
    clock.set(T0 + 101);
    let mut ks = s.lock_dbs(&[0]);
    // Not touched yet: DBSIZE still counts it, KEYS already hides it.
    assert_eq!(ks.db_len(0), 2);
    let mut listed = Vec::new();
    ks.for_each_key(0, |k| listed.push(k.to_vec()));
    assert_eq!(listed, vec![b"persistent".to_vec()]);
    // The read deletes it, records the deletion and counts a miss.
    assert!(ks.get_read(0, b"k").is_none());
    assert_eq!(ks.expired.len(), 1);
    assert_eq!(ks.expired[0].0, 0);
    assert_eq!(&ks.expired[0].1[..], b"k");
    assert_eq!(ks.db_len(0), 1);
    assert_eq!(ks.db_volatile_len(0), 0);
    assert!(ks.get(0, b"persistent").is_some());
    drop(ks);
    let st = s.stats();
    assert_eq!(st.expired, 1);
    assert_eq!(st.misses, 1);
}

#[test]
fn command_time_is_fixed_while_the_view_is_held() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    let mut ks = s.lock_dbs(&[0]);
    ks.set_with_expire(0, b"k", Value::string(b"v"), Some(T0 + 10));
    clock.advance(1_000);
    // The view was taken at T0: the key cannot expire halfway through a command.
    assert!(ks.get(0, b"k").is_some());
    drop(ks);
    let mut ks = s.lock_dbs(&[0]);
    assert!(ks.get(0, b"k").is_none());
}

#[test]
fn every_write_path_honours_a_stale_previous_entry() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    {
        let mut ks = s.lock_dbs(&[0]);
        ks.set_with_expire(0, b"a", Value::string(b"1"), Some(T0 + 1));
        ks.set_with_expire(0, b"b", Value::string(b"1"), Some(T0 + 1));
        ks.set_with_expire(0, b"c", Value::string(b"1"), Some(T0 + 1));
    }
    clock.advance(2);
    let mut ks = s.lock_dbs(&[0]);
    // Overwriting a stale key reports no previous value and leaves no deadline.
    assert!(ks.set(0, b"a", Value::string(b"2"), true).is_none());
    assert_eq!(ks.expire_at(0, b"a"), None);
    // Removing, persisting or re-arming a stale key finds nothing.
    assert!(ks.remove(0, b"b").is_none());
    assert!(!ks.persist(0, b"c"));
    assert!(!ks.set_expire(0, b"c", T0 + 10_000));
    assert_eq!(ks.db_len(0), 1);
    assert_eq!(ks.expired.len(), 3);
}

#[test]
fn read_without_touch_counts_but_keeps_the_access_time() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    {
        let mut ks = s.lock_dbs(&[0]);
        ks.set(0, b"k", Value::string(b"v"), false);
    }
    clock.advance(5_000);
    {
        let mut ks = s.lock_dbs(&[0]);
        let e = ks.get_read_notouch(0, b"k").expect("live");
        assert_eq!(e.lru, lru_clock(T0));
        assert!(ks.get_read_notouch(0, b"missing").is_none());
    }
    let st = s.stats();
    assert_eq!((st.hits, st.misses), (1, 1));
    let mut ks = s.lock_dbs(&[0]);
    assert_eq!(
        ks.get_read(0, b"k").expect("live").lru,
        lru_clock(T0 + 5_000)
    );
}

#[test]
fn active_expiry_deletes_stale_keys_and_keeps_live_ones() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    let mut stale = HashSet::new();
    let mut live = HashSet::new();
    {
        let mut ks = s.lock_all();
        for i in 0..600 {
            let k = key("stale", i);
            ks.set_with_expire(i % 2, &k, Value::string(b"x"), Some(T0 + 50));
            stale.insert((i % 2, k));
        }
        for i in 0..200 {
            let k = key("later", i);
            ks.set_with_expire(i % 2, &k, Value::string(b"x"), Some(T0 + 60_000));
            live.insert((i % 2, k));
        }
        for i in 0..200 {
            let k = key("forever", i);
            ks.set(i % 2, &k, Value::string(b"x"), false);
            live.insert((i % 2, k));
        }
    }
    // Nothing is due yet: a cycle deletes nothing.
    assert_eq!(
        s.active_expire_cycle(Duration::from_secs(5), &mut |_, _, _| {}),
        0
    );
    clock.advance(51);
    let mut deleted = HashSet::new();
    let mut cycles = 0;
    while deleted.len() < stale.len() && cycles < 2_000 {
        s.active_expire_cycle(Duration::from_secs(5), &mut |db, k, _| {
            assert!(deleted.insert((db, k.to_vec())), "deleted twice");
        });
        cycles += 1;
    }
    assert_eq!(deleted, stale, "every stale key, and only those, deleted");
    let mut ks = s.lock_all();
    assert_eq!(ks.db_len(0) + ks.db_len(1), live.len());
    assert_eq!(ks.db_volatile_len(0) + ks.db_volatile_len(1), 200);
    for (db, k) in &live {
        assert!(ks.get(*db, k).is_some());
    }
    drop(ks);
    assert_eq!(s.stats().expired, 600);
}

/// Runs a full SCAN of db 0, calling `between` after each step, and returns
/// every key it reported and the number of steps.
fn full_scan(
    s: &Store,
    count: usize,
    mut between: impl FnMut(&Store, usize),
) -> (Vec<Vec<u8>>, usize) {
    let mut seen = Vec::new();
    let mut cursor = 0u64;
    let mut steps = 0;
    loop {
        let mut ks = s.lock_dbs(&[0]);
        let next = ks.scan(0, cursor, count, |k| seen.push(k.to_vec()));
        drop(ks);
        steps += 1;
        if next == 0 {
            return (seen, steps);
        }
        // The cursor only moves forward through the hash space, which is
        // what bounds the iteration whatever happens between steps.
        assert!(next > cursor, "cursor went from {cursor} back to {next}");
        cursor = next;
        assert!(steps < 100_000, "SCAN did not terminate");
        between(s, steps);
    }
}

#[test]
fn scan_on_a_quiet_database_returns_every_key_exactly_once() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    {
        let mut ks = s.lock_dbs(&[0]);
        for i in 0..1_000 {
            ks.set(0, &key("k", i), Value::string(b"v"), false);
        }
    }
    for count in [1, 7, 10, 100, 10_000] {
        let (seen, steps) = full_scan(&s, count, |_, _| {});
        assert_eq!(seen.len(), 1_000, "count {count}");
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 1_000, "count {count}");
        if count >= 10_000 {
            assert_eq!(steps, 1);
        }
    }
}

#[test]
fn scan_returns_keys_present_throughout_while_others_come_and_go() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    {
        let mut ks = s.lock_dbs(&[0]);
        for i in 0..2_000 {
            ks.set(0, &key("stable", i), Value::string(b"v"), false);
        }
        for i in 0..2_000 {
            ks.set(0, &key("doomed", i), Value::string(b"v"), false);
        }
    }
    let mut added = 0;
    let (seen, _) = full_scan(&s, 10, |s, step| {
        let mut ks = s.lock_dbs(&[0]);
        // Remove some keys, and grow the tables well past their first size.
        for i in (step * 10)..(step * 10 + 10) {
            ks.remove(0, &key("doomed", i));
        }
        for _ in 0..25 {
            ks.set(0, &key("new", added), Value::string(b"v"), false);
            added += 1;
        }
    });
    let seen: HashSet<Vec<u8>> = seen.into_iter().collect();
    for i in 0..2_000 {
        assert!(seen.contains(&key("stable", i)), "stable:{i} missed");
    }
    assert!(added > 1_000, "the keyspace grew during the scan");
}

#[test]
fn scan_skips_stale_keys_and_terminates_on_an_emptied_database() {
    let clock = Clock::manual(T0);
    let s = store(&clock);
    {
        let mut ks = s.lock_dbs(&[0]);
        for i in 0..300 {
            let at = if i < 100 { Some(T0 + 5) } else { None };
            ks.set_with_expire(0, &key("k", i), Value::string(b"v"), at);
        }
    }
    clock.advance(10);
    let (seen, _) = full_scan(&s, 10, |_, _| {});
    assert_eq!(seen.len(), 200);
    assert!(seen.iter().all(|k| {
        let i: usize = std::str::from_utf8(&k[2..]).unwrap().parse().unwrap();
        i >= 100
    }));

    // Emptying the database between steps still ends the iteration.
    let (_, steps) = full_scan(&s, 5, |s, _| {
        let mut ks = s.lock_dbs(&[0]);
        ks.clear_db(0);
    });
    assert!(steps <= 2);
    let mut ks = s.lock_dbs(&[0]);
    assert_eq!(ks.scan(0, 0, 10, |_| panic!("empty database")), 0);
}
