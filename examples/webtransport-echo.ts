import { WebTransport, createWebTransportServer, generateWebTransportCertificate } from '@purequic/webtransport';

// ECDSA P-256, valid 13 days: what browsers accept with serverCertificateHashes.
const cert = await generateWebTransportCertificate();
const server = await createWebTransportServer({ port: 0, certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem });
console.log(`listening on ${server.port}; certificate SHA-256 (base64) ${cert.sha256Base64}`);

void (async () => {
  for await (const session of server) {
    session.accept(); // or session.reject(403) after checking session.origin and session.path
    for await (const { readable, writable } of session.incomingBidirectionalStreams) void readable.pipeTo(writable).catch(() => {});
  }
})();

// The client is the browser's WebTransport API: this part runs in a page unchanged.
const transport = new WebTransport(`https://127.0.0.1:${server.port}/echo`, {
  serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }],
});
await transport.ready;
const { readable, writable } = await transport.createBidirectionalStream();
const writer = writable.getWriter();
await writer.write(new TextEncoder().encode('hello over WebTransport'));
await writer.close();
for await (const chunk of readable) console.log('echoed:', new TextDecoder().decode(chunk));
transport.close({ closeCode: 0, reason: 'done' });
await transport.closed;
await server.close();
