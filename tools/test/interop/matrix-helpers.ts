/**
 * The interop matrix as a regression test: the cells of `tools/interop/expected-matrix.json`
 * for some client -> server pairs are run at the `quick` scale (`pnpm interop --scale quick`)
 * and every cell must come out as expected: an expected `pass` must pass, an expected
 * `unsupported` must still be unsupported (a change in what a peer supports updates the file).
 * Cells expected to `fail` (known gaps, each explained in the README's matrix) are not run.
 * Pairs with a peer that is not installed are skipped (`test.skip`, so that CI, where every
 * peer is installed, fails on it) with the reason printed.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runMatrix, type CellResult } from '../../interop/matrix.js';
import { ngtcp2Peer, quicGoAvailability, REPO_ROOT, type PeerLookup } from '../../interop/peers.js';
import { findPeer } from '../../interop/peers-config.js';
import { browserAvailability } from '../../browsers/harness.js';

/** Whether a peer is installed, without building anything (quic-go is built in the test). */
function installed(name: string): PeerLookup<unknown> {
  if (name === 'quic-go') return quicGoAvailability();
  if (name === 'ngtcp2') return ngtcp2Peer();
  if (name === 'chromium' || name === 'firefox') {
    const found = browserAvailability(name);
    return found.ok ? { ok: true, peer: true } : found;
  }
  return findPeer(name) ? { ok: true, peer: true } : { ok: false, reason: `unknown peer ${name}` };
}

export interface ExpectedMatrix {
  scale: 'quick' | 'runner';
  seed: number;
  /** `"client -> server"` to case to the expected result. */
  pairs: Record<string, Record<string, CellResult>>;
}

export const EXPECTED_MATRIX_PATH = join(REPO_ROOT, 'tools', 'interop', 'expected-matrix.json');

export function readExpectedMatrix(): ExpectedMatrix {
  return JSON.parse(readFileSync(EXPECTED_MATRIX_PATH, 'utf8')) as ExpectedMatrix;
}

/** Cells run at once: they spend much of their time waiting on link delays and process starts. */
const JOBS = 2;

/** One uvu test per pair `client -> server` listed in the expected matrix. */
export function matrixPairTests(pairs: [client: string, server: string][]): void {
  const expected = readExpectedMatrix();
  for (const [client, server] of pairs) {
    const key = `${client} -> ${server}`;
    const cells = expected.pairs[key];
    if (!cells) throw new Error(`expected-matrix.json has no pair ${key}`);
    const toRun = Object.keys(cells).filter((t) => cells[t] !== 'fail');
    const absent = [client, server].map(installed).find((l) => !l.ok);
    if (absent && !absent.ok) console.log(`SKIP interop matrix ${key}: ${absent.reason}`);
    (absent ? test.skip : test)(`interop matrix ${key}: ${toRun.length} cells as expected (${Object.keys(cells).length - toRun.length} known failures not run)`, async () => {
      // Installed but unusable (a failed quic-go build) is a failure, not a skip.
      for (const name of [client, server]) {
        const lookup = await findPeer(name)!.available();
        assert.ok(lookup.ok, lookup.ok ? '' : lookup.reason);
      }
      const out = mkdtempSync(join(tmpdir(), 'purequic-matrix-'));
      const report = await runMatrix({ clients: [client], servers: [server], tests: toRun, scale: expected.scale, seed: expected.seed, out, jobs: JOBS, progress: () => undefined });
      const regressions: string[] = [];
      const improvements: string[] = [];
      for (const cell of report.cells) {
        const want = cells[cell.test];
        if (cell.result === want) continue;
        const line = `${cell.test}: expected ${want}, got ${cell.result}${cell.reason ? ` (${cell.reason})` : ''}${cell.directory ? ` [${join(out, cell.directory)}]` : ''}`;
        if (want === 'unsupported' && cell.result === 'pass') improvements.push(line);
        else regressions.push(line);
      }
      const slowest = [...report.cells].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
      console.log(`interop matrix ${key}: ${report.cells.length} cells; slowest ${slowest.map((c) => `${c.test} ${(c.durationMs / 1000).toFixed(1)} s`).join(', ')}`);
      // A newly passing cell is news, not a failure: the expected matrix wants updating.
      if (improvements.length > 0) regressions.push(...improvements.map((l) => `${l}: update tools/interop/expected-matrix.json`));
      if (regressions.length === 0) rmSync(out, { recursive: true, force: true });
      assert.equal(regressions, [], `${key}:\n  ${regressions.join('\n  ')}`);
    });
  }
}
