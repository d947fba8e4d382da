import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SessionTicketStore } from '../../src/endpoint/ticket-store.js';
import type { SessionTicket } from '../../src/tls/engine-api.js';

function ticket(id: number, receivedAtMs: number, lifetimeSeconds = 100): SessionTicket {
  return { ticket: new Uint8Array([id]), psk: new Uint8Array(32), cipherSuite: 0x1301, receivedAtMs, lifetimeSeconds, ageAdd: 0, maxEarlyDataSize: 0, serverName: 'a', alpn: 'h3' };
}

test('newest ticket first, each used once', () => {
  const store = new SessionTicketStore();
  store.add('a:443', ticket(1, 0));
  store.add('a:443', ticket(2, 10));
  assert.is(store.take('a:443', 20)?.ticket[0], 2);
  assert.is(store.take('a:443', 20)?.ticket[0], 1);
  assert.is(store.take('a:443', 20), undefined);
  assert.is(store.size, 0);
});

test('expired tickets are skipped and dropped', () => {
  const store = new SessionTicketStore();
  store.add('a:443', ticket(1, 0, 1000));
  store.add('a:443', ticket(2, 0, 1));
  assert.is(store.take('a:443', 5_000)?.ticket[0], 1, 'the expired newest one should be skipped');
  assert.is(store.count('a:443'), 0);
});

test('bounded per server and in servers (least recently stored forgotten)', () => {
  const store = new SessionTicketStore({ perServer: 2, servers: 2 });
  for (let i = 0; i < 5; i++) store.add('a:443', ticket(i, 0));
  assert.is(store.count('a:443'), 2);
  store.add('b:443', ticket(9, 0));
  store.add('a:443', ticket(7, 0));
  store.add('c:443', ticket(8, 0));
  assert.is(store.size, 2);
  assert.is(store.count('b:443'), 0, 'b was the least recently stored');
  assert.is(store.take('a:443', 1)?.ticket[0], 7);
});

test.run();
