// CORS as S3 does it: a preflight (OPTIONS, anonymous by nature) is answered from the bucket's
// rules, and every response to a request carrying Origin — success or error, whatever the
// authentication — gets the headers of the first rule that allows it (respond.ts writes them
// from ResponseState.cors). Requests without Origin never reach this module. Requests to the
// service (ListBuckets, IAM, STS) are judged by the server-wide setting (--cors-origins).
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html

import type { IncomingMessage } from 'node:http';
import type { App } from '../app.js';
import { S3Error } from '../s3/errors.js';
import type { S3Response } from '../s3/handler.js';
import { corsHeaders, matchRule, requestedHeaders, type CorsRule } from '../s3/bucket/config/cors.js';

const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

/** What the server-wide setting allows: any listed origin, any S3 method and request header. */
export function serverCorsRules(origins: readonly string[]): CorsRule[] {
  if (origins.length === 0) return [];
  return [
    {
      methods: [...METHODS],
      origins: [...origins],
      headers: ['*'],
      expose: ['ETag', 'x-amz-request-id', 'x-amz-id-2', 'x-amz-version-id', 'x-amz-delete-marker', 'Content-Length', 'Content-Range', 'Last-Modified'],
    },
  ];
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The CORS headers for an actual request with Origin to `bucketName` ('' for the service), or
 * undefined when no rule allows it. S3 matches the rule's methods against
 * Access-Control-Request-Method when the request has it, else against the request's method, and
 * the rule's allowed headers against Access-Control-Request-Headers if present (never against
 * the request's actual headers).
 */
export async function actualCorsHeaders(app: App, req: IncomingMessage, bucketName: string | undefined): Promise<Record<string, string> | undefined> {
  const origin = header(req, 'origin');
  if (origin === undefined) return undefined;
  const rules = await rulesOf(app, bucketName ?? '');
  if (!rules || rules.length === 0) return undefined;
  const method = header(req, 'access-control-request-method') ?? req.method ?? 'GET';
  const rule = matchRule(rules, origin, method, requestedHeaders(header(req, 'access-control-request-headers')));
  return rule && corsHeaders(rule, origin);
}

/** undefined: no such bucket; [] or rules otherwise. */
async function rulesOf(app: App, bucketName: string): Promise<readonly CorsRule[] | undefined> {
  if (!bucketName) return app.serverCors;
  const bucket = await app.meta.getBucket(bucketName);
  if (!bucket) return undefined;
  return (await app.bucketCors.get(bucket)) ?? [];
}

/**
 * Answers a preflight request: OPTIONS /<bucket>[/<key>] (or / for the service). The checks come
 * in S3's order: Origin (400), the bucket (403 "Bucket not found"), its configuration (403 "CORS
 * is not enabled"; ResourceType BUCKET, Method OPTIONS when none was asked for), the requested
 * method (400), then the rules (403 with ResourceType OBJECT for a key).
 */
export async function preflight(app: App, req: IncomingMessage, bucketName: string, key: string): Promise<S3Response> {
  const origin = header(req, 'origin');
  if (origin === undefined) throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = header(req, 'access-control-request-method');
  const type = !bucketName ? 'SERVICE' : 'BUCKET';
  const rules = await rulesOf(app, bucketName);
  if (rules === undefined) throw new S3Error('AccessForbidden', 'CORSResponse: Bucket not found', { Method: method ?? 'OPTIONS', ResourceType: type });
  if (rules.length === 0) {
    throw new S3Error('AccessForbidden', `CORSResponse: CORS is not enabled for this ${bucketName ? 'bucket' : 'server'}.`, { Method: method ?? 'OPTIONS', ResourceType: type });
  }
  if (method === undefined || !METHODS.has(method)) throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  const headers = requestedHeaders(header(req, 'access-control-request-headers'));
  const rule = matchRule(rules, origin, method, headers);
  if (!rule) throw new S3Error('AccessForbidden', undefined, { Method: method, ResourceType: key ? 'OBJECT' : type });
  return { status: 200, headers: corsHeaders(rule, origin, headers) };
}
