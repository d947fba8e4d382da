/**
 * The cluster's datagram batches (cluster/batch.ts): what goes in comes out, byte for byte and
 * in order, with its address, across batch boundaries and for a datagram larger than a batch.
 */

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchReader, BatchWriter, type DatagramBatch } from '../../src/cluster/batch.js';

test('datagrams and addresses survive batching, in order', () => {
  const batches: DatagramBatch[] = [];
  const writer = new BatchWriter((b) => batches.push(b));
  const sent: { data: Uint8Array; port: number; address: string; family: string }[] = [];
  const peers = [
    ['127.0.0.1', 'IPv4'],
    ['::ffff:10.0.0.7', 'IPv6'],
    ['2001:db8::1', 'IPv6'],
  ] as const;
  for (let i = 0; i < 300; i++) {
    // Sizes from 1 byte to 65,000 (one larger than any batch), contents from the index.
    const size = i === 150 ? 65_000 : 1 + ((i * 977) % 1500);
    const data = new Uint8Array(size + 3).map((_, j) => (i * 31 + j) & 0xff);
    const [address, family] = peers[i % 3]!;
    writer.append(data, 3, size, 1000 + i, address, family);
    sent.push({ data: data.slice(3), port: 1000 + i, address, family });
    if (i % 50 === 49) writer.flush();
  }
  writer.flush();
  assert.not.ok(writer.pending);
  assert.ok(batches.length > 6, `${batches.length} batches`);
  const reader = new BatchReader();
  const got: typeof sent = [];
  for (const b of batches) reader.read(b, (data, port, address, family) => got.push({ data: new Uint8Array(data), port, address, family }));
  assert.is(got.length, sent.length);
  for (let i = 0; i < sent.length; i++) {
    assert.equal(got[i]!.data, sent[i]!.data, `datagram ${i}`);
    assert.is(got[i]!.port, sent[i]!.port);
    assert.is(got[i]!.address, sent[i]!.address);
    assert.is(got[i]!.family, sent[i]!.family);
  }
});

test('flush with nothing buffered posts nothing', () => {
  let posts = 0;
  const writer = new BatchWriter(() => posts++);
  writer.flush();
  assert.is(posts, 0);
});

test.run();
