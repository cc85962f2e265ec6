// Static website hosting, as S3's website endpoints: a bucket with a website configuration is
// served to anonymous browsers — index documents for "directories", routing rules and object
// redirects, a custom error document — with HTML error pages instead of XML. Two ways in:
//   <bucket>.<website-domain> on the S3 listener (--website-domain), and
//   a listener of its own, path-style /<bucket>/<key> (--website-address), for local use.
// Objects are read through the S3 API's own GetObject/HeadObject and authorisation pass, as an
// anonymous caller: only what a bucket policy or an ACL makes public is served.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html

import http, { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { App } from '../app.js';
import type { WebsiteConfig, RoutingRule } from '../s3/bucket/config/website.js';
import { matchRoutingRule } from '../s3/bucket/config/website.js';
import { S3Error, isS3Error } from '../s3/errors.js';
import type { S3Response } from '../s3/handler.js';
import { escapeXml } from '../s3/xml.js';
import type { Bucket } from '../store/meta/types.js';
import { RequestBody } from './body.js';
import { actualCorsHeaders, preflight } from './cors.js';
import { HOST_ID, nextRequestId, parseRequest } from './request.js';
import { sendResponse, type ResponseState } from './respond.js';
import { readAnonymously } from './server.js';

/** Whether a Host header names a website endpoint (`<bucket>.<website-domain>`). */
export function isWebsiteHost(host: string | undefined, domains: readonly string[]): boolean {
  if (!host || domains.length === 0) return false;
  let h = host.toLowerCase();
  if (h.startsWith('[')) return false;
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  return domains.some((d) => h.length > d.length + 1 && h.endsWith('.' + d));
}

/** What the website endpoint does with one request. */
type Outcome = { kind: 'object'; response: S3Response; status?: number; error?: S3Error } | { kind: 'redirect'; status: number; location: string } | { kind: 'error'; err: S3Error; errorDocumentErr?: S3Error };

interface Target {
  bucket: string;
  key: string;
  /** Served path-style (/<bucket>/<key>): redirects within the site keep the bucket in the path. */
  pathStyle: boolean;
}

export interface WebsiteNote {
  op: string;
  err?: string;
}

/** Serves one website request (S3 listener with a website Host, or the website listener). */
export async function serveWebsite(app: App, req: IncomingMessage, res: ServerResponse, state: ResponseState, raw: RequestBody, pathStyle: boolean, note: WebsiteNote): Promise<void> {
  const method = req.method ?? 'GET';
  let target: Target = { bucket: '', key: '', pathStyle };
  try {
    const parsed = parseRequest(req, pathStyle ? [] : app.config.websiteDomains);
    target = { bucket: parsed.bucket, key: parsed.key, pathStyle };
    if (req.headers.origin !== undefined && method !== 'OPTIONS' && target.bucket) state.cors = await actualCorsHeaders(app, req, target.bucket);
    if (method === 'OPTIONS') {
      note.op = 'WebsitePreflightCORS';
      await sendResponse(res, method, await preflight(app, req, target.bucket, target.key), state, app.log);
      return;
    }
    const outcome = await resolve(app, req, res, raw, state, target);
    await write(app, req, res, state, outcome, note);
  } catch (e) {
    const err = isS3Error(e) ? e : internal(app, e, state.requestId);
    await write(app, req, res, state, { kind: 'error', err }, note);
  }
}

function internal(app: App, e: unknown, requestId: string): S3Error {
  app.log.error({ err: e, req: requestId }, 'internal error (website)');
  return new S3Error('InternalError');
}

async function resolve(app: App, req: IncomingMessage, res: ServerResponse, raw: RequestBody, state: ResponseState, t: Target): Promise<Outcome> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    return { kind: 'error', err: new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: 'OBJECT' }, { Allow: 'GET, HEAD' }) };
  }
  if (!t.bucket) return { kind: 'error', err: new S3Error('NoSuchBucket', undefined, { BucketName: '' }) };
  const bucket = await app.meta.getBucket(t.bucket);
  if (!bucket) return { kind: 'error', err: new S3Error('NoSuchBucket', undefined, { BucketName: t.bucket }) };
  const config = await app.bucketWebsite.get(bucket);
  if (!config) return { kind: 'error', err: new S3Error('NoSuchWebsiteConfiguration', undefined, { BucketName: t.bucket }) };
  if (config.redirectAll) {
    const r = config.redirectAll;
    return { kind: 'redirect', status: 301, location: `${r.protocol ?? 'http'}://${r.hostName}${encodePath('/' + t.key)}` };
  }
  const before = matchRoutingRule(config.rules, t.key);
  if (before) return redirectFor(req, t, before);

  const read = (key: string, m: 'GET' | 'HEAD' = method as 'GET' | 'HEAD') => readAnonymously(app, req, res, raw, state.requestId, m, bucket, key);
  const suffix = config.indexSuffix ?? 'index.html';
  const isDir = t.key === '' || t.key.endsWith('/');
  const objectKey = isDir ? t.key + suffix : t.key;
  try {
    const response = await read(objectKey);
    const target = response.headers?.['x-amz-website-redirect-location'];
    if (target !== undefined) {
      closeBody(response);
      return { kind: 'redirect', status: 301, location: String(target) };
    }
    return { kind: 'object', response };
  } catch (e) {
    if (!isS3Error(e)) throw e;
    // 304 Not Modified is not an error to the browser.
    if (e.status === 304) return { kind: 'error', err: e };
    // "/docs" where "docs/index.html" exists: 302 to "/docs/".
    if (!isDir && (e.code === 'NoSuchKey' || e.code === 'AccessDenied') && (await exists(app, bucket, `${t.key}/${suffix}`))) {
      return { kind: 'redirect', status: 302, location: encodePath((t.pathStyle ? `/${t.bucket}/` : '/') + t.key + '/') };
    }
    const after = matchRoutingRule(config.rules, t.key, e.status);
    if (after) return redirectFor(req, t, after);
    return errorDocument(config, e, read);
  }
}

async function exists(app: App, bucket: Bucket, key: string): Promise<boolean> {
  const v = await app.meta.getObject(bucket.id, key);
  return v !== undefined && !v.deleteMarker;
}

/** The custom error document, served with the original status; else the error itself. */
async function errorDocument(config: WebsiteConfig, e: S3Error, read: (key: string, m?: 'GET' | 'HEAD') => Promise<S3Response>): Promise<Outcome> {
  if (config.errorKey === undefined || e.status < 400 || e.status >= 500) return { kind: 'error', err: e };
  try {
    return { kind: 'object', response: await read(config.errorKey), status: e.status, error: e };
  } catch (e2) {
    if (!isS3Error(e2)) throw e2;
    return { kind: 'error', err: e, errorDocumentErr: e2 };
  }
}

function redirectFor(req: IncomingMessage, t: Target, rule: RoutingRule): Outcome {
  const r = rule.redirect;
  const prefix = rule.condition?.keyPrefixEquals ?? '';
  const key = r.replaceKeyWith ?? (r.replaceKeyPrefixWith !== undefined ? r.replaceKeyPrefixWith + t.key.slice(prefix.length) : t.key);
  const host = r.hostName ?? req.headers.host ?? 'localhost';
  const path = t.pathStyle && r.hostName === undefined ? `/${t.bucket}/${key}` : `/${key}`;
  return { kind: 'redirect', status: r.httpRedirectCode ?? 301, location: `${r.protocol ?? 'http'}://${host}${encodePath(path)}` };
}

function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function closeBody(r: S3Response): void {
  const b = r.body as { destroy?: () => void; close?: () => Promise<void> } | undefined;
  if (b && typeof b === 'object' && !Buffer.isBuffer(b)) {
    if (typeof b.close === 'function') void b.close();
    else b.destroy?.();
  }
}

async function write(app: App, req: IncomingMessage, res: ServerResponse, state: ResponseState, o: Outcome, note: WebsiteNote): Promise<void> {
  const method = req.method ?? 'GET';
  if (o.kind === 'object') {
    const r = o.response;
    const headers = { ...r.headers, ...(o.error && errorHeaders(o.error)) };
    delete headers['x-amz-website-redirect-location'];
    if (o.error) note.err = o.error.code;
    await sendResponse(res, method, { ...r, status: o.status ?? r.status, headers }, state, app.log);
    return;
  }
  if (o.kind === 'redirect') {
    await sendResponse(res, method, { status: o.status, headers: { Location: o.location } }, state, app.log);
    return;
  }
  const e = o.err;
  note.err = e.code;
  if (e.status === 304) {
    await sendResponse(res, method, { status: 304, headers: e.headers }, state, app.log);
    return;
  }
  await sendResponse(res, method, { status: e.status, headers: { ...e.headers, ...errorHeaders(e), 'Content-Type': 'text/html; charset=utf-8' }, body: errorPage(e, state.requestId, o.errorDocumentErr) }, state, app.log);
}

/** What website endpoints tell programs about an error, beside the page: x-amz-error-code, -message, -detail-*. */
function errorHeaders(e: S3Error): Record<string, string> {
  const h: Record<string, string> = { 'x-amz-error-code': e.code, 'x-amz-error-message': e.message };
  for (const [k, v] of Object.entries(e.details)) {
    // Header values must be plain ASCII; a detail that is not (a UTF-8 key) stays in the page only.
    if (v !== undefined && /^[\x20-\x7e]*$/.test(String(v))) h[`x-amz-error-detail-${k}`] = String(v);
  }
  return h;
}

/** S3's HTML error page: the status, then the error's fields as a list. */
export function errorPage(e: S3Error, requestId: string, errorDocumentErr?: S3Error): string {
  const title = `${e.status} ${STATUS_CODES[e.status] ?? ''}`.trim();
  const items = (err: S3Error, extra: Record<string, string | number | undefined>) => {
    const lines = [`<li>Code: ${escapeXml(err.code)}</li>`, `<li>Message: ${escapeXml(err.message)}</li>`];
    for (const [k, v] of Object.entries({ ...err.details, ...extra })) if (v !== undefined) lines.push(`<li>${escapeXml(k)}: ${escapeXml(String(v))}</li>`);
    return lines.join('\n');
  };
  const parts = [
    '<html>',
    `<head><title>${title}</title></head>`,
    '<body>',
    `<h1>${title}</h1>`,
    '<ul>',
    items(e, { RequestId: requestId, HostId: HOST_ID }),
    '</ul>',
  ];
  if (errorDocumentErr) {
    parts.push('<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>', '<ul>', items(errorDocumentErr, {}), '</ul>');
  }
  parts.push('<hr/>', '</body>', '</html>', '');
  return parts.join('\n');
}

/** The website listener (--website-address): every request is a website request, path-style. */
export function createWebsiteServer(app: App): http.Server {
  const server = http.createServer({ requestTimeout: 0, headersTimeout: app.config.idleTimeoutMs, keepAliveTimeout: 65_000, maxHeaderSize: 64 * 1024 });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handleWebsite(app, req, res));
  server.on('clientError', (_err: Error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

async function handleWebsite(app: App, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const state: ResponseState = { requestId: nextRequestId(), close: false, bytesOut: 0 };
  const note: WebsiteNote = { op: 'Website' };
  res.once('close', () => {
    app.log.info({ req: state.requestId, op: note.op, path: req.url, status: res.statusCode, err: note.err, out: state.bytesOut, ms: Math.round((performance.now() - started) * 100) / 100 }, 'request');
  });
  // Website requests carry no body worth reading: drain what little comes, refuse the rest.
  const length = Number(req.headers['content-length'] ?? (req.headers['transfer-encoding'] ? Infinity : 0));
  if (length > 0) {
    if (length > 1024 * 1024) {
      state.close = true;
      res.once('finish', () => req.destroy());
    } else req.resume();
  }
  await serveWebsite(app, req, res, state, new RequestBody(req, app.config.idleTimeoutMs), true, note);
}
