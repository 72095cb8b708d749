// Drives Debian's chromium (headless, through playwright-core) against a running echo server.
//
//   node test.mjs ws://127.0.0.1:PORT
//
// A page served from a small local HTTP server opens WebSockets to the echo server and checks,
// byte for byte, the echo of text (multibyte UTF-8) and binary messages of 0 B to 1 MiB, on one
// connection and on several at once; prints the negotiated extensions (the browser offers
// permessage-deflate); closes with 1000 and checks the close event. Exits 1 on any failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WS_URL = process.argv[2];
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OVERALL_TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 120000);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!WS_URL || !WS_URL.startsWith('ws://')) {
  console.error('usage: node test.mjs ws://127.0.0.1:PORT');
  process.exit(2);
}

// Runs inside the page. Returns {ok, lines, extensions}; never throws.
async function pageTest({ url, sizes, concurrent }) {
  const lines = [];
  const OP_TIMEOUT_MS = 30000;
  const withTimeout = (promise, what) =>
    Promise.race([
      promise,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), OP_TIMEOUT_MS)),
    ]);

  // A string of exactly `size` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters.
  const makeText = (size, seed) => {
    const chars = ['a', '\u00e9', '\u20ac', '\u{1F600}', String.fromCharCode(97 + (seed % 26))];
    const widths = [1, 2, 3, 4, 1];
    let out = '';
    let left = size;
    let i = seed;
    while (left > 0) {
      const k = i % chars.length;
      if (widths[k] <= left) {
        out += chars[k];
        left -= widths[k];
      } else {
        out += 'z';
        left -= 1;
      }
      i++;
    }
    return out;
  };
  const makeBinary = (size) => {
    const bytes = new Uint8Array(size);
    for (let off = 0; off < size; off += 65536) {
      crypto.getRandomValues(bytes.subarray(off, Math.min(size, off + 65536)));
    }
    return bytes;
  };
  const utf8Len = (s) => new TextEncoder().encode(s).length;

  // Opens a connection whose received messages queue up for `next()`.
  const open = (label) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.binaryType = 'arraybuffer';
        const queue = [];
        const waiters = [];
        let closed = null;
        ws.onmessage = (e) => {
          if (waiters.length) waiters.shift().resolve(e.data);
          else queue.push(e.data);
        };
        ws.onclose = (e) => {
          closed = e;
          while (waiters.length) waiters.shift().reject(new Error(`closed (${e.code}) while waiting`));
        };
        ws.onerror = () => reject(new Error(`${label}: connection error`));
        ws.onopen = () =>
          resolve({
            ws,
            next: () =>
              withTimeout(
                new Promise((res, rej) => {
                  if (queue.length) res(queue.shift());
                  else if (closed) rej(new Error(`closed (${closed.code}) while waiting`));
                  else waiters.push({ resolve: res, reject: rej });
                }),
                `${label}: echo`,
              ),
            closeEvent: () =>
              withTimeout(
                new Promise((res) => {
                  if (closed) res(closed);
                  else ws.addEventListener('close', (e) => res(e));
                }),
                `${label}: close`,
              ),
          });
      }),
      `${label}: open`,
    );

  // Sends each message, then checks each echo in order. Returns the number of mismatches.
  const exchange = async (conn, label, messages) => {
    let bad = 0;
    for (const m of messages) conn.ws.send(m);
    for (const [i, sent] of messages.entries()) {
      const got = await conn.next();
      const kind = typeof sent === 'string' ? 'text' : 'binary';
      const size = typeof sent === 'string' ? utf8Len(sent) : sent.length;
      let same;
      if (typeof sent === 'string') {
        same = typeof got === 'string' && got === sent;
      } else {
        const g = got instanceof ArrayBuffer ? new Uint8Array(got) : null;
        same = g !== null && g.length === sent.length && g.every((b, j) => b === sent[j]);
      }
      if (!same) {
        bad++;
        const gotSize = typeof got === 'string' ? `text ${utf8Len(got)} B` : `binary ${got.byteLength} B`;
        lines.push(`FAIL ${label} message ${i}: sent ${kind} ${size} B, got ${gotSize} that differs`);
      }
    }
    return bad;
  };

  const closeCleanly = async (conn, label) => {
    conn.ws.close(1000, 'done');
    const e = await conn.closeEvent();
    if (e.code !== 1000 || !e.wasClean) {
      lines.push(`FAIL ${label}: close event code ${e.code}, wasClean ${e.wasClean} (want 1000, true)`);
      return 1;
    }
    return 0;
  };

  let failures = 0;
  let extensions = null;
  try {
    // One connection: every size, text then binary.
    const conn = await open('single');
    extensions = conn.ws.extensions;
    const messages = [];
    for (const size of sizes) {
      messages.push(makeText(size, size));
      messages.push(makeBinary(size));
    }
    const bad = await exchange(conn, 'single', messages);
    failures += bad;
    lines.push(`single connection: ${messages.length - bad}/${messages.length} echoes identical (sizes ${sizes.join(', ')} B, text and binary)`);
    failures += await closeCleanly(conn, 'single');

    // Several connections at once, each with its own messages.
    const results = await Promise.all(
      Array.from({ length: concurrent }, async (_, c) => {
        const label = `concurrent #${c}`;
        const cc = await open(label);
        const msgs = [];
        for (const size of sizes) {
          msgs.push(makeText(size, size + c + 1));
          msgs.push(makeBinary(size));
        }
        const b = await exchange(cc, label, msgs);
        const cb = await closeCleanly(cc, label);
        return { n: msgs.length, bad: b + cb, ext: cc.ws.extensions };
      }),
    );
    const total = results.reduce((a, r) => a + r.n, 0);
    const badTotal = results.reduce((a, r) => a + r.bad, 0);
    failures += badTotal;
    lines.push(`${concurrent} concurrent connections: ${total} messages, ${badTotal} failures`);
    for (const r of results) {
      if (r.ext !== extensions) {
        failures++;
        lines.push(`FAIL concurrent connection negotiated ${JSON.stringify(r.ext)}, first one ${JSON.stringify(extensions)}`);
      }
    }
  } catch (err) {
    failures++;
    lines.push(`FAIL ${err && err.message ? err.message : String(err)}`);
  }
  return { ok: failures === 0, lines, extensions };
}

async function main() {
  const started = Date.now();
  const page = '<!doctype html><meta charset="utf-8"><title>lowbit websocket browser test</title>';
  const http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  const pageUrl = `http://127.0.0.1:${http.address().port}/`;

  const userDataDir = mkdtempSync(join(tmpdir(), 'lowbit-chromium-'));
  let context = null;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30000,
    });
    const browserVersion = context.browser() ? context.browser().version() : 'unknown';
    const tab = context.pages()[0] || (await context.newPage());
    tab.setDefaultTimeout(OVERALL_TIMEOUT_MS);
    await tab.goto(pageUrl, { timeout: 30000 });
    const result = await tab.evaluate(pageTest, {
      url: WS_URL,
      sizes: [0, 1, 125, 126, 65535, 65536, 1 << 20],
      concurrent: 8,
    });
    console.log(`chromium ${browserVersion} (${CHROMIUM}), page ${pageUrl}, echo server ${WS_URL}`);
    console.log(`negotiated extensions (ws.extensions): ${JSON.stringify(result.extensions)}`);
    for (const line of result.lines) console.log(line);
    console.log(`browser test ${result.ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result.ok ? 0 : 1;
  } finally {
    if (context) await context.close().catch(() => {});
    http.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  console.error(`browser test: no result after ${OVERALL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS + 60000);
main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exit(code);
  },
  (err) => {
    console.error(`browser test: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
