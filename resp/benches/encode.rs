//! Reply encoding throughput for the common shapes: bulk strings, arrays of
//! bulks (`LRANGE`, `MGET`) and maps (`HGETALL`, `HELLO`), in both protocols.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use resp::{Protocol, Reply};

fn bench_encode(c: &mut Criterion) {
    let bulk = Reply::bulk(Bytes::from(vec![b'v'; 100]));
    let array = Reply::Array(
        (0..100)
            .map(|i| Reply::bulk(format!("element:{i}")))
            .collect(),
    );
    let map = Reply::Map(
        (0..50)
            .map(|i| {
                (
                    Reply::bulk(format!("field:{i}")),
                    Reply::Double(i as f64 * 1.25),
                )
            })
            .collect(),
    );
    let mut group = c.benchmark_group("encode");
    for (name, reply) in [
        ("bulk_100B", &bulk),
        ("array_100_bulks", &array),
        ("map_50_doubles", &map),
    ] {
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            let len = reply.to_vec(proto).len();
            group.throughput(Throughput::Bytes(len as u64));
            group.bench_function(format!("{name}/{proto:?}"), |b| {
                let mut out = BytesMut::with_capacity(len);
                b.iter(|| {
                    out.clear();
                    reply.encode(proto, &mut out);
                    out.len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_encode);
criterion_main!(benches);
