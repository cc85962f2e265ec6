// Server CPU per request with and without policies, on ONE Trove server: short alternating
// bursts of 4 KiB GETs (or PUTs) as the root user on a bucket without policies, and as an IAM
// user with 5 identity policies on a bucket with a 20-statement policy (bench/scenarios/authz.ts).
// CPU-seconds per operation barely move with other load on the machine, unlike throughput, so
// this is how to compare the two paths on a busy machine. Run:
//   npx tsc -p . && node dist/bench/authzcpu.js [--op get|put] [--rounds 10] [--count 3000]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { load, createBucket, putBucketPolicy, iamUserWithPolicies } from './lib/jobs.js';
import { startTrove } from './lib/servers.js';
import { twentyStatements } from './scenarios/authz.js';

const { values } = parseArgs({ options: { op: { type: 'string', default: 'get' }, rounds: { type: 'string', default: '10' }, count: { type: 'string', default: '3000' }, cpu: { type: 'string', default: '0' }, args: { type: 'string', default: '' }, only: { type: 'string' }, prof: { type: 'string' } } });
const op = values.op as 'get' | 'put';
const rounds = Number(values.rounds);
const count = Number(values.count);
const dir = mkdtempSync(path.join(os.tmpdir(), 'authzcpu-'));
const server = await startTrove({ cpu: values.cpu!, dataDir: dir, args: values.args ? values.args.split(' ') : [], ...(values.prof ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${values.prof}`] } : {}) });
try {
  const root = server.endpoint;
  await createBucket({ endpoint: root, bucket: 'plain' });
  await createBucket({ endpoint: root, bucket: 'pol' });
  await putBucketPolicy({ endpoint: root, bucket: 'pol', policy: twentyStatements('pol') });
  const user = { ...root, ...(await iamUserWithPolicies({ endpoint: root, user: 'bench', bucket: 'pol' })) };
  const keys = { kind: 'seq' as const, prefix: 'obj/', count: 1000 };
  await load({ endpoint: root, op: 'put', bucket: 'plain', size: 4096, concurrency: 16, count: 1000, keys });
  await load({ endpoint: user, op: 'put', bucket: 'pol', size: 4096, concurrency: 16, count: 1000, keys });
  const runs: Record<string, number[]> = { plain: [], pol: [], rootpol: [] };
  for (let r = 0; r < rounds; r++) {
    for (const which of (r % 2 ? ['pol', 'rootpol', 'plain'] : ['plain', 'rootpol', 'pol']).filter((w) => !values.only || w === values.only)) {
      const endpoint = which === 'pol' ? user : root;
      const k = op === 'get' ? keys : { kind: 'seq' as const, prefix: `r${r}/`, count };
      const res = await load({ endpoint, op, bucket: which === 'rootpol' ? 'pol' : which, size: 4096, concurrency: 16, count, keys: k, serverPids: [server.pid] });
      if (res.errors) throw new Error(`${which}: ${res.firstError}`);
      runs[which]!.push((res.serverCpuSec! / res.ops) * 1e6);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const p = runs.plain!.length ? median(runs.plain!) : NaN;
  const q = runs.pol!.length ? median(runs.pol!) : NaN;
  console.log(`${op} 4KiB server CPU µs/op: plain ${p.toFixed(1)}  policies ${q.toFixed(1)}  (+${(((q - p) / p) * 100).toFixed(1)} %)`);
  console.log(`  plain rounds: ${runs.plain!.map((x) => x.toFixed(0)).join(' ')}`);
  if (runs.rootpol!.length) console.log(`  root on the policy bucket: ${median(runs.rootpol!).toFixed(1)} µs/op`);
  console.log(`  pol rounds:   ${runs.pol!.map((x) => x.toFixed(0)).join(' ')}`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
