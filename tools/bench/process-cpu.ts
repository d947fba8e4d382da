/**
 * CPU time of a process as the OS counts it (/proc/<pid>/stat utime + stime: every thread, GC
 * and JIT included), which holds up better than wall time on a shared machine.
 */

import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's time fields (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** utime + stime of process `pid`, in seconds; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/stat`);
}

/** utime + stime of one thread (`tid` = `pid`: the main thread, the event loop's), in seconds. */
export function threadCpuSeconds(pid: number, tid: number): number | undefined {
  return cpuSecondsOf(`/proc/${pid}/task/${tid}/stat`);
}

function cpuSecondsOf(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'latin1');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
