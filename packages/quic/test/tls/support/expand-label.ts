/**
 * HKDF-Expand-Label (RFC 8446 §7.1) for the test record layer, over a provider's hkdfExpand.
 * Labels get the "tls13 " prefix; the record layer passes plain TLS labels ("key", "iv").
 */

import type { HashAlgorithm, SymmetricCrypto } from '../../../src/crypto/provider.js';

const PREFIX = 'tls13 ';

export function hkdfExpandLabel(
  crypto: SymmetricCrypto,
  hash: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const fullLabel = new TextEncoder().encode(PREFIX + label);
  // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel;
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  info[0] = length >>> 8;
  info[1] = length & 0xff;
  info[2] = fullLabel.length;
  info.set(fullLabel, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return crypto.hkdfExpand(hash, secret, info, length);
}
