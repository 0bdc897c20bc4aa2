//! The hash command group end to end, checked against exact reply bytes.
//!
//! The expected bytes were taken from a real redis-server. To re-check them,
//! run the suite against one (it is flushed first):
//!
//! ```text
//! FERRUM_TESTS_AGAINST=127.0.0.1:6379 cargo test -p ferrum-server --test hash -- --test-threads=1
//! ```
//!
//! Tests marked "7.2" expect Redis 7.2 behaviour (a 7.0 server differs there).

mod common;

use common::*;

const NIL: &str = "$-1\r\n";
const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const EMPTY: &str = "*0\r\n";

#[test]
fn set_get_and_friends() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("HSET h a 1 b 2 c 3", ":3\r\n"),
            ("HSET h a 10 d 4", ":1\r\n"),
            ("HGET h a", "$2\r\n10\r\n"),
            ("HGET h zz", NIL),
            ("HGET nokey a", NIL),
            ("HMGET h a zz d", "*3\r\n$2\r\n10\r\n$-1\r\n$1\r\n4\r\n"),
            ("HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n"),
            ("HLEN h", ":4\r\n"),
            ("HLEN nokey", ":0\r\n"),
            ("HEXISTS h a", ":1\r\n"),
            ("HEXISTS h zz", ":0\r\n"),
            ("HSTRLEN h a", ":2\r\n"),
            ("HSTRLEN h zz", ":0\r\n"),
            ("HMSET h e 5", OK),
            ("HSETNX h a 99", ":0\r\n"),
            ("HSETNX h f 6", ":1\r\n"),
            ("HKEYS h", &arr(&["a", "b", "c", "d", "e", "f"])),
            ("HVALS h", &arr(&["10", "2", "3", "4", "5", "6"])),
            (
                "HGETALL h",
                &arr(&["a", "10", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"]),
            ),
            ("HKEYS nokey", EMPTY),
            ("HGETALL nokey", EMPTY),
            (
                "HSET h a",
                "-ERR wrong number of arguments for 'hset' command\r\n",
            ),
            (
                "HSET h a 1 b",
                "-ERR wrong number of arguments for 'hset' command\r\n",
            ),
            (
                "HMSET h a 1 b",
                "-ERR wrong number of arguments for 'hmset' command\r\n",
            ),
            (
                "HGET h",
                "-ERR wrong number of arguments for 'hget' command\r\n",
            ),
        ],
    );
    assert_eq!(
        bin(&mut c, &[b"HSET", b"bin", b"a\x00b", b"\r\n"]),
        b":1\r\n"
    );
    assert_eq!(
        bin(&mut c, &[b"HGET", b"bin", b"a\x00b"]),
        b"$2\r\n\r\n\r\n"
    );
}

#[test]
fn hdel_deletes_the_emptied_key() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("HSET d x 1 y 2 z 3", ":3\r\n"),
            ("HDEL d x nope", ":1\r\n"),
            ("HDEL d nope", ":0\r\n"),
            ("HDEL nokey a", ":0\r\n"),
            ("HDEL d y z y", ":2\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("TYPE d", "+none\r\n"),
        ],
    );
}

#[test]
fn wrong_types() {
    let (_t, mut c) = client();
    r(&mut c, "SET s v");
    for line in [
        "HSET s a 1",
        "HMSET s a 1",
        "HSETNX s a 1",
        "HGET s a",
        "HMGET s a",
        "HEXISTS s a",
        "HSTRLEN s a",
        "HLEN s",
        "HDEL s a",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s a 1",
        "HINCRBYFLOAT s a 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HSCAN s 0",
    ] {
        assert_eq!(r(&mut c, line), WRONGTYPE, "{line}");
    }
    // Argument errors come before the type check where Redis checks them first.
    assert_eq!(r(&mut c, "HINCRBY s a x"), NOT_INT);
    assert_eq!(r(&mut c, "HINCRBYFLOAT s a x"), NOT_FLOAT);
    assert_eq!(r(&mut c, "HSCAN s x"), "-ERR invalid cursor\r\n");
    assert_eq!(r(&mut c, "HRANDFIELD s x"), NOT_INT);
}

#[test]
fn hincrby() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("HINCRBY h a 5", ":5\r\n"),
            ("HINCRBY h a -7", ":-2\r\n"),
            ("HGET h a", "$2\r\n-2\r\n"),
            ("HSET h s abc sp \" max 9223372036854775807", ":3\r\n"),
            ("HINCRBY h s 1", "-ERR hash value is not an integer\r\n"),
            (
                "HINCRBY h max 1",
                "-ERR increment or decrement would overflow\r\n",
            ),
            ("HINCRBY h max 0", ":9223372036854775807\r\n"),
            ("HINCRBY h a 1.5", NOT_INT),
            ("HINCRBY h a 9223372036854775808", NOT_INT),
            ("HINCRBY fresh f x", NOT_INT),
            ("EXISTS fresh", ":0\r\n"),
        ],
    );
    r(&mut c, "HSET m min -9223372036854775808");
    assert_eq!(
        r(&mut c, "HINCRBY m min -1"),
        "-ERR increment or decrement would overflow\r\n"
    );
}

#[test]
fn hincrbyfloat() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("HINCRBYFLOAT f x 1.5", &bulk("1.5")),
            ("HINCRBYFLOAT f x 0.1", &bulk("1.6")),
            ("HINCRBYFLOAT f x -1.6", &bulk("0")),
            ("HINCRBYFLOAT f x 5.0e3", &bulk("5000")),
            ("HINCRBYFLOAT f x 3.0e-5", &bulk("5000.0000300000000002")),
            ("HSET f i 17", ":1\r\n"),
            ("HINCRBYFLOAT f i 1.25", &bulk("18.25")),
            ("HINCRBYFLOAT f x nan", NOT_FLOAT),
            ("HINCRBYFLOAT f x inf", "-ERR value is NaN or Infinity\r\n"),
            ("HINCRBYFLOAT f x abc", NOT_FLOAT),
            ("HSET f bad abc huge 1.7e308", ":2\r\n"),
            ("HINCRBYFLOAT f bad 1", "-ERR hash value is not a float\r\n"),
            // Long doubles reach far past 1.7e308: the sum is finite.
            ("HGET f huge", &bulk("1.7e308")),
        ],
    );
}

#[test]
fn hrandfield() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("HRANDFIELD nokey", NIL),
            ("HRANDFIELD nokey 3", EMPTY),
            ("HSET one f v", ":1\r\n"),
            ("HRANDFIELD one", &bulk("f")),
            ("HRANDFIELD one 5", &arr(&["f"])),
            ("HRANDFIELD one -3", &arr(&["f", "f", "f"])),
            ("HRANDFIELD one -2 WITHVALUES", &arr(&["f", "v", "f", "v"])),
            ("HRANDFIELD one 0", EMPTY),
            ("HRANDFIELD one 1 WITHSCORES", SYNTAX),
            ("HRANDFIELD one 1 WITHVALUES x", SYNTAX),
            (
                "HRANDFIELD one -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            (
                "HRANDFIELD one 9223372036854775807 WITHVALUES",
                "-ERR value is out of range\r\n",
            ),
            ("HSET h a 1 b 2 c 3 d 4", ":4\r\n"),
        ],
    );
    // Distinct fields for a positive count.
    for _ in 0..20 {
        let reply = r(&mut c, "HRANDFIELD h 3");
        assert!(reply.starts_with("*3\r\n"), "{reply}");
        let fields: Vec<&str> = reply.split("\r\n").skip(2).step_by(2).collect();
        let mut dedup = fields.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), fields.len(), "{reply}");
    }
    // RESP3: pairs become two-element arrays (Redis 7.2).
    r(&mut c, "HELLO 3");
    assert_eq!(
        r(&mut c, "HRANDFIELD one -2 WITHVALUES"),
        "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
    assert_eq!(r(&mut c, "HRANDFIELD one 1"), "*1\r\n$1\r\nf\r\n");
    assert_eq!(r(&mut c, "HRANDFIELD nokey"), "_\r\n");
}

#[test]
fn hscan() {
    let (_t, mut c) = client();
    r(&mut c, "HSET h a 1 b 2 ab 3");
    check(
        &mut c,
        &[
            ("HSCAN h 0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n"),
            ("HSCAN h 99 COUNT 1 MATCH a*", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n3\r\n"),
            ("HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("HSCAN nokey 0 BAD", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("HSCAN h x", "-ERR invalid cursor\r\n"),
            ("HSCAN h 0 COUNT 0", SYNTAX),
            ("HSCAN h 0 COUNT x", NOT_INT),
            ("HSCAN h 0 TYPE string", SYNTAX),
            ("HSCAN h 0 NOVALUES", SYNTAX),
        ],
    );
    // A hashtable hash: a full iteration returns every pair exactly once.
    r(&mut c, "CONFIG SET hash-max-listpack-entries 16");
    for i in 0..300 {
        r(&mut c, &format!("HSET big f{i} v{i}"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        c.send_raw(&common::Conn::encode(&[
            b"HSCAN",
            b"big",
            cursor.as_bytes(),
            b"COUNT",
            b"7",
        ]));
        let frame = c.read_frame();
        let text = String::from_utf8_lossy(&frame.to_vec()).into_owned();
        let parts: Vec<&str> = text.split("\r\n").collect();
        cursor = parts[2].to_string();
        let items: Vec<&str> = parts[4..].iter().skip(1).step_by(2).copied().collect();
        for pair in items.chunks(2) {
            if pair.len() == 2 && !pair[0].is_empty() {
                assert_eq!(pair[1], format!("v{}", &pair[0][1..]));
                assert!(seen.insert(pair[0].to_string()), "{} twice", pair[0]);
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 300);
    r(&mut c, "CONFIG SET hash-max-listpack-entries 128");
}

#[test]
fn encodings() {
    let (_t, mut c) = client();
    check(
        &mut c,
        &[
            ("HSET h a 1", ":1\r\n"),
            ("OBJECT ENCODING h", &bulk("listpack")),
            ("CONFIG SET hash-max-listpack-entries 3", OK),
            ("HSET h b 2 c 3", ":2\r\n"),
            ("OBJECT ENCODING h", &bulk("listpack")),
            ("HSET h d 4", ":1\r\n"),
            ("OBJECT ENCODING h", &bulk("hashtable")),
            ("HDEL h a b c", ":3\r\n"),
            ("OBJECT ENCODING h", &bulk("hashtable")),
            // 7.2: many pairs in one HSET convert up front, even repeated ones.
            ("HSET dup x 1 x 1 x 1 x 1", ":1\r\n"),
            ("OBJECT ENCODING dup", &bulk("hashtable")),
            ("HINCRBY i a 1", ":1\r\n"),
            ("HINCRBY i b 1", ":1\r\n"),
            ("HINCRBY i c 1", ":1\r\n"),
            ("OBJECT ENCODING i", &bulk("listpack")),
            ("HINCRBY i d 1", ":1\r\n"),
            ("OBJECT ENCODING i", &bulk("hashtable")),
            ("CONFIG SET hash-max-listpack-entries 128", OK),
            ("CONFIG SET hash-max-listpack-value 8", OK),
            ("HSET v f 12345678", ":1\r\n"),
            ("OBJECT ENCODING v", &bulk("listpack")),
            ("HSET v f 123456789", ":0\r\n"),
            ("OBJECT ENCODING v", &bulk("hashtable")),
            ("HSET w f 1", ":1\r\n"),
            ("HINCRBYFLOAT w f 0.123456789", &bulk("1.123456789")),
            ("OBJECT ENCODING w", &bulk("hashtable")),
            ("CONFIG SET hash-max-listpack-value 64", OK),
        ],
    );
}

#[test]
fn resp3_shapes() {
    let (_t, mut c) = client();
    r(&mut c, "HSET h a 1 b 2");
    r(&mut c, "HELLO 3");
    check(
        &mut c,
        &[
            (
                "HGETALL h",
                "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("HGETALL nokey", "%0\r\n"),
            ("HKEYS h", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("HGET h zz", "_\r\n"),
            ("HMGET h a zz", "*2\r\n$1\r\n1\r\n_\r\n"),
            ("HEXISTS h a", ":1\r\n"),
            ("HINCRBYFLOAT h a 0.5", "$3\r\n1.5\r\n"),
        ],
    );
}
