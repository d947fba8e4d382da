/**
 * Extensible priorities (RFC 9218) drive the transport's stream scheduler: a response whose
 * request says `priority: u=0` is sent before an earlier one at the default urgency 3, and a
 * PRIORITY_UPDATE from the client (§7.2) moves a response ahead the same way.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeH3Pair, readAll, req } from './sim-harness.js';

const BODY = 400_000;

function run(prioritise: 'header' | 'update'): string[] {
  // A slow link, so both responses compete for it.
  const h = makeH3Pair({ link: { delayMs: 10, bandwidthBps: 4_000_000 } });
  const finished: string[] = [];
  const paths = new Map<number, string>();
  h.onServerEvent = (e) => {
    if (e.type === 'request') {
      paths.set(e.streamId, e.head.path!);
      h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }], false);
      h.server().sendData(e.streamId, new Uint8Array(BODY), true);
    }
    if (e.type === 'body-readable') readAll(h.server(), e.streamId);
  };
  h.onClientEvent = (e) => {
    if (e.type === 'body-readable' && readAll(h.client, e.streamId).fin) finished.push(paths.get(e.streamId) ?? `#${e.streamId}`);
  };
  const first = h.client.sendRequest(req('/first'), true)!;
  const second = h.client.sendRequest(req('/second', 'GET', prioritise === 'header' ? [['priority', 'u=0']] : []), true)!;
  if (prioritise === 'update') h.client.updatePriority(second, 'u=0');
  void first;
  assert.ok(h.run(() => finished.length === 2, 60_000), `finished: ${finished.join(', ')}`);
  return finished;
}

test('the priority header: the urgent response finishes first although requested second', () => {
  assert.equal(run('header'), ['/second', '/first']);
});

test('PRIORITY_UPDATE: the updated response finishes first', () => {
  assert.equal(run('update'), ['/second', '/first']);
});

test('without priorities, the same two responses finish in request order (the control case)', () => {
  const h = makeH3Pair({ link: { delayMs: 10, bandwidthBps: 4_000_000 } });
  const finished: number[] = [];
  h.onServerEvent = (e) => {
    if (e.type === 'request') {
      h.server().sendHeaders(e.streamId, [{ name: ':status', value: '200' }], false);
      h.server().sendData(e.streamId, new Uint8Array(BODY), true);
    }
    if (e.type === 'body-readable') readAll(h.server(), e.streamId);
  };
  h.onClientEvent = (e) => {
    if (e.type === 'body-readable' && readAll(h.client, e.streamId).fin) finished.push(e.streamId);
  };
  h.client.sendRequest(req('/first'), true);
  h.client.sendRequest(req('/second'), true);
  assert.ok(h.run(() => finished.length === 2, 60_000));
  assert.equal(finished, [0, 4]);
});

test.run();
