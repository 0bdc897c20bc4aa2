//! The sorted set command group end to end, checked against exact reply bytes.
//!
//! The expected bytes were taken from a real redis-server (7.0, except where
//! a test says it checks 7.2 behaviour). To re-check them, run the suite
//! against one (it is flushed first):
//!
//! ```text
//! FERRUM_TESTS_AGAINST=127.0.0.1:6379 cargo test -p ferrum-server --test zset -- --test-threads=1
//! ```

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;

const NIL: &str = "$-1\r\n";
const NIL_ARRAY: &str = "*-1\r\n";
const EMPTY: &str = "*0\r\n";
const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const MINMAX: &str = "-ERR min or max is not a float\r\n";
const LEX: &str = "-ERR min or max not valid string range item\r\n";

#[test]
fn zadd_flags_and_errors() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZADD z 1 a", ":0\r\n"),
            ("ZADD z CH 5 a 2 b 9 d", ":2\r\n"),
            ("ZADD z NX 100 a 7 e", ":1\r\n"),
            ("ZADD z XX 100 a 7 f", ":0\r\n"),
            ("ZSCORE z a", &bulk("100")),
            ("ZADD z GT CH 50 a 200 a", ":1\r\n"),
            ("ZADD z LT CH 1 a", ":1\r\n"),
            ("ZADD z INCR 10 a", &bulk("11")),
            ("ZADD z NX INCR 1 a", NIL),
            ("ZADD z GT INCR -1 a", NIL),
            ("ZADD new XX 1 a", ":0\r\n"),
            ("ZADD new XX INCR 1 a", NIL),
            ("EXISTS new", ":0\r\n"),
            (
                "ZADD z NX XX 1 a",
                "-ERR XX and NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z GT LT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z NX GT 1 a",
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            ),
            (
                "ZADD z INCR 1 a 2 b",
                "-ERR INCR option supports a single increment-element pair\r\n",
            ),
            ("ZADD z 1 a 2", SYNTAX),
            (
                "ZADD z nx",
                "-ERR wrong number of arguments for 'zadd' command\r\n",
            ),
            ("ZADD z nx 1", SYNTAX),
            ("ZADD z x a", NOT_FLOAT),
            ("ZADD z 1e400 a", NOT_FLOAT),
            ("ZADD z nan a", NOT_FLOAT),
            ("ZADD z 0x10 hex", ":1\r\n"),
            ("ZSCORE z hex", &bulk("16")),
            ("ZADD i 1 x", ":1\r\n"),
            ("ZINCRBY i +inf x", &bulk("inf")),
            (
                "ZINCRBY i -inf x",
                "-ERR resulting score is not a number (NaN)\r\n",
            ),
            ("ZSCORE i x", &bulk("inf")),
            ("ZINCRBY zi 1.5 m", &bulk("1.5")),
            ("ZINCRBY zi abc m", NOT_FLOAT),
            ("SET s v", OK),
            ("ZADD s 1 a", WRONGTYPE),
            // Scores are parsed before the type is checked.
            ("ZADD s x a", NOT_FLOAT),
            ("ZINCRBY s 1 a", WRONGTYPE),
            ("ZCARD z", ":6\r\n"),
            ("ZCARD missing", ":0\r\n"),
            ("ZCARD s", WRONGTYPE),
        ],
    );
}

#[test]
fn doubles_print_in_shortest_form_as_redis_7_2() {
    // Redis 7.0 prints 1.1000000000000001 here; 7.2 (and Ferrum) "1.1".
    if std::env::var("FERRUM_TESTS_AGAINST").is_ok() {
        return;
    }
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD f 1.1 a", ":1\r\n"),
            ("ZSCORE f a", &bulk("1.1")),
            ("ZRANK f a WITHSCORE", "*2\r\n:0\r\n$3\r\n1.1\r\n"),
            ("ZREVRANK f nope WITHSCORE", NIL_ARRAY),
            ("ZRANK f a foo", SYNTAX),
        ],
    );
}

#[test]
fn scores_ranks_counts() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 2 c 3 d 10 e", ":5\r\n"),
            ("ZSCORE z nope", NIL),
            ("ZMSCORE z a nope e", "*3\r\n$1\r\n1\r\n$-1\r\n$2\r\n10\r\n"),
            ("ZMSCORE missing a", "*1\r\n$-1\r\n"),
            ("ZRANK z c", ":2\r\n"),
            ("ZREVRANK z c", ":2\r\n"),
            ("ZREVRANK z e", ":0\r\n"),
            ("ZRANK z nope", NIL),
            ("ZCOUNT z -inf +inf", ":5\r\n"),
            ("ZCOUNT z (2 3", ":1\r\n"),
            ("ZCOUNT z (1 (1", ":0\r\n"),
            ("ZCOUNT z x 2", MINMAX),
            ("ZCOUNT z -1e400 1e400", ":5\r\n"),
            ("ZADD l 0 a 0 b 0 c 0 d 0 e", ":5\r\n"),
            ("ZLEXCOUNT l - +", ":5\r\n"),
            ("ZLEXCOUNT l [b (d", ":2\r\n"),
            ("ZLEXCOUNT l - -", ":0\r\n"),
            ("ZLEXCOUNT l + -", ":0\r\n"),
            ("ZLEXCOUNT l b d", LEX),
            ("ZLEXCOUNT l +a +", LEX),
        ],
    );
}

#[test]
fn ranges_in_every_form() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("ZRANGE z -2 -1", &arr(&["d", "e"])),
            ("ZRANGE z 0 1 REV WITHSCORES", &arr(&["e", "5", "d", "4"])),
            ("ZRANGE z 3 1", EMPTY),
            ("ZREVRANGE z 1 2", &arr(&["d", "c"])),
            ("ZRANGE z (2 4 BYSCORE WITHSCORES", &arr(&["c", "3", "d", "4"])),
            ("ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2", &arr(&["d", "c"])),
            ("ZRANGE z -inf +inf BYSCORE LIMIT 1 -1", &arr(&["b", "c", "d", "e"])),
            ("ZRANGE z -inf +inf BYSCORE LIMIT -1 2", EMPTY),
            ("ZRANGEBYSCORE z -inf +inf LIMIT 2 2", &arr(&["c", "d"])),
            ("ZREVRANGEBYSCORE z 4 2", &arr(&["d", "c", "b"])),
            ("ZREVRANGEBYSCORE z 2 4", EMPTY),
            (
                "ZRANGE z 0 -1 LIMIT 0 1",
                "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
            ),
            (
                "ZRANGE z - + BYLEX WITHSCORES",
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
            ),
            ("ZRANGE z 0 -1 BYSCORE BYLEX", SYNTAX),
            ("ZRANGEBYSCORE z 0 1 REV", SYNTAX),
            ("ZRANGE z 0 1 LIMIT 0", SYNTAX),
            ("ZRANGE z a 1", NOT_INT),
            ("ZRANGE z 0 -1 BYLEX", LEX),
            ("ZRANGE missing 0 -1", EMPTY),
            ("ZADD l 0 a 0 b 0 c 0 d 0 e 0 f", ":6\r\n"),
            ("ZRANGEBYLEX l [b (e", &arr(&["b", "c", "d"])),
            ("ZREVRANGEBYLEX l + - LIMIT 1 2", &arr(&["e", "d"])),
            ("ZRANGE l (f (a BYLEX REV LIMIT 1 2", &arr(&["d", "c"])),
            ("ZRANGESTORE dst z 1 2", ":2\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", &arr(&["b", "2", "c", "3"])),
            ("ZRANGESTORE dst z 0 -1 WITHSCORES", SYNTAX),
            ("ZRANGESTORE dst missing 0 -1", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
        ],
    );
}

#[test]
fn removals_delete_emptied_keys() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("ZREM z a nope", ":1\r\n"),
            ("ZREMRANGEBYRANK z -1 -1", ":1\r\n"),
            ("ZREMRANGEBYSCORE z (2 3", ":1\r\n"),
            ("ZRANGE z 0 -1", &arr(&["b", "d"])),
            ("ZREMRANGEBYLEX z - +", ":2\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZREMRANGEBYRANK z x 1", NOT_INT),
            ("ZREMRANGEBYSCORE missing 0 1", ":0\r\n"),
            ("ZADD t 1 a", ":1\r\n"),
            ("EXPIRE t 100", ":1\r\n"),
            ("ZREM t a", ":1\r\n"),
            ("TTL t", ":-2\r\n"),
        ],
    );
}

#[test]
fn set_operations() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD a 1 x 2 y 3 z", ":3\r\n"),
            ("ZADD b 10 y 20 z 30 w", ":3\r\n"),
            ("SADD s y w v", ":3\r\n"),
            (
                "ZUNION 2 a b WITHSCORES",
                &arr(&["x", "1", "y", "12", "z", "23", "w", "30"]),
            ),
            (
                "ZUNION 2 a b WEIGHTS 2 0.5 AGGREGATE MAX WITHSCORES",
                &arr(&["x", "2", "y", "5", "z", "10", "w", "15"]),
            ),
            ("ZINTER 3 a b s WITHSCORES", &arr(&["y", "13"])),
            ("ZDIFF 2 a b WITHSCORES", &arr(&["x", "1"])),
            ("ZINTERCARD 2 a b LIMIT 1", ":1\r\n"),
            ("ZUNIONSTORE d 2 s missing", ":3\r\n"),
            (
                "ZRANGE d 0 -1 WITHSCORES",
                &arr(&["v", "1", "w", "1", "y", "1"]),
            ),
            ("ZINTERSTORE d 2 a missing", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("ZADD i1 inf m", ":1\r\n"),
            ("ZADD i2 -inf m", ":1\r\n"),
            ("ZUNION 2 i1 i2 WITHSCORES", &arr(&["m", "0"])),
            (
                "ZUNION 0 a",
                "-ERR at least 1 input key is needed for 'zunion' command\r\n",
            ),
            ("ZUNION 3 a b", SYNTAX),
            (
                "ZUNION 2 a b WEIGHTS 1 x",
                "-ERR weight value is not a float\r\n",
            ),
            ("ZUNIONSTORE d 2 a b WITHSCORES", SYNTAX),
            ("ZDIFF 2 a b WEIGHTS 1 1", SYNTAX),
            (
                "ZINTERCARD 2 a b LIMIT -1",
                "-ERR LIMIT can't be negative\r\n",
            ),
            ("SET str v", OK),
            // Inputs are type-checked before the options are parsed.
            ("ZUNION 2 str a WEIGHTS x", WRONGTYPE),
        ],
    );
}

#[test]
fn pops() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("ZPOPMIN z", &arr(&["a", "1"])),
            ("ZPOPMAX z 2", &arr(&["e", "5", "d", "4"])),
            ("ZPOPMAX z 0", EMPTY),
            (
                "ZPOPMIN z -1",
                "-ERR value is out of range, must be positive\r\n",
            ),
            (
                "ZMPOP 2 missing z MIN COUNT 5",
                "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
            ("EXISTS z", ":0\r\n"),
            ("ZMPOP 1 z MIN", NIL_ARRAY),
            ("ZPOPMIN z", EMPTY),
            ("ZMPOP 0 z MIN", "-ERR numkeys should be greater than 0\r\n"),
            ("ZMPOP 2 z MIN", SYNTAX),
            (
                "ZMPOP 1 z MIN COUNT 0",
                "-ERR count should be greater than 0\r\n",
            ),
            ("BZPOPMIN z -1", "-ERR timeout is negative\r\n"),
            (
                "BZPOPMIN z x",
                "-ERR timeout is not a float or out of range\r\n",
            ),
            ("SET s v", OK),
            ("ZPOPMIN s 0", WRONGTYPE),
            ("BZPOPMIN s 0", WRONGTYPE),
            ("ZADD z 7 x", ":1\r\n"),
            ("BZPOPMAX missing z 0", &arr(&["z", "x", "7"])),
        ],
    );
}

#[test]
fn resp3_reply_shapes() {
    let (_t, mut c) = client();
    r(&mut c, "HELLO 3");
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2.5 b", ":2\r\n"),
            ("ZSCORE z b", ",2.5\r\n"),
            ("ZSCORE z nope", "_\r\n"),
            ("ZMSCORE z a nope", "*2\r\n,1\r\n_\r\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
            ),
            ("ZINCRBY z 1 a", ",2\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n,2\r\n"),
            ("ZPOPMIN z 1", "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"),
            ("ZMPOP 1 z MIN", "_\r\n"),
            ("ZADD z 1 a", ":1\r\n"),
            ("BZPOPMIN z 0", "*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n"),
            ("ZRANDMEMBER missing", "_\r\n"),
            ("ZSCAN missing 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
        ],
    );
}

#[test]
fn blocking_pops_wait_and_time_out() {
    let t = target();
    let mut c1 = t.conn();
    let mut c2 = t.conn();
    // Times out with a null array.
    let start = Instant::now();
    assert_eq!(r(&mut c2, "BZPOPMIN q 0.1"), NIL_ARRAY);
    assert!(start.elapsed() >= Duration::from_millis(90));
    // Served by a later write.
    c2.send_raw(&Conn::encode(&[
        b"BZMPOP", b"5", b"2", b"q", b"q2", b"MAX", b"COUNT", b"2",
    ]));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(r(&mut c1, "ZADD q2 1 x 2 y 3 z"), ":3\r\n");
    assert_eq!(
        String::from_utf8_lossy(&c2.read_raw()),
        "*2\r\n$2\r\nq2\r\n*2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n"
    );
    assert_eq!(r(&mut c1, "ZRANGE q2 0 -1"), arr(&["x"]));
    // Inside MULTI a blocking pop does not block.
    check(
        &mut c1,
        &[
            ("MULTI", OK),
            ("BZPOPMIN nothing 0", "+QUEUED\r\n"),
            ("EXEC", "*1\r\n*-1\r\n"),
        ],
    );
}

#[test]
fn encodings_and_conversions() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("ZADD z 1 a 2 b", ":2\r\n"),
            ("OBJECT ENCODING z", &bulk("listpack")),
            ("CONFIG SET zset-max-listpack-entries 3", OK),
            ("ZADD z 3 c", ":1\r\n"),
            ("OBJECT ENCODING z", &bulk("listpack")),
            ("ZADD z 4 d", ":1\r\n"),
            ("OBJECT ENCODING z", &bulk("skiplist")),
            ("ZREM z a b c", ":3\r\n"),
            ("OBJECT ENCODING z", &bulk("skiplist")),
            ("ZADD big 1 a 2 b 3 c 4 d", ":4\r\n"),
            ("ZRANGESTORE r big 0 1", ":2\r\n"),
            ("OBJECT ENCODING r", &bulk("listpack")),
            ("ZUNIONSTORE u 1 big", ":4\r\n"),
            ("OBJECT ENCODING u", &bulk("skiplist")),
            ("CONFIG SET zset-max-listpack-value 4", OK),
            ("ZADD v 1 abcde", ":1\r\n"),
            ("OBJECT ENCODING v", &bulk("skiplist")),
            ("CONFIG SET zset-max-listpack-entries 128", OK),
            ("CONFIG SET zset-max-listpack-value 64", OK),
        ],
    );
}

#[test]
fn large_sets_rank_range_and_scan() {
    let (_t, mut c) = client();
    let n = 1000;
    let mut args: Vec<String> = vec!["ZADD".into(), "big".into()];
    for i in 0..n {
        args.push(i.to_string());
        args.push(format!("m{i:04}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.raw(&a), format!(":{n}\r\n"));
    check(
        &mut c,
        &[
            ("OBJECT ENCODING big", &bulk("skiplist")),
            ("ZRANK big m0500", ":500\r\n"),
            ("ZREVRANK big m0500", ":499\r\n"),
            (
                "ZRANGE big 998 -1 WITHSCORES",
                &arr(&["m0998", "998", "m0999", "999"]),
            ),
            ("ZRANGE big (10 12 BYSCORE", &arr(&["m0011", "m0012"])),
            ("ZCOUNT big 100 199", ":100\r\n"),
            ("ZREMRANGEBYRANK big 0 99", ":100\r\n"),
            ("ZCARD big", ":900\r\n"),
            ("ZRANGE big 0 0", &arr(&["m0100"])),
            ("ZPOPMAX big", &arr(&["m0999", "999"])),
        ],
    );
    // ZSCAN returns every member exactly once when nothing changes.
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = c.cmd(&["ZSCAN", "big", &cursor, "COUNT", "50"]);
        let resp::Frame::Array(parts) = reply else {
            panic!("array expected")
        };
        let resp::Frame::Bulk(next) = &parts[0] else {
            panic!("cursor expected")
        };
        let resp::Frame::Array(items) = &parts[1] else {
            panic!("items expected")
        };
        for pair in items.chunks(2) {
            let resp::Frame::Bulk(m) = &pair[0] else {
                panic!("member expected")
            };
            assert!(seen.insert(m.clone()), "duplicate member");
        }
        cursor = String::from_utf8(next.to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 899);
}
