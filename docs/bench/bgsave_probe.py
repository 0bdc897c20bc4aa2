#!/usr/bin/env python3
"""Where BGSAVE's latency spikes happen: one connection times every SET.

Usage: bgsave_probe.py <server binary> <port> <keys>

Fills `keys` keys (as bgsave_bench.py does), starts a background
redis-benchmark SET/GET load (4 connections), and from one more connection
sends SET after SET, timing each. Issues BGSAVE after a second and prints
the probe's p50/p99/max before and during the save, and when (seconds into
the save) the eight worst round trips happened.
"""
import os, sys, socket, time, threading, subprocess, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bgsave_bench as b
binary, port, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = tempfile.mkdtemp()
srv = subprocess.Popen([binary, "--port", str(port), "--dir", d, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        b.cmd(port, "PING"); break
    except OSError:
        time.sleep(0.1)
b.fill(port, keys, 200)
stop = False
samples = []
def probe():
    s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    i = 0
    while not stop:
        k = b"key:%012d" % ((i * 7919) % keys)
        t = time.perf_counter()
        s.sendall(b"*3\r\n$3\r\nSET\r\n$16\r\n" + k + b"\r\n$3\r\nabc\r\n")
        s.recv(100)
        samples.append((t, time.perf_counter() - t))
        i += 1
bench = subprocess.Popen(["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", "2000000", "-r", str(keys), "-d", "200", "-c", "4", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
th = threading.Thread(target=probe); th.start()
time.sleep(1)
t0 = time.perf_counter()
b.cmd(port, "BGSAVE")
while b.info(port).get("rdb_bgsave_in_progress") == "0": time.sleep(0.01)
while b.info(port).get("rdb_bgsave_in_progress") == "1": time.sleep(0.05)
t1 = time.perf_counter()
time.sleep(1)
stop = True; th.join(); bench.kill()
during = [x for x in samples if t0 <= x[0] <= t1]
before = [x for x in samples if x[0] < t0]
print(f"save {t1-t0:.1f}s; probe samples during {len(during)}, before {len(before)}")
for name, ss in (("before", before), ("during", during)):
    lat = sorted(l for _, l in ss)
    if lat:
        print(name, "p50 %.3f p99 %.3f max %.1f ms" % (lat[len(lat)//2]*1e3, lat[int(len(lat)*.99)]*1e3, lat[-1]*1e3))
worst = sorted(during, key=lambda x: -x[1])[:8]
for t, l in sorted(worst):
    print(f"  at +{t-t0:.3f}s of {t1-t0:.1f}s: {l*1e3:.1f} ms")
srv.terminate(); srv.wait()
