/**
 * Endpoint features on loopback: one qlog file per connection side in `qlogDir`, and automatic
 * resumption from the client endpoint's ticket store.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Connection } from '../../src/connection/connection.js';
import { QuicEndpoint } from '../../src/endpoint/endpoint.js';
import type { QuicConnection } from '../../src/endpoint/quic-connection.js';
import { parseJsonSeq } from '../../src/qlog/json-seq.js';
import { TEST_CERT_PEM, TEST_KEY_PEM } from '../connection/harness.js';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

async function echoOnce(conn: QuicConnection, text: string): Promise<string> {
  const s = await conn.openBidirectionalStream();
  const w = s.writable.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  let out = '';
  for await (const c of s.readable) out += new TextDecoder().decode(c);
  return out;
}

async function listen(options: { qlogDir?: string; earlyData?: boolean } = {}) {
  const server = await QuicEndpoint.listen({ host: '127.0.0.1', port: 0, certificatePem: TEST_CERT_PEM, privateKeyPem: TEST_KEY_PEM, alpnProtocols: ['echo'], ...options });
  const accepted: QuicConnection[] = [];
  void (async () => {
    for await (const conn of server.incoming) {
      accepted.push(conn);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          void (async () => {
            const chunks: Uint8Array[] = [];
            for await (const c of s.readable) chunks.push(c);
            const w = s.writable.getWriter();
            for (const c of chunks) await w.write(c);
            await w.close();
          })().catch(() => {});
        }
      })();
    }
  })();
  return { server, accepted };
}

const connectOptions = (port: number) => ({ host: '127.0.0.1', port, serverName: 'localhost', alpnProtocols: ['echo'], verification: { mode: 'chain' as const, trustAnchors: [TEST_CERT_PEM] } });

test('qlogDir: a loopback connection writes one JSON-SEQ file per side, named by the ODCID', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'purequic-qlog-'));
  const { server } = await listen({ qlogDir: dir });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1', qlogDir: dir });
  try {
    const conn = await withTimeout(client.connect(connectOptions(server.address.port)), 5000, 'connect');
    assert.is(await withTimeout(echoOnce(conn, 'hello qlog'), 5000, 'echo'), 'hello qlog');
    await conn.close(0, 'bye');
  } finally {
    await client.close();
    await server.close();
  }
  const files = readdirSync(dir).sort();
  try {
    assert.is(files.length, 2, files.join(','));
    const odcid = files[0]!.split('_')[0]!;
    assert.equal(files, [`${odcid}_client.sqlog`, `${odcid}_server.sqlog`]);
    for (const [file, role] of [
      [files[0]!, 'client'],
      [files[1]!, 'server'],
    ] as const) {
      const text = readFileSync(join(dir, file), 'utf8');
      assert.ok(text.startsWith('\u001e'), 'record separator first');
      const records = parseJsonSeq(text) as { name?: string; trace?: { vantage_point: { type: string }; common_fields: { group_id: string } } }[];
      assert.is(records[0]!.trace!.vantage_point.type, role);
      assert.is(records[0]!.trace!.common_fields.group_id, odcid);
      const names = new Set(records.slice(1).map((r) => r.name));
      for (const n of ['quic:connection_started', 'quic:parameters_set', 'quic:packet_sent', 'quic:packet_received', 'quic:recovery_metrics_updated', 'quic:connection_closed']) {
        assert.ok(names.has(n as never), `${role} file lacks ${n}`);
      }
      assert.is(records[1]!.name, 'quic:connection_started');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the client endpoint keeps tickets per server and resumes the next connection with 0-RTT (opt out with resume: false)', async () => {
  const { server } = await listen({ earlyData: true });
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const key = `localhost:${server.address.port}`;
  try {
    const first = await withTimeout(client.connect(connectOptions(server.address.port)), 5000, 'connect 1');
    assert.is(await withTimeout(echoOnce(first, 'one'), 5000, 'echo 1'), 'one');
    assert.is((first.core as Connection).tls.resumed, false);
    // The ticket comes after the handshake: wait (bounded) until the store has it.
    for (let i = 0; i < 100 && client.sessionTickets.count(key) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(client.sessionTickets.count(key), 1, 'no ticket stored');
    await first.close(0, 'done');

    // With a ticket allowing 0-RTT, connect() resolves before the handshake: the echo request goes in 0-RTT.
    const second = await withTimeout(client.connect({ ...connectOptions(server.address.port), earlyData: true }), 5000, 'connect 2');
    const core2 = second.core as Connection;
    assert.is(core2.isHandshakeComplete, false, 'connect waited for the handshake');
    assert.ok(core2.canSendEarlyData);
    let zeroRttStreamPackets = 0;
    core2.setQlogObserver({
      onEvent: (e) => {
        const d = e.data as { header?: { packet_type: string }; frames?: { frame_type: string }[] };
        if (e.name === 'quic:packet_sent' && d.header?.packet_type === '0RTT' && d.frames?.some((f) => f.frame_type === 'stream')) zeroRttStreamPackets++;
      },
    });
    const echoed = echoOnce(second, 'two');
    await withTimeout(second.opened, 5000, 'handshake 2');
    assert.ok(core2.tls.resumed, 'second connection did not resume');
    assert.ok(core2.tls.earlyDataAccepted, '0-RTT not accepted');
    assert.is(core2.tls.peerCertificates.length, 0);
    assert.is(await withTimeout(echoed, 5000, 'echo 2'), 'two');
    assert.ok(zeroRttStreamPackets > 0, 'the request did not go out in 0-RTT');
    await second.close(0, 'done');

    const third = await withTimeout(client.connect({ ...connectOptions(server.address.port), resume: false }), 5000, 'connect 3');
    assert.is((third.core as Connection).tls.resumed, false);
    await third.close(0, 'done');
  } finally {
    await client.close();
    await server.close();
  }
});

test.run();
