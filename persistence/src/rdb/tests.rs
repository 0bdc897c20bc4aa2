use super::*;
use storage::list::End;
use storage::Clock;

fn lim() -> LimitValues {
    LimitValues::default()
}

fn s(v: &str) -> Vec<u8> {
    v.as_bytes().to_vec()
}

/// A comparable rendering of a value: type, encoding and full contents in a
/// canonical order.
/// Type, encoding and contents.
type Rendered = (String, String, Vec<Vec<u8>>);

fn render(v: &Value) -> Rendered {
    let mut items: Vec<Vec<u8>> = match v {
        Value::Str(x) => vec![x.to_bytes().to_vec()],
        Value::List(l) => l.to_vec().into_iter().map(|b| b.to_vec()).collect(),
        Value::Hash(h) => {
            let mut p: Vec<Vec<u8>> = h.iter().map(|(f, v)| [f, b"=", v].concat()).collect();
            p.sort();
            p
        }
        Value::Set(x) => {
            let mut m: Vec<Vec<u8>> = x.to_vec().into_iter().map(|b| b.to_vec()).collect();
            m.sort();
            m
        }
        Value::ZSet(z) => z
            .iter()
            .map(|(m, sc)| [m, b"=", sc.to_bits().to_string().as_bytes()].concat())
            .collect(),
    };
    if let Value::List(_) = v {
    } else if let Value::ZSet(_) = v {
    } else {
        items.sort();
    }
    (v.type_name().into(), v.encoding().into(), items)
}

fn list(items: &[Vec<u8>]) -> Value {
    Value::List(Box::new(List::from_items(items, -2)))
}

fn hash(n: usize, vlen: usize) -> Value {
    let mut h = Hash::new();
    for i in 0..n {
        h.set(format!("f{i}").as_bytes(), &vec![b'v'; vlen], &lim());
    }
    Value::Hash(Box::new(h))
}

fn set(members: &[Vec<u8>]) -> Value {
    let mut st = Set::create(&members[0], members.len(), &lim());
    for m in members {
        st.add(m, &lim());
    }
    Value::Set(Box::new(st))
}

fn zset(n: usize, mlen: usize) -> Value {
    let members: Vec<(Vec<u8>, f64)> = (0..n)
        .map(|i| {
            let mut m = format!("m{i}").into_bytes();
            m.resize(mlen.max(m.len()), b'x');
            (m, i as f64 * 1.5 - 3.0)
        })
        .collect();
    let mut all: Vec<(&[u8], f64)> = members.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
    all.push((b"inf", f64::INFINITY));
    all.push((b"ninf", f64::NEG_INFINITY));
    all.push((b"tiny", 1e-300));
    all.push((b"third", 1.0 / 3.0));
    all.push((b"big", 1e300));
    all.push((b"negz", -0.0));
    Value::ZSet(Box::new(ZSet::from_members(all, &lim())))
}

fn samples() -> Vec<Value> {
    let ints: Vec<Vec<u8>> = (0..10)
        .map(|i| (i * 1000 - 3).to_string().into_bytes())
        .collect();
    let bigints: Vec<Vec<u8>> = (0..600).map(|i| (i * 7).to_string().into_bytes()).collect();
    let words: Vec<Vec<u8>> = (0..10).map(|i| format!("w{i}").into_bytes()).collect();
    let many: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("member-{i}").into_bytes())
        .collect();
    let long_list: Vec<Vec<u8>> = (0..5000)
        .map(|i| format!("item {i}").into_bytes())
        .collect();
    vec![
        Value::string(b"hello"),
        Value::string(b"12345"),
        Value::string(b"-7"),
        Value::string(b"9223372036854775807"),
        Value::string(b"007"),
        Value::string(b""),
        Value::string(&[b'a'; 100]),
        Value::string(&(0..=255u8).collect::<Vec<_>>()),
        list(&[s("a"), s("1"), s("-300"), s("x").repeat(100)]),
        list(&long_list),
        list(&[vec![b'p'; 20000]]),
        hash(5, 10),
        hash(200, 5),
        hash(3, 100),
        set(&ints),
        set(&bigints),
        set(&words),
        set(&many),
        set(&[s("1"), s("x")]),
        zset(5, 1),
        zset(200, 1),
        zset(3, 100),
    ]
}

#[test]
fn every_encoding_round_trips_through_dump() {
    for v in samples() {
        let p = dump_payload(&v);
        let back = restore_payload(&p).unwrap();
        assert_eq!(render(&back), render(&v), "{:?}", render(&v).1);
    }
    // The encodings we meant to cover are all there.
    let encs: Vec<(String, String)> = samples()
        .iter()
        .map(|v| (v.type_name().into(), v.encoding().into()))
        .collect();
    for want in [
        ("string", "int"),
        ("string", "embstr"),
        ("string", "raw"),
        ("list", "listpack"),
        ("list", "quicklist"),
        ("hash", "listpack"),
        ("hash", "hashtable"),
        ("set", "intset"),
        ("set", "listpack"),
        ("set", "hashtable"),
        ("zset", "listpack"),
        ("zset", "skiplist"),
    ] {
        assert!(
            encs.iter().any(|(t, e)| t == want.0 && e == want.1),
            "{want:?} not covered"
        );
    }
}

#[test]
fn version_10_payloads_write_listpack_sets_as_plain_sets() {
    let v = set(&[s("a"), s("b")]);
    let p = dump_payload_version(&v, 10);
    assert_eq!(p[0], T_SET);
    assert_eq!(&p[p.len() - 10..p.len() - 8], &10u16.to_le_bytes());
    let back = restore_payload(&p).unwrap();
    assert_eq!(render(&back), render(&v));
    assert_eq!(dump_payload(&v)[0], T_SET_LISTPACK);
}

#[test]
fn payload_checks() {
    let mut p = dump_payload(&Value::string(b"hello"));
    // The Redis layout: type 0, length 5, "hello", version 11, CRC.
    assert_eq!(&p[..9], b"\x00\x05hello\x0b\x00");
    let n = p.len();
    p[3] ^= 1;
    assert!(matches!(restore_payload(&p), Err(RdbError::BadPayload)));
    p[3] ^= 1;
    assert!(restore_payload(&p).is_ok());
    // A newer version is refused.
    let mut q = p.clone();
    q[n - 10] = 12;
    let crc = crc64(0, &q[..n - 8]);
    q[n - 8..].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(restore_payload(&q), Err(RdbError::BadPayload)));
    assert!(matches!(
        restore_payload(&p[..5]),
        Err(RdbError::BadPayload)
    ));
    // Valid checksum over a truncated value body: a format error.
    let mut r = vec![0u8, 0x05, b'h', b'e', 11, 0];
    let crc = crc64(0, &r);
    r.extend_from_slice(&crc.to_le_bytes());
    assert!(matches!(restore_payload(&r), Err(RdbError::Truncated)));
}

#[test]
fn long_compressible_strings_are_lzf_compressed() {
    let v = Value::string(&b"abcdefgh".repeat(100));
    let p = dump_payload(&v);
    assert_eq!(p[1], 0xC3);
    assert!(p.len() < 100);
    assert_eq!(render(&restore_payload(&p).unwrap()), render(&v));
}

fn store() -> Store {
    Store::new(16, 4, Clock::manual(1_700_000_000_000))
}

fn fill(st: &Store) {
    let mut l = st.lock_all();
    for (i, v) in samples().into_iter().enumerate() {
        l.set(i % 3, format!("key:{i}").as_bytes(), v, false);
    }
    l.set_with_expire(0, b"volatile", Value::string(b"v"), Some(1_700_000_100_000));
    l.set_with_expire(5, b"past", Value::string(b"v"), Some(1_600_000_000_000));
}

fn snapshot(st: &Store) -> Vec<u8> {
    let mut l = st.lock_all();
    let (buf, n) = write_store(
        Vec::new(),
        &mut l,
        &default_aux(1234, false),
        SaveOptions::default(),
    )
    .unwrap();
    assert_eq!(n as usize, samples().len() + 1);
    buf
}

/// (db, key, rendered value, deadline) of every key.
type Contents = Vec<(usize, Vec<u8>, Rendered, Option<i64>)>;

fn contents(st: &Store) -> Contents {
    let mut l = st.lock_all();
    let mut out = Vec::new();
    for db in 0..st.databases() {
        l.for_each_entry(db, |e, exp| {
            out.push((db, e.key.to_vec(), render(&e.value), exp))
        });
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

#[test]
fn store_round_trips_through_a_file() {
    let a = store();
    fill(&a);
    let buf = snapshot(&a);
    assert_eq!(&buf[..9], b"REDIS0011");
    let b = store();
    {
        let mut l = b.lock_all();
        l.set(7, b"to-be-replaced", Value::string(b"x"), false);
    }
    let stats = load(&buf[..], &b).unwrap();
    assert_eq!(stats.version, 11);
    assert_eq!(stats.keys as usize, samples().len() + 1);
    assert_eq!(stats.expires, 1);
    assert!(stats
        .aux
        .iter()
        .any(|(k, v)| k == "redis-ver" && v == b"7.2.0"));
    assert_eq!(contents(&a), contents(&b));
    assert_eq!(b.lock_all().db_len(7), 0);
}

#[test]
fn expired_keys_are_skipped_on_load_and_idle_is_kept() {
    let mut w = Writer::new(Vec::new());
    w.write_header(&[]).unwrap();
    w.select_db(0, 2, 1).unwrap();
    w.write_entry(b"old", &Value::string(b"1"), Some(1))
        .unwrap();
    w.write_entry_with_meta(b"idle", &Value::string(b"2"), None, Some(100), Some(5))
        .unwrap();
    let buf = w.finish().unwrap();
    let st = store();
    let stats = load(&buf[..], &st).unwrap();
    assert_eq!(stats.expired_skipped, 1);
    let mut l = st.lock_all();
    assert!(l.peek(0, b"old").is_none());
    let e = l.peek(0, b"idle").unwrap();
    let idle = storage::keyspace::lru_idle_secs(e.lru, 1_700_000_000_000);
    assert_eq!(idle, 100);
}

#[test]
fn corrupt_and_truncated_files_fail_without_touching_the_store() {
    let a = store();
    fill(&a);
    let buf = snapshot(&a);
    let b = store();
    {
        let mut l = b.lock_all();
        l.set(0, b"keep", Value::string(b"me"), false);
    }
    // Every truncation fails (with Truncated or a corruption error).
    for cut in (0..buf.len())
        .step_by(buf.len() / 150)
        .chain([buf.len() - 1, buf.len() - 8])
    {
        let r = load(&buf[..cut], &b);
        assert!(r.is_err(), "cut at {cut} of {}", buf.len());
    }
    assert!(matches!(
        load(&buf[..buf.len() - 3], &b),
        Err(RdbError::Truncated)
    ));
    // A flipped byte anywhere is caught, by the checksum at the latest.
    for at in (9..buf.len() - 8).step_by(buf.len() / 150) {
        let mut bad = buf.clone();
        bad[at] ^= 0x55;
        assert!(load(&bad[..], &b).is_err(), "flip at {at}");
    }
    let mut bad = buf.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(matches!(load(&bad[..], &b), Err(RdbError::Checksum { .. })));
    assert!(matches!(
        load(&b"RUBBISH00"[..], &b),
        Err(RdbError::BadMagic)
    ));
    assert!(matches!(
        load(&b"REDIS0099\xff"[..], &b),
        Err(RdbError::Version(99))
    ));
    // The store was never touched.
    let mut l = b.lock_all();
    assert_eq!(l.db_len(0), 1);
    assert!(l.peek(0, b"keep").is_some());
}

#[test]
fn database_out_of_range_is_an_error() {
    let mut w = Writer::new(Vec::new());
    w.write_header(&[]).unwrap();
    w.select_db(40, 1, 0).unwrap();
    w.write_entry(b"k", &Value::string(b"v"), None).unwrap();
    let buf = w.finish().unwrap();
    assert!(matches!(
        load(&buf[..], &store()),
        Err(RdbError::DbRange(40, 16))
    ));
}

#[test]
fn reads_old_encodings() {
    // A hand-made version 9 file: a ziplist list, a ziplist hash, a ziplist
    // zset (text scores), a quicklist v1, an old text-score zset, an
    // EXPIRETIME (seconds) key and a zipmap hash.
    fn zl(items: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        for it in items {
            let start = body.len();
            body.push(prev as u8);
            body.push(it.len() as u8); // 6-bit string length
            body.extend_from_slice(it);
            prev = body.len() - start;
        }
        body.push(0xFF);
        let mut out = ((10 + body.len()) as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(items.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }
    let mut f = b"REDIS0009".to_vec();
    f.extend_from_slice(&[OP_SELECTDB, 0]);
    let key = |f: &mut Vec<u8>, ty: u8, name: &[u8]| {
        f.push(ty);
        put_len(f, name.len() as u64);
        f.extend_from_slice(name);
    };
    key(&mut f, T_LIST_ZIPLIST, b"l");
    put_blob(&mut f, &zl(&[b"a", b"b", b"c"]), false);
    key(&mut f, T_HASH_ZIPLIST, b"h");
    put_blob(&mut f, &zl(&[b"f", b"v", b"g", b"w"]), false);
    key(&mut f, T_ZSET_ZIPLIST, b"z");
    put_blob(&mut f, &zl(&[b"a", b"1.5", b"b", b"2"]), false);
    key(&mut f, T_LIST_QUICKLIST, b"q");
    put_len(&mut f, 2);
    put_blob(&mut f, &zl(&[b"x"]), false);
    put_blob(&mut f, &zl(&[b"y", b"z"]), false);
    key(&mut f, T_ZSET, b"oz");
    put_len(&mut f, 2);
    put_string(&mut f, b"m", false);
    f.extend_from_slice(&[3, b'2', b'.', b'5']);
    put_string(&mut f, b"n", false);
    f.push(254);
    f.push(OP_EXPIRETIME);
    f.extend_from_slice(&1_800_000_000i32.to_le_bytes());
    key(&mut f, T_STRING, b"e");
    put_string(&mut f, b"val", false);
    key(&mut f, T_HASH_ZIPMAP, b"zm");
    put_blob(&mut f, &[1, 1, b'k', 1, 0, b'v', 0xFF], false);
    f.push(OP_EOF);
    let crc = crc64(0, &f);
    f.extend_from_slice(&crc.to_le_bytes());

    let st = store();
    let stats = load(&f[..], &st).unwrap();
    assert_eq!(stats.keys, 7);
    let mut l = st.lock_all();
    let v = |l: &mut storage::Locked<'_>, k: &[u8]| render(&l.peek(0, k).unwrap().value);
    assert_eq!(v(&mut l, b"l").2, vec![s("a"), s("b"), s("c")]);
    assert_eq!(v(&mut l, b"l").1, "listpack");
    assert_eq!(v(&mut l, b"h").2, vec![s("f=v"), s("g=w")]);
    assert_eq!(v(&mut l, b"q").2, vec![s("x"), s("y"), s("z")]);
    let Value::ZSet(z) = &l.peek(0, b"z").unwrap().value else {
        panic!("not a zset")
    };
    assert_eq!(z.score(b"a"), Some(1.5));
    assert_eq!(z.score(b"b"), Some(2.0));
    let Value::ZSet(z) = &l.peek(0, b"oz").unwrap().value else {
        panic!("not a zset")
    };
    assert_eq!(z.score(b"m"), Some(2.5));
    assert_eq!(z.score(b"n"), Some(f64::INFINITY));
    assert_eq!(l.expire_at(0, b"e"), Some(1_800_000_000_000));
    assert_eq!(v(&mut l, b"zm").2, vec![s("k=v")]);
}

#[test]
fn loaded_values_follow_the_store_limits() {
    let a = store();
    {
        let mut l = a.lock_all();
        l.set(0, b"h", hash(10, 5), false);
        l.set(0, b"s", set(&[s("1"), s("2"), s("3")]), false);
    }
    let buf = snapshot_any(&a);
    let b = store();
    let mut lv = b.limits.get();
    lv.hash_max_listpack_entries = 4;
    lv.set_max_intset_entries = 2;
    b.limits.set(lv);
    load(&buf[..], &b).unwrap();
    let mut l = b.lock_all();
    assert_eq!(l.peek(0, b"h").unwrap().value.encoding(), "hashtable");
    assert_eq!(l.peek(0, b"s").unwrap().value.encoding(), "hashtable");
}

fn snapshot_any(st: &Store) -> Vec<u8> {
    let mut l = st.lock_all();
    write_store(Vec::new(), &mut l, &[], SaveOptions::default())
        .unwrap()
        .0
}

#[test]
fn list_nodes_follow_the_fill() {
    let items: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("{i:0>10}").into_bytes())
        .collect();
    let mut l = List::from_items(&items, -2);
    l.push(End::Tail, b"tail");
    let v = Value::List(Box::new(l));
    let mut w = Writer::new(Vec::new());
    w.set_compression(false);
    w.set_list_fill(8);
    w.write_header(&[]).unwrap();
    w.select_db(0, 1, 0).unwrap();
    w.write_entry(b"l", &v, None).unwrap();
    let buf = w.finish().unwrap();
    // Header, SELECTDB 0, RESIZEDB 1 0, then the type, key "l", and the
    // node count: 1001 elements, 8 per node, make 126 nodes.
    let at = 9 + 2 + 3;
    assert_eq!(buf[at], T_LIST_QUICKLIST_2);
    assert_eq!(&buf[at + 1..at + 3], &[1, b'l']);
    assert_eq!(&buf[at + 3..at + 5], &[0x40, 126]);
    let st = store();
    load(&buf[..], &st).unwrap();
    let mut lk = st.lock_all();
    assert_eq!(render(&lk.peek(0, b"l").unwrap().value), render(&v));
}

/// A long, very compressible string: LZF-compressed by default.
fn repetitive() -> Vec<u8> {
    b"abcdefgh".repeat(100)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `store()` with the samples and one long repetitive string.
fn store_with_long_string() -> Store {
    let st = store();
    fill(&st);
    st.lock_all()
        .set(1, b"long", Value::string(&repetitive()), false);
    st
}

fn write_with(st: &Store, opts: SaveOptions) -> Vec<u8> {
    let mut l = st.lock_all();
    write_store(
        Vec::new(),
        &mut l,
        &[("redis-ver", b"7.2.0".to_vec())],
        opts,
    )
    .unwrap()
    .0
}

#[test]
fn compression_off_writes_long_strings_as_they_are() {
    let a = store_with_long_string();
    let on = write_with(&a, SaveOptions::default());
    let off = write_with(
        &a,
        SaveOptions {
            compression: false,
            checksum: true,
        },
    );
    assert!(!contains(&on, &repetitive()));
    // Type 0, key "long", then the 800 bytes with a 14-bit length, raw.
    let raw = [
        &[T_STRING, 4][..],
        b"long",
        &[0x40 | 3, 0x20],
        &repetitive(),
    ]
    .concat();
    assert!(contains(&off, &raw));
    assert!(off.len() > on.len() + 700);
    // Both load back to the same contents, checksums verified.
    for buf in [&on, &off] {
        let b = store();
        load(&buf[..], &b).unwrap();
        assert_eq!(contents(&a), contents(&b));
    }
}

#[test]
fn checksum_off_writes_zero_and_loads() {
    let a = store_with_long_string();
    let on = write_with(&a, SaveOptions::default());
    let off = write_with(
        &a,
        SaveOptions {
            compression: true,
            checksum: false,
        },
    );
    let n = on.len();
    assert_eq!(off.len(), n);
    // The same records; only the CRC differs.
    assert_eq!(on[..n - 8], off[..n - 8]);
    assert_eq!(on[n - 9], OP_EOF);
    assert_eq!(
        u64::from_le_bytes(on[n - 8..].try_into().unwrap()),
        crc64(0, &on[..n - 8])
    );
    assert_ne!(on[n - 8..], [0u8; 8]);
    assert_eq!(off[n - 8..], [0u8; 8]);
    let b = store();
    load(&off[..], &b).unwrap();
    assert_eq!(contents(&a), contents(&b));
    // Both options off at once.
    let none = write_with(
        &a,
        SaveOptions {
            compression: false,
            checksum: false,
        },
    );
    assert!(contains(&none, &repetitive()));
    assert_eq!(none[none.len() - 8..], [0u8; 8]);
    let c = store();
    load(&none[..], &c).unwrap();
    assert_eq!(contents(&a), contents(&c));
}

#[test]
fn a_wrong_nonzero_checksum_still_fails() {
    let a = store_with_long_string();
    let b = store();
    for opts in [
        SaveOptions::default(),
        SaveOptions {
            compression: true,
            checksum: false,
        },
    ] {
        let mut bad = write_with(&a, opts);
        let n = bad.len();
        let computed = crc64(0, &bad[..n - 8]);
        let wrong = computed ^ 0x0100;
        bad[n - 8..].copy_from_slice(&wrong.to_le_bytes());
        match load(&bad[..], &b) {
            Err(RdbError::Checksum {
                expected,
                computed: c,
            }) => {
                assert_eq!((expected, c), (wrong, computed));
            }
            other => panic!("{opts:?}: {other:?}"),
        }
        // The same file with its CRC zeroed loads: zero means "written
        // without a checksum", which Redis does not check either.
        let mut unchecked = write_with(&a, opts);
        let n = unchecked.len();
        unchecked[n - 8..].copy_from_slice(&[0; 8]);
        load(&unchecked[..], &b).unwrap();
        assert_eq!(contents(&a), contents(&b));
    }
}

#[test]
fn fragments_follow_the_options_of_their_writers() {
    // As BGSAVE does: records encoded by fragment writers, appended raw.
    let v = Value::string(&repetitive());
    for (compression, checksum) in [(true, true), (false, true), (true, false), (false, false)] {
        let mut frag = Writer::fragment(Vec::new());
        frag.set_compression(compression);
        frag.select_db(0, 1, 0).unwrap();
        frag.write_entry(b"k", &v, None).unwrap();
        let records = frag.into_fragment();
        assert_eq!(contains(&records, &repetitive()), !compression);
        let mut w = Writer::new(Vec::new());
        w.set_checksum(checksum);
        w.write_header(&[]).unwrap();
        w.write_raw(&records).unwrap();
        let buf = w.finish().unwrap();
        let n = buf.len();
        let crc = u64::from_le_bytes(buf[n - 8..].try_into().unwrap());
        if checksum {
            assert_eq!(crc, crc64(0, &buf[..n - 8]));
        } else {
            assert_eq!(crc, 0);
        }
        let st = store();
        load(&buf[..], &st).unwrap();
        let mut l = st.lock_all();
        assert_eq!(render(&l.peek(0, b"k").unwrap().value), render(&v));
    }
}

#[test]
fn dump_payloads_follow_compression_and_always_carry_a_crc() {
    let v = Value::string(&repetitive());
    let on = dump_payload_with(&v, RDB_VERSION, true);
    assert_eq!(on, dump_payload(&v));
    assert_eq!(on[1], 0xC3);
    let off = dump_payload_with(&v, RDB_VERSION, false);
    assert_eq!(&off[..3], &[T_STRING, 0x40 | 3, 0x20]);
    assert!(contains(&off, &repetitive()));
    let n = off.len();
    assert_eq!(&off[n - 10..n - 8], &RDB_VERSION.to_le_bytes());
    let crc = u64::from_le_bytes(off[n - 8..].try_into().unwrap());
    assert_ne!(crc, 0);
    assert_eq!(crc, crc64(0, &off[..n - 8]));
    assert_eq!(render(&restore_payload(&off).unwrap()), render(&v));
    // Collections too: a listpack hash with a long compressible value.
    let h = hash(3, 40);
    assert_eq!(h.encoding(), "listpack");
    let hoff = dump_payload_with(&h, RDB_VERSION, false);
    assert_eq!(hoff[0], T_HASH_LISTPACK);
    assert_ne!(hoff[1] >> 6, 3, "not an LZF string");
    assert_eq!(render(&restore_payload(&hoff).unwrap()), render(&h));
}
