//! SORT and SORT_RO end to end, checked against exact reply bytes.
//!
//! The expected bytes were taken from a real redis-server. To re-check them,
//! run the suite against one (it is flushed first):
//!
//! ```text
//! FERRUM_TESTS_AGAINST=127.0.0.1:6379 cargo test -p ferrum-server --test sort -- --test-threads=1
//! ```

mod common;

use common::*;

const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const NOT_DOUBLE: &str = "-ERR One or more scores can't be converted into double\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn sets_numeric_alpha_limit() {
    let (_t, mut c) = client();
    r(&mut c, "SADD s 5 3 1 4 2 10");
    check(
        &mut c,
        &[
            ("SORT s", &arr(&["1", "2", "3", "4", "5", "10"])),
            ("SORT s DESC", &arr(&["10", "5", "4", "3", "2", "1"])),
            ("SORT s ALPHA", &arr(&["1", "10", "2", "3", "4", "5"])),
            ("SORT s LIMIT 1 2", &arr(&["2", "3"])),
            ("SORT s LIMIT -5 2", &arr(&["1", "2"])),
            ("SORT s LIMIT 4 100", &arr(&["5", "10"])),
            ("SORT s LIMIT 6 1", "*0\r\n"),
            ("SORT s LIMIT 0 0", "*0\r\n"),
            ("SORT s LIMIT 2 -1", &arr(&["3", "4", "5", "10"])),
            ("SORT_RO s DESC LIMIT 0 2", &arr(&["10", "5"])),
            ("SORT missing", "*0\r\n"),
            ("SORT missing GET # GET x", "*0\r\n"),
        ],
    );
    r(&mut c, "SADD words banana apple cherry");
    check(
        &mut c,
        &[
            ("SORT words", NOT_DOUBLE),
            ("SORT words ALPHA", &arr(&["apple", "banana", "cherry"])),
            (
                "SORT words ALPHA DESC",
                &arr(&["cherry", "banana", "apple"]),
            ),
        ],
    );
    // Weights that strtod reads, and ties broken by the element's bytes.
    c.raw(&[
        "SADD", "w", " 5", "0x10", "inf", "-inf", "1e2", "", "1.0", "1", "01",
    ]);
    assert_eq!(
        r(&mut c, "SORT w"),
        arr(&["-inf", "", "01", "1", "1.0", " 5", "0x10", "1e2", "inf"])
    );
    r(&mut c, "SADD n nan");
    assert_eq!(r(&mut c, "SORT n"), NOT_DOUBLE);
}

#[test]
fn by_and_get_patterns() {
    let (_t, mut c) = client();
    r(&mut c, "SADD items a b c d");
    r(&mut c, "MSET w_a 3 w_b 1 w_c 2");
    check(
        &mut c,
        &[
            ("SORT items BY w_*", &arr(&["d", "b", "c", "a"])),
            ("SORT items BY w_* DESC", &arr(&["a", "c", "b", "d"])),
            ("SORT items BY w_* LIMIT 1 2", &arr(&["b", "c"])),
            (
                "SORT items BY w_* GET # GET w_*",
                &arr(&["d", "(nil)", "b", "1", "c", "2", "a", "3"]),
            ),
            (
                "SORT items BY w_* GET nope_*",
                &arr(&["(nil)", "(nil)", "(nil)", "(nil)"]),
            ),
            ("SORT items BY w_* ALPHA", &arr(&["d", "b", "c", "a"])),
            (
                "SORT items ALPHA GET constant",
                &arr(&["(nil)", "(nil)", "(nil)", "(nil)"]),
            ),
            (
                "SORT items ALPHA GET # GET #",
                &arr(&["a", "a", "b", "b", "c", "c", "d", "d"]),
            ),
        ],
    );
    r(&mut c, "SET w_d x");
    assert_eq!(r(&mut c, "SORT items BY w_*"), NOT_DOUBLE);
    assert_eq!(
        r(&mut c, "SORT items BY w_* ALPHA"),
        arr(&["b", "c", "a", "d"])
    );
    r(&mut c, "DEL w_d");
    r(&mut c, "HSET h_a f 30 g x");
    r(&mut c, "HSET h_b f 10");
    r(&mut c, "HSET h_c f 20");
    check(
        &mut c,
        &[
            ("SORT items BY h_*->f", &arr(&["d", "b", "c", "a"])),
            (
                "SORT items BY h_*->f GET h_*->g GET # GET h_*->f",
                &arr(&[
                    "(nil)", "d", "(nil)", "(nil)", "b", "10", "(nil)", "c", "20", "x", "a", "30",
                ]),
            ),
            (
                "SORT items BY h_*->f ALPHA DESC",
                &arr(&["a", "c", "b", "d"]),
            ),
            // `->` with nothing after it is part of the key name.
            (
                "SORT items ALPHA GET h_*->",
                &arr(&["(nil)", "(nil)", "(nil)", "(nil)"]),
            ),
            // A field of a non-hash, or a hash read as a string: missing.
            (
                "SORT items ALPHA GET w_*->f",
                &arr(&["(nil)", "(nil)", "(nil)", "(nil)"]),
            ),
            (
                "SORT items ALPHA GET h_*",
                &arr(&["(nil)", "(nil)", "(nil)", "(nil)"]),
            ),
        ],
    );
    r(&mut c, "SET a_suffix 2");
    r(&mut c, "SET c_suffix 1");
    assert_eq!(
        r(&mut c, "SORT items BY *_suffix"),
        arr(&["b", "d", "c", "a"])
    );
    r(&mut c, "HELLO 3");
    assert_eq!(
        r(&mut c, "SORT items BY w_* GET nope_*"),
        "*4\r\n_\r\n_\r\n_\r\n_\r\n"
    );
}

#[test]
fn store() {
    let (_t, mut c) = client();
    r(&mut c, "SADD words banana apple cherry");
    r(&mut c, "MSET w_banana 1 w_apple 3 w_cherry 2");
    check(
        &mut c,
        &[
            ("SORT words BY w_* STORE dest", ":3\r\n"),
            ("TYPE dest", "+list\r\n"),
            ("SORT words BY w_* GET # GET nope_* STORE dest", ":6\r\n"),
            ("SORT words BY w_* LIMIT 0 0 STORE dest", ":0\r\n"),
            ("EXISTS dest", ":0\r\n"),
            ("SET dest x", "+OK\r\n"),
            ("SORT missing STORE dest", ":0\r\n"),
            ("EXISTS dest", ":0\r\n"),
            ("SET dest x", "+OK\r\n"),
            ("EXPIRE dest 100", ":1\r\n"),
            ("SORT words ALPHA STORE dest", ":3\r\n"),
            ("TTL dest", ":-1\r\n"),
            ("SORT_RO words STORE dest", SYNTAX),
        ],
    );
}

#[test]
fn lists_and_sorted_sets() {
    let (_t, mut c) = client();
    r(&mut c, "RPUSH l 3 1 2 10 -5 1.5");
    r(&mut c, "RPUSH items a b c d");
    check(
        &mut c,
        &[
            ("SORT l", &arr(&["-5", "1", "1.5", "2", "3", "10"])),
            (
                "SORT l ALPHA DESC",
                &arr(&["3", "2", "10", "1.5", "1", "-5"]),
            ),
            ("SORT items BY nosort", &arr(&["a", "b", "c", "d"])),
            ("SORT items BY nosort DESC", &arr(&["d", "c", "b", "a"])),
            ("SORT items BY nosort DESC LIMIT 1 2", &arr(&["c", "b"])),
            ("SORT items BY nosort LIMIT 10 10", "*0\r\n"),
            ("SORT l STORE dest", ":6\r\n"),
            (
                "LRANGE dest 0 -1",
                &arr(&["-5", "1", "1.5", "2", "3", "10"]),
            ),
            ("SORT l DESC STORE l", ":6\r\n"),
            ("LRANGE l 0 -1", &arr(&["10", "3", "2", "1.5", "1", "-5"])),
        ],
    );
    r(&mut c, "ZADD z 3 c 1 a 2 b 10 d");
    check(
        &mut c,
        &[
            ("OBJECT ENCODING z", "$8\r\nlistpack\r\n"),
            ("SORT z ALPHA", &arr(&["a", "b", "c", "d"])),
            ("OBJECT ENCODING z", "$8\r\nskiplist\r\n"),
            ("SORT z BY nosort DESC", &arr(&["d", "c", "b", "a"])),
            ("SORT z BY nosort LIMIT 1 2", &arr(&["b", "c"])),
            ("SORT z BY nosort DESC LIMIT 1 2", &arr(&["c", "b"])),
            ("SORT z", NOT_DOUBLE),
        ],
    );
}

#[test]
fn errors() {
    let (_t, mut c) = client();
    r(&mut c, "SADD s 1 2");
    r(&mut c, "SET str v");
    r(&mut c, "HSET hash a 1");
    check(
        &mut c,
        &[
            ("SORT s LIMIT", SYNTAX),
            ("SORT s LIMIT 1", SYNTAX),
            ("SORT s LIMIT a 1", NOT_INT),
            ("SORT s LIMIT 1 b", NOT_INT),
            ("SORT s BY", SYNTAX),
            ("SORT s GET", SYNTAX),
            ("SORT s STORE", SYNTAX),
            ("SORT s foo", SYNTAX),
            ("SORT_RO s STORE d", SYNTAX),
            ("SORT str", WRONGTYPE),
            // Options are parsed before the key is looked up.
            ("SORT str foo", SYNTAX),
            ("SORT hash", WRONGTYPE),
            (
                "SORT",
                "-ERR wrong number of arguments for 'sort' command\r\n",
            ),
            (
                "SORT_RO",
                "-ERR wrong number of arguments for 'sort_ro' command\r\n",
            ),
        ],
    );
}
