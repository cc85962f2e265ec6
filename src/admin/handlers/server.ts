// The server: what it is (version, node, stores), whether it is ready, its configuration (secrets
// redacted), the stored usage, the work queue and the replication backlog.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { redact } from '../../notify/targets.js';
import { readiness } from '../../observe/endpoints.js';
import { replicationBacklog } from '../../replication/service.js';
import { AdminError } from '../errors.js';
import { RawBody, type AdminCall } from '../route.js';
import { parseUsageQuery, UsageQueryError, usageReport } from '../../usage/index.js';
import * as svc from '../service.js';

const STARTED = Date.now();

/** The package's version: package.json above this module (src/ or dist/src/). */
const VERSION = ((): string => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)), i = 0; i < 6; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'trove' && pkg.version) return pkg.version;
    } catch {
      // not here: one level up
    }
  }
  return 'unknown';
})();

export async function info(c: AdminCall) {
  const cfg = c.app.config;
  const root = await svc.rootAccount(c.app.meta);
  return {
    version: VERSION,
    node: (c.app.blobs as { nodeId?: string }).nodeId ?? cfg.nodeId ?? '',
    region: cfg.region,
    metaStore: cfg.metaUrl ? 'postgres' : 'sqlite',
    dataDir: cfg.dataDir,
    nodeVersion: process.version,
    pid: process.pid,
    startedAt: new Date(STARTED).toISOString(),
    uptimeSeconds: Math.floor((Date.now() - STARTED) / 1000),
    ...(root ? { rootAccountId: root.accountId } : {}),
  };
}

export async function health(c: AdminCall) {
  const problem = await readiness(c.app);
  return { live: true, ready: problem === undefined, ...(problem ? { problem } : {}) };
}

/** Names of configuration fields that hold secrets: never shown. */
const SECRET = /secret|masterKeyEnv|token/i;

export async function config(c: AdminCall) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.app.config)) {
    if (v === undefined) continue;
    if (SECRET.test(k) && !/File$/.test(k)) out[k] = '(set)';
    else if (typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) out[k] = redact(v).replace(/([?&](?:password|sslpassword|token|secret)[^=&]*=)[^&]*/gi, '$1…');
    else out[k] = v;
  }
  return out;
}

/** The bytes and objects stored now, by bucket and account (the quota counters). */
export async function usage(c: AdminCall) {
  return { at: new Date().toISOString(), ...(await svc.allUsage(c.app.meta)) };
}

/**
 * Hourly or daily usage reports (src/usage/report.ts): requests by operation class, bytes in and
 * out, errors and stored bytes by storage class, per account, bucket and user; JSON, or CSV with
 * format=csv.
 */
export async function usageReports(c: AdminCall) {
  let query;
  try {
    query = parseUsageQuery(c.query, c.now);
  } catch (e) {
    if (e instanceof UsageQueryError) throw AdminError.of('BadRequest', e.message);
    throw e;
  }
  const r = await usageReport({ meta: c.app.meta }, query);
  return query.format === 'csv' ? new RawBody(r.contentType, r.body) : r.report;
}

export async function work(c: AdminCall) {
  return c.app.meta.workStats();
}

export async function replication(c: AdminCall) {
  return { rules: await replicationBacklog(c.app.meta) };
}
