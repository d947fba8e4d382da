import { generateSelfSignedCertificate, QuicEndpoint } from '@purequic/quic';
import { listenCluster } from '@purequic/quic/cluster';

// This thread owns the UDP socket; each worker thread runs its own endpoint (examples/cluster/
// worker.ts). Every connection ID a worker issues carries its QUIC-LB server ID, so every
// datagram of a connection reaches the worker that holds it.
const { certificatePem, privateKeyPem } = await generateSelfSignedCertificate();
const cluster = await listenCluster({
  workers: 2, // typically cores - 1: this thread forwards the datagrams
  workerModule: new URL('./cluster/worker.ts', import.meta.url),
  host: '127.0.0.1', port: 0, certificatePem, privateKeyPem, alpnProtocols: ['echo'],
});

// Clients see one server. A new client's first packets go to a worker chosen by its address and
// port; from then on its connection IDs name that worker.
const replies: string[] = [];
for (let i = 0; i < 4; i++) {
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const conn = await client.connect({ host: '127.0.0.1', port: cluster.address.port, alpnProtocols: ['echo'],
    verification: { mode: 'chain', trustAnchors: [certificatePem] } });
  const stream = await conn.openBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(new TextEncoder().encode(`hello ${i}`));
  await writer.close();
  let reply = '';
  for await (const chunk of stream.readable) reply += new TextDecoder().decode(chunk);
  replies.push(reply);
  await conn.close(0, 'bye');
  await client.close();
}
console.log(`echoed by the cluster: ${replies.join(', ')}`);

await cluster.close(); // closes every worker's connections, then ends the threads (bounded)
