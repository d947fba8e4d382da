/**
 * The TLS 1.3 server state machine (RFC 8446 Appendix A.2), as QUIC uses it (RFC 9001):
 *
 *   START -> RECVD_CH -> NEGOTIATED -> [WAIT_EOED] -> WAIT_FLIGHT2 -> [WAIT_CERT -> WAIT_CV] -> WAIT_FINISHED -> CONNECTED
 *
 * RECVD_CH and NEGOTIATED are passed through within one `receive`; a HelloRetryRequest sends
 * the machine back to START for ClientHello2. WAIT_EOED only exists over plain TLS: QUIC has no
 * EndOfEarlyData (RFC 9001 §8.3).
 */

import { EncryptionLevel } from '../crypto/encryption-level.js';
import { cipherSuiteInfo, type CipherSuiteInfo } from '../crypto/cipher-suites.js';
import type { NamedGroupName } from '../crypto/provider.js';
import { SUPPORTED_SIGNATURE_SCHEMES, signatureSchemeCode } from '../crypto/signature-schemes.js';
import { QuicError, TransportErrorCode } from '../errors.js';
import type { TlsCipherSuite, TlsRole, TlsServerOptions } from './engine-api.js';
import { TlsEngineCore } from './engine-core.js';
import {
  decodeAlpn,
  decodeCookie,
  decodeKeyShareClient,
  decodeOfferedPsks,
  decodePskModes,
  decodeServerName,
  decodeSupportedVersionsClient,
  decodeU16List,
  encodeAlpn,
  encodeKeyShareServer,
  encodeU16,
  encodeU16List,
  encodeU32,
  expectEmpty,
  type Extension,
  findExtension,
  type KeyShareEntry,
  bindersLength,
} from './extensions.js';
import { KeySchedule, macEquals } from './key-schedule.js';
import { decodeCertificateMessage, encodeCertificateMessage } from './messages/cert-message.js';
import { encodeCertificateRequest } from './messages/cert-request.js';
import { decodeCertificateVerify, encodeCertificateVerify } from './messages/cert-verify.js';
import { encodeEncryptedExtensions } from './messages/encrypted-extensions.js';
import { decodeFinished, encodeFinished } from './messages/finished.js';
import type { HandshakeMessage } from './messages/handshake-framing.js';
import { type ClientHello, decodeClientHello, encodeServerHello } from './messages/hello.js';
import { encodeNewSessionTicket } from './messages/new-session-ticket.js';
import { TlsAlert, tlsFail } from './messages/tls-reader.js';
import { checkPeerChain } from './peer-chain.js';
import { chooseSignatureScheme, signCertificateVerify, verifyCertificateVerify } from './peer-auth.js';
import { decodeTicketState, encodeTicketState, MAX_TICKET_LIFETIME_SECONDS, type TicketState } from './tickets.js';
import {
  DEFAULT_CIPHER_SUITES,
  DEFAULT_GROUPS,
  ExtensionType,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  NAMED_GROUP_CODES,
  PSK_DHE_KE,
  TLS13_VERSION,
} from './wire.js';

type ServerState = 'START' | 'WAIT_EOED' | 'WAIT_FLIGHT2' | 'WAIT_CERT' | 'WAIT_CV' | 'WAIT_FINISHED' | 'CONNECTED';

const SIGNATURE_SCHEME_CODES = SUPPORTED_SIGNATURE_SCHEMES.map(signatureSchemeCode);
/** RFC 9001 §4.6.1: QUIC servers that allow 0-RTT send max_early_data_size 0xffffffff. */
const QUIC_MAX_EARLY_DATA = 0xffffffff;
/** Plain TLS: the most early data we would take (we never read it ourselves). */
const TLS_MAX_EARLY_DATA = 16384;
const DEFAULT_TICKET_AGE_SKEW_MS = 10_000;

/** What the ClientHello offered, decoded once. */
interface ClientOffer {
  hello: ClientHello;
  versions: number[];
  groups: number[];
  keyShares: KeyShareEntry[];
  signatureSchemes: number[];
  alpn: string[] | undefined;
  serverName: string | undefined;
  transportParameters: Uint8Array | undefined;
  pskModes: number[];
  earlyData: boolean;
  cookie: Uint8Array | undefined;
}

/** An accepted ticket. */
interface AcceptedPsk {
  state: TicketState;
  binder: Uint8Array;
  clientAgeMs: number;
}

/** Creates a server engine; feed it the client's Initial bytes. */
export function createTlsServer(options: TlsServerOptions): TlsServer {
  return new TlsServer(options);
}

export class TlsServer extends TlsEngineCore {
  readonly role: TlsRole = 'server';
  /** Current state, named as in RFC 8446 Appendix A.2. */
  state: ServerState = 'START';

  private readonly options: TlsServerOptions;
  private firstHello: ClientOffer | undefined;
  private hrrGroup: NamedGroupName | undefined;
  private schedule: KeySchedule | undefined;
  private suite: CipherSuiteInfo | undefined;
  private clientHandshakeSecret: Uint8Array | undefined;
  private clientApplicationSecret: Uint8Array | undefined;
  private certificateRequested = false;
  private peerTransportParameters: Uint8Array | undefined;
  private ticketsIssued = 0;

  constructor(options: TlsServerOptions) {
    super(options.crypto, options.transportParameters, options.keyLog, options.testHooks);
    this.options = options;
  }

  start(): void {
    // The ClientHello drives the server; nothing to send first.
  }

  protected handleMessage(level: EncryptionLevel, message: HandshakeMessage): void {
    const type = message.type;
    if (type === HandshakeType.CLIENT_HELLO && this.state === 'START' && level === EncryptionLevel.INITIAL) return this.onClientHello(message);
    if (type === HandshakeType.END_OF_EARLY_DATA && this.state === 'WAIT_EOED' && level === EncryptionLevel.EARLY_DATA) {
      return this.onEndOfEarlyData(message);
    }
    if (level === EncryptionLevel.HANDSHAKE) {
      if (type === HandshakeType.CERTIFICATE && this.state === 'WAIT_CERT') return this.onClientCertificate(message);
      if (type === HandshakeType.CERTIFICATE_VERIFY && this.state === 'WAIT_CV') return this.onClientCertificateVerify(message);
      if (type === HandshakeType.FINISHED && this.state === 'WAIT_FINISHED') return this.onClientFinished(message);
    }
    // RFC 9001 §6: no KeyUpdate over QUIC; a client sends nothing after its Finished.
    this.unexpected(level, type, this.state);
  }

  private decodeOffer(message: HandshakeMessage): ClientOffer {
    const hello = decodeClientHello(message.body);
    const ext = hello.extensions;
    const versionsData = findExtension(ext, ExtensionType.SUPPORTED_VERSIONS);
    // §4.2.1: without supported_versions (or without 0x0304 in it) this is not TLS 1.3.
    if (versionsData === undefined) tlsFail(TlsAlert.PROTOCOL_VERSION, 'ClientHello without supported_versions');
    const versions = decodeSupportedVersionsClient(versionsData);
    if (!versions.includes(TLS13_VERSION)) tlsFail(TlsAlert.PROTOCOL_VERSION, 'client does not offer TLS 1.3');
    // RFC 9001 §8.4: a QUIC ClientHello has an empty legacy_session_id.
    if (this.quic && hello.legacySessionId.length !== 0) {
      throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'non-empty legacy_session_id in a QUIC ClientHello');
    }
    const pskIndex = ext.findIndex((e) => e.type === ExtensionType.PRE_SHARED_KEY);
    // §4.2.11: pre_shared_key MUST be the last extension.
    if (pskIndex >= 0 && pskIndex !== ext.length - 1) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'pre_shared_key is not the last extension');
    const groupsData = findExtension(ext, ExtensionType.SUPPORTED_GROUPS);
    const keyShareData = findExtension(ext, ExtensionType.KEY_SHARE);
    // §9.2: supported_groups and key_share come together; we need both (psk_dhe_ke only).
    if (groupsData === undefined || keyShareData === undefined) tlsFail(TlsAlert.MISSING_EXTENSION, 'ClientHello without supported_groups/key_share');
    const groups = decodeU16List(groupsData, 'supported_groups');
    const keyShares = decodeKeyShareClient(keyShareData);
    // §4.2.8: each share must be for an offered group.
    for (const s of keyShares) if (!groups.includes(s.group)) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'key share for a group not in supported_groups');
    const sigData = findExtension(ext, ExtensionType.SIGNATURE_ALGORITHMS);
    const alpnData = findExtension(ext, ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION);
    const sniData = findExtension(ext, ExtensionType.SERVER_NAME);
    const modesData = findExtension(ext, ExtensionType.PSK_KEY_EXCHANGE_MODES);
    const earlyData = findExtension(ext, ExtensionType.EARLY_DATA);
    if (earlyData !== undefined) expectEmpty(earlyData, 'early_data in ClientHello');
    const cookieData = findExtension(ext, ExtensionType.COOKIE);
    const tp = findExtension(ext, ExtensionType.QUIC_TRANSPORT_PARAMETERS);
    return {
      hello,
      versions,
      groups,
      keyShares,
      signatureSchemes: sigData === undefined ? [] : decodeU16List(sigData, 'signature_algorithms'),
      alpn: alpnData === undefined ? undefined : decodeAlpn(alpnData),
      serverName: sniData === undefined ? undefined : decodeServerName(sniData),
      transportParameters: tp,
      pskModes: modesData === undefined ? [] : decodePskModes(modesData),
      earlyData: earlyData !== undefined,
      cookie: cookieData === undefined ? undefined : decodeCookie(cookieData),
    };
  }

  private onClientHello(message: HandshakeMessage): void {
    const offer = this.decodeOffer(message);
    const o = this.options;
    const first = this.firstHello;
    if (first) {
      // §4.1.2: ClientHello2 must match ClientHello1 except for the HRR-driven changes.
      const share = offer.keyShares;
      if (share.length !== 1 || share[0]!.group !== NAMED_GROUP_CODES[this.hrrGroup!]) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'ClientHello2 key share is not the requested group');
      // §4.2.10: no early_data after a HelloRetryRequest.
      if (offer.earlyData) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'early_data in ClientHello2');
      if (!sameList(offer.hello.cipherSuites, first.hello.cipherSuites) || !sameBytesOrBoth(offer.hello.random, first.hello.random)) {
        tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'ClientHello2 differs from ClientHello1');
      }
    }
    this.clientRandom = offer.hello.random.slice();
    this.serverName = offer.serverName;

    // Cipher suite: our preference among the client's (§4.1.1).
    const ours = o.cipherSuites ?? DEFAULT_CIPHER_SUITES;
    const suiteId = ours.find((s) => offer.hello.cipherSuites.includes(s));
    if (suiteId === undefined) tlsFail(TlsAlert.HANDSHAKE_FAILURE, 'no cipher suite in common');
    const suite = cipherSuiteInfo(suiteId)!;
    this.suite = suite;
    this.cipherSuite = suite.id;

    // ALPN (RFC 7301 §3.2; RFC 9001 §8.1: mandatory for QUIC).
    if (offer.alpn !== undefined) {
      const chosen = o.alpnProtocols.find((p) => offer.alpn!.includes(p));
      if (chosen === undefined) tlsFail(TlsAlert.NO_APPLICATION_PROTOCOL, 'no application protocol in common');
      this.alpnProtocol = chosen;
    } else if (this.quic) {
      tlsFail(TlsAlert.NO_APPLICATION_PROTOCOL, 'client offered no application protocol');
    }
    if (this.quic) {
      // RFC 9001 §8.2: missing transport parameters are a missing_extension alert.
      if (offer.transportParameters === undefined) tlsFail(TlsAlert.MISSING_EXTENSION, 'no quic_transport_parameters');
      if (!this.peerTransportParameters) {
        this.peerTransportParameters = offer.transportParameters.slice();
        this.emit({ kind: 'peer-transport-parameters', data: this.peerTransportParameters });
      }
    }

    // Key exchange group: the first of our groups the client sent a share for, else HRR.
    const groups = o.groups ?? DEFAULT_GROUPS;
    let share: KeyShareEntry | undefined;
    let group: NamedGroupName | undefined;
    for (const g of groups) {
      share = offer.keyShares.find((s) => s.group === NAMED_GROUP_CODES[g]);
      if (share) {
        group = g;
        break;
      }
    }
    if (!share || !group) {
      const retryGroup = groups.find((g) => offer.groups.includes(NAMED_GROUP_CODES[g]));
      if (retryGroup === undefined || first) tlsFail(TlsAlert.HANDSHAKE_FAILURE, 'no key exchange group in common');
      return this.sendHelloRetryRequest(message, offer, suite, retryGroup);
    }
    this.group = group;

    // PSK (§4.2.11): only psk_dhe_ke, only with our tickets.
    const psk = this.acceptPsk(message, offer, suite);
    const earlyAccepted = psk !== undefined && this.acceptEarlyData(offer, psk, suite);

    if (!psk && offer.signatureSchemes.length === 0) {
      // §9.2: a certificate-authenticated handshake needs signature_algorithms.
      tlsFail(TlsAlert.MISSING_EXTENSION, 'ClientHello without signature_algorithms');
    }

    this.transcript.add(message.raw);
    const schedule = new KeySchedule(this.crypto, suite.hash, psk?.state.psk);
    this.schedule = schedule;
    if (earlyAccepted) {
      this.earlyDataAccepted = true;
      const early = schedule.clientEarlyTrafficSecret(this.transcriptHash(suite.hash));
      this.emitSecret(EncryptionLevel.EARLY_DATA, 'read', early, 'CLIENT_EARLY_TRAFFIC_SECRET', suite.id);
    }

    const keyShare = this.crypto.generateKeyShare(group);
    const shared = this.crypto.deriveSharedSecret(keyShare, share.keyExchange);
    const shExtensions: Extension[] = [];
    if (psk) shExtensions.push({ type: ExtensionType.PRE_SHARED_KEY, data: encodeU16(0) });
    shExtensions.push({ type: ExtensionType.KEY_SHARE, data: encodeKeyShareServer({ group: NAMED_GROUP_CODES[group], keyExchange: keyShare.publicKey }) });
    shExtensions.push({ type: ExtensionType.SUPPORTED_VERSIONS, data: encodeU16(TLS13_VERSION) });
    const serverHello = encodeServerHello({
      random: o.random(32),
      legacySessionIdEcho: offer.hello.legacySessionId,
      cipherSuite: suite.id,
      extensions: shExtensions,
    });
    this.sendMessage(EncryptionLevel.INITIAL, this.rewrite(HandshakeType.SERVER_HELLO, serverHello));

    schedule.deriveHandshakeSecret(shared);
    const hs = schedule.handshakeTrafficSecrets(this.transcriptHash(suite.hash));
    this.clientHandshakeSecret = hs.client;
    this.emitSecret(EncryptionLevel.HANDSHAKE, 'read', hs.client, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', suite.id);
    this.emitSecret(EncryptionLevel.HANDSHAKE, 'write', hs.server, 'SERVER_HANDSHAKE_TRAFFIC_SECRET', suite.id);

    this.sendServerFlight(offer, psk !== undefined, hs.server);
    this.state = !this.quic && earlyAccepted ? 'WAIT_EOED' : this.certificateRequested ? 'WAIT_CERT' : 'WAIT_FINISHED';
  }

  /** §4.1.4: ask for a share in `group`; the transcript restarts from message_hash (§4.4.1). */
  private sendHelloRetryRequest(message: HandshakeMessage, offer: ClientOffer, suite: CipherSuiteInfo, group: NamedGroupName): void {
    this.helloRetryRequested = true;
    this.firstHello = offer;
    this.hrrGroup = group;
    this.transcript.add(message.raw);
    this.transcript.replaceWithMessageHash(this.crypto, suite.hash);
    const hrr = encodeServerHello({
      random: HELLO_RETRY_REQUEST_RANDOM,
      legacySessionIdEcho: offer.hello.legacySessionId,
      cipherSuite: suite.id,
      extensions: [
        { type: ExtensionType.KEY_SHARE, data: encodeU16(NAMED_GROUP_CODES[group]) },
        { type: ExtensionType.SUPPORTED_VERSIONS, data: encodeU16(TLS13_VERSION) },
      ],
    });
    this.sendMessage(EncryptionLevel.INITIAL, this.rewrite(HandshakeType.SERVER_HELLO, hrr));
    this.state = 'START';
  }

  /**
   * Picks the first offered identity that is one of our tickets, for this suite's hash, not
   * expired, same server name; then checks its binder (a wrong binder aborts, §4.2.11.2).
   */
  private acceptPsk(message: HandshakeMessage, offer: ClientOffer, suite: CipherSuiteInfo): AcceptedPsk | undefined {
    const data = findExtension(offer.hello.extensions, ExtensionType.PRE_SHARED_KEY);
    if (data === undefined) return undefined;
    const psks = decodeOfferedPsks(data);
    // §4.2.9: a PSK offer requires psk_key_exchange_modes.
    if (offer.pskModes.length === 0) tlsFail(TlsAlert.MISSING_EXTENSION, 'pre_shared_key without psk_key_exchange_modes');
    if (!offer.pskModes.includes(PSK_DHE_KE)) return undefined;
    const keys = this.options.sessionTicketKeys;
    if (!keys) return undefined;
    // Tickets do not remember the client's certificate: a server that requires one authenticates
    // every connection in full (a PSK handshake has no CertificateRequest, §4.3.2).
    if (this.options.clientAuthentication === 'require') return undefined;
    const now = this.options.now();
    // Only the first identity: 0-RTT requires it (§4.2.10) and we issue one ticket per connection.
    const identity = psks.identities[0]!;
    const sealed = keys.open(identity.identity, now);
    const state = sealed === undefined ? undefined : safeDecodeTicket(sealed);
    if (!state) return undefined;
    const ticketSuite = cipherSuiteInfo(state.cipherSuite);
    if (!ticketSuite || ticketSuite.hash !== suite.hash) return undefined;
    const ageMs = now - state.issuedAtMs;
    if (ageMs < 0 || ageMs >= state.lifetimeSeconds * 1000) return undefined;
    if (state.serverName !== offer.serverName) return undefined;

    // §4.2.11.2: the binder covers the ClientHello up to the binders list.
    const binderLengths = psks.binders.map((b) => b.length);
    const truncated = message.raw.subarray(0, message.raw.length - bindersLength(binderLengths));
    const schedule = new KeySchedule(this.crypto, suite.hash, state.psk);
    const expected = schedule.finishedVerifyData(schedule.binderKey(true), this.transcript.hash(this.crypto, suite.hash, truncated));
    if (!macEquals(expected, psks.binders[0]!)) tlsFail(TlsAlert.DECRYPT_ERROR, 'PSK binder does not verify');
    this.resumed = true;
    const clientAgeMs = (identity.obfuscatedTicketAge - state.ageAdd) >>> 0;
    return { state, binder: psks.binders[0]!.slice(), clientAgeMs };
  }

  /** 0-RTT (§4.2.10): same ticket suite and ALPN, no HRR, age within tolerance (§8.3), then the caller's filter. */
  private acceptEarlyData(offer: ClientOffer, psk: AcceptedPsk, suite: CipherSuiteInfo): boolean {
    const o = this.options;
    if (!offer.earlyData || !o.earlyData || this.helloRetryRequested) return false;
    const state = psk.state;
    if (state.maxEarlyDataSize === 0 || state.cipherSuite !== suite.id || state.alpn !== this.alpnProtocol) return false;
    const serverAgeMs = o.now() - state.issuedAtMs;
    if (Math.abs(serverAgeMs - psk.clientAgeMs) > (o.maxTicketAgeSkewMs ?? DEFAULT_TICKET_AGE_SKEW_MS)) return false;
    if (o.earlyDataFilter) {
      return o.earlyDataFilter({
        ticketTransportParameters: state.transportParameters,
        alpn: state.alpn,
        serverName: state.serverName,
        binder: psk.binder,
        clientRandom: offer.hello.random,
        ticketIssuedAtMs: state.issuedAtMs,
        clientTicketAgeMs: psk.clientAgeMs,
        serverTicketAgeMs: serverAgeMs,
      });
    }
    return true;
  }

  /** EncryptedExtensions, [CertificateRequest, Certificate, CertificateVerify,] Finished. */
  private sendServerFlight(offer: ClientOffer, resumed: boolean, serverHandshakeSecret: Uint8Array): void {
    const o = this.options;
    const schedule = this.schedule!;
    const suite = this.suite!;
    const ee: Extension[] = [];
    // RFC 6066 §3: a server that used the name answers with an empty server_name.
    if (offer.serverName !== undefined) ee.push({ type: ExtensionType.SERVER_NAME, data: new Uint8Array(0) });
    if (this.alpnProtocol !== undefined) ee.push({ type: ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, data: encodeAlpn([this.alpnProtocol]) });
    if (this.earlyDataAccepted) ee.push({ type: ExtensionType.EARLY_DATA, data: new Uint8Array(0) });
    if (o.transportParameters) ee.push({ type: ExtensionType.QUIC_TRANSPORT_PARAMETERS, data: o.transportParameters });
    this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.ENCRYPTED_EXTENSIONS, encodeEncryptedExtensions(ee)));

    if (!resumed) {
      const auth = o.clientAuthentication ?? 'none';
      if (auth !== 'none') {
        this.certificateRequested = true;
        const cr = encodeCertificateRequest({
          context: new Uint8Array(0),
          extensions: [{ type: ExtensionType.SIGNATURE_ALGORITHMS, data: encodeU16List(SIGNATURE_SCHEME_CODES) }],
        });
        this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.CERTIFICATE_REQUEST, cr));
      }
      const scheme = chooseSignatureScheme(o.key, offer.signatureSchemes);
      // §4.2.3: no scheme the client accepts that our key can produce.
      if (!scheme) tlsFail(TlsAlert.HANDSHAKE_FAILURE, 'no signature scheme in common');
      const cert = encodeCertificateMessage({ context: new Uint8Array(0), entries: o.certificateChain.map((data) => ({ data, extensions: [] })) });
      this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.CERTIFICATE, cert));
      const cv = signCertificateVerify(this.crypto, 'server', o.key, scheme, this.transcriptHash(suite.hash));
      this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.CERTIFICATE_VERIFY, encodeCertificateVerify(cv)));
    }
    const finished = encodeFinished(schedule.finishedVerifyData(serverHandshakeSecret, this.transcriptHash(suite.hash)));
    this.sendMessage(EncryptionLevel.HANDSHAKE, this.rewrite(HandshakeType.FINISHED, finished));

    schedule.deriveMasterSecret();
    const app = schedule.applicationTrafficSecrets(this.transcriptHash(suite.hash));
    this.clientApplicationSecret = app.client;
    // RFC 9001 §5.7: the server may send 0.5-RTT data; it reads 1-RTT only after the client's Finished.
    this.emitSecret(EncryptionLevel.APPLICATION, 'write', app.server, 'SERVER_TRAFFIC_SECRET_0', suite.id);
  }

  private onEndOfEarlyData(message: HandshakeMessage): void {
    if (message.body.length !== 0) tlsFail(TlsAlert.DECODE_ERROR, 'EndOfEarlyData with a body');
    this.transcript.add(message.raw);
    this.state = this.certificateRequested ? 'WAIT_CERT' : 'WAIT_FINISHED';
  }

  private onClientCertificate(message: HandshakeMessage): void {
    const cert = decodeCertificateMessage(message.body);
    // §4.4.2: the context echoes the CertificateRequest's (empty).
    if (cert.context.length !== 0) tlsFail(TlsAlert.ILLEGAL_PARAMETER, 'client Certificate context does not match');
    this.transcript.add(message.raw);
    if (cert.entries.length === 0) {
      // §4.4.2.4: no certificate; fatal only when we require one.
      if (this.options.clientAuthentication === 'require') tlsFail(TlsAlert.CERTIFICATE_REQUIRED, 'client sent no certificate');
      this.state = 'WAIT_FINISHED';
      return;
    }
    this.peerCertificates = cert.entries.map((e) => e.data.slice());
    const anchors = this.options.clientTrustAnchors;
    checkPeerChain(this.crypto, this.peerCertificates, anchors ? { mode: 'chain', trustAnchors: anchors } : { mode: 'none' }, this.options.now(), undefined, 'client');
    this.state = 'WAIT_CV';
  }

  private onClientCertificateVerify(message: HandshakeMessage): void {
    const cv = decodeCertificateVerify(message.body);
    verifyCertificateVerify(this.crypto, 'client', this.peerCertificates[0]!, cv, SIGNATURE_SCHEME_CODES, this.transcriptHash(this.suite!.hash));
    this.transcript.add(message.raw);
    this.state = 'WAIT_FINISHED';
  }

  private onClientFinished(message: HandshakeMessage): void {
    const schedule = this.schedule!;
    const suite = this.suite!;
    const verifyData = decodeFinished(message.body, schedule.hashLength);
    const expected = schedule.finishedVerifyData(this.clientHandshakeSecret!, this.transcriptHash(suite.hash));
    // §4.4.4: a wrong Finished is a decrypt_error.
    if (!macEquals(verifyData, expected)) tlsFail(TlsAlert.DECRYPT_ERROR, 'client Finished does not verify');
    this.transcript.add(message.raw);
    const resumptionMasterSecret = schedule.resumptionMasterSecret(this.transcriptHash(suite.hash));
    this.transcript.release();
    this.emitSecret(EncryptionLevel.APPLICATION, 'read', this.clientApplicationSecret!, 'CLIENT_TRAFFIC_SECRET_0', suite.id);
    this.state = 'CONNECTED';
    this.handshakeComplete = true;
    this.emit({ kind: 'handshake-complete' });
    this.issueTicket(resumptionMasterSecret);
    this.releaseHandshakeState();
  }

  /** Nothing after the ticket needs the key schedule, the handshake secrets or the offer (issue 11). */
  protected override releaseHandshakeState(): void {
    super.releaseHandshakeState();
    this.schedule = undefined;
    this.clientHandshakeSecret = undefined;
    this.clientApplicationSecret = undefined;
    this.firstHello = undefined;
    this.peerTransportParameters = undefined;
  }

  /** §4.6.1: one NewSessionTicket after the handshake, sealed with our ticket keys. */
  private issueTicket(resumptionMasterSecret: Uint8Array): void {
    const o = this.options;
    const keys = o.sessionTicketKeys;
    if (!keys) return;
    const schedule = this.schedule!;
    const nonce = new Uint8Array([this.ticketsIssued++]);
    const lifetimeSeconds = Math.min(o.ticketLifetimeSeconds ?? MAX_TICKET_LIFETIME_SECONDS, MAX_TICKET_LIFETIME_SECONDS, Math.floor(keys.rotationIntervalMs / 1000));
    const ageAddBytes = o.random(4);
    const ageAdd = (((ageAddBytes[0] as number) << 24) | ((ageAddBytes[1] as number) << 16) | ((ageAddBytes[2] as number) << 8) | (ageAddBytes[3] as number)) >>> 0;
    const maxEarlyDataSize = o.earlyData ? (this.quic ? QUIC_MAX_EARLY_DATA : TLS_MAX_EARLY_DATA) : 0;
    const now = o.now();
    const state: TicketState = {
      cipherSuite: this.cipherSuite as TlsCipherSuite,
      psk: schedule.resumptionPsk(resumptionMasterSecret, nonce),
      issuedAtMs: Math.floor(now),
      lifetimeSeconds,
      ageAdd,
      maxEarlyDataSize,
      alpn: this.alpnProtocol,
      serverName: this.serverName,
      transportParameters: o.transportParameters,
    };
    const ticket = keys.seal(encodeTicketState(state), now);
    const extensions: Extension[] = maxEarlyDataSize > 0 ? [{ type: ExtensionType.EARLY_DATA, data: encodeU32(maxEarlyDataSize) }] : [];
    const nst = encodeNewSessionTicket({ lifetimeSeconds, ageAdd, nonce, ticket, extensions });
    this.sendMessage(EncryptionLevel.APPLICATION, this.rewrite(HandshakeType.NEW_SESSION_TICKET, nst), false);
  }
}

function safeDecodeTicket(data: Uint8Array): TicketState | undefined {
  try {
    return decodeTicketState(data);
  } catch {
    return undefined;
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameBytesOrBoth(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

