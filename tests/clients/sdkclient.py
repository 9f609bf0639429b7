"""A gateway client that behaves like the official Python SDK's WebsocketManager (and the Rust
SDK's reconnect): subscriptions sent on open, {"method":"ping"} every PING_MS (the SDKs: 50 s),
and, after its own reconnect, every subscription sent again.

/usr/bin/python3 sdkclient.py URL SUBS_JSON PING_MS [RECONNECT(0|1)]
(environment: SDKCLIENT_RCVBUF=BYTES sets the socket's receive buffer)

Reports on stdout, one JSON object a line: {"ev":"open"}, {"ev":"frame","text":…} for every
frame received, {"ev":"close","code":N,"reason":…}, {"ev":"sent","text":…}. Commands on stdin,
one JSON object a line: {"cmd":"subscribe"|"unsubscribe","subscription":{…}},
{"cmd":"send","text":…} (raw), {"cmd":"stopReading"}, {"cmd":"resumeReading"}, {"cmd":"quit"}.
"""
import asyncio
import json
import os
import socket
import sys
import threading
import urllib.parse

import websockets


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def main():
    url = sys.argv[1]
    subs = json.loads(sys.argv[2])
    ping_s = int(sys.argv[3]) / 1000.0
    reconnect = len(sys.argv) > 4 and sys.argv[4] == "1"
    loop = asyncio.get_running_loop()
    commands = asyncio.Queue()

    def read_stdin():
        for line in sys.stdin:
            line = line.strip()
            if line:
                loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(commands.put_nowait, {"cmd": "quit"})

    threading.Thread(target=read_stdin, daemon=True).start()
    reading = asyncio.Event()
    reading.set()
    quitting = False

    while not quitting:
        try:
            sock = None
            rcvbuf = os.environ.get("SDKCLIENT_RCVBUF")
            if rcvbuf:  # a small receive buffer: a client that stops reading is noticed sooner
                u = urllib.parse.urlparse(url)
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(rcvbuf))
                sock.connect((u.hostname, u.port))
            async with websockets.connect(url, max_size=None, ping_interval=None, sock=sock,
                                          user_agent_header="sdkclient.py") as ws:
                out({"ev": "open"})

                async def send(text):
                    await ws.send(text)
                    out({"ev": "sent", "text": text})

                for s in subs:
                    await send(json.dumps({"method": "subscribe", "subscription": s}))

                async def pinger():
                    while True:
                        await asyncio.sleep(ping_s)
                        await ws.send('{"method":"ping"}')

                async def reader():
                    while True:
                        await reading.wait()
                        text = await ws.recv()
                        out({"ev": "frame", "text": text if isinstance(text, str) else "<binary>"})

                async def commander():
                    nonlocal quitting
                    while True:
                        c = await commands.get()
                        cmd = c["cmd"]
                        if cmd == "quit":
                            quitting = True
                            await ws.close()
                            return
                        if cmd == "subscribe":
                            subs.append(c["subscription"])
                            await send(json.dumps({"method": "subscribe", "subscription": c["subscription"]}))
                        elif cmd == "unsubscribe":
                            subs[:] = [s for s in subs if s != c["subscription"]]
                            await send(json.dumps({"method": "unsubscribe", "subscription": c["subscription"]}))
                        elif cmd == "send":
                            await send(c["text"])
                        elif cmd == "stopReading":
                            reading.clear()
                        elif cmd == "resumeReading":
                            reading.set()

                tasks = [asyncio.create_task(t()) for t in (pinger, reader, commander)]
                done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for t in pending:
                    t.cancel()
                out({"ev": "close", "code": ws.close_code, "reason": ws.close_reason})
        except (websockets.exceptions.WebSocketException, OSError) as e:
            out({"ev": "close", "code": getattr(e, "code", 0) or 0, "reason": str(e)})
        if not reconnect:
            break
        if not quitting:
            await asyncio.sleep(1)  # the Rust SDK's fixed second
    out({"ev": "exit"})


asyncio.run(main())
