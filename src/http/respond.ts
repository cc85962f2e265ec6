// The one writer of responses: headers, XML bodies, streamed bodies and S3 error documents.
// Headers are gathered once and written with a single writeHead (Node's fast path).

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { S3Error, isS3Error } from '../s3/errors.js';
import type { S3Response } from '../s3/handler.js';
import { escapeXml, renderXml } from '../s3/xml.js';
import { HOST_ID } from './request.js';
import { sendPooled, type PooledBody } from './pooled.js';

/** What the pipeline knows about the response being written. */
export interface ResponseState {
  requestId: string;
  /** Close the connection after this response (unread request body). */
  close: boolean;
  /** Body bytes announced (for the access log). */
  bytesOut: number;
  /**
   * CORS headers for a request with Origin that a rule allows (http/cors.ts), written on every
   * response — success or error — after all others, so no handler can omit or override them.
   */
  cors?: Record<string, string>;
  /**
   * Runs once the status and the body's length are known, before the status line is written:
   * the server access log record is committed here (http/server.ts), so that no response goes
   * out whose record a crash could still lose. Must not throw.
   */
  beforeHead?: (status: number, headers: Record<string, string | number | undefined> | undefined) => Promise<void>;
}

type HeaderValue = string | number;

/** Merges headers case-insensitively (last wins) into writeHead's flat array form. */
function headerList(state: ResponseState, extra: Record<string, string | number | undefined> | undefined, more: [string, HeaderValue][]): HeaderValue[] {
  const byName = new Map<string, [string, HeaderValue]>();
  const put = (n: string, v: HeaderValue) => byName.set(n.toLowerCase(), [n, v]);
  put('x-amz-request-id', state.requestId);
  put('x-amz-id-2', HOST_ID);
  put('Server', 'Trove');
  if (extra) for (const [n, v] of Object.entries(extra)) if (v !== undefined) put(n, v);
  for (const [n, v] of more) put(n, v);
  if (state.cors) for (const [n, v] of Object.entries(state.cors)) put(n, v);
  if (state.close) put('Connection', 'close');
  const out: HeaderValue[] = [];
  for (const [n, v] of byName.values()) out.push(n, v);
  return out;
}

function isPooled(body: unknown): body is PooledBody {
  return typeof body === 'object' && body !== null && typeof (body as PooledBody).read === 'function' && typeof (body as PooledBody).close === 'function';
}

/** Writes a handler's result. Resolves when the body has been handed to the socket. */
export async function sendResponse(res: ServerResponse, method: string, r: S3Response, state: ResponseState, log: Logger): Promise<void> {
  let body: string | Buffer | Readable | PooledBody | undefined = r.body;
  const more: [string, HeaderValue][] = [];
  if (r.xml) {
    body = renderXml(r.xml.root, r.xml.body, r.xml.namespace !== undefined ? { namespace: r.xml.namespace } : {});
    more.push(['Content-Type', 'application/xml']);
  }
  const status = r.status ?? (body === undefined && method === 'DELETE' ? 204 : 200);
  const declared = r.headers?.['Content-Length'] ?? r.headers?.['content-length'];
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const length = Buffer.byteLength(body);
    if (declared === undefined) more.push(['Content-Length', length]);
    state.bytesOut = Number(declared ?? length);
    if (state.beforeHead) await state.beforeHead(status, r.headers);
    res.writeHead(status, headerList(state, r.headers, more));
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  if (body === undefined) {
    if (declared === undefined && status !== 204 && status !== 304) more.push(['Content-Length', 0]);
    state.bytesOut = Number(declared ?? 0);
    if (state.beforeHead) await state.beforeHead(status, r.headers);
    res.writeHead(status, headerList(state, r.headers, more));
    res.end();
    return;
  }
  state.bytesOut = Number(declared ?? 0);
  if (state.beforeHead) {
    try {
      await state.beforeHead(status, r.headers);
    } catch (e) {
      // The body stream is ours to release.
      if (isPooled(body)) await body.close();
      else body.destroy();
      throw e;
    }
  }
  res.writeHead(status, headerList(state, r.headers, more));
  if (method === 'HEAD') {
    if (isPooled(body)) await body.close();
    else body.destroy();
    res.end();
    return;
  }
  try {
    if (isPooled(body)) await sendPooled(body, res);
    else await pipeline(body, res);
  } catch (e) {
    cut(res);
    // S3 errors (damaged data) were logged where they were found, with what was being read.
    if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE' && !isS3Error(e)) log.error({ err: e }, 'error while streaming a response body');
  }
}

/**
 * Headers are gone and the body cannot be completed: reset the connection (RST), so the client
 * sees an error and fewer bytes than Content-Length, never what could pass for a clean end.
 */
function cut(res: ServerResponse): void {
  const socket = res.socket;
  if (socket && !socket.destroyed && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else if (!res.destroyed) res.destroy();
}

/** Renders an S3 error document (no body for HEAD requests, as S3 does). */
export async function sendError(res: ServerResponse, method: string, err: S3Error, state: ResponseState, resource: string): Promise<void> {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const more: [string, HeaderValue][] = [];
  if (method === 'HEAD' || err.status === 304) {
    if (err.status !== 304) more.push(['Content-Length', 0]);
    state.bytesOut = 0;
    if (state.beforeHead) await state.beforeHead(err.status, err.headers);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(err.status, headerList(state, err.headers, more));
    res.end();
    return;
  }
  const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>`];
  for (const [k, v] of Object.entries(err.details)) {
    if (v !== undefined) parts.push(`<${k}>${escapeXml(String(v))}</${k}>`);
  }
  parts.push(`<Resource>${escapeXml(resource)}</Resource><RequestId>${state.requestId}</RequestId><HostId>${HOST_ID}</HostId></Error>`);
  const body = parts.join('');
  state.bytesOut = Buffer.byteLength(body);
  if (state.beforeHead) await state.beforeHead(err.status, err.headers);
  if (res.headersSent || res.destroyed) return;
  more.push(['Content-Type', 'application/xml'], ['Content-Length', state.bytesOut]);
  res.writeHead(err.status, headerList(state, err.headers, more));
  res.end(body);
}
