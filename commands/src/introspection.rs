//! COMMAND and its subcommands, answered from the registry.
//!
//! Clients read these replies to learn what the server offers: cluster
//! clients route by the key positions of COMMAND INFO, redis-cli builds its
//! hints from COMMAND DOCS. So the replies follow Redis 7.2's shapes exactly
//! (field names and order, which aggregates are sets), and they describe only
//! what is registered: a command Ferrum does not have is not advertised.

use bytes::Bytes;
use resp::Reply;

use crate::ctx::Ctx;
use crate::error::{err, SYNTAX};
use crate::meta::{acl, argf, doc, flags, ks, Arg, ArgType, BeginSearch, FindKeys, KeySpec};
use crate::parse::eq;
use crate::registry::{Entry, Locking, Registry};
use crate::server::help_reply;
use crate::{command, container};

container!(
    COMMAND,
    "Describes the server's commands; alone, every command's details.",
    command_all
);

/// COMMAND
fn command_all(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    all_info(ctx.server.registry)
}

fn all_info(reg: &Registry) -> Reply {
    Reply::Array(reg.entries().iter().map(info_reply).collect())
}

command!(
    COMMAND_COUNT,
    "Returns how many commands the server has.",
    command_count,
    Locking::None
);

/// COMMAND COUNT
///
/// Counts top-level commands; subcommands are part of their container.
fn command_count(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Integer(ctx.server.registry.entries().len() as i64)
}

command!(
    COMMAND_INFO,
    "Returns the details of the named commands, or of all of them.",
    command_info,
    Locking::None
);

/// COMMAND INFO [command-name ...]
///
/// Names may be `container|subcommand`; an unknown name gets a null entry
/// so that the reply stays aligned with the request.
fn command_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let reg = ctx.server.registry;
    if args.len() == 2 {
        return all_info(reg);
    }
    Reply::Array(
        args[2..]
            .iter()
            .map(|name| reg.get_full(name).map_or(Reply::Null, info_reply))
            .collect(),
    )
}

/// One command as COMMAND INFO describes it: name, arity, flags, legacy key
/// range (first, last, step), ACL categories, tips, key specs, subcommands.
pub fn info_reply(e: &Entry) -> Reply {
    let spec = e.spec();
    let flag_set = flags::NAMES
        .iter()
        .filter(|(bit, _)| e.flags & bit != 0)
        .map(|(_, name)| Reply::simple(name))
        .collect();
    let acl_set = acl::NAMES
        .iter()
        .filter(|(bit, _)| e.acl & bit != 0)
        .map(|(_, name)| Reply::Simple(format!("@{name}").into()))
        .collect();
    let tips = spec
        .tips
        .iter()
        .map(|t| Reply::bulk(Bytes::from_static(t.as_bytes())))
        .collect();
    let key_specs = spec.key_specs.iter().map(key_spec_reply).collect();
    // Redis answers an empty set for a command without subcommands, and an
    // array of their details otherwise.
    let subcommands = if e.subcommands.is_empty() {
        Reply::Set(Vec::new())
    } else {
        Reply::Array(e.subcommands.iter().map(info_reply).collect())
    };
    let (first, last, step) = e.legacy;
    Reply::Array(vec![
        Reply::bulk(e.full_name.clone()),
        Reply::Integer(spec.arity as i64),
        Reply::Set(flag_set),
        Reply::Integer(first),
        Reply::Integer(last),
        Reply::Integer(step),
        Reply::Set(acl_set),
        Reply::Set(tips),
        Reply::Set(key_specs),
        subcommands,
    ])
}

fn key(name: &'static str) -> Reply {
    Reply::bulk(Bytes::from_static(name.as_bytes()))
}

fn key_flags_reply(f: u32) -> Reply {
    Reply::Set(
        ks::NAMES
            .iter()
            .filter(|(bit, _)| f & bit != 0)
            .map(|(_, name)| Reply::simple(name))
            .collect(),
    )
}

fn key_spec_reply(s: &KeySpec) -> Reply {
    let (bs_type, bs_spec) = match s.begin {
        BeginSearch::Index(pos) => ("index", vec![(key("index"), Reply::Integer(pos as i64))]),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => (
            "keyword",
            vec![
                (key("keyword"), key(keyword)),
                (key("startfrom"), Reply::Integer(start_from as i64)),
            ],
        ),
        BeginSearch::Unknown => ("unknown", Vec::new()),
    };
    let (fk_type, fk_spec) = match s.find {
        FindKeys::Range {
            lastkey,
            step,
            limit,
        } => (
            "range",
            vec![
                (key("lastkey"), Reply::Integer(lastkey as i64)),
                (key("keystep"), Reply::Integer(step as i64)),
                (key("limit"), Reply::Integer(limit as i64)),
            ],
        ),
        FindKeys::Keynum {
            keynum_idx,
            first_key,
            step,
        } => (
            "keynum",
            vec![
                (key("keynumidx"), Reply::Integer(keynum_idx as i64)),
                (key("firstkey"), Reply::Integer(first_key as i64)),
                (key("keystep"), Reply::Integer(step as i64)),
            ],
        ),
        FindKeys::Unknown => ("unknown", Vec::new()),
    };
    Reply::Map(vec![
        (key("flags"), key_flags_reply(s.flags)),
        (
            key("begin_search"),
            Reply::Map(vec![
                (key("type"), key(bs_type)),
                (key("spec"), Reply::Map(bs_spec)),
            ]),
        ),
        (
            key("find_keys"),
            Reply::Map(vec![
                (key("type"), key(fk_type)),
                (key("spec"), Reply::Map(fk_spec)),
            ]),
        ),
    ])
}

command!(
    COMMAND_DOCS,
    "Returns the documentation of the named commands, or of all of them.",
    command_docs,
    Locking::None
);

/// COMMAND DOCS [command-name ...]
///
/// A map from each command's full name to its documentation; names the
/// server does not know are left out.
fn command_docs(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let reg = ctx.server.registry;
    let docs = |e: &Entry| (Reply::bulk(e.full_name.clone()), docs_reply(e));
    if args.len() == 2 {
        return Reply::Map(reg.entries().iter().map(docs).collect());
    }
    Reply::Map(
        args[2..]
            .iter()
            .filter_map(|name| reg.get_full(name))
            .map(docs)
            .collect(),
    )
}

/// One command's documentation map, with the fields Redis 7.2 emits, in its
/// order. Ferrum keeps no change history of Redis's commands (that is
/// Redis's prose), and Redis omits `history` for a command that has none, so
/// the field is never sent.
pub fn docs_reply(e: &Entry) -> Reply {
    let spec = e.spec();
    let mut m = vec![(key("summary"), key(e.cmd.summary))];
    if !spec.since.is_empty() {
        m.push((key("since"), key(spec.since)));
    }
    m.push((key("group"), key(spec.group)));
    if !spec.complexity.is_empty() {
        m.push((key("complexity"), key(spec.complexity)));
    }
    if spec.doc_flags != 0 {
        let mut f = Vec::new();
        if spec.doc_flags & doc::DEPRECATED != 0 {
            f.push(Reply::simple("deprecated"));
        }
        if spec.doc_flags & doc::SYSCMD != 0 {
            f.push(Reply::simple("syscmd"));
        }
        m.push((key("doc_flags"), Reply::Set(f)));
    }
    if let Some(v) = spec.deprecated_since {
        m.push((key("deprecated_since"), key(v)));
    }
    if let Some(v) = spec.replaced_by {
        m.push((key("replaced_by"), key(v)));
    }
    if !spec.args.is_empty() {
        m.push((key("arguments"), args_reply(spec.args)));
    }
    if !e.subcommands.is_empty() {
        m.push((
            key("subcommands"),
            Reply::Map(
                e.subcommands
                    .iter()
                    .map(|s| (Reply::bulk(s.full_name.clone()), docs_reply(s)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(m)
}

/// The argument grammar as COMMAND DOCS lists it. `display_text` (what a
/// client shows as the placeholder) is there for every argument that is not
/// a group (oneof/block), defaulting to the argument's name.
fn args_reply(args: &[Arg]) -> Reply {
    Reply::Array(
        args.iter()
            .map(|a| {
                let group = matches!(a.kind, ArgType::OneOf | ArgType::Block);
                let mut m = vec![
                    (key("name"), key(a.name)),
                    (key("type"), key(a.kind.name())),
                ];
                if !group {
                    m.push((key("display_text"), key(a.display.unwrap_or(a.name))));
                }
                if a.key_spec_index >= 0 {
                    m.push((
                        key("key_spec_index"),
                        Reply::Integer(a.key_spec_index as i64),
                    ));
                }
                if let Some(t) = a.token {
                    m.push((key("token"), key(t)));
                }
                if let Some(v) = a.since {
                    m.push((key("since"), key(v)));
                }
                if let Some(v) = a.deprecated_since {
                    m.push((key("deprecated_since"), key(v)));
                }
                if a.flags != 0 {
                    let mut f = Vec::new();
                    for (bit, name) in [
                        (argf::OPTIONAL, "optional"),
                        (argf::MULTIPLE, "multiple"),
                        (argf::MULTIPLE_TOKEN, "multiple_token"),
                    ] {
                        if a.flags & bit != 0 {
                            f.push(Reply::simple(name));
                        }
                    }
                    m.push((key("flags"), Reply::Set(f)));
                }
                if group {
                    m.push((key("arguments"), args_reply(a.args)));
                }
                Reply::Map(m)
            })
            .collect(),
    )
}

command!(
    COMMAND_LIST,
    "Lists command names, optionally filtered by ACL category or pattern.",
    command_list,
    Locking::None
);

enum ListFilter<'a> {
    None,
    /// Ferrum loads no modules, so this matches nothing.
    Module,
    AclCat(Option<u64>),
    Pattern(&'a [u8]),
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
///
/// Lists containers and subcommands by full name (`config|get`). The ACL
/// category is named without `@`, as Redis expects; an unknown category
/// matches nothing. Patterns are glob-style and case-insensitive.
fn command_list(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut filter = ListFilter::None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if !(eq(&args[i], "filterby") && more == 2) {
            return err(SYNTAX);
        }
        let (kind, arg) = (&args[i + 1], &args[i + 2]);
        filter = if eq(kind, "module") {
            ListFilter::Module
        } else if eq(kind, "aclcat") {
            ListFilter::AclCat(
                acl::NAMES
                    .iter()
                    .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(arg))
                    .map(|(bit, _)| *bit),
            )
        } else if eq(kind, "pattern") {
            ListFilter::Pattern(arg)
        } else {
            return err(SYNTAX);
        };
        i += 3;
    }
    let keep = |e: &Entry| match &filter {
        ListFilter::None => true,
        ListFilter::Module => false,
        ListFilter::AclCat(cat) => cat.is_some_and(|c| e.acl & c != 0),
        ListFilter::Pattern(p) => storage::glob::glob_match(p, e.full_name.as_bytes(), true),
    };
    Reply::Array(
        ctx.server
            .registry
            .all()
            .filter(|e| keep(e))
            .map(|e| Reply::bulk(e.full_name.clone()))
            .collect(),
    )
}

command!(
    COMMAND_GETKEYS,
    "Extracts the key names from a full command line.",
    command_getkeys,
    Locking::None
);

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match find_keys_of(ctx.server.registry, &args[2..]) {
        Ok(keys) => Reply::Array(
            keys.into_iter()
                .map(|(pos, _)| Reply::Bulk(args[2 + pos].clone()))
                .collect(),
        ),
        Err(e) => e,
    }
}

command!(
    COMMAND_GETKEYSANDFLAGS,
    "Extracts the key names from a full command line, with how each is used.",
    command_getkeysandflags,
    Locking::None
);

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn command_getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    match find_keys_of(ctx.server.registry, &args[2..]) {
        Ok(keys) => Reply::Array(
            keys.into_iter()
                .map(|(pos, f)| {
                    Reply::Array(vec![Reply::Bulk(args[2 + pos].clone()), key_flags_reply(f)])
                })
                .collect(),
        ),
        Err(e) => e,
    }
}

/// The keys of the command line `argv` (positions in `argv`, with their
/// key-spec flags), or Redis's error for why none can be given.
pub fn find_keys_of(reg: &Registry, argv: &[Bytes]) -> Result<Vec<(usize, u32)>, Reply> {
    const INVALID: &str = "ERR Invalid command specified";
    let Some(base) = reg.get(&argv[0]) else {
        return Err(err(INVALID));
    };
    let entry = if argv.len() == 1 || base.subcommands.is_empty() {
        base
    } else {
        base.subcommand(&argv[1]).ok_or_else(|| err(INVALID))?
    };
    let spec = entry.spec();
    if !spec.key_specs.iter().any(|s| s.flags & ks::NOT_KEY == 0) {
        return Err(err("ERR The command has no key arguments"));
    }
    let n = argv.len() as i64;
    let arity = spec.arity as i64;
    if (arity > 0 && arity != n) || n < -arity {
        return Err(err("ERR Invalid number of arguments specified for command"));
    }
    let varflags = spec
        .key_specs
        .iter()
        .any(|s| s.flags & ks::VARIABLE_FLAGS != 0);
    let keys = (!varflags)
        .then(|| crate::registry::walk_key_specs(spec.key_specs, argv, true).ok())
        .flatten()
        .map(|keys| keys.into_vec())
        .unwrap_or_else(|| keys_by_parsing(&entry.full_name, argv));
    if keys.is_empty() && !entry.has(flags::NO_MANDATORY_KEYS) {
        return Err(err("ERR Invalid arguments specified for command"));
    }
    Ok(keys)
}

/// Keys found by parsing the command line, as Redis's per-command key
/// finders do, for when the key specs cannot give them: SET and BITFIELD,
/// whose key is read or not depending on the arguments; SORT, whose STORE
/// target can be anywhere; MIGRATE, whose KEYS list replaces the single key.
fn keys_by_parsing(name: &str, argv: &[Bytes]) -> Vec<(usize, u32)> {
    let argc = argv.len();
    match name {
        "set" => {
            let get = argv.iter().skip(3).any(|a| eq(a, "get"));
            let f = if get {
                ks::RW | ks::ACCESS | ks::UPDATE
            } else {
                ks::OW | ks::UPDATE
            };
            vec![(1, f)]
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < argc {
                let rest = argc - i - 1;
                let a = &argv[i];
                if eq(a, "get") && rest >= 2 {
                    i += 2;
                } else if (eq(a, "set") || eq(a, "incrby")) && rest >= 3 {
                    readonly = false;
                    break;
                } else if eq(a, "overflow") && rest >= 1 {
                    i += 1;
                } else {
                    // A syntax error: assume the worst.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            let f = if readonly {
                ks::RO | ks::ACCESS
            } else {
                ks::RW | ks::ACCESS | ks::UPDATE
            };
            vec![(1, f)]
        }
        "sort" | "sort_ro" => {
            let mut out = vec![(1, ks::RO | ks::ACCESS)];
            if name == "sort" {
                let mut store = None;
                let mut i = 2;
                while i < argc {
                    let a = &argv[i];
                    if eq(a, "limit") {
                        i += 2;
                    } else if eq(a, "get") || eq(a, "by") {
                        i += 1;
                    } else if eq(a, "store") && i + 1 < argc {
                        // The last STORE wins, as in SORT itself.
                        store = Some(i + 1);
                    }
                    i += 1;
                }
                if let Some(pos) = store {
                    out.push((pos, ks::OW | ks::UPDATE));
                }
            }
            out
        }
        "migrate" => {
            let f = ks::RW | ks::ACCESS | ks::DELETE;
            let (mut first, mut num) = (3, 1);
            let mut i = 6;
            while i < argc {
                let a = &argv[i];
                if eq(a, "keys") {
                    if argv[3].is_empty() {
                        first = i + 1;
                        num = argc - first;
                    } else {
                        // KEYS with a key given too: MIGRATE reports the
                        // syntax error; no keys.
                        num = 0;
                    }
                    break;
                }
                if eq(a, "auth") {
                    i += 1;
                } else if eq(a, "auth2") {
                    i += 2;
                }
                i += 1;
            }
            (first..first + num).map(|p| (p, f)).collect()
        }
        // The commands below have complete key specs; Redis parses them
        // itself only when the specs fail (a key count written loosely,
        // "02"), and then reports the keys without flags.
        "sintercard" | "zinter" | "zunion" | "zdiff" | "zintercard" | "lmpop" | "zmpop" => {
            counted_keys(argv, 0, 1, 2)
        }
        "zunionstore" | "zinterstore" | "zdiffstore" => counted_keys(argv, 1, 2, 3),
        "eval" | "eval_ro" | "evalsha" | "evalsha_ro" | "fcall" | "fcall_ro" | "blmpop"
        | "bzmpop" => counted_keys(argv, 0, 2, 3),
        "georadius" | "georadiusbymember" => {
            let mut out = vec![(1, 0)];
            let mut store = None;
            let mut i = 5;
            while i < argc {
                if (eq(&argv[i], "store") || eq(&argv[i], "storedist")) && i + 1 < argc {
                    store = Some(i + 1);
                    i += 1;
                }
                i += 1;
            }
            out.extend(store.map(|p| (p, 0)));
            out
        }
        "xread" | "xreadgroup" => {
            let mut streams = None;
            let mut i = 1;
            while i < argc {
                let a = &argv[i];
                if eq(a, "block") || eq(a, "count") {
                    i += 1;
                } else if eq(a, "group") {
                    i += 2;
                } else if eq(a, "streams") {
                    streams = Some(i);
                    break;
                } else if !eq(a, "noack") {
                    break;
                }
                i += 1;
            }
            let Some(at) = streams else {
                return Vec::new();
            };
            let n = argc - at - 1;
            if n == 0 || n & 1 != 0 {
                return Vec::new();
            }
            (at + 1..at + 1 + n / 2).map(|p| (p, 0)).collect()
        }
        _ => Vec::new(),
    }
}

/// Redis's genericGetKeys: `count_at` holds the number of keys, which start
/// at `first`; `store`, when not 0, is a destination key listed after them.
/// The count is read as C's `atoi` reads it, leniently.
fn counted_keys(argv: &[Bytes], store: usize, count_at: usize, first: usize) -> Vec<(usize, u32)> {
    let argc = argv.len();
    if count_at >= argc {
        return Vec::new();
    }
    let num = atoi(&argv[count_at]);
    if num < 1 || num as usize > argc.saturating_sub(first) {
        return Vec::new();
    }
    let mut out: Vec<(usize, u32)> = (first..first + num as usize).map(|p| (p, 0)).collect();
    if store != 0 {
        out.push((store, 0));
    }
    out
}

/// C's `atoi`: optional leading spaces and sign, then as many digits as
/// there are; 0 when there are none.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && (s[i] == b' ' || (b'\t'..=b'\r').contains(&s[i])) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    let n = if neg { -n } else { n };
    n.clamp(i32::MIN as i64, i32::MAX as i64)
}

command!(
    COMMAND_HELP,
    "Describes the COMMAND subcommands.",
    command_help,
    Locking::None
);

/// COMMAND HELP
fn command_help(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    help_reply(
        &args[0],
        &[
            "(no subcommand)",
            "    Returns the details of every command.",
            "COUNT",
            "    Returns how many commands the server has.",
            "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
            "    Returns the names of the commands, optionally only those matching the filter.",
            "INFO [<command-name> ...]",
            "    Returns the details of the named commands, or of every command when",
            "    no name is given.",
            "DOCS [<command-name> ...]",
            "    Returns the documentation of the named commands, or of every command",
            "    when no name is given.",
            "GETKEYS <full-command>",
            "    Returns the key names in a full command line.",
            "GETKEYSANDFLAGS <full-command>",
            "    Returns the key names in a full command line, with how each key is used.",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Command;
    use crate::spec;

    fn nothing(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
        Reply::Null
    }

    macro_rules! reg {
        ($($name:ident),*) => {{
            $(
                #[allow(non_upper_case_globals)]
                static $name: Command = Command {
                    spec: &spec::$name,
                    summary: "",
                    handler: Some(nothing),
                    locking: Locking::Keys,
                };
            )*
            Registry::from_commands([$(&$name),*].into_iter()).unwrap()
        }};
    }

    fn keys(reg: &Registry, line: &str) -> Result<Vec<(String, Vec<&'static str>)>, String> {
        let argv: Vec<Bytes> = line
            .split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        match find_keys_of(reg, &argv) {
            Ok(k) => Ok(k
                .into_iter()
                .map(|(pos, f)| {
                    let names = ks::NAMES
                        .iter()
                        .filter(|(b, _)| f & b != 0)
                        .map(|(_, n)| *n)
                        .collect();
                    (String::from_utf8(argv[pos].to_vec()).unwrap(), names)
                })
                .collect()),
            Err(Reply::Error(e)) => Err(e.to_str_lossy().into_owned()),
            Err(other) => panic!("{other:?}"),
        }
    }

    fn k(name: &str, flags: &[&'static str]) -> (String, Vec<&'static str>) {
        (name.to_string(), flags.to_vec())
    }

    #[test]
    fn commands_whose_specs_are_not_enough() {
        let reg = reg!(SORT, SORT_RO, MIGRATE, BITFIELD);
        assert_eq!(keys(&reg, "sort s"), Ok(vec![k("s", &["RO", "access"])]));
        assert_eq!(
            keys(&reg, "sort s by x limit 0 5 store d1 get # store d"),
            Ok(vec![k("s", &["RO", "access"]), k("d", &["OW", "update"])]),
            "LIMIT skips two, the last STORE wins"
        );
        assert_eq!(
            keys(&reg, "sort_ro s store d"),
            Ok(vec![k("s", &["RO", "access"])])
        );
        let rad = &["RW", "access", "delete"][..];
        assert_eq!(keys(&reg, "migrate h 1 k 0 5"), Ok(vec![k("k", rad)]));
        assert_eq!(
            keys(&reg, "migrate h 1  0 5 copy auth pw keys a b"),
            Ok(vec![k("a", rad), k("b", rad)])
        );
        assert_eq!(
            keys(&reg, "migrate h 1 k 0 5 keys a b"),
            Err("ERR Invalid arguments specified for command".into())
        );
        assert_eq!(
            keys(&reg, "bitfield b get u8 0 overflow wrap get i4 2"),
            Ok(vec![k("b", &["RO", "access"])])
        );
        assert_eq!(
            keys(&reg, "bitfield b get u8 0 incrby u8 0 1"),
            Ok(vec![k("b", &["RW", "access", "update"])])
        );
        assert_eq!(
            keys(&reg, "bitfield b bogus"),
            Ok(vec![k("b", &["RW", "access", "update"])])
        );
    }

    #[test]
    fn c_atoi() {
        assert_eq!(atoi(b"02"), 2);
        assert_eq!(atoi(b"  -3x"), -3);
        assert_eq!(atoi(b"+7"), 7);
        assert_eq!(atoi(b"x1"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"99999999999"), i32::MAX as i64);
    }

    #[test]
    fn key_counts_and_keywords() {
        let reg = reg!(ZUNIONSTORE, EVAL, XREAD, LMPOP, GET);
        assert_eq!(
            keys(&reg, "zunionstore d 2 a b weights 1 2"),
            Ok(vec![
                k("d", &["OW", "update"]),
                k("a", &["RO", "access"]),
                k("b", &["RO", "access"])
            ])
        );
        // A count of zero leaves the keynum spec without keys: an error,
        // unless the command may run without keys.
        assert_eq!(
            keys(&reg, "zunionstore d 0 a"),
            Err("ERR Invalid arguments specified for command".into())
        );
        assert_eq!(keys(&reg, "eval s 0"), Ok(vec![]));
        assert_eq!(keys(&reg, "eval s 3 a b"), Ok(vec![]));
        assert_eq!(
            keys(&reg, "eval s 2 a b c"),
            Ok(vec![
                k("a", &["RW", "access", "update"]),
                k("b", &["RW", "access", "update"])
            ])
        );
        // A loosely written count fails the key spec; the command's own
        // parsing still finds the keys, without flags.
        assert_eq!(
            keys(&reg, "lmpop 02 a b left"),
            Ok(vec![k("a", &[]), k("b", &[])])
        );
        assert_eq!(
            keys(&reg, "zunionstore d 02 a b"),
            Ok(vec![k("a", &[]), k("b", &[]), k("d", &[])])
        );
        assert_eq!(
            keys(&reg, "xread count 2 streams s1 s2 0 0"),
            Ok(vec![k("s1", &["RO", "access"]), k("s2", &["RO", "access"])])
        );
        assert_eq!(
            keys(&reg, "xread count 2 STREAMS s1 0"),
            Ok(vec![k("s1", &["RO", "access"])])
        );
        // The keyword is not looked for in the last argument.
        assert_eq!(
            keys(&reg, "xread count 2 streams"),
            Err("ERR Invalid arguments specified for command".into())
        );
        assert_eq!(
            keys(&reg, "nosuch k"),
            Err("ERR Invalid command specified".into())
        );
    }
}
