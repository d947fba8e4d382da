import { createSocket } from 'node:dgram';

/** A UDP port on 127.0.0.1 that was free a moment ago (for peers that need one on the command line). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
