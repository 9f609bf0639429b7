// A gateway client that behaves like the TypeScript SDKs' websocket transport, on Node's `ws`:
// subscriptions sent on open, {"method":"ping"} every PING_MS, and after its own reconnect every
// subscription sent again (resubscribe: true).
//
// node sdkclient.js URL SUBS_JSON PING_MS [RECONNECT(0|1)]
//
// Same reports (stdout) and commands (stdin) as sdkclient.py, one JSON object a line.
'use strict';
const WebSocket = require('ws');
const readline = require('readline');

const url = process.argv[2];
const subs = JSON.parse(process.argv[3]);
const pingMs = parseInt(process.argv[4], 10);
const reconnect = process.argv[5] === '1';
let ws = null;
let quitting = false;
let pingTimer = null;

function out(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function send(text) {
    ws.send(text);
    out({ev: 'sent', text});
}

function connect() {
    ws = new WebSocket(url, {headers: {'User-Agent': 'sdkclient.js'}, perMessageDeflate: false});
    ws.on('open', () => {
        out({ev: 'open'});
        for (const s of subs)
            send(JSON.stringify({method: 'subscribe', subscription: s}));
        pingTimer = setInterval(() => ws.send('{"method":"ping"}'), pingMs);
    });
    ws.on('message', (data, isBinary) => {
        out({ev: 'frame', text: isBinary ? '<binary>' : data.toString('utf8')});
    });
    ws.on('error', (e) => out({ev: 'error', reason: String(e.message)}));
    ws.on('close', (code, reason) => {
        clearInterval(pingTimer);
        out({ev: 'close', code, reason: reason.toString()});
        if (reconnect && !quitting)
            setTimeout(connect, 1000);
        else
            finish();
    });
}

function finish() {
    out({ev: 'exit'});
    process.exit(0);
}

readline.createInterface({input: process.stdin}).on('line', (line) => {
    line = line.trim();
    if (!line)
        return;
    const c = JSON.parse(line);
    if (c.cmd === 'quit') {
        quitting = true;
        if (ws && ws.readyState === WebSocket.OPEN)
            ws.close();
        else
            finish();
    } else if (c.cmd === 'subscribe') {
        subs.push(c.subscription);
        send(JSON.stringify({method: 'subscribe', subscription: c.subscription}));
    } else if (c.cmd === 'unsubscribe') {
        const k = JSON.stringify(c.subscription);
        const i = subs.findIndex((s) => JSON.stringify(s) === k);
        if (i >= 0)
            subs.splice(i, 1);
        send(JSON.stringify({method: 'unsubscribe', subscription: c.subscription}));
    } else if (c.cmd === 'send') {
        send(c.text);
    } else if (c.cmd === 'stopReading') {
        ws._socket.pause();
    } else if (c.cmd === 'resumeReading') {
        ws._socket.resume();
    }
}).on('close', () => {
    quitting = true;
    if (ws && ws.readyState === WebSocket.OPEN)
        ws.close();
});

connect();
