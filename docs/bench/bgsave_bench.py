#!/usr/bin/env python3
"""BGSAVE without fork vs Redis's fork: extra memory and client latency.

Usage: bgsave_bench.py <server binary> <port> <keys> [value bytes]

Starts the server (redis-server or ferrum, same arguments), fills it with
`keys` keys (key:000000000000 ...) of `value bytes`, then runs a
SET/GET load from 4 connections (redis-benchmark, no pipelining) twice:
once idle, once with a BGSAVE started a moment after the load begins.
While saving it samples memory every 20 ms: the server's RSS and, for a
forked child, the child's private pages (copy-on-write plus its own heap).
Prints a summary line per run.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time


def cmd(port, *args):
    s = socket.create_connection(("127.0.0.1", port))
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    data = b""
    while True:
        chunk = s.recv(1 << 20)
        data += chunk
        if not chunk or data.endswith(b"\r\n") and (not data.startswith(b"$") or data.count(b"\r\n") >= 2):
            break
    s.close()
    return data.decode(errors="replace")


def info(port, section="persistence"):
    text = cmd(port, "INFO", section)
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)


def kb(path, field):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def extra_memory(pid):
    """Server RSS (kB) and forked children's private memory (kB)."""
    rss = kb(f"/proc/{pid}/status", "VmRSS")
    child = 0
    for c in children(pid):
        p = f"/proc/{c}/smaps_rollup"
        child += kb(p, "Private_Dirty") + kb(p, "Private_Clean")
    return rss, child


def load_run(port, n, keys, value, save, pid):
    """SET/GET load; returns (latency summary, peak extra memory kB, save secs)."""
    bench = subprocess.Popen(
        ["redis-benchmark", "-p", str(port), "-t", "set,get", "-n", str(n),
         "-r", str(keys), "-d", str(value), "-c", "4", "--csv"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base_rss, _ = extra_memory(pid)
    peak = 0
    save_secs = None
    if save:
        time.sleep(0.5)
        t0 = time.time()
        assert "started" in cmd(port, "BGSAVE")
        while True:
            rss, child = extra_memory(pid)
            peak = max(peak, rss - base_rss + child)
            if info(port).get("rdb_bgsave_in_progress") == "0":
                break
            time.sleep(0.02)
        save_secs = time.time() - t0
    out, _ = bench.communicate()
    return out.strip(), peak, save_secs


def fill(port, keys, value):
    """SET key:<12 digits> for every number below `keys`: exactly the names
    redis-benchmark's `-r keys` draws, so the load below overwrites existing
    keys and the dataset does not grow during the save."""
    s = socket.create_connection(("127.0.0.1", port))
    v = b"x" * value

    def drain():
        need = 5 * keys  # "+OK\r\n" each
        got = 0
        while got < need:
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("server closed the connection while filling")
            got += len(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    batch = []
    for i in range(keys):
        k = b"key:%012d" % i
        batch.append(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$%d\r\n%s\r\n" % (k, value, v))
        if len(batch) == 10000:
            s.sendall(b"".join(batch))
            batch = []
    if batch:
        s.sendall(b"".join(batch))
    reader.join()
    s.close()


def main():
    binary, port, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    value = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    d = tempfile.mkdtemp(prefix="bgsave-bench-")
    srv = subprocess.Popen([binary, "--port", str(port), "--dir", d, "--save", "",
                            "--appendonly", "no"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                cmd(port, "PING")
                break
            except OSError:
                time.sleep(0.1)
        t = time.time()
        fill(port, keys, value)
        dbsize = cmd(port, "DBSIZE").strip()
        rss, _ = extra_memory(srv.pid)
        print(f"{binary}: loaded {dbsize[1:]} keys in {time.time() - t:.0f}s, RSS {rss // 1024} MiB")
        n = 400000
        for save in (False, True):
            out, peak, secs = load_run(port, n, keys, value, save, srv.pid)
            label = "during BGSAVE" if save else "idle"
            print(f"-- load {label}" + (f": save took {secs:.1f}s, peak extra memory {peak // 1024} MiB" if save else ""))
            print(out)
        p = info(port)
        print("rdb_last_bgsave_status", p.get("rdb_last_bgsave_status"),
              "rdb_last_cow_size", p.get("rdb_last_cow_size"),
              "dump bytes", os.path.getsize(os.path.join(d, "dump.rdb")))
    finally:
        srv.terminate()
        srv.wait()
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    main()
