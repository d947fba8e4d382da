/**
 * TEST-ONLY: two record layers (our client and our server) joined in memory, no sockets.
 * Records flow through queues that `pump()` drains in order, so a test can tamper with the
 * handshake (record-layer hook) and then read exactly which alert crossed the wire.
 */

import type { SymmetricCrypto } from '../../../src/crypto/provider.js';
import type { TlsOutput } from '../../../src/tls/engine-api.js';
import { TlsRecordLayer, type RecordLayerOptions, type TlsEngineLike } from '../record-layer.js';

export interface MemoryEndpoint {
  layer: TlsRecordLayer;
  /** Every record this side wrote, in order. */
  wire: Uint8Array[];
  outputs: TlsOutput[];
  received: Uint8Array[];
  complete: boolean;
  ended: boolean;
  error: Error | undefined;
}

export interface MemoryPair {
  client: MemoryEndpoint;
  server: MemoryEndpoint;
  /** Delivers queued bytes both ways until nothing moves (bounded). */
  pump(): void;
}

/** Steps of `pump()` before it gives up: a full handshake takes a handful. */
const MAX_PUMP_STEPS = 10_000;

function endpoint(
  engine: TlsEngineLike,
  crypto: SymmetricCrypto,
  outbox: Uint8Array[],
  options: RecordLayerOptions,
): MemoryEndpoint {
  const ep: MemoryEndpoint = {
    layer: undefined as unknown as TlsRecordLayer,
    wire: [],
    outputs: [],
    received: [],
    complete: false,
    ended: false,
    error: undefined,
  };
  ep.layer = new TlsRecordLayer(
    engine,
    crypto,
    {
      transmit: (bytes) => {
        ep.wire.push(bytes);
        outbox.push(bytes);
      },
      handshakeComplete: () => (ep.complete = true),
      applicationData: (data) => ep.received.push(data),
      closed: (error) => {
        ep.ended = true;
        ep.error = error;
      },
      output: (output) => ep.outputs.push(output),
    },
    options,
  );
  return ep;
}

/** Joins a client and a server engine; the client's ClientHello is queued at once. */
export function memoryPair(
  client: { engine: TlsEngineLike; crypto: SymmetricCrypto; options?: RecordLayerOptions },
  server: { engine: TlsEngineLike; crypto: SymmetricCrypto; options?: RecordLayerOptions },
): MemoryPair {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const c = endpoint(client.engine, client.crypto, toServer, client.options ?? {});
  const s = endpoint(server.engine, server.crypto, toClient, server.options ?? {});
  s.layer.start();
  c.layer.start();
  return {
    client: c,
    server: s,
    pump() {
      for (let step = 0; step < MAX_PUMP_STEPS; step++) {
        const forServer = toServer.shift();
        if (forServer !== undefined) {
          s.layer.receive(forServer);
          continue;
        }
        const forClient = toClient.shift();
        if (forClient !== undefined) {
          c.layer.receive(forClient);
          continue;
        }
        return;
      }
      throw new Error(`memory pair still busy after ${MAX_PUMP_STEPS} steps`);
    },
  };
}
