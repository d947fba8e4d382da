#!/usr/bin/env node
// Launcher for the `purequic` command: runs the TypeScript CLI with tsx and the workspace's
// source condition (the packages resolve to their sources inside the checkout). Signals are
// passed on, so Ctrl-C and SIGTERM stop the CLI itself, not only this launcher.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('./purequic.ts', import.meta.url));
const child = spawn(process.execPath, ['--conditions=@purequic/source', '--import', 'tsx', cli, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
