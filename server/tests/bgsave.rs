//! BGSAVE end to end: the file is a point-in-time snapshot of the moment
//! the save started even while clients write during it, INFO persistence
//! follows the save, and `save` points start saves on their own.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{info_field, start_with, temp_dir, Conn};
use resp::Frame;

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

type Contents = BTreeMap<(usize, Vec<u8>), (Vec<u8>, Option<i64>)>;

/// The string keys of an RDB file, read with the persistence crate's loader.
fn load(path: &PathBuf) -> Contents {
    let f = std::fs::File::open(path).unwrap();
    let mut out = Contents::new();
    persistence::rdb::load_with(f, &storage::LimitValues::default(), |e| {
        let v = e.value.as_str().expect("string value").to_bytes().to_vec();
        assert!(
            out.insert((e.db, e.key), (v, e.expire_ms)).is_none(),
            "key twice in the file"
        );
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn bgsave_writes_the_state_at_its_start() {
    let dir = temp_dir("pit");
    let d = dir.display().to_string();
    let srv = start_with(|v| v.dir = d.clone());
    let mut c = Conn::connect(srv.addr);
    let mut expected = Contents::new();
    for db in 0..4 {
        c.cmd(&["SELECT", &db.to_string()]);
        for i in 0..500 {
            let (k, v) = (format!("k{i}"), format!("v{db}-{i}"));
            if i % 10 == 0 {
                c.cmd(&["SET", &k, &v, "PXAT", "4000000000000"]);
                expected.insert(
                    (db, k.into_bytes()),
                    (v.into_bytes(), Some(4_000_000_000_000)),
                );
            } else {
                c.cmd(&["SET", &k, &v]);
                expected.insert((db, k.into_bytes()), (v.into_bytes(), None));
            }
        }
    }
    let dirty_before: u64 = info_field(&mut c, "persistence", "rdb_changes_since_last_save")
        .parse()
        .unwrap();
    assert_eq!(dirty_before, 2000);

    // Holding shard (0, 0) stops the save's walker at its first shard, with
    // every other shard not yet captured: the writes below then all race it.
    let store = &srv.server.store;
    let held = store.lock(vec![(0, 0)].into());
    assert_eq!(c.raw(&["BGSAVE"]), "+Background saving started\r\n");
    wait_until("snapshot running", || store.snapshot_in_progress());
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_bgsave_in_progress"),
        "1"
    );
    assert_eq!(
        c.raw(&["BGSAVE"]),
        "-ERR Background save already in progress\r\n"
    );

    // Modify, delete and add keys everywhere but the held shard; empty db 3.
    let mut writes = 0;
    let mut first_added: Option<String> = None;
    for db in 0..3usize {
        c.cmd(&["SELECT", &db.to_string()]);
        for i in 0..500 {
            let k = format!("k{i}");
            let added = format!("new{i}");
            // Neither the key nor the one added may live in the held shard:
            // the command would wait for it until the test gave up.
            if store.slot(db, k.as_bytes()) == (0, 0) || store.slot(db, added.as_bytes()) == (0, 0)
            {
                continue;
            }
            let reply = match i % 4 {
                0 => c.cmd(&["SET", &k, "changed"]),
                1 => c.cmd(&["DEL", &k]),
                2 => c.cmd(&["PERSIST", &k]),
                _ => {
                    if db == 0 && first_added.is_none() {
                        first_added = Some(added.clone());
                    }
                    c.cmd(&["SET", &added, "added"])
                }
            };
            assert!(!matches!(reply, Frame::Error(_)));
            writes += 1;
        }
    }
    c.cmd(&["SELECT", "3"]);
    assert_eq!(c.raw(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(c.raw(&["DBSIZE"]), ":0\r\n");
    drop(held);

    wait_until("save done", || !srv.server.bgsave.in_progress());
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_bgsave_in_progress"),
        "0"
    );
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    assert_ne!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_time_sec"),
        "-1"
    );
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_current_bgsave_time_sec"),
        "-1"
    );
    assert_eq!(info_field(&mut c, "persistence", "rdb_saves"), "1");
    // Changes made during the save are not in the file: they still count.
    let dirty_after: u64 = info_field(&mut c, "persistence", "rdb_changes_since_last_save")
        .parse()
        .unwrap();
    assert!(
        dirty_after >= writes && dirty_after < dirty_before + writes,
        "{dirty_after}"
    );
    let Frame::Integer(lastsave) = c.cmd(&["LASTSAVE"]) else {
        panic!("LASTSAVE")
    };
    let now = storage::clock::system_now_ms() / 1000;
    assert!((now - 5..=now).contains(&lastsave), "{lastsave}");

    let path = dir.join("dump.rdb");
    assert_eq!(load(&path), expected);
    assert!(!dir
        .join(format!("temp-bgsave-{}.rdb", std::process::id()))
        .exists());

    // A second save, with nothing racing it, sees the writes.
    assert_eq!(
        c.raw(&["BGSAVE", "SCHEDULE"]),
        "+Background saving started\r\n"
    );
    wait_until("second save done", || {
        !srv.server.bgsave.in_progress() && info_field(&mut c, "persistence", "rdb_saves") == "2"
    });
    let after = load(&path);
    assert_ne!(after, expected);
    assert!(after.keys().all(|(db, _)| *db != 3));
    assert_eq!(
        after.get(&(0, first_added.expect("a key was added").into_bytes())),
        Some(&(b"added".to_vec(), None))
    );
    assert_eq!(c.raw(&["BGSAVE", "NOW"]), "-ERR syntax error\r\n");
    srv.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_points_start_background_saves() {
    let dir = temp_dir("points");
    let d = dir.display().to_string();
    let srv = start_with(|v| {
        v.dir = d.clone();
        v.save = "1 2".into();
    });
    let mut c = Conn::connect(srv.addr);
    c.cmd(&["SET", "a", "1"]);
    // One change is below the point's two: no save.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(info_field(&mut c, "persistence", "rdb_saves"), "0");
    c.cmd(&["SET", "b", "2"]);
    wait_until("automatic save", || {
        info_field(&mut c, "persistence", "rdb_saves") == "1"
    });
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "0"
    );
    let got = load(&dir.join("dump.rdb"));
    assert_eq!(got.len(), 2);
    assert_eq!(got[&(0, b"b".to_vec())], (b"2".to_vec(), None));
    srv.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
