// The load-client process. The orchestrator starts it pinned to the client core
// (`taskset -c <cpu> node dist/bench/lib/client-main.js`), writes one job as JSON on stdin
// ({ module, fn, args }; module relative to dist/bench/), and reads the result as JSON from the
// last line of stdout.

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const job = JSON.parse(await readStdin()) as { module: string; fn: string; args: unknown };
  const mod = (await import(new URL('../' + job.module, import.meta.url).href)) as Record<string, unknown>;
  const fn = mod[job.fn];
  if (typeof fn !== 'function') throw new Error(`${job.module} has no function ${job.fn}`);
  const result: unknown = await (fn as (a: unknown) => Promise<unknown>)(job.args);
  process.stdout.write('\n' + JSON.stringify(result) + '\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench client: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
