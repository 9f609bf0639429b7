// P1 of the benchmark suite: what a user would write with Node.js and the `ws` package.
// node wsclient.js URL SUBS_JSON PER_CONNECTION TIMED
//   SUBS_JSON: [[subscription, ...] per connection]; opens one socket per connection, subscribes,
//   JSON.parse()s every message and routes it by channel and coin into a per-route counter.
// Prints one JSON line: msgs, bytes, secs (first to last data message), cpu_us, rss_kib, routes,
// and with TIMED=1 lat_us (receive time - the message's "ts", CLOCK_MONOTONIC).
'use strict';
const WebSocket = require('ws');

const [url, subsJson, perConnArg, timedArg] = process.argv.slice(2);
const subs = JSON.parse(subsJson);
const expected = Number(perConnArg) * subs.length;
const timed = timedArg === '1';
const routes = new Map();
const lat = [];
let seen = 0, bytes = 0, first = 0n, last = 0n;
const cpu0 = process.cpuUsage();
const sockets = [];

function finish() {
  const cpu = process.cpuUsage(cpu0);
  const out = {
    msgs: seen, bytes, secs: Number(last - first) / 1e9, cpu_us: cpu.user + cpu.system,
    rss_kib: Math.round(process.memoryUsage().rss / 1024), routes: routes.size,
  };
  if (timed) out.lat_us = lat;
  for (const ws of sockets) ws.terminate();
  // A pipe is written asynchronously: exit once the line is out.
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

subs.forEach((mine) => {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  ws.on('open', () => {
    for (const s of mine) ws.send(JSON.stringify({ method: 'subscribe', subscription: s }));
  });
  ws.on('message', (data) => {
    const now = process.hrtime.bigint();
    const msg = JSON.parse(data);
    if (msg.channel === 'subscriptionResponse') return;
    const payload = Array.isArray(msg.data) ? msg.data[0] : msg.data;
    const key = msg.channel + '/' + (payload.coin || '');
    routes.set(key, (routes.get(key) || 0) + 1);
    if (timed) lat.push(Number((now - BigInt(payload.ts)) / 1000n));
    if (seen === 0) first = now;
    bytes += data.length;
    if (++seen === expected) {
      last = now;
      finish();
    }
  });
  ws.on('error', (e) => {
    process.stderr.write(String(e) + '\n');
    process.exit(1);
  });
});
