/**
 * Certificate verification for TLS 1.3 peers (RFC 8446 §4.4.2.4), synchronous like the engine:
 *
 * - `verifyCertificateChain`: builds a path from the peer's leaf to a trust anchor through the
 *   certificates it sent (in any order, extras ignored), checks every signature with the crypto
 *   provider, validity at `nowMs`, CA constraints of issuers (RFC 5280 §6.1), the leaf's key
 *   usage for TLS, and the host name against subjectAltName (RFC 6125, no CN fallback).
 * - `verifyCertificateHashes`: WebTransport's serverCertificateHashes (W3C WebTransport,
 *   "verify a certificate hash" and "custom certificate requirements").
 *
 * Failures throw TlsAlertError with the alert RFC 8446 §6.2 suggests.
 * Not implemented: revocation (CRL/OCSP), name constraints and policies (a critical extension we
 * do not process fails the chain, RFC 5280 §4.2), EKU checks on intermediates. Trust anchors are
 * trusted as given (name + key, RFC 5280 §6.1.1 (d)): their own validity is not checked.
 */

import { pemBlocksToDer } from '../crypto/der.js';
import { parseSpki, type PublicKeyInfo } from '../crypto/key-info.js';
import type { AsymmetricCrypto, SymmetricCrypto } from '../crypto/provider.js';
import { TlsAlert, TlsAlertError } from './alert.js';
import { subjectAltNamesMatch } from './certificate-names.js';
import { bytesEqual, KeyUsageBit, parseCertificate, X509Oid, type ParsedCertificate } from './certificate-parse.js';

export { parseCertificate, type ParsedCertificate } from './certificate-parse.js';

/** Longest path we build: intermediates between the leaf and the anchor. */
export const MAX_INTERMEDIATES = 8;
/** Most certificates we accept from a peer in one Certificate message. */
export const MAX_PEER_CERTIFICATES = 16;
/** Bound on signature checks per verification (many same-named issuers cannot blow up the search). */
const MAX_SIGNATURE_CHECKS = 32;
/** Two weeks (W3C WebTransport, custom certificate requirements). */
export const MAX_CERTIFICATE_HASH_VALIDITY_MS = 14 * 24 * 60 * 60 * 1000;

export interface VerifyCertificateChainOptions {
  /** The peer's certificate_list, leaf first, DER. */
  chain: readonly Uint8Array[];
  /**
   * DER certificates or PEM text (a PEM string may hold a bundle of CERTIFICATE blocks).
   * Parsed once per array object and cached: pass the same array each time, and a new array
   * (not a mutated one) when the anchors change.
   */
  trustAnchors: readonly (Uint8Array | string)[];
  /** DNS name or IP literal the certificate must cover; omitted = no name check (client certificates). */
  hostname?: string;
  /** Wall-clock ms since the epoch. */
  nowMs: number;
  crypto: Pick<AsymmetricCrypto, 'verifyCertificateSignature'>;
  /** Whose certificate this is: the leaf's extendedKeyUsage must allow it. Default 'server'. */
  purpose?: 'server' | 'client';
}

export interface VerifiedCertificate {
  /** The leaf's SubjectPublicKeyInfo (DER): verify CertificateVerify with it. */
  spki: Uint8Array;
  publicKey: PublicKeyInfo;
  leaf: ParsedCertificate;
  /** Leaf first, then intermediates, then the anchor. */
  path: ParsedCertificate[];
}

/** Parsed trust anchors, cached per anchors array (the engine passes the same array each time). */
const anchorCache = new WeakMap<readonly (Uint8Array | string)[], ParsedCertificate[]>();

/** Parses trust anchors once; throws TypeError for anchors that do not parse (a configuration error). */
export function parseTrustAnchors(anchors: readonly (Uint8Array | string)[]): ParsedCertificate[] {
  const cached = anchorCache.get(anchors);
  if (cached !== undefined) return cached;
  const parsed: ParsedCertificate[] = [];
  for (const anchor of anchors) {
    const ders = typeof anchor === 'string' ? pemBlocksToDer(anchor, 'CERTIFICATE') : [anchor];
    if (ders.length === 0) throw new TypeError('trust anchor PEM holds no CERTIFICATE block');
    for (const der of ders) {
      try {
        parsed.push(parseCertificate(der));
      } catch (error) {
        throw new TypeError(`trust anchor does not parse: ${(error as Error).message}`);
      }
    }
  }
  anchorCache.set(anchors, parsed);
  return parsed;
}

function fail(alert: number, reason: string): never {
  throw new TlsAlertError(alert, reason);
}

/** RFC 5280 §4.1.2.5: valid from notBefore through notAfter, inclusive. */
function checkValidity(cert: ParsedCertificate, nowMs: number, what: string): void {
  if (nowMs > cert.notAfterMs) fail(TlsAlert.CERTIFICATE_EXPIRED, `${what} expired`);
  if (nowMs < cert.notBeforeMs) fail(TlsAlert.BAD_CERTIFICATE, `${what} is not yet valid`);
}

function checkCriticalExtensions(cert: ParsedCertificate, what: string): void {
  if (cert.unhandledCriticalExtensions.length > 0) {
    fail(TlsAlert.UNSUPPORTED_CERTIFICATE, `${what} has an unsupported critical extension ${cert.unhandledCriticalExtensions[0]}`);
  }
}

/**
 * Can `issuer` issue certificates? RFC 5280 §6.1.4 (k): basicConstraints cA; (n): keyCertSign
 * when keyUsage is present; (m): pathLenConstraint bounds the intermediates below it.
 * Version 1 anchors (no extensions at all) are accepted as the legacy roots they are.
 */
function issuerProblem(issuer: ParsedCertificate, intermediatesBelow: number, isAnchor: boolean): string | undefined {
  if (issuer.basicConstraints === undefined) {
    if (!(isAnchor && issuer.version === 1)) return 'issuer is not a CA (no basicConstraints)';
  } else {
    if (!issuer.basicConstraints.ca) return 'issuer is not a CA (basicConstraints cA is false)';
    const limit = issuer.basicConstraints.pathLength;
    if (limit !== undefined && intermediatesBelow > limit) return 'path length constraint exceeded';
  }
  if (issuer.keyUsage !== undefined && (issuer.keyUsage & KeyUsageBit.KEY_CERT_SIGN) === 0) return 'issuer key usage lacks keyCertSign';
  return undefined;
}

interface SearchState {
  crypto: Pick<AsymmetricCrypto, 'verifyCertificateSignature'>;
  nowMs: number;
  anchors: ParsedCertificate[];
  candidates: ParsedCertificate[];
  signatureChecks: number;
  /** The first concrete failure seen, reported when no path is found (else unknown_ca). */
  failure: TlsAlertError | undefined;
}

function noteFailure(state: SearchState, alert: number, reason: string): void {
  state.failure ??= new TlsAlertError(alert, reason);
}

/**
 * Did `issuer`'s key sign `subject`? A certificate names its issuer only by subject name, and names
 * collide (every generated development certificate is CN=localhost): a failed check here means
 * "not this issuer", never a bad certificate, so it notes no failure.
 */
function signedBy(state: SearchState, subject: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (subject.signatureAlgorithm === undefined || state.signatureChecks >= MAX_SIGNATURE_CHECKS) return false;
  state.signatureChecks++;
  return state.crypto.verifyCertificateSignature(issuer.spki, subject.signatureAlgorithm, subject.tbs, subject.signature);
}

function signatureValid(state: SearchState, subject: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (subject.signatureAlgorithm === undefined) {
    noteFailure(state, TlsAlert.UNSUPPORTED_CERTIFICATE, `unsupported signature algorithm ${subject.signatureAlgorithmOid}`);
    return false;
  }
  if (state.signatureChecks >= MAX_SIGNATURE_CHECKS) {
    noteFailure(state, TlsAlert.BAD_CERTIFICATE, 'too many candidate issuers');
    return false;
  }
  state.signatureChecks++;
  if (state.crypto.verifyCertificateSignature(issuer.spki, subject.signatureAlgorithm, subject.tbs, subject.signature)) return true;
  noteFailure(state, TlsAlert.BAD_CERTIFICATE, 'certificate signature does not verify');
  return false;
}

/** Depth-first path search from `current` (already checked itself) up to an anchor. */
function findPath(state: SearchState, current: ParsedCertificate, path: ParsedCertificate[]): ParsedCertificate[] | undefined {
  const intermediatesBelow = path.length - 1;
  // Trusted directly: the certificate itself is an anchor (e.g. a pinned self-signed leaf).
  for (const anchor of state.anchors) if (bytesEqual(anchor.der, current.der)) return path;
  for (const anchor of state.anchors) {
    if (!bytesEqual(anchor.subject, current.issuer)) continue;
    // An anchor whose key did not sign this certificate merely shares its issuer's name: the
    // chain does not lead to it (unknown_ca below), whatever else is wrong with it.
    if (!signedBy(state, current, anchor)) continue;
    const problem = issuerProblem(anchor, intermediatesBelow, true);
    if (problem !== undefined) {
      noteFailure(state, TlsAlert.BAD_CERTIFICATE, `trust anchor: ${problem}`);
      continue;
    }
    return [...path, anchor];
  }
  if (intermediatesBelow >= MAX_INTERMEDIATES) {
    noteFailure(state, TlsAlert.BAD_CERTIFICATE, 'certificate path too long');
    return undefined;
  }
  for (const candidate of state.candidates) {
    if (path.includes(candidate) || !bytesEqual(candidate.subject, current.issuer)) continue;
    const problem = issuerProblem(candidate, intermediatesBelow, false);
    if (problem !== undefined) {
      noteFailure(state, TlsAlert.BAD_CERTIFICATE, problem);
      continue;
    }
    try {
      checkValidity(candidate, state.nowMs, 'intermediate certificate');
      checkCriticalExtensions(candidate, 'intermediate certificate');
    } catch (error) {
      if (!TlsAlertError.isTlsAlert(error)) throw error;
      state.failure ??= error;
      continue;
    }
    if (!signatureValid(state, current, candidate)) continue;
    const found = findPath(state, candidate, [...path, candidate]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Checks what a TLS leaf must allow (RFC 8446 §4.4.2.2, RFC 5280 §4.2.1.3 and §4.2.1.12). */
function checkLeafUsage(leaf: ParsedCertificate, purpose: 'server' | 'client'): void {
  if (leaf.keyUsage !== undefined && (leaf.keyUsage & KeyUsageBit.DIGITAL_SIGNATURE) === 0) {
    fail(TlsAlert.UNSUPPORTED_CERTIFICATE, 'leaf key usage lacks digitalSignature');
  }
  const eku = leaf.extendedKeyUsage;
  if (eku !== undefined) {
    const wanted = purpose === 'server' ? X509Oid.SERVER_AUTH : X509Oid.CLIENT_AUTH;
    if (!eku.includes(wanted) && !eku.includes(X509Oid.ANY_EXTENDED_KEY_USAGE)) {
      fail(TlsAlert.UNSUPPORTED_CERTIFICATE, `leaf extended key usage lacks ${purpose}Auth`);
    }
  }
}

function leafPublicKey(leaf: ParsedCertificate): PublicKeyInfo {
  try {
    return parseSpki(leaf.spki);
  } catch {
    return fail(TlsAlert.UNSUPPORTED_CERTIFICATE, 'leaf public key type is not supported');
  }
}

/**
 * Verifies the peer's certificate chain. Returns the leaf's public key; throws TlsAlertError:
 * bad_certificate (malformed, bad signature, not yet valid, CA rules), unsupported_certificate
 * (algorithms, key usage, critical extensions), certificate_expired, certificate_unknown (name
 * mismatch), unknown_ca (no path to an anchor).
 */
export function verifyCertificateChain(options: VerifyCertificateChainOptions): VerifiedCertificate {
  const { chain, nowMs, hostname } = options;
  const purpose = options.purpose ?? 'server';
  // RFC 8446 §4.4.2.4: an empty Certificate message from a server aborts with decode_error;
  // the engine handles that before calling us, so here it is simply a bad certificate.
  if (chain.length === 0) fail(TlsAlert.BAD_CERTIFICATE, 'no certificate');
  if (chain.length > MAX_PEER_CERTIFICATES) fail(TlsAlert.BAD_CERTIFICATE, 'too many certificates');
  const parsed = chain.map((der) => parseCertificate(der));
  const leaf = parsed[0] as ParsedCertificate;

  checkValidity(leaf, nowMs, 'certificate');
  checkCriticalExtensions(leaf, 'certificate');
  const publicKey = leafPublicKey(leaf);
  checkLeafUsage(leaf, purpose);
  if (hostname !== undefined) {
    // RFC 6125 §6.4.4 / CA/B Forum: no CN fallback; a certificate without SAN matches nothing.
    if (leaf.subjectAltNames === undefined || !subjectAltNamesMatch(leaf.subjectAltNames, hostname)) {
      fail(TlsAlert.CERTIFICATE_UNKNOWN, `certificate is not valid for ${hostname}`);
    }
  }

  const state: SearchState = {
    crypto: options.crypto,
    nowMs,
    anchors: parseTrustAnchors(options.trustAnchors),
    candidates: parsed.slice(1),
    signatureChecks: 0,
    failure: undefined,
  };
  const path = findPath(state, leaf, [leaf]);
  if (path === undefined) throw state.failure ?? new TlsAlertError(TlsAlert.UNKNOWN_CA, 'certificate chain does not lead to a trusted anchor');
  return { spki: leaf.spki, publicKey, leaf, path };
}

export interface VerifyCertificateHashesOptions {
  /** The peer's leaf certificate, DER. */
  leaf: Uint8Array;
  /** SHA-256 values of acceptable certificates ("sha-256" WebTransportHash values). */
  hashes: readonly Uint8Array[];
  nowMs: number;
  crypto: Pick<SymmetricCrypto, 'hash'>;
}

/**
 * WebTransport serverCertificateHashes: the SHA-256 of the leaf's DER must equal one of `hashes`
 * ("verify a certificate hash"), and the leaf must meet the "custom certificate requirements":
 * X.509v3, an allowed key (ECDSA P-256 or P-384, Ed25519; never RSA), currently valid, and a
 * validity period of at most two weeks. No chain is built. Returns the leaf's public key.
 */
export function verifyCertificateHashes(options: VerifyCertificateHashesOptions): VerifiedCertificate {
  const digest = options.crypto.hash('sha256', options.leaf);
  let matched = false;
  for (const hash of options.hashes) if (bytesEqual(hash, digest)) matched = true;
  if (!matched) fail(TlsAlert.CERTIFICATE_UNKNOWN, 'certificate hash is not among serverCertificateHashes');
  const leaf = parseCertificate(options.leaf);
  if (leaf.version !== 3) fail(TlsAlert.UNSUPPORTED_CERTIFICATE, 'certificate is not X.509v3');
  const publicKey = leafPublicKey(leaf);
  if (publicKey.kind === 'rsa') fail(TlsAlert.UNSUPPORTED_CERTIFICATE, 'RSA keys are not allowed with serverCertificateHashes');
  checkValidity(leaf, options.nowMs, 'certificate');
  if (leaf.notAfterMs - leaf.notBeforeMs > MAX_CERTIFICATE_HASH_VALIDITY_MS) {
    fail(TlsAlert.CERTIFICATE_UNKNOWN, 'certificate validity exceeds two weeks (serverCertificateHashes)');
  }
  return { spki: leaf.spki, publicKey, leaf, path: [leaf] };
}
