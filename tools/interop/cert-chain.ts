/**
 * A certificate chain like the interop runner's (`certs.sh`): a root CA, intermediates each
 * signed by the one before, and a leaf for the server's names, all ECDSA P-256, made with the
 * `openssl` command line as the runner does. `amplificationlimit` uses a 9-certificate chain so
 * that the server's first flight is far larger than 3x the client's Initial (RFC 9000 §8.1).
 *
 * Writes `cert.pem` (leaf first, then the intermediates, root last) and `priv.key` (the leaf's
 * key) into the directory; test scaffolding only.
 */

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL_TIMEOUT_MS = 30_000;

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd, timeout: OPENSSL_TIMEOUT_MS });
}

/**
 * Generates a chain of `length` certificates (>= 2) in `dir` for `hostnames` (DNS names and IP
 * literals). Resolves with the chain's size in DER bytes (what the server's Certificate message carries).
 */
export async function generateCertificateChain(dir: string, length: number, hostnames: string[]): Promise<{ derBytes: number }> {
  if (!Number.isInteger(length) || length < 2) throw new RangeError('a chain has at least a root and a leaf');
  const san = hostnames.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const ca = (i: number): string => `ca${i}`;
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca(0)}.key`], dir);
  await openssl(['req', '-x509', '-new', '-key', `${ca(0)}.key`, '-subj', '/CN=purequic interop root', '-days', '10', '-out', `${ca(0)}.pem`], dir);
  // The runner's chain carries about 7,500 bytes (its check wants at least that much Handshake
  // CRYPTO data from the server); a comment extension brings our small certificates there.
  const filler = `nsComment=${'purequic interop certificate chain filler '.repeat(10)}\n`;
  writeFileSync(join(dir, 'ca.ext'), `basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n${filler}`);
  writeFileSync(join(dir, 'leaf.ext'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n${filler}`);
  // Intermediates 1..length-2, then the leaf; each signed by the previous certificate.
  for (let i = 1; i < length; i++) {
    const leaf = i === length - 1;
    const name = leaf ? 'leaf' : ca(i);
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
    await openssl(['req', '-new', '-key', `${name}.key`, '-subj', leaf ? `/CN=${hostnames[0] ?? 'localhost'}` : `/CN=purequic interop intermediate ${i}`, '-out', `${name}.csr`], dir);
    await openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca(i - 1)}.pem`, '-CAkey', `${ca(i - 1)}.key`, '-set_serial', String(1000 + i), '-days', '10', '-extfile', leaf ? 'leaf.ext' : 'ca.ext', '-out', `${name}.pem`],
      dir,
    );
  }
  const order = ['leaf', ...Array.from({ length: length - 2 }, (_, k) => ca(length - 2 - k)), ca(0)];
  const pems = order.map((name) => readFileSync(join(dir, `${name}.pem`), 'utf8'));
  writeFileSync(join(dir, 'cert.pem'), pems.join(''));
  // PKCS#8 so that every consumer (ours, Go's tls.LoadX509KeyPair, ngtcp2) reads it.
  await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', 'leaf.key', '-out', 'priv.key'], dir);
  const derBytes = pems.reduce((sum, pem) => sum + Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64').length, 0);
  return { derBytes };
}
