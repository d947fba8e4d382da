/**
 * Real browsers for tests: Debian's Chromium driven by playwright-core and Firefox ESR driven by
 * puppeteer-core over WebDriver BiDi (recipes and their reasons: ../shared/PEERS.md, "Real
 * browsers"). Neither npm package downloads a browser; `.ci/browsers.sh` installs the system ones.
 *
 * Every launch gets a fresh temporary folder (profile + the browser's TMPDIR) that is removed when
 * the session closes. Closing is bounded: when the driver's close does not finish in time, every
 * process that mentions the folder on its command line is killed with its process group (both
 * drivers start the browser as a group leader). A small watchdog shell kills them too if this
 * Node process dies without closing (a test file killed at its time bound), so no browser is ever
 * left behind.
 *
 *   const chrome = await launchChromium({ quicPort, spkiB64: spkiSha256Base64(certificatePem) });
 *   try { const r = await chrome.evaluate(url, `fetch('/x').then(r => r.status)`); } finally { await chrome.close(); }
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page as PlaywrightPage } from 'playwright-core';
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

/** Where Debian puts the binaries (override with PUREQUIC_CHROMIUM / PUREQUIC_FIREFOX). */
export const BROWSER_PATHS: Record<BrowserName, string> = {
  chromium: process.env.PUREQUIC_CHROMIUM ?? '/usr/bin/chromium',
  firefox: process.env.PUREQUIC_FIREFOX ?? '/usr/lib/firefox-esr/firefox-esr',
};
const DEBIAN_PACKAGES: Record<BrowserName, string> = { chromium: 'chromium', firefox: 'firefox-esr' };

/** Chromium starts in 0.5-1.2 s and Firefox in 3-5 s on an idle machine; leave room for load. */
const LAUNCH_TIMEOUT_MS = 45_000;
/** Bound on a driver's own close before the process group is killed. */
const CLOSE_TIMEOUT_MS = 10_000;
/** Default bound on one evaluate(): new tab, navigation, the script, closing the tab. */
const EVALUATE_TIMEOUT_MS = 30_000;

/** Whether CI runs us: there, a missing browser is a failure, not a skip (CI installs them). */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** The browser binary, or why it is unavailable. */
export function browserAvailability(name: BrowserName): { ok: true; path: string } | { ok: false; reason: string } {
  const path = BROWSER_PATHS[name];
  if (existsSync(path)) return { ok: true, path };
  return { ok: false, reason: `${name} absent: ${path} not found (Debian package ${DEBIAN_PACKAGES[name]}; run .ci/browsers.sh)` };
}

/**
 * Gate for a suite that needs some external programs: returns whether to run it. Outside CI a
 * missing one prints why and the suite is skipped; in CI (CI=true) it prints why and runs anyway,
 * so the launch fails and the suite counts as failed (CI installs every program these suites use).
 */
export function requirePrograms(suite: string, missing: string[]): boolean {
  if (missing.length === 0) return true;
  if (IN_CI) {
    console.log(`FAIL ${suite}: ${missing.join('; ')} — CI must install it (.ci/run)`);
    return true;
  }
  console.log(`SKIP ${suite}: ${missing.join('; ')}`);
  return false;
}

/** The reasons the given browsers are unavailable (empty when all are installed). */
export function missingBrowsers(names: BrowserName[]): string[] {
  const reasons: string[] = [];
  for (const name of names) {
    const found = browserAvailability(name);
    if (!found.ok) reasons.push(found.reason);
  }
  return reasons;
}

/**
 * Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (DER): the value Chromium's
 * `--ignore-certificate-errors-spki-list` takes.
 */
export function spkiSha256Base64(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** SHA-256 of the certificate's DER: the value WebTransport's `serverCertificateHashes` takes. */
export function certificateSha256(certificatePem: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(new X509Certificate(certificatePem).raw).digest());
}

/** One running browser. */
export interface BrowserSession {
  readonly name: BrowserName;
  /** Time the launch took, ms. */
  readonly launchMs: number;
  /** Console messages and page errors of every tab so far, oldest first (for failure messages). */
  readonly log: string[];
  /**
   * Opens `url` in a new tab, waits for its load event, evaluates `expression` (JavaScript source
   * of an expression; a promise is awaited) in the page and returns its value through JSON. The
   * tab is closed afterwards. Rejects (with the page's console tail) after `timeoutMs`.
   */
  evaluate<T = unknown>(url: string, expression: string, options?: { timeoutMs?: number; screenshotPath?: string }): Promise<T>;
  /** Closes the browser; bounded, idempotent, never throws; the temporary folder is removed. */
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /** Forces QUIC (HTTP/3) for the origin https://127.0.0.1:quicPort. */
  quicPort?: number;
  /** Base64 SHA-256 SPKI pin(s) of self-signed certificates to accept (spkiSha256Base64). */
  spkiB64?: string | string[];
  extraArgs?: string[];
}

/** Launches headless Chromium (playwright-core, persistent context on a fresh profile). */
export async function launchChromium(options: ChromiumOptions = {}): Promise<BrowserSession> {
  const found = browserAvailability('chromium');
  if (!found.ok) throw new Error(found.reason);
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    // Without these Chromium floods the closed network with refused connects.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--enable-quic',
  ];
  // 127.0.0.1, not localhost: Chromium tries ::1 first for localhost.
  if (options.quicPort !== undefined) args.push(`--origin-to-force-quic-on=127.0.0.1:${options.quicPort}`);
  const pins = options.spkiB64 === undefined ? [] : Array.isArray(options.spkiB64) ? options.spkiB64 : [options.spkiB64];
  if (pins.length > 0) args.push(`--ignore-certificate-errors-spki-list=${pins.join(',')}`);
  args.push(...(options.extraArgs ?? []));

  const guard = new ProcessGuard('chromium');
  const started = performance.now();
  let context: BrowserContext | undefined;
  try {
    // A fresh profile must come through launchPersistentContext: Playwright refuses --user-data-dir.
    context = await withTimeout(
      chromium.launchPersistentContext(guard.profileDir, {
        executablePath: found.path,
        headless: true,
        args,
        env: { ...process.env, TMPDIR: guard.tmpDir },
        timeout: LAUNCH_TIMEOUT_MS,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      }),
      LAUNCH_TIMEOUT_MS + 5_000,
      'launching Chromium',
    );
  } catch (error) {
    await guard.dispose(async () => {});
    throw error;
  }
  const ctx = context;
  const log: string[] = [];
  return new DriverSession('chromium', performance.now() - started, log, guard, () => ctx.close(), async () => {
    const page: PlaywrightPage = await ctx.newPage();
    page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    return {
      goto: async (url, timeoutMs) => void (await page.goto(url, { waitUntil: 'load', timeout: timeoutMs })),
      evaluate: (source) => page.evaluate(source),
      screenshot: async (path) => void (await page.screenshot({ path })),
      close: () => page.close(),
    };
  });
}

export interface FirefoxOptions {
  /**
   * Maps https://127.0.0.1:quicPort to HTTP/3 on the same port from the first request (the
   * alt-svc-mapping pref), so even the navigation goes over HTTP/3.
   */
  quicPort?: number;
  extraPrefs?: Record<string, unknown>;
}

/** Launches headless Firefox ESR (puppeteer-core, WebDriver BiDi) accepting self-signed certificates. */
export async function launchFirefox(options: FirefoxOptions = {}): Promise<BrowserSession> {
  const found = browserAvailability('firefox');
  if (!found.ok) throw new Error(found.reason);
  // All three HTTP/3 prefs and acceptInsecureCerts are needed with a self-signed certificate:
  // without any one Firefox falls back to TCP (NS_ERROR_CONNECTION_REFUSED).
  const prefs: Record<string, unknown> = {
    'network.http.http3.enable': true,
    'network.http.http3.disable_when_third_party_roots_found': false,
    ...options.extraPrefs,
  };
  // The value is "host;Alt-Svc value": the host without a port, then an h3 alternative.
  if (options.quicPort !== undefined) prefs['network.http.http3.alt-svc-mapping-for-testing'] = `127.0.0.1;h3=:${options.quicPort}`;

  const guard = new ProcessGuard('firefox');
  const started = performance.now();
  let browser: PuppeteerBrowser | undefined;
  try {
    browser = await withTimeout(
      puppeteer.launch({
        browser: 'firefox',
        executablePath: found.path,
        headless: true,
        acceptInsecureCerts: true,
        // Our own folder instead of one in os.tmpdir(), and the browser's TMPDIR inside it.
        userDataDir: guard.profileDir,
        env: { ...process.env, TMPDIR: guard.tmpDir },
        extraPrefsFirefox: prefs,
        timeout: LAUNCH_TIMEOUT_MS,
        protocolTimeout: EVALUATE_TIMEOUT_MS,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      }),
      LAUNCH_TIMEOUT_MS + 5_000,
      'launching Firefox',
    );
  } catch (error) {
    await guard.dispose(async () => {});
    throw error;
  }
  const b = browser;
  const log: string[] = [];
  return new DriverSession('firefox', performance.now() - started, log, guard, () => b.close(), async () => {
    const page: PuppeteerPage = await b.newPage();
    page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e instanceof Error ? e.message : String(e)}`));
    return {
      goto: async (url, timeoutMs) => void (await page.goto(url, { waitUntil: 'load', timeout: timeoutMs })),
      evaluate: (source) => page.evaluate(source),
      screenshot: async (path) => void (await page.screenshot({ path: path as `${string}.png` })),
      close: () => page.close(),
    };
  });
}

/** What DriverSession needs of a tab, the same for both drivers. */
interface Tab {
  goto(url: string, timeoutMs: number): Promise<void>;
  evaluate(source: string): Promise<unknown>;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

class DriverSession implements BrowserSession {
  #closing: Promise<void> | undefined;

  constructor(
    readonly name: BrowserName,
    readonly launchMs: number,
    readonly log: string[],
    private readonly guard: ProcessGuard,
    private readonly closeDriver: () => Promise<void>,
    private readonly openTab: () => Promise<Tab>,
  ) {}

  async evaluate<T>(url: string, expression: string, options: { timeoutMs?: number; screenshotPath?: string } = {}): Promise<T> {
    if (this.#closing) throw new Error(`${this.name} is closed`);
    const deadline = performance.now() + (options.timeoutMs ?? EVALUATE_TIMEOUT_MS);
    const left = (): number => Math.max(1, deadline - performance.now());
    const step = async <R>(what: string, work: Promise<R>): Promise<R> => {
      try {
        return await withTimeout(work, left(), `${this.name}: ${what}`);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- ${this.name} console (last 20)\n${this.log.slice(-20).join('\n')}`);
      }
    };
    const tab = await step('opening a tab', this.openTab());
    try {
      await step(`loading ${url}`, tab.goto(url, left()));
      // JSON both ways: the two drivers serialize results differently (undefined, Map, -0...).
      const json = await step('evaluating the script', tab.evaluate(`(async () => JSON.stringify(await (${expression})))()`));
      if (options.screenshotPath) await step('taking a screenshot', tab.screenshot(options.screenshotPath));
      return (typeof json === 'string' ? JSON.parse(json) : json) as T;
    } finally {
      await withTimeout(tab.close(), 5_000, `${this.name}: closing the tab`).catch(() => {});
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.guard.dispose(this.closeDriver);
    return this.#closing;
  }
}

/**
 * Owns one launch's temporary folder and makes sure no process using it survives: see the file
 * comment. Processes are found by the folder's path on their command line (the profile argument),
 * so only browsers this guard launched are ever killed.
 */
class ProcessGuard {
  readonly root: string;
  readonly profileDir: string;
  readonly tmpDir: string;
  readonly #watchdog: ChildProcess;
  #disposed = false;

  constructor(name: BrowserName) {
    this.root = mkdtempSync(join(tmpdir(), `purequic-${name}-`));
    this.profileDir = join(this.root, 'profile');
    this.tmpDir = join(this.root, 'tmp');
    mkdirSync(this.profileDir);
    mkdirSync(this.tmpDir);
    // The folder goes in the environment, not argv, so the watchdog never matches itself.
    const script = [
      'while kill -0 "$PARENT_PID" 2>/dev/null; do sleep 1; done',
      'for f in /proc/[0-9]*/cmdline; do',
      '  pid=${f#/proc/}; pid=${pid%/cmdline}',
      '  if grep -qaF -- "$GUARD_ROOT" "$f" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; fi',
      'done',
      'sleep 1; rm -rf -- "$GUARD_ROOT"',
    ].join('\n');
    this.#watchdog = spawn('/bin/sh', ['-c', script], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PARENT_PID: String(process.pid), GUARD_ROOT: this.root },
    });
    this.#watchdog.on('error', () => {});
    this.#watchdog.unref();
  }

  /** Runs the driver's close (bounded), kills whatever is left, removes the folder. Never throws. */
  async dispose(closeDriver: () => Promise<void>): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await withTimeout(closeDriver(), CLOSE_TIMEOUT_MS, 'closing the browser').catch(() => {});
    // Both drivers spawn the browser detached, so each browser process leads its own group;
    // killing the group also takes its content/renderer processes.
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = this.#processes();
      if (pids.length === 0) break;
      for (const pid of pids) {
        killQuietly(-pid);
        killQuietly(pid);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The watchdog leads its own group too (its `sleep` goes with it).
    if (this.#watchdog.pid !== undefined) killQuietly(-this.#watchdog.pid);
    rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }

  /** Live processes (not zombies) whose command line mentions our folder. */
  #processes(): number[] {
    const found: number[] = [];
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      return found;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === process.pid) continue;
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(this.root)) found.push(pid);
      } catch {
        // Gone meanwhile.
      }
    }
    return found;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone (ESRCH), or not a group leader.
  }
}

/** `work`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** What `fetchProbeScript` reports. */
export interface FetchProbe {
  status: number;
  body: string;
  /** The page's own navigation entry (e.g. 'h3', 'http/1.1'). */
  pageProtocol: string | null;
  /** The fetch's resource entry; null when the browser recorded none. */
  fetchProtocol: string | null;
}

/**
 * Page script (for `evaluate`): fetches `path` relative to the page, bypassing the cache, and
 * reports the status, the body text and the protocol of the page and of that fetch. Resource
 * entries are matched by URL (the tab also fetches /favicon.ico); the entry is waited for (up to
 * 2 s) because browsers add it asynchronously.
 */
export function fetchProbeScript(path: string): string {
  return `(async () => {
    const url = new URL(${JSON.stringify(path)}, location.href).href;
    const response = await fetch(url, { cache: 'no-store' });
    const body = await response.text();
    let entry;
    for (let i = 0; i < 100 && !entry; i++) {
      entry = performance.getEntriesByType('resource').find((e) => e.name === url);
      if (!entry) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const page = performance.getEntriesByType('navigation')[0];
    return { status: response.status, body, pageProtocol: page ? page.nextHopProtocol : null, fetchProtocol: entry ? entry.nextHopProtocol : null };
  })()`;
}

/** What `downloadProbeScript` reports. */
export interface DownloadProbe {
  status: number;
  length: number;
  /** Hex SHA-256 of the body, computed in the page with crypto.subtle.digest. */
  sha256: string;
  fetchProtocol: string | null;
}

/** Page script: downloads `path` whole, hashes it in the page (SHA-256, hex) and reports the protocol. */
export function downloadProbeScript(path: string): string {
  return `(async () => {
    const url = new URL(${JSON.stringify(path)}, location.href).href;
    const response = await fetch(url, { cache: 'no-store' });
    const body = await response.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    let entry;
    for (let i = 0; i < 100 && !entry; i++) {
      entry = performance.getEntriesByType('resource').find((e) => e.name === url);
      if (!entry) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { status: response.status, length: body.byteLength, sha256, fetchProtocol: entry ? entry.nextHopProtocol : null };
  })()`;
}

/** What `parallelFetchScript` reports. */
export interface ParallelProbe {
  /** One per path, in order: status and body text, or the error's message. */
  results: Array<{ status: number; body: string } | { error: string }>;
  /** nextHopProtocol of each path's resource entry ('' when missing). */
  protocols: string[];
}

/** Page script: fetches every path at once (Promise.all) and reports each outcome and protocol. */
export function parallelFetchScript(paths: string[]): string {
  return `(async () => {
    performance.setResourceTimingBufferSize(${paths.length + 50});
    const urls = ${JSON.stringify(paths)}.map((p) => new URL(p, location.href).href);
    const results = await Promise.all(urls.map((url) =>
      fetch(url, { cache: 'no-store' }).then(
        async (response) => ({ status: response.status, body: await response.text() }),
        (error) => ({ error: String(error && error.message || error) }))));
    let protocols = [];
    for (let i = 0; i < 100; i++) {
      const entries = performance.getEntriesByType('resource');
      protocols = urls.map((url) => { const e = entries.find((x) => x.name === url); return e ? e.nextHopProtocol : ''; });
      if (!protocols.includes('')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { results, protocols };
  })()`;
}
