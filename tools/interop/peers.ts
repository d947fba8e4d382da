/**
 * The interop peers on this machine: quic-go (built here from Debian's Go sources into our own
 * hq-interop wrappers, tools/interop/quicgo) and ngtcp2 (Debian's `gtlsclient`/`gtlsserver`).
 *
 * Nothing built from a peer is ever committed: binaries go to INTEROP_PEERS_DIR (default
 * `.scratch/interop-peers/`, gitignored). `.ci/interop-peers.sh` installs the packages and
 * builds ahead of time; `quicGoPeer()` builds on demand when a binary is missing or older than
 * its source, so a fresh checkout works too.
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where peer binaries are built. */
export const PEERS_DIR = process.env.INTEROP_PEERS_DIR ?? join(REPO_ROOT, '.scratch', 'interop-peers');
/** Debian's golang-github-lucas-clemente-quic-go-dev puts the sources here (GOPATH layout). */
export const DEBIAN_GOPATH = '/usr/share/gocode';
const QUIC_GO_PACKAGE_DIR = join(DEBIAN_GOPATH, 'src', 'github.com', 'lucas-clemente', 'quic-go');
const WRAPPERS_DIR = join(REPO_ROOT, 'tools', 'interop', 'quicgo');
/** A cold build of quic-go takes ~15 s on two busy cores; leave room. */
const GO_BUILD_TIMEOUT_MS = 180_000;

/** Paths of the quic-go hq-interop wrappers. */
export interface QuicGoPeer {
  client: string;
  server: string;
}

/** Paths of ngtcp2's GnuTLS example endpoints. */
export interface Ngtcp2Peer {
  client: string;
  server: string;
}

/** A peer, or why it is unavailable (for the skip message). */
export type PeerLookup<T> = { ok: true; peer: T } | { ok: false; reason: string };

function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

let quicGoBuild: Promise<PeerLookup<QuicGoPeer>> | undefined;

/**
 * The quic-go client and server wrappers, built first if needed (once per process; the build
 * writes to a temporary name and renames, so concurrent processes never run a half-written file).
 */
export function quicGoPeer(): Promise<PeerLookup<QuicGoPeer>> {
  quicGoBuild ??= buildQuicGo();
  return quicGoBuild;
}

/** Whether quic-go can be built here (Go and Debian's quic-go sources present); no building. */
export function quicGoAvailability(): PeerLookup<{ go: string }> {
  const go = findExecutable('go', ['/usr/lib/go/bin', '/usr/local/go/bin']);
  if (!go) return { ok: false, reason: 'quic-go peer absent: no `go` on PATH (run .ci/interop-peers.sh)' };
  if (!existsSync(QUIC_GO_PACKAGE_DIR)) {
    return { ok: false, reason: `quic-go peer absent: no sources in ${QUIC_GO_PACKAGE_DIR} (run .ci/interop-peers.sh)` };
  }
  return { ok: true, peer: { go } };
}

async function buildQuicGo(): Promise<PeerLookup<QuicGoPeer>> {
  const availability = quicGoAvailability();
  if (!availability.ok) return availability;
  const go = availability.peer.go;
  mkdirSync(PEERS_DIR, { recursive: true });
  const peer: QuicGoPeer = { client: join(PEERS_DIR, 'quicgo-client'), server: join(PEERS_DIR, 'quicgo-server') };
  for (const role of ['client', 'server'] as const) {
    const output = peer[role];
    // Rebuild when the wrapper or the tracer it shares is newer than the binary.
    const newestSource = Math.max(mtimeMs(join(WRAPPERS_DIR, role, 'main.go')), mtimeMs(join(WRAPPERS_DIR, 'trace', 'trace.go')));
    if (mtimeMs(output) >= newestSource) continue;
    const partial = `${output}.${process.pid}.partial`;
    try {
      // GOPATH mode, offline: Debian ships quic-go and its dependencies as GOPATH sources.
      await run(go, ['build', '-o', partial, `./${role}`], {
        cwd: WRAPPERS_DIR,
        env: { ...process.env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOFLAGS: '' },
        timeout: GO_BUILD_TIMEOUT_MS,
      });
      renameSync(partial, output);
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
      return { ok: false, reason: `building the quic-go ${role} failed: ${detail.trim()}` };
    }
  }
  return { ok: true, peer };
}

/** ngtcp2's `gtlsclient` / `gtlsserver` (Debian ngtcp2-client / ngtcp2-server), if installed. */
export function ngtcp2Peer(): PeerLookup<Ngtcp2Peer> {
  const client = findExecutable('gtlsclient', ['/usr/bin']);
  const server = findExecutable('gtlsserver', ['/usr/sbin', '/usr/bin']);
  if (!client || !server) {
    return { ok: false, reason: `ngtcp2 peer absent: ${client ? '' : 'gtlsclient '}${server ? '' : 'gtlsserver '}not found (run .ci/interop-peers.sh)` };
  }
  return { ok: true, peer: { client, server } };
}
