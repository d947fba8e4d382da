/**
 * The TLS 1.3 client state machine (RFC 8446 Appendix A.1), as QUIC uses it (RFC 9001):
 *
 *   START -> WAIT_SH -> WAIT_EE -> WAIT_CERT_CR -> WAIT_CERT -> WAIT_CV -> WAIT_FINISHED -> CONNECTED
 *                                \-------------(PSK)------------------------/
 *
 * ClientHello/ServerHello travel at the Initial level, the server's flight and ours at
 * Handshake, NewSessionTicket at the application level. Only psk_dhe_ke resumption is offered.
 */

import { EncryptionLevel } from '../crypto/encryption-level.js';
import type { KeyShare, SigningKey } from '../crypto/provider.js';
import { cipherSuiteInfo } from '../crypto/cipher-suites.js';
import { SUPPORTED_SIGNATURE_SCHEMES, signatureSchemeCode } from '../crypto/signature-schemes.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import type { SessionTicket, TlsCipherSuite, TlsClientOptions, TlsRole } from './engine-api.js';
import { TlsEngineCore } from './engine-core.js';
import {
  bindersLength,
  checkAllowedExtensions,
  decodeAlpn,
  decodeCookie,
  decodeKeyShareServer,
  decodeU16,
  decodeU16List,
  decodeU32,
  encodeAlpn,
  encodeCookie,
  encodeKeyShareClient,
  encodeOfferedPsks,
  encodePskModes,
  encodeServerName,
  encodeSupportedVersionsClient,
  encodeU16List,
  expectEmpty,
  type Extension,
  findExtension,
} from './extensions.js';
import { KeySchedule, macEquals } from './key-schedule.js';
import { decodeCertificateMessage, encodeCertificateMessage } from './messages/cert-message.js';
import { decodeCertificateRequest } from './messages/cert-request.js';
import { decodeCertificateVerify, encodeCertificateVerify } from './messages/cert-verify.js';
import { decodeEncryptedExtensions } from './messages/encrypted-extensions.js';
import { decodeFinished, encodeFinished } from './messages/finished.js';
import { encodeHandshake, type HandshakeMessage } from './messages/handshake-framing.js';
import { decodeClientHello, decodeServerHello, encodeClientHello, equalBytes, type ServerHello } from './messages/hello.js';
import { decodeNewSessionTicket } from './messages/new-session-ticket.js';
import { TlsAlert, tlsFail } from './messages/tls-reader.js';
import { checkPeerChain } from './peer-chain.js';
import { chooseSignatureScheme, signCertificateVerify, verifyCertificateVerify } from './peer-auth.js';
import { MAX_TICKET_LIFETIME_SECONDS } from './tickets.js';
import {
  DEFAULT_CIPHER_SUITES,
  DEFAULT_GROUPS,
  DOWNGRADE_TLS11,
  DOWNGRADE_TLS12,
  ExtensionType,
  HandshakeType,
  NAMED_GROUP_CODES,
  namedGroupByCode,
  PSK_DHE_KE,
  TLS13_VERSION,
} from './wire.js';

type ClientState = 'START' | 'WAIT_SH' | 'WAIT_EE' | 'WAIT_CERT_CR' | 'WAIT_CERT' | 'WAIT_CV' | 'WAIT_FINISHED' | 'CONNECTED';

/** RFC 9001 §4.6.1: the only max_early_data_size a QUIC server may send. */
const QUIC_MAX_EARLY_DATA = 0xffffffff;

const SIGNATURE_SCHEME_CODES = SUPPORTED_SIGNATURE_SCHEMES.map(signatureSchemeCode);

/** Creates a client engine; call `start()` then poll for the ClientHello. */
export function createTlsClient(options: TlsClientOptions): TlsClient {
  return new TlsClient(options);
}

export class TlsClient extends TlsEngineCore {
  readonly role: TlsRole = 'client';
  /** Current state, named as in RFC 8446 Appendix A.1. */
  state: ClientState = 'START';

  private readonly options: TlsClientOptions;
  private readonly suites: readonly TlsCipherSuite[];
  private keyShares: KeyShare[] = [];
  private offeredExtensionTypes = new Set<number>();
  private ticket: SessionTicket | undefined;
  private offeredEarlyData = false;
  private hrrCipherSuite: number | undefined;
  private schedule: KeySchedule | undefined;
  private clientHandshakeSecret: Uint8Array | undefined;
  private serverHandshakeSecret: Uint8Array | undefined;
  private certificateRequested = false;
  private certificateRequestSchemes: number[] = [];
  private certificateRequestContext: Uint8Array = new Uint8Array(0);
  private resumptionMasterSecret: Uint8Array | undefined;
  private peerTransportParameters: Uint8Array | undefined;

  constructor(options: TlsClientOptions) {
    super(options.crypto, options.transportParameters, options.keyLog, options.testHooks);
    this.options = options;
    this.suites = options.cipherSuites ?? DEFAULT_CIPHER_SUITES;
    this.serverName = options.serverName;
  }

  start(): void {
    this.guarded(() => {
      if (this.state !== 'START') throw new Error('start() called twice');
      this.clientRandom = this.options.random(32);
      const groups = this.options.groups ?? DEFAULT_GROUPS;
      const shareGroups = this.options.keyShareGroups ?? groups.slice(0, 1);
      this.keyShares = shareGroups.map((g) => this.crypto.generateKeyShare(g));
      this.ticket = this.usableTicket();
      const t = this.ticket;
      // §4.2.10: 0-RTT only when the ticket allows it and we still speak the ticket's protocol.
      this.offeredEarlyData =
        t !== undefined &&
        this.options.earlyData === true &&
        t.maxEarlyDataSize > 0 &&
        (t.alpn === undefined ? this.options.alpnProtocols.length === 0 : this.options.alpnProtocols.includes(t.alpn));
      this.sendClientHello(undefined);
      this.state = 'WAIT_SH';
    });
  }

  /** The configured ticket if it can be offered now (§4.6.1 lifetime, same suite hash available). */
  private usableTicket(): SessionTicket | undefined {
    const t = this.options.sessionTicket;
    if (!t) return undefined;
    if (!this.suites.includes(t.cipherSuite)) return undefined;
    const ageMs = this.options.now() - t.receivedAtMs;
    if (ageMs < 0 || ageMs >= t.lifetimeSeconds * 1000) return undefined;
    if (t.serverName !== this.options.serverName) return undefined;
    return t;
  }

  /** Builds, binds (PSK) and sends a ClientHello; `cookie` is the HRR's, for ClientHello2. */
  private sendClientHello(cookie: Uint8Array | undefined): void {
    const o = this.options;
    const groups = o.groups ?? DEFAULT_GROUPS;
    const extensions: Extension[] = [];
    if (o.serverName !== undefined && !isIpLiteral(o.serverName)) {
      // RFC 6066 §3: literal IP addresses are not permitted in server_name.
      extensions.push({ type: ExtensionType.SERVER_NAME, data: encodeServerName(o.serverName) });
    }
    extensions.push({ type: ExtensionType.SUPPORTED_VERSIONS, data: encodeSupportedVersionsClient([TLS13_VERSION]) });
    extensions.push({ type: ExtensionType.SUPPORTED_GROUPS, data: encodeU16List(groups.map((g) => NAMED_GROUP_CODES[g])) });
    extensions.push({ type: ExtensionType.SIGNATURE_ALGORITHMS, data: encodeU16List(SIGNATURE_SCHEME_CODES) });
    extensions.push({
      type: ExtensionType.KEY_SHARE,
      data: encodeKeyShareClient(this.keyShares.map((s) => ({ group: NAMED_GROUP_CODES[s.group], keyExchange: s.publicKey }))),
    });
    if (o.alpnProtocols.length > 0) extensions.push({ type: ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, data: encodeAlpn(o.alpnProtocols) });
    if (o.transportParameters) extensions.push({ type: ExtensionType.QUIC_TRANSPORT_PARAMETERS, data: o.transportParameters });
    if (cookie) extensions.push({ type: ExtensionType.COOKIE, data: encodeCookie(cookie) });
    extensions.push({ type: ExtensionType.PSK_KEY_EXCHANGE_MODES, data: encodePskModes([PSK_DHE_KE]) });
    // §4.2.10: no early_data in the ClientHello that follows a HelloRetryRequest.
    if (this.offeredEarlyData && !this.helloRetryRequested) extensions.push({ type: ExtensionType.EARLY_DATA, data: new Uint8Array(0) });
    const ticket = this.ticket;
    let binderLength = 0;
    if (ticket) {
      binderLength = cipherSuiteInfo(ticket.cipherSuite)!.hashLength;
      // §4.2.11.1: obfuscated_ticket_age = (age in ms + ticket_age_add) mod 2^32.
      const age = Math.max(0, Math.floor(this.options.now() - ticket.receivedAtMs));
      const obfuscatedTicketAge = (age + ticket.ageAdd) >>> 0;
      // §4.2.11: pre_shared_key MUST be the last extension; binders are filled in below.
      extensions.push({
        type: ExtensionType.PRE_SHARED_KEY,
        data: encodeOfferedPsks({ identities: [{ identity: ticket.ticket, obfuscatedTicketAge }], binders: [new Uint8Array(binderLength)] }),
      });
    }
    let hello = this.rewrite(
      HandshakeType.CLIENT_HELLO,
      encodeClientHello({ random: this.clientRandom, legacySessionId: new Uint8Array(0), cipherSuites: [...this.suites], extensions }),
    );
    if (ticket) hello = this.bindClientHello(hello, ticket, binderLength);
    const sent = decodeClientHello(hello.subarray(4));
    this.offeredExtensionTypes = new Set(sent.extensions.map((e) => e.type));
    this.sendMessage(EncryptionLevel.INITIAL, hello);
    if (this.offeredEarlyData && !this.helloRetryRequested && ticket) this.startEarlyData(ticket);
  }

  /** Computes the PSK binder over the truncated ClientHello and writes it in (§4.2.11.2). */
  private bindClientHello(hello: Uint8Array, ticket: SessionTicket, binderLength: number): Uint8Array {
    const suite = cipherSuiteInfo(ticket.cipherSuite)!;
    const schedule = new KeySchedule(this.crypto, suite.hash, ticket.psk);
    const truncated = hello.subarray(0, hello.length - bindersLength([binderLength]));
    const binder = schedule.finishedVerifyData(schedule.binderKey(true), this.transcript.hash(this.crypto, suite.hash, truncated));
    const out = hello.slice();
    out.set(binder, out.length - binderLength);
    return out;
  }

  /** 0-RTT keys right after the first ClientHello (§7.1 client_early_traffic_secret). */
  private startEarlyData(ticket: SessionTicket): void {
    const suite = cipherSuiteInfo(ticket.cipherSuite)!;
    const schedule = new KeySchedule(this.crypto, suite.hash, ticket.psk);
    const secret = schedule.clientEarlyTrafficSecret(this.transcriptHash(suite.hash));
    this.emitSecret(EncryptionLevel.EARLY_DATA, 'write', secret, 'CLIENT_EARLY_TRAFFIC_SECRET', ticket.cipherSuite);
  }

  protected handleMessage(level: EncryptionLevel, message: HandshakeMessage): void {
    const type = message.type;
    if (type === HandshakeType.SERVER_HELLO && this.state === 'WAIT_SH' && level === EncryptionLevel.INITIAL) {
      return this.onServerHello(message);
    }
    if (level === EncryptionLevel.HANDSHAKE) {
      if (type === HandshakeType.ENCRYPTED_EXTENSIONS && this.state === 'WAIT_EE') return this.onEncryptedExtensions(message);
      if (type === HandshakeType.CERTIFICATE_REQUEST && this.state === 'WAIT_CERT_CR') return this.onCertificateRequest(message);
      if (type === HandshakeType.CERTIFICATE && (this.state === 'WAIT_CERT_CR' || this.state === 'WAIT_CERT')) return this.onCertificate(message);
      if (type === HandshakeType.CERTIFICATE_VERIFY && this.state === 'WAIT_CV') return this.onCertificateVerify(message);
      if (type === HandshakeType.FINISHED && this.state === 'WAIT_FINISHED') return this.onFinished(message);
    }
    if (level === EncryptionLevel.APPLICATION && this.state === 'CONNECTED' && type === HandshakeType.NEW_SESSION_TICKET) {
      return this.onNewSessionTicket(message);
    }
    // RFC 9001 §6: KeyUpdate MUST NOT be used with QUIC; post-handshake authentication is not
    // used either (RFC 9001 §4.4). Anything else out of place is unexpected too.
    this.unexpected(level, type, this.state);
  }

  private onServerHello(message: HandshakeMessage): void {
    const sh = decodeServerHello(message.body);
    const versions = findExtension(sh.extensions, ExtensionType.SUPPORTED_VERSIONS);
    if (versions === undefined) {
      // §4.1.3: a TLS 1.2 answer; if the random carries the downgrade sentinel it is an attack.
      const tail = sh.random.subarray(24);
      if (equalBytes(tail, DOWNGRADE_TLS12) || equalBytes(tail, DOWNGRADE_TLS11)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'downgrade sentinel in ServerHello.random');
      tlsFail(TlsAlert.PROTOCOL_VERSION, 'server did not negotiate TLS 1.3');
    }
    // §4.2.1: a selected version we did not offer is illegal_parameter.
    if (decodeU16(versions, 'supported_versions') !== TLS13_VERSION) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'server selected a version other than TLS 1.3');
    // §4.1.3: the echo must match what we sent (always empty: no middlebox compatibility mode).
    if (sh.legacySessionIdEcho.length !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'legacy_session_id_echo does not match');
    if (!this.suites.includes(sh.cipherSuite as TlsCipherSuite)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'server selected a cipher suite we did not offer');
    this.checkUnsolicited(sh.extensions, sh.isHelloRetryRequest ? 'HelloRetryRequest' : 'ServerHello');
    if (sh.isHelloRetryRequest) return this.onHelloRetryRequest(message, sh);
    checkAllowedExtensions(sh.extensions, [ExtensionType.KEY_SHARE, ExtensionType.PRE_SHARED_KEY, ExtensionType.SUPPORTED_VERSIONS], 'ServerHello');
    // §4.1.4: the ServerHello after an HRR must carry the HRR's cipher suite.
    if (this.hrrCipherSuite !== undefined && sh.cipherSuite !== this.hrrCipherSuite) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'cipher suite changed after HelloRetryRequest');
    const suite = cipherSuiteInfo(sh.cipherSuite)!;
    this.cipherSuite = suite.id;

    let psk: Uint8Array | undefined;
    const pskData = findExtension(sh.extensions, ExtensionType.PRE_SHARED_KEY);
    if (pskData !== undefined) {
      const selected = decodeU16(pskData, 'pre_shared_key');
      const ticket = this.ticket;
      // §4.2.11: the identity must be one we offered and its hash the suite's.
      if (!ticket || selected !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'server selected a PSK we did not offer');
      if (cipherSuiteInfo(ticket.cipherSuite)!.hash !== suite.hash) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'PSK hash does not match the cipher suite');
      psk = ticket.psk;
      this.resumed = true;
    }
    const keyShareData = findExtension(sh.extensions, ExtensionType.KEY_SHARE);
    // We only offer psk_dhe_ke, so a key share is always required (§4.2.8, §9.2).
    if (keyShareData === undefined) tlsFail(TlsAlert.MISSING_EXTENSION, 'ServerHello without key_share');
    const serverShare = decodeKeyShareServer(keyShareData);
    const ours = this.keyShares.find((s) => NAMED_GROUP_CODES[s.group] === serverShare.group);
    // §4.2.8: the server's share must be in a group we sent a share for.
    if (!ours) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'server key share is for a group we did not send');
    this.group = ours.group;
    const shared = this.crypto.deriveSharedSecret(ours, serverShare.keyExchange);

    this.transcript.add(message.raw);
    const schedule = new KeySchedule(this.crypto, suite.hash, psk);
    this.schedule = schedule;
    schedule.deriveHandshakeSecret(shared);
    const secrets = schedule.handshakeTrafficSecrets(this.transcriptHash(suite.hash));
    this.clientHandshakeSecret = secrets.client;
    this.serverHandshakeSecret = secrets.server;
    this.emitSecret(EncryptionLevel.HANDSHAKE, 'read', secrets.server, 'SERVER_HANDSHAKE_TRAFFIC_SECRET', suite.id);
    this.emitSecret(EncryptionLevel.HANDSHAKE, 'write', secrets.client, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', suite.id);
    this.state = 'WAIT_EE';
  }

  /** §4.1.4: answer a HelloRetryRequest with ClientHello2, once. */
  private onHelloRetryRequest(message: HandshakeMessage, hrr: ServerHello): void {
    if (this.helloRetryRequested) tlsFail(TlsAlert.UNEXPECTED_MESSAGE, 'second HelloRetryRequest');
    checkAllowedExtensions(hrr.extensions, [ExtensionType.KEY_SHARE, ExtensionType.COOKIE, ExtensionType.SUPPORTED_VERSIONS], 'HelloRetryRequest');
    this.helloRetryRequested = true;
    this.hrrCipherSuite = hrr.cipherSuite;
    const keyShareData = findExtension(hrr.extensions, ExtensionType.KEY_SHARE);
    const cookieData = findExtension(hrr.extensions, ExtensionType.COOKIE);
    const cookie = cookieData === undefined ? undefined : decodeCookie(cookieData);
    if (keyShareData !== undefined) {
      const groupCode = decodeU16(keyShareData, 'key_share');
      const group = namedGroupByCode(groupCode);
      // §4.2.8: the selected group must be one we support and not one we already sent a share for.
      if (!group || !(this.options.groups ?? DEFAULT_GROUPS).includes(group)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'HelloRetryRequest selected an unoffered group');
      if (this.keyShares.some((s) => s.group === group)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'HelloRetryRequest selected a group we already sent');
      this.keyShares = [this.crypto.generateKeyShare(group)];
    } else if (cookie === undefined) {
      // §4.1.4: an HRR that would not change the ClientHello is illegal_parameter.
      tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'HelloRetryRequest changes nothing');
    }
    const suite = cipherSuiteInfo(hrr.cipherSuite)!;
    // §4.2.11: keep the PSK only if its hash matches the suite the server chose.
    if (this.ticket && cipherSuiteInfo(this.ticket.cipherSuite)!.hash !== suite.hash) this.ticket = undefined;
    // §4.4.1: ClientHello1 becomes message_hash, then the HRR is hashed in.
    this.transcript.replaceWithMessageHash(this.crypto, suite.hash);
    this.transcript.add(message.raw);
    if (this.offeredEarlyData) this.emit({ kind: 'early-data', accepted: false });
    this.sendClientHello(cookie);
  }

  /** §4.2: a server may only answer extensions we sent (unsupported_extension otherwise). */
  private checkUnsolicited(extensions: readonly Extension[], where: string): void {
    for (const e of extensions) {
      if (e.type === ExtensionType.COOKIE && where === 'HelloRetryRequest') continue;
      if (!this.offeredExtensionTypes.has(e.type)) tlsFail(TlsAlert.UNSUPPORTED_EXTENSION, `unsolicited extension ${e.type} in ${where}`);
    }
  }

  private onEncryptedExtensions(message: HandshakeMessage): void {
    const extensions = decodeEncryptedExtensions(message.body);
    this.checkUnsolicited(extensions, 'EncryptedExtensions');
    checkAllowedExtensions(
      extensions,
      [
        ExtensionType.SERVER_NAME,
        ExtensionType.SUPPORTED_GROUPS,
        ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
        ExtensionType.EARLY_DATA,
        ExtensionType.QUIC_TRANSPORT_PARAMETERS,
      ],
      'EncryptedExtensions',
    );
    const sni = findExtension(extensions, ExtensionType.SERVER_NAME);
    if (sni !== undefined) expectEmpty(sni, 'server_name in EncryptedExtensions');
    const supportedGroups = findExtension(extensions, ExtensionType.SUPPORTED_GROUPS);
    if (supportedGroups !== undefined) decodeU16List(supportedGroups, 'supported_groups');

    const alpnData = findExtension(extensions, ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION);
    if (alpnData !== undefined) {
      const selected = decodeAlpn(alpnData);
      // RFC 7301 §3.1: exactly one protocol, one we offered.
      if (selected.length !== 1 || !this.options.alpnProtocols.includes(selected[0]!)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'server selected an ALPN protocol we did not offer');
      this.alpnProtocol = selected[0];
    } else if (this.quic) {
      // RFC 9001 §8.1: QUIC requires an application protocol.
      tlsFail(TlsAlert.NO_APPLICATION_PROTOCOL, 'server did not select an application protocol');
    }

    const tp = findExtension(extensions, ExtensionType.QUIC_TRANSPORT_PARAMETERS);
    if (this.quic) {
      // RFC 9001 §8.2: missing transport parameters are a missing_extension alert.
      if (tp === undefined) tlsFail(TlsAlert.MISSING_EXTENSION, 'no quic_transport_parameters');
      this.peerTransportParameters = tp.slice();
      this.emit({ kind: 'peer-transport-parameters', data: this.peerTransportParameters });
    }

    const early = findExtension(extensions, ExtensionType.EARLY_DATA);
    if (early !== undefined) {
      expectEmpty(early, 'early_data in EncryptedExtensions');
      // §4.2.10: acceptance requires that we offered it and the server chose the first PSK.
      if (!this.offeredEarlyData || !this.resumed || this.helloRetryRequested) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'early_data accepted without a 0-RTT offer');
      // §4.2.10: the server must keep the ticket's ALPN when accepting 0-RTT.
      if (this.ticket && this.ticket.alpn !== this.alpnProtocol) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'early data accepted with a different ALPN');
      this.earlyDataAccepted = true;
    }
    if (this.offeredEarlyData && !this.helloRetryRequested) this.emit({ kind: 'early-data', accepted: this.earlyDataAccepted });

    this.transcript.add(message.raw);
    this.state = this.resumed ? 'WAIT_FINISHED' : 'WAIT_CERT_CR';
  }

  private onCertificateRequest(message: HandshakeMessage): void {
    const cr = decodeCertificateRequest(message.body);
    // §4.3.2: the context is empty during the handshake.
    if (cr.context.length !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'non-empty certificate_request_context');
    checkAllowedExtensions(
      cr.extensions,
      [ExtensionType.SIGNATURE_ALGORITHMS, ExtensionType.SIGNATURE_ALGORITHMS_CERT, ExtensionType.CERTIFICATE_AUTHORITIES],
      'CertificateRequest',
    );
    const sigAlgs = findExtension(cr.extensions, ExtensionType.SIGNATURE_ALGORITHMS);
    // §4.3.2: signature_algorithms MUST be specified.
    if (sigAlgs === undefined) tlsFail(TlsAlert.MISSING_EXTENSION, 'CertificateRequest without signature_algorithms');
    this.certificateRequestSchemes = decodeU16List(sigAlgs, 'signature_algorithms');
    this.certificateRequestContext = cr.context.slice();
    this.certificateRequested = true;
    this.transcript.add(message.raw);
    this.state = 'WAIT_CERT';
  }

  private onCertificate(message: HandshakeMessage): void {
    const cert = decodeCertificateMessage(message.body);
    if (cert.context.length !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'server Certificate with a request context');
    // §4.4.2.4: an empty server Certificate is a decode_error.
    if (cert.entries.length === 0) tlsFail(TlsAlert.DECODE_ERROR, 'server sent no certificate');
    this.peerCertificates = cert.entries.map((e) => e.data.slice());
    checkPeerChain(this.crypto, this.peerCertificates, this.options.verification, this.options.now(), this.options.serverName);
    this.transcript.add(message.raw);
    this.state = 'WAIT_CV';
  }

  private onCertificateVerify(message: HandshakeMessage): void {
    const cv = decodeCertificateVerify(message.body);
    const hash = this.schedule!.hash;
    verifyCertificateVerify(this.crypto, 'server', this.peerCertificates[0]!, cv, SIGNATURE_SCHEME_CODES, this.transcriptHash(hash));
    this.transcript.add(message.raw);
    this.state = 'WAIT_FINISHED';
  }

  private onFinished(message: HandshakeMessage): void {
    const schedule = this.schedule!;
    const suite = this.cipherSuite!;
    const verifyData = decodeFinished(message.body, schedule.hashLength);
    const expected = schedule.finishedVerifyData(this.serverHandshakeSecret!, this.transcriptHash(schedule.hash));
    // §4.4.4: a wrong Finished is a decrypt_error.
    if (!macEquals(verifyData, expected)) tlsFail(TlsAlert.DECRYPT_ERROR, 'server Finished does not verify');
    this.transcript.add(message.raw);

    schedule.deriveMasterSecret();
    const app = schedule.applicationTrafficSecrets(this.transcriptHash(schedule.hash));

    // RFC 8446 §4.5: over TLS (not QUIC, RFC 9001 §8.3) accepted early data ends with EndOfEarlyData.
    if (!this.quic && this.earlyDataAccepted) {
      this.sendMessage(EncryptionLevel.EARLY_DATA, encodeHandshake(HandshakeType.END_OF_EARLY_DATA, new Uint8Array(0)));
    }
    if (this.certificateRequested) this.sendClientCertificate();
    const finished = encodeFinished(schedule.finishedVerifyData(this.clientHandshakeSecret!, this.transcriptHash(schedule.hash)));
    this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.FINISHED, finished));
    this.resumptionMasterSecret = schedule.resumptionMasterSecret(this.transcriptHash(schedule.hash));
    this.transcript.release();

    this.emitSecret(EncryptionLevel.APPLICATION, 'read', app.server, 'SERVER_TRAFFIC_SECRET_0', suite);
    this.emitSecret(EncryptionLevel.APPLICATION, 'write', app.client, 'CLIENT_TRAFFIC_SECRET_0', suite);
    this.state = 'CONNECTED';
    this.handshakeComplete = true;
    this.emit({ kind: 'handshake-complete' });
    // Only NewSessionTicket (Application level) may follow; the key schedule stays for it.
    this.releaseHandshakeState();
  }

  /** §4.4.2: our Certificate (empty if we have none or cannot sign as asked) and CertificateVerify. */
  private sendClientCertificate(): void {
    const cc = this.options.clientCertificate;
    const scheme = cc ? chooseSignatureScheme(cc.key, this.certificateRequestSchemes) : undefined;
    const entries = cc && scheme ? cc.chain.map((data) => ({ data, extensions: [] })) : [];
    const certMsg = encodeCertificateMessage({ context: this.certificateRequestContext, entries });
    this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.CERTIFICATE, certMsg));
    if (!cc || !scheme) return;
    const cv = signCertificateVerify(this.crypto, 'client', cc.key as SigningKey, scheme, this.transcriptHash(this.schedule!.hash));
    this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.CERTIFICATE_VERIFY, encodeCertificateVerify(cv)));
  }

  private onNewSessionTicket(message: HandshakeMessage): void {
    const nst = decodeNewSessionTicket(message.body);
    checkAllowedExtensions(nst.extensions, [ExtensionType.EARLY_DATA], 'NewSessionTicket');
    // §4.6.1: lifetimes above seven days are not allowed.
    if (nst.lifetimeSeconds > MAX_TICKET_LIFETIME_SECONDS) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'ticket lifetime above 7 days');
    const early = findExtension(nst.extensions, ExtensionType.EARLY_DATA);
    const maxEarlyDataSize = early === undefined ? 0 : decodeU32(early, 'early_data');
    // RFC 9001 §4.6.1: any max_early_data_size other than 0xffffffff is a PROTOCOL_VIOLATION.
    if (this.quic && early !== undefined && maxEarlyDataSize !== QUIC_MAX_EARLY_DATA) {
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'max_early_data_size other than 0xffffffff');
    }
    // A zero lifetime means "do not cache" (§4.6.1).
    if (nst.lifetimeSeconds === 0) return;
    const schedule = this.schedule!;
    const ticket: SessionTicket = {
      ticket: nst.ticket.slice(),
      psk: schedule.resumptionPsk(this.resumptionMasterSecret!, nst.nonce),
      cipherSuite: this.cipherSuite!,
      receivedAtMs: this.options.now(),
      lifetimeSeconds: nst.lifetimeSeconds,
      ageAdd: nst.ageAdd,
      maxEarlyDataSize,
      serverName: this.options.serverName,
      alpn: this.alpnProtocol,
    };
    if (this.peerTransportParameters) ticket.transportParameters = this.peerTransportParameters;
    this.emit({ kind: 'session-ticket', ticket });
  }
}

/** True for IPv4 dotted quads and IPv6 literals (RFC 6066 §3 forbids them in server_name). */
function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

