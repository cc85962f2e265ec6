// The one writer of responses: headers, XML bodies, streamed bodies and S3 error documents.

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { S3Error } from '../s3/errors.js';
import type { S3Response } from '../s3/handler.js';
import { escapeXml, renderXml } from '../s3/xml.js';
import { HOST_ID } from './request.js';

/** Writes a handler's result. Resolves when the body has been handed to the socket. */
export async function sendResponse(res: ServerResponse, method: string, r: S3Response, log: Logger): Promise<void> {
  let body: string | Buffer | Readable | undefined = r.body;
  if (r.xml) {
    body = renderXml(r.xml.root, r.xml.body);
    res.setHeader('Content-Type', 'application/xml');
  }
  const status = r.status ?? (body === undefined && method === 'DELETE' ? 204 : 200);
  if (r.headers) {
    for (const [name, value] of Object.entries(r.headers)) {
      if (value !== undefined) res.setHeader(name, value);
    }
  }
  res.statusCode = status;
  if (body === undefined) {
    if (!res.hasHeader('Content-Length') && status !== 204 && status !== 304) res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!res.hasHeader('Content-Length')) res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  if (method === 'HEAD') {
    body.destroy();
    res.end();
    return;
  }
  try {
    await pipeline(body, res);
  } catch (e) {
    // Headers are gone: all we can do is cut the connection so the client sees a short body.
    if (!res.destroyed) res.destroy();
    if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') log.error({ err: e }, 'error while streaming a response body');
  }
}

/** Renders an S3 error document (no body for HEAD requests, as S3 does). */
export function sendError(res: ServerResponse, method: string, err: S3Error, requestId: string, resource: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  res.statusCode = err.status;
  if (method === 'HEAD' || err.status === 304) {
    if (err.status !== 304) res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>`];
  for (const [k, v] of Object.entries(err.details)) {
    if (v !== undefined) parts.push(`<${k}>${escapeXml(String(v))}</${k}>`);
  }
  parts.push(`<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${HOST_ID}</HostId></Error>`);
  const body = parts.join('');
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

