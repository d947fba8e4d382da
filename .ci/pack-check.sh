#!/usr/bin/env bash
# Each package must be a real npm package: `pnpm pack` gives a tarball that a scratch project
# outside the workspace installs with npm and imports through its `exports` (ESM and types).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pnpm -r --filter "./packages/*" run build >/dev/null
mkdir -p "$work/tarballs" "$work/app"
for pkg in congestion quic h3 webtransport; do
  (cd "packages/$pkg" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
ls "$work/tarballs"

cd "$work/app"
cat > package.json <<'JSON'
{ "name": "scratch-consumer", "private": true, "type": "module" }
JSON
npm install --no-audit --no-fund --loglevel=error "$work"/tarballs/*.tgz @types/node@20 >/dev/null

# ESM: every package imports through its exports map and exposes what its index says.
cat > check.mjs <<'JS'
const names = ['@purequic/congestion', '@purequic/quic', '@purequic/h3', '@purequic/webtransport'];
for (const name of names) {
  const mod = await import(name);
  console.log(`${name}: ${Object.keys(mod).length} exports`);
}
const quic = await import('@purequic/quic');
if (typeof quic.QuicError !== 'function') throw new Error('QuicError missing from @purequic/quic');
const e = new quic.QuicError(quic.TransportErrorCode.FRAME_ENCODING_ERROR, 'x');
if (!quic.QuicError.is(e)) throw new Error('brand check failed');
for (const name of ['QuicEndpoint', 'QuicConnection', 'QuicStream', 'QuicConnectError', 'ConnectionClosedError', 'generateSelfSignedCertificate']) {
  if (typeof quic[name] !== 'function') throw new Error(`${name} missing from @purequic/quic`);
}
// The main entry is the application API; the protocol core is at the sans-io subpath only.
for (const name of ['LossRecovery', 'SentPacketTracker', 'ByteReader', 'Connection', 'Simulator']) {
  if (name in quic) throw new Error(`${name} is an internal and must not be exported from @purequic/quic`);
}
const sansIo = await import('@purequic/quic/sans-io');
for (const name of ['Connection', 'LossRecovery', 'ByteReader', 'Simulator', 'parseFrames', 'QuicError']) {
  if (!(name in sansIo)) throw new Error(`${name} missing from @purequic/quic/sans-io`);
}
console.log(`@purequic/quic/sans-io: ${Object.keys(sansIo).length} exports`);
const cluster = await import('@purequic/quic/cluster');
for (const name of ['listenCluster', 'QuicCluster', 'quicLbCidFactory', 'quicLbServerId']) {
  if (typeof cluster[name] !== 'function') throw new Error(`${name} missing from @purequic/quic/cluster`);
}
console.log(`@purequic/quic/cluster: ${Object.keys(cluster).length} exports`);
console.log('ESM imports ok');
JS
node check.mjs

# Types: a strict TypeScript consumer compiles against the published .d.ts files.
cat > check.ts <<'TS'
import { QuicError, QuicEndpoint, TransportErrorCode, type ConnectOptions, type CryptoProvider } from '@purequic/quic';
import { Connection, ByteReader, type SansIoConnection } from '@purequic/quic/sans-io';
import * as congestion from '@purequic/congestion';
import * as h3 from '@purequic/h3';
import * as wt from '@purequic/webtransport';
import { listenCluster, type ClusterOptions, type ClusterWorkerContext } from '@purequic/quic/cluster';
const co: Partial<ClusterOptions> = { workers: 2 };
const cx: ClusterWorkerContext | undefined = undefined;
void listenCluster; void co; void cx;
const e: QuicError = new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'typed');
const p: CryptoProvider | undefined = undefined;
const o: Partial<ConnectOptions> = { host: 'localhost', handshakeTimeoutMs: 5000 };
const c: SansIoConnection | undefined = undefined as Connection | undefined;
void e; void p; void o; void c; void ByteReader; void QuicEndpoint; void congestion; void h3; void wt;
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "module": "NodeNext", "moduleResolution": "NodeNext",
  "target": "ES2022", "noEmit": true, "skipLibCheck": false, "types": ["node"] }, "files": ["check.ts"] }
JSON
"$root/node_modules/.bin/tsc" -p tsconfig.json
echo "types ok"
echo "pack check passed"
