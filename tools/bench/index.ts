/**
 * Runs the benchmarks: every `tools/bench/*.bench.ts` file, each default-exporting
 * `async function run(filter?: string): Promise<void>` that prints its own table.
 *
 *   pnpm bench                          every file, every case
 *   pnpm bench -- packet                files whose name contains "packet"
 *   pnpm bench -- packet chacha         those files, only cases whose name contains "chacha"
 *   pnpm bench -- chacha                no file is named so: every file, cases matching "chacha"
 *
 * Words that match a file name select files; the other words are handed to `run` as its case
 * filter. Benchmarks run one after another in this process (the machine has few cores).
 */

import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

interface BenchModule {
  default: (filter?: string) => Promise<void>;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const words = process.argv.slice(2).filter((a) => a !== '--' && !a.startsWith('--'));
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts'))
  .sort();

const fileWords = words.filter((w) => files.some((f) => f.includes(w)));
const caseWords = words.filter((w) => !fileWords.includes(w));
const selected = fileWords.length === 0 ? files : files.filter((f) => fileWords.some((w) => f.includes(w)));
const filter = caseWords.length > 0 ? caseWords.join(' ') : undefined;

async function main(): Promise<void> {
  if (selected.length === 0) {
    console.log(`no benchmark files in ${dir}`);
    return;
  }
  console.log(`node ${process.version}, ${process.platform}/${process.arch}${filter ? `, cases matching "${filter}"` : ''}`);
  for (const file of selected) {
    console.log(`\n== ${file}`);
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as BenchModule;
    if (typeof mod.default !== 'function') throw new Error(`${file} has no default export run(filter?)`);
    await mod.default(filter);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
