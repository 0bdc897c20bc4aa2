//! COMMAND and its subcommands end to end: the reply shapes clients parse
//! (COMMAND INFO for key positions, COMMAND DOCS for hints), byte for byte
//! as Redis 7.2 sends them in RESP2 and RESP3.

mod common;

use common::{start, words, Conn};
use resp::Frame;

/// COMMAND INFO GET as Redis 7.2 sends it in RESP2.
const GET_INFO_RESP2: &str =
    "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n\
$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

/// The same in RESP3: flags, categories, tips, key specs and the missing
/// subcommands are sets; key-spec details are maps.
const GET_INFO_RESP3: &str =
    "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n\
$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n\
$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

fn bulk_strings(f: Frame) -> Vec<String> {
    match f {
        Frame::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("not a bulk string: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn resp3(c: &mut Conn) {
    assert!(matches!(c.cmd(&["HELLO", "3"]), Frame::Map(_)));
}

#[test]
fn command_info_exact_bytes() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["COMMAND", "INFO", "get", "nosuch"]),
        format!("*2\r\n{GET_INFO_RESP2}$-1\r\n")
    );
    assert_eq!(
        c.raw(&["command", "info", "GET"]),
        format!("*1\r\n{GET_INFO_RESP2}")
    );
    resp3(&mut c);
    assert_eq!(
        c.raw(&["COMMAND", "INFO", "get", "nosuch"]),
        format!("*2\r\n{GET_INFO_RESP3}_\r\n")
    );
    // A subcommand by its full name; a command has no subcommand of its own.
    assert_eq!(
        c.raw(&["COMMAND", "INFO", "config|get", "get|x", "config|get|x"]),
        "*3\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n~4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n\
         :0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n~0\r\n_\r\n_\r\n"
    );
}

#[test]
fn command_info_of_a_container_lists_its_subcommands() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let Frame::Array(mut one) = c.cmd(&["COMMAND", "INFO", "config"]) else {
        panic!()
    };
    let Frame::Array(info) = one.remove(0) else {
        panic!()
    };
    assert_eq!(info.len(), 10);
    assert_eq!(info[0], Frame::Bulk("config".into()));
    assert_eq!(info[1], Frame::Integer(-2));
    assert_eq!(info[2], Frame::Array(vec![]));
    assert_eq!(info[6], Frame::Array(vec![Frame::Simple("@slow".into())]));
    let Frame::Array(subs) = &info[9] else {
        panic!()
    };
    let names: Vec<Frame> = subs
        .iter()
        .map(|s| match s {
            Frame::Array(f) => f[0].clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let want: Vec<Frame> = [
        "config|get",
        "config|help",
        "config|resetstat",
        "config|rewrite",
        "config|set",
    ]
    .iter()
    .map(|n| Frame::Bulk(n.to_string().into()))
    .collect();
    assert_eq!(names, want);
}

#[test]
fn command_alone_count_and_list_agree() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let Frame::Integer(count) = c.cmd(&["COMMAND", "COUNT"]) else {
        panic!()
    };
    let Frame::Array(all) = c.cmd(&["COMMAND"]) else {
        panic!()
    };
    assert_eq!(all.len() as i64, count);
    let names: Vec<String> = all
        .iter()
        .map(|e| match e {
            Frame::Array(f) if f.len() == 10 => match &f[0] {
                Frame::Bulk(b) => String::from_utf8(b.to_vec()).unwrap(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(names.iter().all(|n| !n.contains('|')));
    for n in ["command", "config", "info", "get", "set", "ping"] {
        assert!(names.iter().any(|x| x == n), "{n}");
    }
    let list = bulk_strings(c.cmd(&["COMMAND", "LIST"]));
    let top: Vec<&String> = list.iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(top.len() as i64, count);
    for n in [
        "command|count",
        "command|docs",
        "command|getkeys",
        "command|getkeysandflags",
        "command|help",
        "command|info",
        "command|list",
        "config|get",
        "config|set",
    ] {
        assert!(list.iter().any(|x| x == n), "{n}");
    }
    // COMMAND INFO without names is the same as COMMAND.
    let Frame::Array(info_all) = c.cmd(&["COMMAND", "INFO"]) else {
        panic!()
    };
    assert_eq!(info_all, all);
    assert_eq!(
        c.raw(&["COMMAND", "COUNT", "x"]),
        "-ERR wrong number of arguments for 'command|count' command\r\n"
    );
    assert_eq!(
        c.raw(&["COMMAND", "foo"]),
        "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
    );
}

#[test]
fn command_list_filters() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]),
        "*6\r\n$6\r\nconfig\r\n$10\r\nconfig|get\r\n$11\r\nconfig|help\r\n\
         $16\r\nconfig|resetstat\r\n$14\r\nconfig|rewrite\r\n$10\r\nconfig|set\r\n"
    );
    assert_eq!(
        c.raw(&["COMMAND", "LIST", "filterby", "pattern", "command|c*"]),
        "*1\r\n$13\r\ncommand|count\r\n"
    );
    let dangerous = bulk_strings(c.cmd(&words("COMMAND LIST FILTERBY ACLCAT DANGEROUS")));
    for n in [
        "flushall",
        "flushdb",
        "swapdb",
        "config|set",
        "shutdown",
        "info",
    ] {
        assert!(dangerous.iter().any(|x| x == n), "{n} in {dangerous:?}");
    }
    assert!(!dangerous.iter().any(|x| x == "get" || x == "config|help"));
    // The category is named without '@', as Redis expects.
    for cmd in [
        "COMMAND LIST FILTERBY ACLCAT @dangerous",
        "COMMAND LIST FILTERBY ACLCAT nosuch",
        "COMMAND LIST FILTERBY MODULE anything",
    ] {
        assert_eq!(c.raw(&words(cmd)), "*0\r\n", "{cmd}");
    }
    for cmd in [
        "COMMAND LIST foo",
        "COMMAND LIST FILTERBY x y",
        "COMMAND LIST FILTERBY ACLCAT",
        "COMMAND LIST FILTERBY ACLCAT read extra",
    ] {
        assert_eq!(c.raw(&words(cmd)), "-ERR syntax error\r\n", "{cmd}");
    }
}

/// The documentation map of CONFIG GET, whose summary is Ferrum's own.
fn config_get_docs(resp3: bool) -> String {
    let summary = "Returns the values of the options matching one or more patterns.";
    // No `history`: Redis omits it for a command without one, and Ferrum
    // carries none.
    let (map1, map5, map4, set1) = if resp3 {
        ("%1", "%5", "%4", "~1")
    } else {
        ("*2", "*10", "*8", "*1")
    };
    format!(
        "{map1}\r\n$10\r\nconfig|get\r\n{map5}\r\n$7\r\nsummary\r\n${}\r\n{summary}\r\n\
         $5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n\
         $10\r\ncomplexity\r\n$4\r\nO(N)\r\n\
         $9\r\narguments\r\n*1\r\n{map4}\r\n$4\r\nname\r\n$9\r\nparameter\r\n\
         $4\r\ntype\r\n$6\r\nstring\r\n$12\r\ndisplay_text\r\n$9\r\nparameter\r\n\
         $5\r\nflags\r\n{set1}\r\n+multiple\r\n",
        summary.len()
    )
}

#[test]
fn command_docs_exact_bytes() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    assert_eq!(
        c.raw(&["COMMAND", "DOCS", "config|get", "nosuch"]),
        config_get_docs(false)
    );
    assert_eq!(c.raw(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
    resp3(&mut c);
    assert_eq!(
        c.raw(&["COMMAND", "DOCS", "config|get"]),
        config_get_docs(true)
    );
    assert_eq!(c.raw(&["COMMAND", "DOCS", "nosuch"]), "%0\r\n");
}

fn map_get<'a>(m: &'a [(Frame, Frame)], k: &str) -> Option<&'a Frame> {
    m.iter()
        .find(|(key, _)| *key == Frame::Bulk(k.to_string().into()))
        .map(|(_, v)| v)
}

#[test]
fn command_docs_arguments_and_subcommands() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    resp3(&mut c);
    let Frame::Map(docs) = c.cmd(&["COMMAND", "DOCS", "set", "config"]) else {
        panic!()
    };
    assert_eq!(docs.len(), 2);
    // SET: groups have no display text but nested arguments; tokens and
    // flags are given where present.
    let Some(Frame::Map(set)) = map_get(&docs, "set") else {
        panic!()
    };
    let keys: Vec<&Frame> = set.iter().map(|(k, _)| k).collect();
    let want: Vec<Frame> = ["summary", "since", "group", "complexity", "arguments"]
        .iter()
        .map(|k| Frame::Bulk(k.to_string().into()))
        .collect();
    assert_eq!(keys, want.iter().collect::<Vec<_>>());
    let Some(Frame::Array(args)) = map_get(set, "arguments") else {
        panic!()
    };
    let Frame::Map(condition) = &args[2] else {
        panic!()
    };
    let raw = |f: &Frame| String::from_utf8(f.to_vec()).unwrap();
    assert_eq!(
        condition.iter().map(|(k, v)| format!("{}={}", raw(k), raw(v))).collect::<Vec<_>>(),
        [
            "$4\r\nname\r\n=$9\r\ncondition\r\n",
            "$4\r\ntype\r\n=$5\r\noneof\r\n",
            "$5\r\nsince\r\n=$6\r\n2.6.12\r\n",
            "$5\r\nflags\r\n=~1\r\n+optional\r\n",
            "$9\r\narguments\r\n=*2\r\n%4\r\n$4\r\nname\r\n$2\r\nnx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n\
             $12\r\ndisplay_text\r\n$2\r\nnx\r\n$5\r\ntoken\r\n$2\r\nNX\r\n\
             %4\r\n$4\r\nname\r\n$2\r\nxx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n\
             $12\r\ndisplay_text\r\n$2\r\nxx\r\n$5\r\ntoken\r\n$2\r\nXX\r\n",
        ]
    );
    // CONFIG: a container documents its subcommands under their full names.
    let Some(Frame::Map(config)) = map_get(&docs, "config") else {
        panic!()
    };
    assert!(map_get(config, "arguments").is_none());
    let Some(Frame::Map(subs)) = map_get(config, "subcommands") else {
        panic!()
    };
    let names: Vec<String> = subs.iter().map(|(k, _)| raw(k)).collect();
    assert_eq!(
        names,
        [
            "$10\r\nconfig|get\r\n",
            "$11\r\nconfig|help\r\n",
            "$16\r\nconfig|resetstat\r\n",
            "$14\r\nconfig|rewrite\r\n",
            "$10\r\nconfig|set\r\n"
        ]
    );
    // Every command documents itself.
    let Frame::Map(all) = c.cmd(&["COMMAND", "DOCS"]) else {
        panic!()
    };
    let Frame::Integer(count) = c.cmd(&["COMMAND", "COUNT"]) else {
        panic!()
    };
    assert_eq!(all.len() as i64, count);
    for (name, d) in &all {
        let Frame::Map(d) = d else { panic!() };
        match map_get(d, "summary") {
            Some(Frame::Bulk(s)) => assert!(!s.is_empty(), "{name:?}"),
            other => panic!("{name:?}: summary {other:?}"),
        }
        assert!(map_get(d, "group").is_some(), "{name:?}");
    }
}

#[test]
fn command_getkeys() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let cases: &[(&str, &str)] = &[
        ("COMMAND GETKEYS get k", "*1\r\n$1\r\nk\r\n"),
        (
            "COMMAND GETKEYS mset a 1 b 2",
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        ),
        (
            "COMMAND GETKEYS del a b c",
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
        ),
        (
            "COMMAND GETKEYS nosuch a",
            "-ERR Invalid command specified\r\n",
        ),
        (
            "COMMAND GETKEYS config foo",
            "-ERR Invalid command specified\r\n",
        ),
        (
            "COMMAND GETKEYS get",
            "-ERR Invalid number of arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS get a b",
            "-ERR Invalid number of arguments specified for command\r\n",
        ),
        (
            "COMMAND GETKEYS ping",
            "-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS config get x",
            "-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS command getkeys get",
            "-ERR The command has no key arguments\r\n",
        ),
        (
            "COMMAND GETKEYS",
            "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(c.raw(&words(cmd)), *want, "{cmd}");
    }
}

#[test]
fn command_getkeysandflags() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let cases: &[(&str, &str)] = &[
        // SET's key is read only when GET asks for the old value.
        (
            "COMMAND GETKEYSANDFLAGS set k v",
            "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS set k v ex 10 get",
            "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS mset a 1 b 2",
            "*2\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS del a",
            "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+RM\r\n+delete\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS object encoding k",
            "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n+RO\r\n",
        ),
        (
            "COMMAND GETKEYSANDFLAGS rename a b",
            "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n\
             *2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n",
        ),
    ];
    for (cmd, want) in cases {
        assert_eq!(c.raw(&words(cmd)), *want, "{cmd}");
    }
    resp3(&mut c);
    assert_eq!(
        c.raw(&words("COMMAND GETKEYSANDFLAGS get k")),
        "*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+RO\r\n+access\r\n"
    );
}

#[test]
fn command_help() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    let Frame::Array(lines) = c.cmd(&["command", "help"]) else {
        panic!()
    };
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| match l {
            Frame::Simple(s) => String::from_utf8(s.to_vec()).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        lines[0],
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(&lines[lines.len() - 2..], ["HELP", "    Prints this help."]);
    for sub in [
        "COUNT",
        "LIST",
        "INFO",
        "DOCS",
        "GETKEYS",
        "GETKEYSANDFLAGS",
    ] {
        assert!(lines.iter().any(|l| l.starts_with(sub)), "{sub}");
    }
}

#[test]
fn command_alone_is_counted_under_its_own_name() {
    let srv = start();
    let mut c = Conn::connect(srv.addr);
    c.cmd(&["COMMAND"]);
    c.cmd(&["COMMAND", "COUNT"]);
    let Frame::Bulk(stats) = c.cmd(&["INFO", "commandstats"]) else {
        panic!()
    };
    let stats = String::from_utf8(stats.to_vec()).unwrap();
    assert!(stats.contains("\r\ncmdstat_command:calls="), "{stats}");
    assert!(
        stats.contains("\r\ncmdstat_command|count:calls="),
        "{stats}"
    );
}
