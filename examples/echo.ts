import { generateSelfSignedCertificate, QuicEndpoint, type QuicConnection } from '@purequic/quic';

// A certificate for localhost, 127.0.0.1 and ::1 (in production: your certificate and key, PEM).
const { certificatePem, privateKeyPem } = await generateSelfSignedCertificate();

// Server: echoes every stream of every connection; each connection is served on its own.
const server = await QuicEndpoint.listen({ port: 0, certificatePem, privateKeyPem, alpnProtocols: ['echo'] });
async function serve(conn: QuicConnection): Promise<void> {
  for await (const stream of conn.incomingBidirectionalStreams) {
    void stream.readable.pipeTo(stream.writable).catch(() => {}); // echo until the client's FIN
  }
}
const serving = (async () => {
  for await (const conn of server.incoming) void serve(conn);
})();

// Client: connects by name (localhost resolves to ::1 and 127.0.0.1; both are tried), writes, reads.
const client = await QuicEndpoint.bind();
const conn = await client.connect({ host: 'localhost', port: server.address.port, alpnProtocols: ['echo'],
  verification: { mode: 'chain', trustAnchors: [certificatePem] } });
const stream = await conn.openBidirectionalStream(); // WHATWG readable / writable
const writer = stream.writable.getWriter();
await writer.write(new TextEncoder().encode('hello over QUIC'));
await writer.close(); // FIN: the server's echo ends too
let reply = '';
for await (const chunk of stream.readable) reply += new TextDecoder().decode(chunk);
console.log(`echoed: ${reply}`);

// Everything closes: the connection, both endpoints, and with them the server's loops.
await conn.close(0, 'bye');
await client.close();
await server.close();
await serving;
