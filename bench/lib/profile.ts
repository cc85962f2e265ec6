// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time
// and the most total (inclusive) time, as shares of the non-idle samples.
//   node dist/bench/lib/profile.js <file.cpuprofile> [top]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  frame: string;
  selfPct: number;
  totalPct: number;
}

const IDLE = new Set(['(idle)', '(program)']);

function frameName(n: ProfileNode): string {
  const f = n.callFrame;
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  let where = f.url.replace(/^file:\/\//, '');
  const nm = where.lastIndexOf('node_modules/');
  if (nm >= 0) where = where.slice(nm + 'node_modules/'.length);
  else if (where.includes('/dist/')) where = where.slice(where.indexOf('/dist/') + 1);
  return `${name} ${where}:${f.lineNumber + 1}`;
}

export function summarizeProfile(file: string, top = 20): { busySamples: number; idleSamples: number; self: FrameShare[]; total: FrameShare[] } {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfCount = new Map<string, number>();
  const totalCount = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const id of p.samples) {
    const n = byId.get(id);
    if (!n) continue;
    const name = n.callFrame.functionName;
    if (IDLE.has(name)) {
      idle++;
      continue;
    }
    busy++;
    const f = frameName(n);
    selfCount.set(f, (selfCount.get(f) ?? 0) + 1);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const fn = frameName(byId.get(cur)!);
      if (fn === '(root)' || seen.has(fn)) continue;
      seen.add(fn);
      totalCount.set(fn, (totalCount.get(fn) ?? 0) + 1);
    }
  }
  const rank = (m: Map<string, number>, other: Map<string, number>, selfFirst: boolean): FrameShare[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([frame, n]) => {
        const o = other.get(frame) ?? 0;
        const pct = (x: number) => Math.round((1000 * x) / Math.max(1, busy)) / 10;
        return selfFirst ? { frame, selfPct: pct(n), totalPct: pct(o) } : { frame, selfPct: pct(o), totalPct: pct(n) };
      });
  return { busySamples: busy, idleSamples: idle, self: rank(selfCount, totalCount, true), total: rank(totalCount, selfCount, false) };
}

export function formatSummary(file: string, top = 20): string {
  const s = summarizeProfile(file, top);
  const lines = [`${path.basename(file)}: ${s.busySamples} busy samples, ${s.idleSamples} idle`, '  self%  total%  function (by self time)'];
  for (const f of s.self) lines.push(`  ${f.selfPct.toFixed(1).padStart(5)}  ${f.totalPct.toFixed(1).padStart(6)}  ${f.frame}`);
  lines.push('  self%  total%  function (by total time)');
  for (const f of s.total) lines.push(`  ${f.selfPct.toFixed(1).padStart(5)}  ${f.totalPct.toFixed(1).padStart(6)}  ${f.frame}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/lib/profile.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatSummary(file, Number(process.argv[3] ?? 25)));
}
