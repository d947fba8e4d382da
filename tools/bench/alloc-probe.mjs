// Loaded with `node --import` into a profiled Node side (profile.bench.ts with BENCH_ALLOC=1):
// V8's sampling heap profiler, counting objects the young- and old-generation collections
// already freed, so the profile shows where the bytes behind the GC count are allocated, not
// only what is still live. Written at exit to $ALLOC_PROFILE_DIR/<pid>.heapprofile.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.ALLOC_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  process.on('exit', () => {
    // An in-process session answers synchronously: the profile is written before exit.
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.env.ROLE ?? 'node'}-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
