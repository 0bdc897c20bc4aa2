//! Request parsing throughput: pipelined `SET` requests, as `redis-benchmark
//! -P 16 -t set` sends them, plus inline requests and one large argument.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use resp::RequestParser;

fn set_pipeline(n: usize, value_len: usize) -> Vec<u8> {
    let value = "x".repeat(value_len);
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        out.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
                key.len(),
                value.len()
            )
            .as_bytes(),
        );
    }
    out
}

fn parse_all(parser: &mut RequestParser, mut buf: BytesMut) -> usize {
    let mut n = 0;
    while let Some(req) = parser.parse(&mut buf).unwrap() {
        n += req.args.len();
    }
    n
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (name, wire) in [
        ("set_pipeline_16x3B", set_pipeline(16, 3)),
        ("set_pipeline_128x100B", set_pipeline(128, 100)),
        (
            "inline_pipeline_128",
            b"SET key:000000000001 value\r\n".repeat(128),
        ),
        ("set_1MiB_value", set_pipeline(1, 1024 * 1024)),
    ] {
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function(name, |b| {
            let mut parser = RequestParser::default();
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |buf| parse_all(&mut parser, buf),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
