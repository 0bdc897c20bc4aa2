//! Every registered command's metadata against Redis 7.2's own command
//! description (`redis-7.2.6-commands.json`, kept outside the repository in
//! `../shared/reference/` relative to the workspace root).
//!
//! `spec.rs` is generated from that file; this test catches a generator bug
//! or a hand edit by comparing what the registry actually serves (arity,
//! flags, declared ACL categories, tips, key specs, the argument tree) with
//! the source, field by field, and lists every difference at once. It only
//! looks at registered commands, so it holds whichever commands exist.

use std::path::PathBuf;

use commands::meta::{argf, ks, Arg, ArgType, BeginSearch, FindKeys, KeySpec, Spec};
use serde_json::Value;

fn reference_path() -> PathBuf {
    // CARGO_MANIFEST_DIR is <workspace>/commands.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/redis-7.2.6-commands.json")
}

/// Command flags by their name in commands.json.
const COMMAND_FLAGS: &[(&str, u64)] = {
    use commands::meta::flags::*;
    &[
        ("WRITE", WRITE),
        ("READONLY", READONLY),
        ("DENYOOM", DENYOOM),
        ("MODULE", MODULE),
        ("ADMIN", ADMIN),
        ("PUBSUB", PUBSUB),
        ("NOSCRIPT", NOSCRIPT),
        ("BLOCKING", BLOCKING),
        ("LOADING", LOADING),
        ("STALE", STALE),
        ("SKIP_MONITOR", SKIP_MONITOR),
        ("SKIP_SLOWLOG", SKIP_SLOWLOG),
        ("ASKING", ASKING),
        ("FAST", FAST),
        ("NO_AUTH", NO_AUTH),
        ("MAY_REPLICATE", MAY_REPLICATE),
        ("SENTINEL", SENTINEL),
        ("ONLY_SENTINEL", ONLY_SENTINEL),
        ("NO_MANDATORY_KEYS", NO_MANDATORY_KEYS),
        ("PROTECTED", PROTECTED),
        ("NO_ASYNC_LOADING", NO_ASYNC_LOADING),
        ("NO_MULTI", NO_MULTI),
        ("MOVABLE_KEYS", MOVABLE_KEYS),
        ("ALLOW_BUSY", ALLOW_BUSY),
        ("TOUCHES_ARBITRARY_KEYS", TOUCHES_ARBITRARY_KEYS),
    ]
};

/// Key-spec flags by their name in commands.json.
const KEY_FLAGS: &[(&str, u32)] = &[
    ("RO", ks::RO),
    ("RW", ks::RW),
    ("OW", ks::OW),
    ("RM", ks::RM),
    ("ACCESS", ks::ACCESS),
    ("UPDATE", ks::UPDATE),
    ("INSERT", ks::INSERT),
    ("DELETE", ks::DELETE),
    ("NOT_KEY", ks::NOT_KEY),
    ("INCOMPLETE", ks::INCOMPLETE),
    ("VARIABLE_FLAGS", ks::VARIABLE_FLAGS),
];

/// Turns a JSON list of flag names into bits; unknown names are reported.
fn bits<T: Copy + std::ops::BitOr<Output = T> + Default>(
    list: Option<&Value>,
    table: &[(&str, T)],
    what: &str,
    diffs: &mut Vec<String>,
) -> T {
    let mut out = T::default();
    for name in list.and_then(Value::as_array).into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        match table.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, b)) => out = out | *b,
            None => diffs.push(format!("{what}: the reference names unknown flag {name}")),
        }
    }
    out
}

fn int(v: &Value, path: &[&str]) -> Option<i64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_i64()
}

fn compare_key_spec(what: &str, ours: &KeySpec, theirs: &Value, diffs: &mut Vec<String>) {
    let flags = bits(theirs.get("flags"), KEY_FLAGS, what, diffs);
    if flags != ours.flags {
        diffs.push(format!(
            "{what}: flags {:#x}, reference {:#x}",
            ours.flags, flags
        ));
    }
    let bs = &theirs["begin_search"];
    let begin = if let Some(pos) = int(bs, &["index", "pos"]) {
        Some(BeginSearch::Index(pos as i32))
    } else if let Some(kw) = bs.get("keyword") {
        match (kw["keyword"].as_str(), kw["startfrom"].as_i64()) {
            (Some(k), Some(s)) => Some(BeginSearch::Keyword {
                keyword: Box::leak(k.to_string().into_boxed_str()),
                start_from: s as i32,
            }),
            _ => None,
        }
    } else if bs.get("unknown").is_some() {
        Some(BeginSearch::Unknown)
    } else {
        None
    };
    match begin {
        Some(b) if b == ours.begin => {}
        other => diffs.push(format!(
            "{what}: begin_search {:?}, reference {other:?}",
            ours.begin
        )),
    }
    let fk = &theirs["find_keys"];
    let find = if let Some(r) = fk.get("range") {
        match (
            r["lastkey"].as_i64(),
            r["step"].as_i64(),
            r["limit"].as_i64(),
        ) {
            (Some(lastkey), Some(step), Some(limit)) => Some(FindKeys::Range {
                lastkey: lastkey as i32,
                step: step as i32,
                limit: limit as i32,
            }),
            _ => None,
        }
    } else if let Some(k) = fk.get("keynum") {
        match (
            k["keynumidx"].as_i64(),
            k["firstkey"].as_i64(),
            k["step"].as_i64(),
        ) {
            (Some(keynum_idx), Some(first_key), Some(step)) => Some(FindKeys::Keynum {
                keynum_idx: keynum_idx as i32,
                first_key: first_key as i32,
                step: step as i32,
            }),
            _ => None,
        }
    } else if fk.get("unknown").is_some() {
        Some(FindKeys::Unknown)
    } else {
        None
    };
    match find {
        Some(f) if f == ours.find => {}
        other => diffs.push(format!(
            "{what}: find_keys {:?}, reference {other:?}",
            ours.find
        )),
    }
}

fn arg_type(name: &str) -> Option<ArgType> {
    Some(match name {
        "string" => ArgType::String,
        "integer" => ArgType::Integer,
        "double" => ArgType::Double,
        "key" => ArgType::Key,
        "pattern" => ArgType::Pattern,
        "unix-time" => ArgType::UnixTime,
        "pure-token" => ArgType::PureToken,
        "oneof" => ArgType::OneOf,
        "block" => ArgType::Block,
        _ => return None,
    })
}

fn compare_args(what: &str, ours: &[Arg], theirs: Option<&Value>, diffs: &mut Vec<String>) {
    let empty = Vec::new();
    let theirs = theirs.and_then(Value::as_array).unwrap_or(&empty);
    if ours.len() != theirs.len() {
        diffs.push(format!(
            "{what}: {} arguments, reference {}",
            ours.len(),
            theirs.len()
        ));
        return;
    }
    for (a, t) in ours.iter().zip(theirs) {
        let here = format!("{what} > {}", a.name);
        if t["name"].as_str() != Some(a.name) {
            diffs.push(format!("{here}: reference name {}", t["name"]));
        }
        if t["type"].as_str().and_then(arg_type) != Some(a.kind) {
            diffs.push(format!(
                "{here}: type {}, reference {}",
                a.kind.name(),
                t["type"]
            ));
        }
        if t.get("token").and_then(Value::as_str) != a.token {
            diffs.push(format!(
                "{here}: token {:?}, reference {:?}",
                a.token,
                t.get("token")
            ));
        }
        if t.get("display").and_then(Value::as_str) != a.display {
            diffs.push(format!(
                "{here}: display {:?}, reference {:?}",
                a.display,
                t.get("display")
            ));
        }
        let ksi = t
            .get("key_spec_index")
            .and_then(Value::as_i64)
            .unwrap_or(-1);
        if ksi != a.key_spec_index as i64 {
            diffs.push(format!(
                "{here}: key_spec_index {}, reference {ksi}",
                a.key_spec_index
            ));
        }
        let flag = |name: &str| t.get(name).and_then(Value::as_bool).unwrap_or(false);
        let mut f = 0;
        if flag("optional") {
            f |= argf::OPTIONAL;
        }
        if flag("multiple") {
            f |= argf::MULTIPLE;
        }
        if flag("multiple_token") {
            f |= argf::MULTIPLE_TOKEN;
        }
        if f != a.flags {
            diffs.push(format!("{here}: flags {:#x}, reference {f:#x}", a.flags));
        }
        if t.get("since").and_then(Value::as_str) != a.since {
            diffs.push(format!(
                "{here}: since {:?}, reference {:?}",
                a.since,
                t.get("since")
            ));
        }
        if t.get("deprecated_since").and_then(Value::as_str) != a.deprecated_since {
            diffs.push(format!(
                "{here}: deprecated_since {:?}, reference {:?}",
                a.deprecated_since,
                t.get("deprecated_since")
            ));
        }
        compare_args(&here, a.args, t.get("arguments"), diffs);
    }
}

/// Compares one command's spec with its entry in the reference.
fn compare_command(name: &str, spec: &Spec, r: &Value, diffs: &mut Vec<String>) {
    if r["arity"].as_i64() != Some(spec.arity as i64) {
        diffs.push(format!(
            "{name}: arity {}, reference {}",
            spec.arity, r["arity"]
        ));
    }
    let what = format!("{name} flags");
    let flags = bits(r.get("command_flags"), COMMAND_FLAGS, &what, diffs);
    if flags != spec.flags {
        diffs.push(format!(
            "{name}: flags {:#x}, reference {flags:#x}",
            spec.flags
        ));
    }
    let mut acl = 0u64;
    for cat in r
        .get("acl_categories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let cat = cat.as_str().unwrap_or_default();
        match commands::meta::acl::by_name(cat) {
            Some(b) => acl |= b,
            None => diffs.push(format!("{name}: reference ACL category {cat} unknown")),
        }
    }
    if acl != spec.acl {
        diffs.push(format!(
            "{name}: declared ACL categories {:#x}, reference {acl:#x}",
            spec.acl
        ));
    }
    let tips: Vec<String> = r
        .get("command_tips")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    let ours: Vec<String> = spec.tips.iter().map(|t| t.to_ascii_lowercase()).collect();
    if tips != ours {
        diffs.push(format!("{name}: tips {ours:?}, reference {tips:?}"));
    }
    let empty = Vec::new();
    let specs = r
        .get("key_specs")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if specs.len() != spec.key_specs.len() {
        diffs.push(format!(
            "{name}: {} key specs, reference {}",
            spec.key_specs.len(),
            specs.len()
        ));
    } else {
        for (i, (ours, theirs)) in spec.key_specs.iter().zip(specs).enumerate() {
            compare_key_spec(&format!("{name} key spec {i}"), ours, theirs, diffs);
        }
    }
    compare_args(name, spec.args, r.get("arguments"), diffs);
}

fn load_reference() -> Option<Value> {
    let path = reference_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: {} is not present; the comparison with Redis's command metadata did not run",
            path.display()
        );
        return None;
    };
    Some(serde_json::from_str(&text).expect("reference JSON parses"))
}

#[test]
fn registered_commands_match_redis_metadata() {
    let Some(reference) = load_reference() else {
        return;
    };
    let registry = commands::init();
    let mut diffs = Vec::new();
    let mut checked = 0;
    for entry in registry.all() {
        let name = entry.full_name.as_str();
        checked += 1;
        match reference.get(name) {
            Some(r) => compare_command(name, entry.spec(), r, &mut diffs),
            None => diffs.push(format!("{name}: registered but not in the reference")),
        }
    }
    assert!(checked > 0, "no command is registered");
    assert!(
        diffs.is_empty(),
        "{} difference(s) from Redis's command metadata:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    eprintln!("{checked} registered commands match Redis's metadata");
}

/// The comparison itself finds differences: SET's reference entry, altered
/// in each compared field, must be reported field by field.
#[test]
fn comparison_reports_each_kind_of_difference() {
    let Some(reference) = load_reference() else {
        return;
    };
    let spec = &commands::spec::SET;
    let mut diffs = Vec::new();
    compare_command("set", spec, &reference["set"], &mut diffs);
    assert_eq!(diffs, Vec::<String>::new(), "SET matches as generated");

    let mut r = reference["set"].clone();
    r["arity"] = Value::from(-4);
    r["command_flags"] = serde_json::json!(["WRITE"]);
    r["acl_categories"] = serde_json::json!(["STRING", "FAST"]);
    r["key_specs"][0]["flags"] = serde_json::json!(["RW"]);
    r["key_specs"][0]["begin_search"]["index"]["pos"] = Value::from(2);
    r["arguments"][2]["arguments"][0]["token"] = Value::from("NOTNX");
    r["arguments"][3]["optional"] = Value::from(false);
    r["arguments"][1]["type"] = Value::from("integer");
    let mut diffs = Vec::new();
    compare_command("set", spec, &r, &mut diffs);
    assert_eq!(
        diffs,
        vec![
            "set: arity -3, reference -4".to_string(),
            "set: flags 0x5, reference 0x1".to_string(),
            "set: declared ACL categories 0x80, reference 0x4080".to_string(),
            "set key spec 0: flags 0x432, reference 0x2".to_string(),
            "set key spec 0: begin_search Index(1), reference Some(Index(2))".to_string(),
            "set > value: type string, reference \"integer\"".to_string(),
            "set > condition > nx: token Some(\"NX\"), reference Some(String(\"NOTNX\"))"
                .to_string(),
            "set > get: flags 0x1, reference 0x0".to_string(),
        ]
    );
}
