import { createHash, X509Certificate } from 'node:crypto';
import { createServer } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256 } from '@noble/hashes/sha2.js';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import { nodeAsymmetric } from '../../src/crypto/node-asymmetric.js';
import type { HashAlgorithm } from '../../src/crypto/provider.js';
import { TlsAlert, TlsAlertError, tlsAlertName } from '../../src/tls/alert.js';
import {
  MAX_CERTIFICATE_HASH_VALIDITY_MS,
  parseCertificate,
  verifyCertificateChain,
  verifyCertificateHashes,
} from '../../src/tls/certificate.js';
import { generateSelfSignedCertificate } from '../../src/tls/self-signed.js';
import { DAY_MS, makeCertificate, NOW_MS } from '../fixtures/certs/make-chain.js';
import { toHex } from '../helpers/vectors.js';

/** The hash half of a provider, enough for certificate hashes. */
const hasher = { hash: (_algorithm: HashAlgorithm, data: Uint8Array) => sha256(data) };

function expectAlert(fn: () => unknown, alert: number, what: string): void {
  try {
    fn();
  } catch (error) {
    assert.ok(TlsAlertError.isTlsAlert(error), `${what}: threw ${String(error)}`);
    assert.is(tlsAlertName((error as TlsAlertError).alert), tlsAlertName(alert), `${what}: ${(error as Error).message}`);
    return;
  }
  assert.unreachable(`${what}: accepted`);
}

test('self-signed: defaults give a 13-day ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1', async () => {
  const generated = await generateSelfSignedCertificate({ nowMs: NOW_MS });
  const cert = parseCertificate(generated.certificateDer);
  assert.is(cert.version, 3);
  assert.is(cert.notAfterMs - cert.notBeforeMs, 13 * DAY_MS);
  assert.ok(cert.notBeforeMs <= NOW_MS && NOW_MS <= cert.notAfterMs);
  assert.equal(cert.signatureAlgorithm, { kind: 'ecdsa', hash: 'sha256' });
  assert.equal(cert.subjectAltNames?.dns, ['localhost']);
  assert.equal(cert.subjectAltNames?.ip.map((ip) => toHex(ip)), ['7f000001', '00000000000000000000000000000001']);
  assert.is(cert.basicConstraints?.ca, false);
  assert.is(cert.keyUsage, 1, 'digitalSignature only');
  assert.equal(cert.extendedKeyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.is(toHex(generated.sha256), createHash('sha256').update(generated.certificateDer).digest('hex'));
  assert.ok(generated.certificatePem.startsWith('-----BEGIN CERTIFICATE-----\n'));
  assert.ok(generated.privateKeyPem.startsWith('-----BEGIN PRIVATE KEY-----\n'));

  // The key imports in both providers and matches the certificate's public key.
  for (const provider of [nobleAsymmetric, nodeAsymmetric]) {
    const key = provider.importSigningKey(generated.privateKeyPem);
    assert.equal([...key.schemes], ['ecdsa_secp256r1_sha256']);
    assert.is(toHex(key.publicKey), toHex(cert.spki));
  }
  // Its own signature verifies, and it verifies as a pinned anchor for each of its names.
  for (const hostname of ['localhost', '127.0.0.1', '::1']) {
    verifyCertificateChain({
      chain: [generated.certificateDer],
      trustAnchors: [generated.certificatePem],
      hostname,
      nowMs: NOW_MS,
      crypto: nobleAsymmetric,
    });
  }
});

test('self-signed: OpenSSL agrees (X509Certificate checks and a node:tls server accepts it)', async () => {
  const generated = await generateSelfSignedCertificate({ nowMs: NOW_MS, hostnames: ['example.test', '192.0.2.1'], days: 5 });
  const x509 = new X509Certificate(generated.certificatePem);
  assert.ok(x509.verify(x509.publicKey), 'self-signature');
  assert.is(x509.checkHost('example.test'), 'example.test');
  assert.is(x509.checkIP('192.0.2.1'), '192.0.2.1');
  assert.is(x509.ca, false);
  assert.is(x509.publicKey.asymmetricKeyType, 'ec');
  assert.is(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.is(Date.parse(x509.validTo) - Date.parse(x509.validFrom), 5 * DAY_MS);

  const server = createServer({ key: generated.privateKeyPem, cert: generated.certificatePem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null && address.port > 0);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('self-signed: option checks', async () => {
  for (const bad of [{ hostnames: [] }, { days: 0 }, { keyType: 'rsa' as never }]) {
    try {
      await generateSelfSignedCertificate({ nowMs: NOW_MS, ...bad });
      assert.unreachable(JSON.stringify(bad));
    } catch (error) {
      assert.instance(error, RangeError);
    }
  }
});

test('certificate hashes: the SHA-256 of the leaf is accepted while valid; other hashes are not', async () => {
  const generated = await generateSelfSignedCertificate({ nowMs: NOW_MS });
  const other = await generateSelfSignedCertificate({ nowMs: NOW_MS });
  const result = verifyCertificateHashes({ leaf: generated.certificateDer, hashes: [other.sha256, generated.sha256], nowMs: NOW_MS, crypto: hasher });
  assert.is(result.publicKey.kind, 'ec');
  assert.is(toHex(result.spki), toHex(parseCertificate(generated.certificateDer).spki));
  expectAlert(
    () => verifyCertificateHashes({ leaf: generated.certificateDer, hashes: [other.sha256], nowMs: NOW_MS, crypto: hasher }),
    TlsAlert.CERTIFICATE_UNKNOWN,
    'hash mismatch',
  );
  expectAlert(
    () => verifyCertificateHashes({ leaf: generated.certificateDer, hashes: [], nowMs: NOW_MS, crypto: hasher }),
    TlsAlert.CERTIFICATE_UNKNOWN,
    'no hashes',
  );
  expectAlert(
    () => verifyCertificateHashes({ leaf: generated.certificateDer, hashes: [generated.sha256], nowMs: NOW_MS + 14 * DAY_MS, crypto: hasher }),
    TlsAlert.CERTIFICATE_EXPIRED,
    'expired',
  );
  expectAlert(
    () => verifyCertificateHashes({ leaf: generated.certificateDer, hashes: [generated.sha256], nowMs: NOW_MS - DAY_MS, crypto: hasher }),
    TlsAlert.BAD_CERTIFICATE,
    'not yet valid',
  );
});

test('certificate hashes: validity over two weeks and RSA keys are refused (W3C custom certificate requirements)', async () => {
  const exactly14 = await makeCertificate({ subject: 'CN=fourteen', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS - DAY_MS + MAX_CERTIFICATE_HASH_VALIDITY_MS });
  const hash14 = sha256(exactly14.der);
  verifyCertificateHashes({ leaf: exactly14.der, hashes: [hash14], nowMs: NOW_MS, crypto: hasher });
  const fifteen = await makeCertificate({ subject: 'CN=fifteen', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + 14 * DAY_MS });
  expectAlert(
    () => verifyCertificateHashes({ leaf: fifteen.der, hashes: [sha256(fifteen.der)], nowMs: NOW_MS, crypto: hasher }),
    TlsAlert.CERTIFICATE_UNKNOWN,
    '15 days',
  );
  const rsa = await makeCertificate({ subject: 'CN=rsa', keyType: 'rsa-pkcs1', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + DAY_MS });
  expectAlert(
    () => verifyCertificateHashes({ leaf: rsa.der, hashes: [sha256(rsa.der)], nowMs: NOW_MS, crypto: hasher }),
    TlsAlert.UNSUPPORTED_CERTIFICATE,
    'RSA',
  );
  const ed = await makeCertificate({ subject: 'CN=ed', keyType: 'ed25519', notBeforeMs: NOW_MS - DAY_MS, notAfterMs: NOW_MS + DAY_MS });
  assert.is(verifyCertificateHashes({ leaf: ed.der, hashes: [sha256(ed.der)], nowMs: NOW_MS, crypto: hasher }).publicKey.kind, 'ed25519');
});

test.run();
