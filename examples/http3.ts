import { generateSelfSignedCertificate } from '@purequic/quic';
import { createServer, Http3Client } from '@purequic/h3';

const { certificatePem, privateKeyPem } = await generateSelfSignedCertificate();
const server = await createServer({ port: 0, certificatePem, privateKeyPem }, (req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello over HTTP/3, you asked for ${req.url}`);
});

const client = new Http3Client({ ca: certificatePem }); // fetch() over HTTP/3, one connection per origin
const response = await client.fetch(`https://localhost:${server.port}/greeting`);
console.log(`${response.status} ${await response.text()}`);

await client.close();
await server.close();
