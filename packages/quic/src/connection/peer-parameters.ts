/**
 * Checks the peer's transport parameters against what the handshake saw (RFC 9000 §7.3: the
 * connection IDs, including a Retry's; RFC 9368 §4: version_information) before they are used,
 * and records the server's stateless_reset_token for its handshake CID (§18.2).
 */

import { QuicError, TransportErrorCode } from '../errors.js';
import type { TransportParameters } from '../transport-params.js';
import { equalBytes } from './cid.js';
import type { ConnectionCore } from './core.js';
import { checkClientVersionInformation, checkServerVersionInformation } from './versions.js';

export function acceptHandshakeParameters(core: ConnectionCore, p: TransportParameters): void {
  // RFC 9000 §7.3: authenticate the connection IDs used during the handshake.
  const fail = (what: string): never => {
    throw new QuicError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, what);
  };
  if (!p.initialSourceConnectionId || !core.peerHandshakeCid || !equalBytes(p.initialSourceConnectionId, core.peerHandshakeCid)) {
    fail('initial_source_connection_id does not match');
  }
  // RFC 9368 §4: version_information authenticates the version negotiation.
  if (core.isServer) checkClientVersionInformation(p.versionInformation, core.originalVersion);
  else checkServerVersionInformation(p.versionInformation, core.version, core.offeredVersions, core.preferredVersions, core.reactedToVersionNegotiation);
  if (!core.isServer) {
    if (!p.originalDestinationConnectionId || !equalBytes(p.originalDestinationConnectionId, core.originalDcid)) {
      fail('original_destination_connection_id does not match');
    }
    // RFC 9000 §7.3: retry_source_connection_id is present exactly when we acted on a Retry, and names its SCID.
    if (core.retrySourceCid === undefined) {
      if (p.retrySourceConnectionId) fail('retry_source_connection_id without a Retry');
    } else if (!p.retrySourceConnectionId || !equalBytes(p.retrySourceConnectionId, core.retrySourceCid)) {
      fail('retry_source_connection_id does not match the Retry');
    }
    if (p.statelessResetToken) {
      core.peerCids.setInitialResetToken(p.statelessResetToken);
      core.events.push({ type: 'peer-reset-token', token: p.statelessResetToken });
    }
    // RFC 9000 §5.1.1: the preferred_address CID is the server's sequence 1, with its reset
    // token (§18.2); it counts against our active_connection_id_limit like any other.
    const pa = p.preferredAddress;
    if (pa) {
      core.peerCids.onNewConnectionId(1, 0, pa.connectionId, pa.statelessResetToken);
      core.events.push({ type: 'peer-reset-token', token: pa.statelessResetToken });
    }
  }
}
