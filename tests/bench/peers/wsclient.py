"""P2 of the benchmark suite: what a user would write with Python and `websockets`.

/usr/bin/python3 wsclient.py URL SUBS_JSON PER_CONNECTION TIMED
  SUBS_JSON: [[subscription, ...] per connection]; one socket per connection, subscribes,
  json.loads() every message and routes it by channel and coin into a per-route counter.
Prints one JSON line: msgs, bytes, secs (first to last data message), cpu_us, rss_kib, routes,
and with TIMED=1 lat_us (receive time - the message's "ts", CLOCK_MONOTONIC).
"""
import asyncio
import json
import resource
import sys
import time

import websockets


async def main():
    url, subs_json, per_conn, timed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    subs = json.loads(subs_json)
    expected = per_conn * len(subs)
    state = {"seen": 0, "bytes": 0, "first": 0, "last": 0}
    routes = {}
    lat = []
    done = asyncio.Event()

    async def client(mine):
        async with websockets.connect(url, ping_interval=None, max_size=2**24, compression=None) as ws:
            for s in mine:
                await ws.send(json.dumps({"method": "subscribe", "subscription": s}))
            async for data in ws:
                now = time.monotonic_ns()
                msg = json.loads(data)
                if msg["channel"] == "subscriptionResponse":
                    continue
                payload = msg["data"][0] if isinstance(msg["data"], list) else msg["data"]
                key = msg["channel"] + "/" + payload.get("coin", "")
                routes[key] = routes.get(key, 0) + 1
                if timed:
                    lat.append((now - int(payload["ts"])) // 1000)
                if state["seen"] == 0:
                    state["first"] = now
                state["bytes"] += len(data)
                state["seen"] += 1
                if state["seen"] == expected:
                    state["last"] = now
                    done.set()
                    return

    cpu0 = time.process_time_ns()
    tasks = [asyncio.create_task(client(m)) for m in subs]
    waiter = asyncio.create_task(done.wait())
    pending = set(tasks) | {waiter}
    while not done.is_set():
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for t in finished:
            if t is not waiter and t.exception() is not None:
                raise t.exception()  # a failed client: no result line, a non-zero exit
        if not done.is_set() and pending == {waiter}:
            sys.exit("every connection ended before all messages arrived")
    cpu = time.process_time_ns() - cpu0
    out = {
        "msgs": state["seen"],
        "bytes": state["bytes"],
        "secs": (state["last"] - state["first"]) / 1e9,
        "cpu_us": cpu / 1000,
        "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "routes": len(routes),
    }
    if timed:
        out["lat_us"] = lat
    print(json.dumps(out), flush=True)
    for t in tasks:
        t.cancel()


asyncio.run(main())
