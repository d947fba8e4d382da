import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makePair } from './harness.js';

test('readStream reports FIN once: a "read until undefined" loop ends even while the stream lives on', () => {
  const pair = makePair();
  let finReads = 0;
  let reads = 0;
  pair.clientNode.onEvent = (e, conn) => {
    if (e.type === 'handshake-complete') {
      const id = conn.openStream('bidi')!;
      conn.writeStream(id, new TextEncoder().encode('hello'), true);
    }
  };
  pair.serverNode.onEvent = (e, conn) => {
    if (e.type !== 'stream-readable') return;
    // The server's send side is still open, so the stream is not forgotten after FIN is read.
    for (let r = conn.readStream(e.streamId); r !== undefined && reads < 100; r = conn.readStream(e.streamId)) {
      reads++;
      if (r.fin) finReads++;
    }
  };
  assert.ok(pair.run(() => finReads > 0, 5_000));
  pair.run(() => false, 200);
  assert.is(finReads, 1);
  assert.ok(reads < 100, 'the read loop did not end');
});

test.run();
