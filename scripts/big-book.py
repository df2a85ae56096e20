#!/usr/bin/env python3
"""A book of 10,000,000 guids against the emulator, as BENCHMARKS.md reports it: how long until
the first API request reaches the emulator, and the attest process's peak resident memory
(VmHWM) five seconds after that. Standard library only.

    cargo build --release --features cli && python3 scripts/big-book.py [N]
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

BIN = os.path.join(os.path.dirname(__file__), "..", "target", "release", "cybrid-identity")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
BOOK = f"/tmp/cybrid-big-book-{N}.txt"

if not os.path.exists(BOOK):
    with open(BOOK, "w") as f:
        for i in range(N):
            f.write("%032x\n" % (i * 2654435761 % (1 << 128)))

emu = subprocess.Popen([BIN, "emulator", "--latency-ms", "20", "--transition-ms", "50"], stdout=subprocess.PIPE)
line = json.loads(emu.stdout.readline())
env = dict(os.environ, CYBRID_BASE_URL=line["url"], CYBRID_TOKEN_URL=line["token_url"],
           CYBRID_CLIENT_ID=line["client_id"], CYBRID_CLIENT_SECRET=line["client_secret"])
started = time.time()
attest = subprocess.Popen([BIN, "attest", "--sandbox", "--customers", BOOK, "--concurrency", "32"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
first = None
try:
    while time.time() - started < 120:
        stats = json.load(urllib.request.urlopen(line["url"] + "/_emulator/stats"))
        api = sum(n for route, n in stats["requests"].items() if "/api/" in route)
        if api > 0 and first is None:
            first = time.time() - started
        if first is not None and time.time() - started > first + 5:
            break
        time.sleep(0.05)
    with open(f"/proc/{attest.pid}/status") as status:
        peak = next(l for l in status if l.startswith("VmHWM")).split()[1]
    records = json.load(urllib.request.urlopen(line["url"] + "/_emulator/stats"))["records"]
    print(f"{N} guids: first API request after {first:.2f} s; peak resident {int(peak) // 1024} MiB; "
          f"{records} records 5 s later")
finally:
    attest.kill()
    emu.kill()
