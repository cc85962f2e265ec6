// Key sets, described by data so that the orchestrator and the load client agree on them.

export type KeySpec =
  /** `<prefix><i>` for i in 0..count-1. */
  | { kind: 'seq'; prefix: string; count: number }
  /** `dir%03d/file%05d`: key i lives in directory floor(i / perDir) (the file number is i). */
  | { kind: 'tree'; count: number; perDir: number };

export function keyAt(spec: KeySpec, i: number): string {
  if (spec.kind === 'seq') return spec.prefix + i;
  const dir = Math.floor(i / spec.perDir);
  return `dir${String(dir).padStart(3, '0')}/file${String(i).padStart(5, '0')}`;
}
