import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { derToPem } from '../../src/crypto/der.js';
import { nobleAsymmetric } from '../../src/crypto/noble-asymmetric.js';
import { nodeAsymmetric } from '../../src/crypto/node-asymmetric.js';
import type { AsymmetricCrypto } from '../../src/crypto/provider.js';
import { TlsAlert, TlsAlertError, tlsAlertName } from '../../src/tls/alert.js';
import { parseCertificate, verifyCertificateChain, type VerifyCertificateChainOptions } from '../../src/tls/certificate.js';
import { DAY_MS, makeCertificate, NOW_MS, type TestCertificate, type TestKeyType } from '../fixtures/certs/make-chain.js';
import { toHex } from '../helpers/vectors.js';

// x509.KeyUsageFlags values.
const DIGITAL_SIGNATURE = 1;
const KEY_ENCIPHERMENT = 4;
const KEY_CERT_SIGN = 32;
const CRL_SIGN = 64;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const validity = { notBeforeMs: NOW_MS - 30 * DAY_MS, notAfterMs: NOW_MS + 30 * DAY_MS };

function root(subject: string, keyType: TestKeyType = 'p256', extra: Partial<Parameters<typeof makeCertificate>[0]> = {}): Promise<TestCertificate> {
  return makeCertificate({ subject, keyType, ca: true, keyUsage: KEY_CERT_SIGN | CRL_SIGN, ...validity, ...extra });
}

function intermediate(subject: string, issuer: TestCertificate, extra: Partial<Parameters<typeof makeCertificate>[0]> = {}): Promise<TestCertificate> {
  return makeCertificate({ subject, issuer, ca: true, keyUsage: KEY_CERT_SIGN | CRL_SIGN, ...validity, ...extra });
}

function leaf(issuer: TestCertificate, extra: Partial<Parameters<typeof makeCertificate>[0]> = {}): Promise<TestCertificate> {
  return makeCertificate({
    subject: 'CN=www.example.test',
    issuer,
    ca: false,
    keyUsage: DIGITAL_SIGNATURE,
    extendedKeyUsage: [SERVER_AUTH],
    dns: ['www.example.test', 'example.test'],
    ...validity,
    ...extra,
  });
}

const providers: [string, AsymmetricCrypto][] = [
  ['noble', nobleAsymmetric],
  ['node', nodeAsymmetric],
];

function verify(options: Omit<VerifyCertificateChainOptions, 'crypto' | 'nowMs'> & { nowMs?: number; crypto?: AsymmetricCrypto }) {
  return verifyCertificateChain({ nowMs: NOW_MS, crypto: nodeAsymmetric, ...options });
}

function expectAlert(fn: () => unknown, alert: number, what: string): void {
  try {
    fn();
  } catch (error) {
    assert.ok(TlsAlertError.isTlsAlert(error), `${what}: threw ${String(error)}`);
    assert.is(tlsAlertName((error as TlsAlertError).alert), tlsAlertName(alert), `${what}: ${(error as Error).message}`);
    assert.is((error as TlsAlertError).code, 0x100 + alert);
    return;
  }
  assert.unreachable(`${what}: accepted`);
}

// One P-256 hierarchy shared by most tests (made once: key generation is the slow part).
let rootCa: TestCertificate;
let interCa: TestCertificate;
let server: TestCertificate;

test.before(async () => {
  rootCa = await root('CN=Test Root');
  interCa = await intermediate('CN=Test Intermediate', rootCa);
  server = await leaf(interCa);
});

test('a valid root -> intermediate -> leaf chain verifies in both providers', () => {
  for (const [name, crypto] of providers) {
    const result = verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], hostname: 'www.example.test', crypto });
    assert.is(result.path.length, 3, name);
    assert.is(toHex(result.spki), toHex(parseCertificate(server.der).spki), name);
    assert.is(result.publicKey.kind, 'ec');
    // The SPKI is what CertificateVerify is checked with: the leaf key's signature verifies.
    const key = crypto.importSigningKey(server.pkcs8);
    const sig = crypto.sign(key, 'ecdsa_secp256r1_sha256', Uint8Array.of(1, 2, 3));
    assert.ok(crypto.verify(result.spki, 'ecdsa_secp256r1_sha256', Uint8Array.of(1, 2, 3), sig));
  }
});

test('misordered chains with unrelated extra certificates still verify; anchors may be PEM', async () => {
  const stranger = await root('CN=Unrelated Root');
  const result = verify({
    chain: [server.der, stranger.der, rootCa.der, interCa.der],
    trustAnchors: [derToPem(stranger.der, 'CERTIFICATE') + derToPem(rootCa.der, 'CERTIFICATE')],
    hostname: 'example.test',
  });
  assert.is(result.path.length, 3);
});

test('expired and not-yet-valid leaf; expired intermediate', async () => {
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], nowMs: NOW_MS + 31 * DAY_MS }), TlsAlert.CERTIFICATE_EXPIRED, 'expired');
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], nowMs: NOW_MS - 31 * DAY_MS }), TlsAlert.BAD_CERTIFICATE, 'not yet valid');
  const oldInter = await intermediate('CN=Old Intermediate', rootCa, { notBeforeMs: NOW_MS - 60 * DAY_MS, notAfterMs: NOW_MS - DAY_MS });
  const child = await leaf(oldInter);
  expectAlert(() => verify({ chain: [child.der, oldInter.der], trustAnchors: [rootCa.der] }), TlsAlert.CERTIFICATE_EXPIRED, 'intermediate expired');
  // Validity is inclusive at both ends (RFC 5280 §4.1.2.5).
  const exact = parseCertificate(server.der);
  verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], nowMs: exact.notAfterMs });
  verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], nowMs: exact.notBeforeMs });
});

test('host names: exact SAN, wrong host, no CN fallback', async () => {
  verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], hostname: 'WWW.Example.Test.' });
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], hostname: 'evil.test' }), TlsAlert.CERTIFICATE_UNKNOWN, 'wrong host');
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], hostname: 'a.www.example.test' }), TlsAlert.CERTIFICATE_UNKNOWN, 'subdomain');
  const cnOnly = await leaf(interCa, { subject: 'CN=cn-only.example.test', dns: [] });
  expectAlert(() => verify({ chain: [cnOnly.der, interCa.der], trustAnchors: [rootCa.der], hostname: 'cn-only.example.test' }), TlsAlert.CERTIFICATE_UNKNOWN, 'CN only');
  // Without a host name (client certificates) the name is not checked.
  verify({ chain: [cnOnly.der, interCa.der], trustAnchors: [rootCa.der] });
});

test('IP address SANs match IP literals only, byte for byte', async () => {
  const ipLeaf = await leaf(interCa, { subject: 'CN=ip', dns: ['192.0.2.9'], ip: ['192.0.2.7', '2001:db8::1'] });
  verify({ chain: [ipLeaf.der, interCa.der], trustAnchors: [rootCa.der], hostname: '192.0.2.7' });
  verify({ chain: [ipLeaf.der, interCa.der], trustAnchors: [rootCa.der], hostname: '2001:db8:0:0:0:0:0:1' });
  verify({ chain: [ipLeaf.der, interCa.der], trustAnchors: [rootCa.der], hostname: '[2001:db8::1]' });
  expectAlert(() => verify({ chain: [ipLeaf.der, interCa.der], trustAnchors: [rootCa.der], hostname: '192.0.2.8' }), TlsAlert.CERTIFICATE_UNKNOWN, 'other IP');
  // An IP literal is never matched against dNSName entries.
  expectAlert(() => verify({ chain: [ipLeaf.der, interCa.der], trustAnchors: [rootCa.der], hostname: '192.0.2.9' }), TlsAlert.CERTIFICATE_UNKNOWN, 'IP in dNSName');
});

test('wildcards: one whole left-most label only (RFC 6125 §6.4.3)', async () => {
  const wild = await leaf(interCa, { subject: 'CN=wild', dns: ['*.example.test', 'f*.other.test', '*.test'] });
  const chain = [wild.der, interCa.der];
  verify({ chain, trustAnchors: [rootCa.der], hostname: 'a.example.test' });
  for (const host of ['example.test', 'a.b.example.test', 'foo.other.test', 'x.test', '.example.test']) {
    expectAlert(() => verify({ chain, trustAnchors: [rootCa.der], hostname: host }), TlsAlert.CERTIFICATE_UNKNOWN, host);
  }
});

test('unknown CA and missing intermediate', async () => {
  const otherRoot = await root('CN=Other Root');
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [otherRoot.der] }), TlsAlert.UNKNOWN_CA, 'unknown CA');
  expectAlert(() => verify({ chain: [server.der], trustAnchors: [rootCa.der] }), TlsAlert.UNKNOWN_CA, 'missing intermediate');
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [] }), TlsAlert.UNKNOWN_CA, 'no anchors');
});

test('a same-named root with another key is not an issuer (signature check)', async () => {
  const impostor = await makeCertificate({ subject: 'CN=Test Root', keyType: 'p384', ca: true, keyUsage: KEY_CERT_SIGN, ...validity });
  // Not signed by the anchor's key: the chain does not lead to it (as OpenSSL: unknown issuer).
  expectAlert(() => verify({ chain: [server.der, interCa.der], trustAnchors: [impostor.der] }), TlsAlert.UNKNOWN_CA, 'wrong key');
  try {
    verify({ chain: [server.der, interCa.der], trustAnchors: [impostor.der] });
  } catch (e) {
    assert.match((e as Error).message, 'certificate chain does not lead to a trusted anchor');
  }
  // With both anchors the right one is found.
  verify({ chain: [server.der, interCa.der], trustAnchors: [impostor.der, rootCa.der] });
});

test('issuers must be CAs: cA false, no basicConstraints, no keyCertSign, path length', async () => {
  const notCa = await intermediate('CN=Not A CA', rootCa, { ca: false });
  const underNotCa = await leaf(notCa);
  expectAlert(() => verify({ chain: [underNotCa.der, notCa.der], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'CA:false');
  const noBc = await intermediate('CN=No BC', rootCa, { ca: undefined });
  const underNoBc = await leaf(noBc);
  expectAlert(() => verify({ chain: [underNoBc.der, noBc.der], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'no basicConstraints');
  const noCertSign = await intermediate('CN=No CertSign', rootCa, { keyUsage: DIGITAL_SIGNATURE });
  const underNoCertSign = await leaf(noCertSign);
  expectAlert(() => verify({ chain: [underNoCertSign.der, noCertSign.der], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'no keyCertSign');
  const zeroPath = await intermediate('CN=Path 0', rootCa, { pathLength: 0 });
  const below = await intermediate('CN=Below Path 0', zeroPath);
  const deep = await leaf(below);
  expectAlert(() => verify({ chain: [deep.der, below.der, zeroPath.der], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'pathLen 0');
  // pathLen 0 is fine directly above the leaf.
  verify({ chain: [(await leaf(zeroPath)).der, zeroPath.der], trustAnchors: [rootCa.der] });
});

test('leaf usage: keyUsage without digitalSignature, EKU without serverAuth', async () => {
  const encOnly = await leaf(interCa, { keyUsage: KEY_ENCIPHERMENT });
  expectAlert(() => verify({ chain: [encOnly.der, interCa.der], trustAnchors: [rootCa.der] }), TlsAlert.UNSUPPORTED_CERTIFICATE, 'keyUsage');
  const clientOnly = await leaf(interCa, { extendedKeyUsage: [CLIENT_AUTH] });
  expectAlert(() => verify({ chain: [clientOnly.der, interCa.der], trustAnchors: [rootCa.der] }), TlsAlert.UNSUPPORTED_CERTIFICATE, 'EKU');
  verify({ chain: [clientOnly.der, interCa.der], trustAnchors: [rootCa.der], purpose: 'client' });
  expectAlert(
    () => verify({ chain: [server.der, interCa.der], trustAnchors: [rootCa.der], purpose: 'client' }),
    TlsAlert.UNSUPPORTED_CERTIFICATE,
    'server cert as client cert',
  );
  const noExtensions = await leaf(interCa, { keyUsage: undefined, extendedKeyUsage: undefined });
  verify({ chain: [noExtensions.der, interCa.der], trustAnchors: [rootCa.der], hostname: 'example.test' });
});

test('unknown critical extensions fail; unknown non-critical ones are ignored', async () => {
  const value = Uint8Array.of(0x05, 0x00);
  const critical = await leaf(interCa, { rawExtensions: [['1.3.6.1.4.1.99999.1', true, value]] });
  expectAlert(() => verify({ chain: [critical.der, interCa.der], trustAnchors: [rootCa.der] }), TlsAlert.UNSUPPORTED_CERTIFICATE, 'critical');
  const plain = await leaf(interCa, { rawExtensions: [['1.3.6.1.4.1.99999.1', false, value]] });
  verify({ chain: [plain.der, interCa.der], trustAnchors: [rootCa.der] });
});

test('tampered and malformed certificates are bad_certificate', () => {
  const tampered = server.der.slice();
  // Flip a byte inside the subject public key (well inside tbsCertificate).
  const spki = parseCertificate(server.der).spki;
  const at = server.der.indexOf(spki[spki.length - 1] as number, server.der.length - spki.length - 120);
  tampered[at] = (tampered[at] as number) ^ 0x01;
  for (const [name, crypto] of providers) {
    expectAlert(() => verify({ chain: [tampered, interCa.der], trustAnchors: [rootCa.der], crypto }), TlsAlert.BAD_CERTIFICATE, `${name} tampered`);
  }
  expectAlert(() => verify({ chain: [server.der.subarray(0, server.der.length - 1), interCa.der], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'truncated');
  expectAlert(() => verify({ chain: [Uint8Array.of(0x30, 0x00)], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'empty SEQUENCE');
  expectAlert(() => verify({ chain: [], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'no certificates');
  const withTrailer = new Uint8Array(server.der.length + 1);
  withTrailer.set(server.der);
  expectAlert(() => verify({ chain: [withTrailer, interCa.der], trustAnchors: [rootCa.der] }), TlsAlert.BAD_CERTIFICATE, 'trailing byte');
});

test('a pinned self-signed leaf is trusted when it is itself an anchor', async () => {
  const selfSigned = await makeCertificate({
    subject: 'CN=pinned',
    ca: false,
    keyUsage: DIGITAL_SIGNATURE,
    dns: ['pinned.test'],
    ...validity,
  });
  verify({ chain: [selfSigned.der], trustAnchors: [selfSigned.der], hostname: 'pinned.test' });
  expectAlert(() => verify({ chain: [selfSigned.der], trustAnchors: [rootCa.der] }), TlsAlert.UNKNOWN_CA, 'not pinned');
});

test('RSA PKCS#1 v1.5 and RSA-PSS signed chains, in both providers', async () => {
  const rsaRoot = await root('CN=RSA Root', 'rsa-pkcs1');
  const rsaLeaf = await leaf(rsaRoot, { subject: 'CN=rsa leaf', keyType: 'rsa-pkcs1' });
  assert.is(parseCertificate(rsaLeaf.der).signatureAlgorithm?.kind, 'rsa-pkcs1');
  const pssRoot = await root('CN=PSS Root', 'rsa-pss');
  const pssLeaf = await leaf(pssRoot, { subject: 'CN=pss leaf' });
  const pssAlgorithm = parseCertificate(pssLeaf.der).signatureAlgorithm;
  assert.equal(pssAlgorithm, { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 });
  for (const [name, crypto] of providers) {
    const result = verify({ chain: [rsaLeaf.der], trustAnchors: [rsaRoot.der], hostname: 'www.example.test', crypto });
    assert.is(result.publicKey.kind, 'rsa', name);
    verify({ chain: [pssLeaf.der], trustAnchors: [pssRoot.der], hostname: 'www.example.test', crypto });
  }
});

test('Ed25519 and P-384 (ecdsa-with-SHA384) issuers', async () => {
  const edRoot = await root('CN=Ed Root', 'ed25519');
  const edLeaf = await leaf(edRoot, { subject: 'CN=ed leaf', keyType: 'ed25519' });
  const p384Root = await root('CN=P-384 Root', 'p384');
  const p384Leaf = await leaf(p384Root, { subject: 'CN=p384 leaf', signHash: 'SHA-384' });
  assert.equal(parseCertificate(p384Leaf.der).signatureAlgorithm, { kind: 'ecdsa', hash: 'sha384' });
  for (const [name, crypto] of providers) {
    assert.is(verify({ chain: [edLeaf.der], trustAnchors: [edRoot.der], crypto }).publicKey.kind, 'ed25519', name);
    verify({ chain: [p384Leaf.der], trustAnchors: [p384Root.der], crypto });
  }
});

test('mutated certificates: parsing only ever throws bad_certificate (seeded)', () => {
  let x = 0x1234567;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  let rejected = 0;
  for (let round = 0; round < 400; round++) {
    const der = server.der.slice(0, round % 10 === 0 ? next() % server.der.length : server.der.length);
    for (let f = 0; f < 1 + (next() % 4); f++) {
      const at = next() % Math.max(1, der.length);
      if (der.length > 0) der[at] = next() & 0xff;
    }
    try {
      verify({ chain: [der, interCa.der], trustAnchors: [rootCa.der] });
    } catch (error) {
      assert.ok(TlsAlertError.isTlsAlert(error), `round ${round}: ${String(error)}`);
      rejected++;
    }
  }
  // Nearly every mutation breaks the structure or the signature.
  assert.ok(rejected >= 395, `rejected ${rejected}`);
});

test('parseTrustAnchors: a PEM without certificates is a configuration error', () => {
  assert.throws(() => verify({ chain: [server.der, interCa.der], trustAnchors: ['not a pem'] }), TypeError);
});

test.run();
