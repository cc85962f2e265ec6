// Usage reports: what billing and chargeback read. A query (period, granularity, filters, format)
// becomes a report of requests (by operation class) and stored bytes (by storage class) per
// account, bucket and user, per hour or per UTC day, as JSON or CSV.
//
// The function to mount (GET /admin/v1/usage/reports, the CLI's `trove admin usage report`):
//   const q = parseUsageQuery(params);            // UsageQueryError (→ 400) when invalid
//   const { contentType, body } = await usageReport(deps, q);
// Its shapes are the types below and, for an OpenAPI document, USAGE_QUERY_PARAMETERS and
// USAGE_REPORT_SCHEMA.

import type { MetaStore, UsageRequestRow, UsageStorageRow } from '../store/meta/types.js';
import { OPERATION_CLASSES, type OperationClass } from './classes.js';
import { HOUR_MS } from './recorder.js';

const DAY_MS = 24 * HOUR_MS;
/** A report covers at most this many days (a bound on the rows read at once). */
export const MAX_REPORT_DAYS = 366;

export type UsageGranularity = 'hour' | 'day';
export type UsageFormat = 'json' | 'csv';

export interface UsageQuery {
  /** Start of the period (ms since epoch), rounded down to its hour (day with granularity day). */
  from: number;
  /** End of the period (ms since epoch, exclusive), rounded up likewise. */
  to: number;
  /** Only this account: its 12-digit account id (or canonical id). */
  account?: string;
  /** Only this bucket. */
  bucket?: string;
  /** Only this caller's requests (its ARN, or 'anonymous'); storage is then left out (it is not per user). */
  user?: string;
  granularity: UsageGranularity;
  format: UsageFormat;
}

export interface UsageRequestEntry {
  /** Start of the hour or UTC day (ISO 8601). */
  period: string;
  /** The 12-digit account id billed: the bucket owner's ('' for anonymous requests without a bucket). */
  account: string;
  /** '' for requests that addressed no existing bucket (ListBuckets, refused requests). */
  bucket: string;
  /** The caller's ARN (a role session: its role's), or 'anonymous'. */
  user: string;
  class: OperationClass;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  bytesIn: number;
  bytesOut: number;
}

export interface UsageStorageEntry {
  period: string;
  account: string;
  bucket: string;
  storageClass: string;
  /** Stored bytes (every version, delete markers aside) at the period's last snapshot. */
  bytes: number;
  /** Object versions at the period's last snapshot. */
  objects: number;
  /** Sum over the period's hourly snapshots of the bytes stored (GB-months = byteHours / 2^30 / hours in the month). */
  byteHours: number;
  /** Hourly snapshots the period has (24 for a whole day, fewer if the server was down). */
  snapshots: number;
}

export interface UsageReport {
  from: string;
  to: string;
  granularity: UsageGranularity;
  filters: { account?: string; bucket?: string; user?: string };
  requests: UsageRequestEntry[];
  storage: UsageStorageEntry[];
}

export class UsageQueryError extends Error {}

/** What a report needs: the store, and a canonical id's 12-digit account id. */
export interface UsageDeps {
  meta: Pick<MetaStore, 'listUsage' | 'getAccount' | 'getAccountById'>;
}

function time(name: string, v: string): number {
  // An ISO 8601 date or date-time, or ms since epoch.
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new UsageQueryError(`${name} must be an ISO 8601 date/time or milliseconds since the epoch, got "${v}"`);
  return t;
}

/**
 * A query from request parameters (from, to, account, bucket, user, granularity, format): from and
 * to default to the last 24 hours; granularity to hour; format to json.
 */
export function parseUsageQuery(params: URLSearchParams | Record<string, string | undefined>, now = Date.now()): UsageQuery {
  const get = (k: string): string | undefined => (params instanceof URLSearchParams ? (params.get(k) ?? undefined) : params[k]) || undefined;
  for (const k of params instanceof URLSearchParams ? params.keys() : Object.keys(params)) {
    if (!QUERY_KEYS.includes(k)) throw new UsageQueryError(`unknown parameter "${k}" (known: ${QUERY_KEYS.join(', ')})`);
  }
  const granularity = (get('granularity') ?? 'hour') as UsageGranularity;
  if (granularity !== 'hour' && granularity !== 'day') throw new UsageQueryError(`granularity must be hour or day, got "${granularity}"`);
  const format = (get('format') ?? 'json') as UsageFormat;
  if (format !== 'json' && format !== 'csv') throw new UsageQueryError(`format must be json or csv, got "${format}"`);
  const to = get('to') !== undefined ? time('to', get('to')!) : now;
  const from = get('from') !== undefined ? time('from', get('from')!) : to - DAY_MS;
  const q: UsageQuery = { from, to, granularity, format };
  const account = get('account');
  if (account !== undefined) {
    if (!/^\d{12}$/.test(account) && !/^[0-9a-f]{64}$/.test(account)) throw new UsageQueryError('account must be a 12-digit account id (or a 64-hex canonical id)');
    q.account = account;
  }
  if (get('bucket') !== undefined) q.bucket = get('bucket')!;
  if (get('user') !== undefined) q.user = get('user')!;
  return normalize(q);
}

const QUERY_KEYS = ['from', 'to', 'account', 'bucket', 'user', 'granularity', 'format'];

/** Rounds the period to whole periods and checks it. */
function normalize(q: UsageQuery): UsageQuery {
  const step = q.granularity === 'day' ? DAY_MS : HOUR_MS;
  const floor = (t: number) => t - (((t % step) + step) % step);
  const from = floor(q.from);
  const to = floor(q.to) === q.to ? q.to : floor(q.to) + step;
  if (!(to > from)) throw new UsageQueryError('to must be after from');
  if (to - from > MAX_REPORT_DAYS * DAY_MS) throw new UsageQueryError(`a report covers at most ${MAX_REPORT_DAYS} days`);
  return { ...q, from, to };
}

/** The report of a query (see parseUsageQuery), as data. */
export async function queryUsage(deps: UsageDeps, query: UsageQuery): Promise<UsageReport> {
  const q = normalize(query);
  const step = q.granularity === 'day' ? DAY_MS : HOUR_MS;
  let canonical: string | undefined;
  if (q.account !== undefined) {
    canonical = /^\d{12}$/.test(q.account) ? (await deps.meta.getAccountById(q.account))?.id : q.account;
    if (canonical === undefined) throw new UsageQueryError(`no account ${q.account}`);
  }
  const rows = await deps.meta.listUsage({
    from: q.from,
    to: q.to,
    ...(canonical !== undefined ? { account: canonical } : {}),
    ...(q.bucket !== undefined ? { bucket: q.bucket } : {}),
    ...(q.user !== undefined ? { principal: q.user } : {}),
  });
  const ids = new Map<string, string>();
  const accountId = async (c: string): Promise<string> => {
    if (c === '') return '';
    let a = ids.get(c);
    if (a === undefined) {
      a = (await deps.meta.getAccount(c))?.accountId ?? c;
      ids.set(c, a);
    }
    return a;
  };
  const periodOf = (hour: number) => hour - (((hour % step) + step) % step);

  // Requests: summed per (period, account, bucket, user, class).
  const req = new Map<string, UsageRequestEntry & { at: number }>();
  for (const r of rows.requests) {
    const at = periodOf(r.hour);
    const k = `${at}\n${r.account}\n${r.bucket}\n${r.principal}\n${r.opClass}`;
    let e = req.get(k);
    if (!e) {
      e = { at, period: '', account: r.account, bucket: r.bucket, user: r.principal, class: r.opClass as OperationClass, requests: 0, errors4xx: 0, errors5xx: 0, bytesIn: 0, bytesOut: 0 };
      req.set(k, e);
    }
    addRequests(e, r);
  }
  // Storage: per (period, account, bucket, class): the last snapshot's figures, byte-hours summed.
  const sto = new Map<string, UsageStorageEntry & { at: number; last: number }>();
  const storageRows = q.user !== undefined ? [] : rows.storage;
  for (const r of storageRows) {
    const at = periodOf(r.hour);
    const k = `${at}\n${r.account}\n${r.bucket}\n${r.storageClass}`;
    let e = sto.get(k);
    if (!e) {
      e = { at, last: -Infinity, period: '', account: r.account, bucket: r.bucket, storageClass: r.storageClass, bytes: 0, objects: 0, byteHours: 0, snapshots: 0 };
      sto.set(k, e);
    }
    addStorage(e, r);
  }
  const requests: UsageRequestEntry[] = [];
  for (const { at, ...e } of req.values()) requests.push({ ...e, period: new Date(at).toISOString(), account: await accountId(e.account) });
  const storage: UsageStorageEntry[] = [];
  for (const { at, last: _last, ...e } of sto.values()) storage.push({ ...e, period: new Date(at).toISOString(), account: await accountId(e.account) });
  const classOrder = (c: string) => OPERATION_CLASSES.indexOf(c as OperationClass);
  requests.sort((a, b) => cmp(a.period, b.period) || cmp(a.account, b.account) || cmp(a.bucket, b.bucket) || cmp(a.user, b.user) || classOrder(a.class) - classOrder(b.class));
  storage.sort((a, b) => cmp(a.period, b.period) || cmp(a.account, b.account) || cmp(a.bucket, b.bucket) || cmp(a.storageClass, b.storageClass));
  return {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    granularity: q.granularity,
    filters: { ...(q.account !== undefined ? { account: q.account } : {}), ...(q.bucket !== undefined ? { bucket: q.bucket } : {}), ...(q.user !== undefined ? { user: q.user } : {}) },
    requests,
    storage,
  };
}

function addRequests(e: UsageRequestEntry, r: UsageRequestRow): void {
  e.requests += r.requests;
  e.errors4xx += r.errors4xx;
  e.errors5xx += r.errors5xx;
  e.bytesIn += r.bytesIn;
  e.bytesOut += r.bytesOut;
}

function addStorage(e: UsageStorageEntry & { last: number }, r: UsageStorageRow): void {
  e.byteHours += r.bytes;
  e.snapshots++;
  if (r.hour > e.last) {
    e.last = r.hour;
    e.bytes = r.bytes;
    e.objects = r.objects;
  }
}

/** Byte order (keys, names and ARNs compare as UTF-8 bytes everywhere). */
function cmp(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The CSV header: one row per request entry (kind "requests") or storage entry (kind "storage"). */
export const CSV_COLUMNS = [
  'period',
  'kind',
  'account',
  'bucket',
  'user',
  'class',
  'requests',
  'errors_4xx',
  'errors_5xx',
  'bytes_in',
  'bytes_out',
  'bytes',
  'objects',
  'byte_hours',
  'snapshots',
] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The report as CSV (RFC 4180, CRLF line ends, a header row): request rows (class A/B/free) first,
 * then storage rows (class: the storage class); the columns that do not apply are empty.
 */
export function usageCsv(r: UsageReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of r.requests) lines.push([e.period, 'requests', e.account, e.bucket, e.user, e.class, e.requests, e.errors4xx, e.errors5xx, e.bytesIn, e.bytesOut, '', '', '', ''].map(field).join(','));
  for (const e of r.storage) lines.push([e.period, 'storage', e.account, e.bucket, '', e.storageClass, '', '', '', '', '', e.bytes, e.objects, e.byteHours, e.snapshots].map(field).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** The report of a query in its format: what GET /admin/v1/usage/reports answers. */
export async function usageReport(deps: UsageDeps, query: UsageQuery): Promise<{ contentType: string; body: string; report: UsageReport }> {
  const report = await queryUsage(deps, query);
  return query.format === 'csv'
    ? { contentType: 'text/csv; charset=utf-8; header=present', body: usageCsv(report), report }
    : { contentType: 'application/json', body: JSON.stringify(report), report };
}

// ---- JSON Schema (draft 2020-12, as OpenAPI 3.1 embeds it) -----------------------------------------

/** The query parameters (OpenAPI parameter objects, in: query). */
export const USAGE_QUERY_PARAMETERS = [
  { name: 'from', in: 'query', required: false, description: 'Start of the period: ISO 8601 date/time or ms since epoch (default: `to` less 24 hours); rounded down to the hour (day).', schema: { type: 'string' } },
  { name: 'to', in: 'query', required: false, description: 'End of the period, exclusive (default: now); rounded up to the hour (day).', schema: { type: 'string' } },
  { name: 'account', in: 'query', required: false, description: 'Only this account (12-digit account id).', schema: { type: 'string', pattern: '^(\\d{12}|[0-9a-f]{64})$' } },
  { name: 'bucket', in: 'query', required: false, description: 'Only this bucket.', schema: { type: 'string' } },
  { name: 'user', in: 'query', required: false, description: "Only this caller's requests (its ARN, or `anonymous`); storage is then left out.", schema: { type: 'string' } },
  { name: 'granularity', in: 'query', required: false, description: 'Rows per hour or per UTC day.', schema: { type: 'string', enum: ['hour', 'day'], default: 'hour' } },
  { name: 'format', in: 'query', required: false, description: 'application/json (UsageReport) or text/csv (CSV_COLUMNS).', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
] as const;

const count = { type: 'integer', minimum: 0 } as const;
const period = { type: 'string', format: 'date-time' } as const;

/** The JSON body (format=json). */
export const USAGE_REPORT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'UsageReport',
  type: 'object',
  required: ['from', 'to', 'granularity', 'filters', 'requests', 'storage'],
  additionalProperties: false,
  properties: {
    from: period,
    to: period,
    granularity: { type: 'string', enum: ['hour', 'day'] },
    filters: { type: 'object', additionalProperties: false, properties: { account: { type: 'string' }, bucket: { type: 'string' }, user: { type: 'string' } } },
    requests: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['period', 'account', 'bucket', 'user', 'class', 'requests', 'errors4xx', 'errors5xx', 'bytesIn', 'bytesOut'],
        properties: {
          period,
          account: { type: 'string', description: "12-digit account id billed (the bucket owner's); '' for anonymous requests without a bucket" },
          bucket: { type: 'string', description: "'' for requests that addressed no existing bucket" },
          user: { type: 'string', description: "the caller's ARN (a role session: its role's), or 'anonymous'" },
          class: { type: 'string', enum: ['A', 'B', 'free'] },
          requests: count,
          errors4xx: count,
          errors5xx: count,
          bytesIn: count,
          bytesOut: count,
        },
      },
    },
    storage: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['period', 'account', 'bucket', 'storageClass', 'bytes', 'objects', 'byteHours', 'snapshots'],
        properties: { period, account: { type: 'string' }, bucket: { type: 'string' }, storageClass: { type: 'string' }, bytes: count, objects: count, byteHours: count, snapshots: count },
      },
    },
  },
} as const;
