import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fetchOnce, startDemoServer } from '../demo/demo-server.js';

test('pnpm start: the demo server with a generated certificate serves files our client fetches with verification', async () => {
  const server = await startDemoServer({ host: '127.0.0.1', port: 0 });
  try {
    const anchor = readFileSync(server.certificatePath, 'utf8');
    const page = await fetchOnce({ host: '127.0.0.1', port: server.port, path: '/index.html', trustAnchorPem: anchor, serverName: '127.0.0.1' });
    assert.equal(page.body, new Uint8Array(readFileSync(join(server.root, 'index.html'))));
    const big = await fetchOnce({ host: '127.0.0.1', port: server.port, path: '/1mb.bin', trustAnchorPem: anchor, serverName: 'localhost' });
    assert.is(big.body.length, 1 << 20);
    assert.equal(big.body, new Uint8Array(readFileSync(join(server.root, '1mb.bin'))));
  } finally {
    await server.close();
  }
});

test('the demo client refuses the demo server when its certificate is not trusted', async () => {
  const server = await startDemoServer({ host: '127.0.0.1', port: 0 });
  const other = await startDemoServer({ host: '127.0.0.1', port: 0 }); // another generated certificate
  try {
    const wrongAnchor = readFileSync(other.certificatePath, 'utf8');
    await fetchOnce({ host: '127.0.0.1', port: server.port, path: '/index.html', trustAnchorPem: wrongAnchor, serverName: '127.0.0.1' }).then(
      () => assert.unreachable('should not connect'),
      // Both certificates are named CN=localhost; the wrong one did not sign the server's: the
      // chain leads to no trusted anchor, unknown_ca (48), and the message says so.
      (e: { reason?: { code: number }; message: string }) => {
        assert.is(e.reason?.code, 0x100 + 48, e.message);
        assert.match(e.message, 'certificate chain does not lead to a trusted anchor');
      },
    );
  } finally {
    await Promise.all([server.close(), other.close()]);
  }
});

test.run();
