// `trove admin policy …` and `trove admin drive`: the text the commands print.

import type { MetaStore } from '../store/meta/types.js';
import type { DrivesBlobStore } from '../store/blob/drives.js';
import { formatPolicySpec, overhead, tolerates, width, writeQuorum } from '../store/blob/policy.js';
import { StoragePolicies, PolicyError } from './policies.js';
import { HEAL_KIND, SCRUB_SETTING, type ScrubProgress } from './service.js';

export { PolicyError };

/** trove admin policy add NAME SPEC | list | remove NAME | default NAME */
export async function policyCommand(meta: MetaStore, drives: number, verb: string, args: string[]): Promise<string> {
  const reg = new StoragePolicies(meta, drives);
  if (verb === 'add') {
    if (args.length < 2) throw new PolicyError('trove admin policy add NAME "replicas N" | "ec K+M"');
    const p = await reg.add(args[0]!, args.slice(1).join(' '));
    const note = width(p.spec) > drives ? `\nnote: it needs ${width(p.spec)} drives; --data-dirs names ${drives}` : '';
    return `added policy ${p.name}: ${formatPolicySpec(p.spec)}${note}\n`;
  }
  if (verb === 'remove') {
    if (args.length !== 1) throw new PolicyError('trove admin policy remove NAME');
    await reg.remove(args[0]!);
    return `removed policy ${args[0]}\n`;
  }
  if (verb === 'default') {
    if (args.length !== 1) throw new PolicyError('trove admin policy default NAME (or single)');
    await reg.setDefault(args[0]!);
    return `new buckets get policy ${args[0]}\n`;
  }
  if (verb === 'list') {
    const { policies, default: def } = await reg.list();
    let s = `${'name'.padEnd(20)} ${'layout'.padEnd(14)} ${'drives'.padStart(6)} ${'quorum'.padStart(6)} ${'tolerates'.padStart(9)} ${'space'.padStart(6)}\n`;
    s += `${('single' + (def === 'single' ? ' *' : '')).padEnd(20)} ${'one file'.padEnd(14)} ${'-'.padStart(6)} ${'1'.padStart(6)} ${'0'.padStart(9)} ${'1.00x'.padStart(6)}\n`;
    for (const p of policies) {
      s += `${(p.name + (def === p.name ? ' *' : '')).padEnd(20)} ${formatPolicySpec(p.spec).padEnd(14)} ${String(width(p.spec)).padStart(6)} ${String(writeQuorum(p.spec)).padStart(6)} ${String(tolerates(p.spec)).padStart(9)} ${(overhead(p.spec).toFixed(2) + 'x').padStart(6)}\n`;
    }
    return s + '(* the default for new buckets)\n';
  }
  throw new PolicyError('trove admin policy add|list|remove|default');
}

/** trove admin drive: each drive's health and usage, the heal queue and the scrubber's progress. */
export async function driveCommand(meta: MetaStore, blobs: DrivesBlobStore, json: boolean): Promise<string> {
  const drives = await blobs.status();
  const work = (await meta.workStats()).kinds.find((k) => k.kind === HEAL_KIND);
  const raw = await meta.getSetting(SCRUB_SETTING);
  const scrub = raw ? (JSON.parse(raw) as ScrubProgress) : undefined;
  if (json) return JSON.stringify({ drives, heal: { queued: work?.depth ?? 0, failing: work?.failing ?? 0 }, scrub }, null, 2) + '\n';
  if (drives.length === 0) return 'no drives (--data-dirs / TROVE_DATA_DIRS): every bucket stores one copy in --data-dir\n';
  const gib = (n: number | undefined) => (n === undefined ? '-' : (n / 2 ** 30).toFixed(1));
  let s = `${'drive'.padEnd(5)} ${'state'.padEnd(13)} ${'files'.padStart(8)} ${'used GiB'.padStart(9)} ${'free GiB'.padStart(9)}  path\n`;
  for (const d of drives) {
    const state = !d.online ? 'OFFLINE' : d.needsHeal ? 'rebuilding' : 'ok';
    s += `${String(d.index).padEnd(5)} ${state.padEnd(13)} ${String(d.files ?? '-').padStart(8)} ${gib(d.total !== undefined && d.free !== undefined ? d.total - d.free : undefined).padStart(9)} ${gib(d.free).padStart(9)}  ${d.root}${d.error ? `  (${d.error})` : ''}\n`;
  }
  s += `heal queue: ${work?.depth ?? 0} blob(s)${work?.failing ? `, ${work.failing} failing (offline drives?)` : ''}\n`;
  if (scrub) {
    const when = (t: number) => new Date(t).toISOString();
    const state = scrub.finishedAt !== undefined ? `finished ${when(scrub.finishedAt)}` : `running: drive ${scrub.drive}/${scrub.drives}, directory ${scrub.dir + 1}/256`;
    s += `scrub (${scrub.reason}) started ${when(scrub.startedAt)}, ${state}: ${scrub.blobs} blobs, ${(scrub.bytes / 2 ** 20).toFixed(1)} MiB read, ${scrub.damaged} damaged shard(s), ${scrub.healed} healed, ${scrub.offline} on offline drives, ${scrub.lost} blob(s) lost\n`;
  } else s += 'scrub: no pass yet\n';
  return s;
}
