/**
 * The demo `pnpm start` serves, as a person sees it: headless Chromium opens the page at
 * http://localhost:PORT/, which connects WebTransport back to our server; the echo comes back,
 * datagram pongs arrive with an RTT, and a chat line from a second session reaches the page. A
 * screenshot of the connected page is taken (UPDATE_DEMO_SCREENSHOT=1 writes it to
 * docs/demo-screenshot.png, the picture README.md shows).
 */

import { existsSync, mkdtempSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebTransport } from '@purequic/webtransport';
import { startH3Demo, type H3Demo } from '../../demo/h3-demo.js';
import { launchChromium, missingBrowsers, requirePrograms, type BrowserSession } from '../../browsers/harness.js';

const run = requirePrograms('demo page', missingBrowsers(['chromium']));
const it = run ? test : test.skip;
const root = fileURLToPath(new URL('../../..', import.meta.url));

let demo: H3Demo | undefined;
let chromium: BrowserSession | undefined;
const dir = mkdtempSync(join(tmpdir(), 'purequic-demo-shot-'));

test.after(async () => {
  await chromium?.close();
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the demo page connects over WebTransport: echo, datagram RTT, chat from another session; screenshot', async () => {
  demo = await startH3Demo({ host: '127.0.0.1', port: 0 });
  chromium = await launchChromium();
  // Another participant says something once the page has joined the chat.
  const other = new WebTransport(demo.wtUrl, { serverCertificateHashes: [{ algorithm: 'sha-256', value: demo.certificate.sha256 }] });
  await other.ready;
  const shot = join(dir, 'demo.png');
  const d = demo;
  const speaking = (async () => {
    // Bounded: the page's session shows up within the evaluate bound below.
    for (let i = 0; i < 300 && d.sessions < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const s = await other.createUnidirectionalStream();
    const w = s.getWriter();
    await w.write(new TextEncoder().encode('hi from Node'));
    await w.close();
  })();
  const state = await chromium.evaluate<{ connected: boolean; echo: string; pongs: number; rttMs: number; chat: string[]; error?: string }>(
    demo.pageUrl,
    `(async () => {
      for (let i = 0; i < 200; i++) {
        const d = window.demo;
        if (d && (d.error || (d.connected && d.echo && d.pongs >= 2 && d.chat.some((l) => l.includes('hi from Node'))))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return window.demo;
    })()`,
    { timeoutMs: 40_000, screenshotPath: shot },
  );
  await speaking;
  other.close({ closeCode: 0, reason: 'done' });
  assert.is(state.error, undefined);
  assert.ok(state.connected, 'connected');
  assert.is(state.echo, 'hello over WebTransport');
  assert.ok(state.pongs >= 2 && state.rttMs > 0, `pongs ${state.pongs}, rtt ${state.rttMs}`);
  assert.ok(state.chat.some((l) => l.endsWith(': hi from Node')), state.chat.join(' | '));
  assert.ok(existsSync(shot) && statSync(shot).size > 5_000, 'a screenshot was taken');
  if (process.env.UPDATE_DEMO_SCREENSHOT === '1') copyFileSync(shot, join(root, 'docs', 'demo-screenshot.png'));
});

test.run();
