/**
 * The benchmarks' client connect: a connection whose handshake completes within `timeoutMs`, or
 * a rejection, with a long idle timeout so that connections held idle stay open.
 */

import type { QuicConnection, QuicEndpoint } from '@purequic/quic';

export async function openConnection(client: QuicEndpoint, port: number, alpn: string, timeoutMs: number, idleTimeoutMs = 120_000): Promise<QuicConnection> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('handshake timed out')), timeoutMs)));
  try {
    const connection = await Promise.race([
      client.connect({
        host: '127.0.0.1',
        port,
        alpnProtocols: [alpn],
        verification: { mode: 'none' },
        transport: { maxIdleTimeoutMs: idleTimeoutMs },
        // A crowd waits its turn: the measure is whether the server gets through it, not the default patience.
        handshakeTimeoutMs: timeoutMs,
      }),
      timeout,
    ]);
    await Promise.race([connection.opened, timeout]);
    return connection;
  } finally {
    clearTimeout(timer);
  }
}
