// The admin API's road: route → body → who asks (SigV4 for "trove-admin", or an admin token) →
// may they (admin:<Action> on the route's resource, by the policy engine) → schema → handler →
// JSON. Served at /admin/v1/ on its own listener (--admin-address) and at /_trove/admin/v1/ on
// the S3 listener (a bucket name cannot contain "_", so no bucket is shadowed; see http/server.ts).
//
// Who holds admin rights: identities of the server's root account (the bootstrap account whose
// keys are in root-credentials.json). Its root user holds every admin action; its IAM users and
// role sessions hold what their identity policies allow (e.g. {"Action":"admin:List*",
// "Resource":"*"}). Other accounts' identities hold none, whatever their own policies say: an
// account's root could otherwise grant itself the server. Tokens hold what their scope allows.

import { listen } from '../http/listen.js';
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Ajv, type ValidateFunction } from 'ajv';
import type { App } from '../app.js';
import { authenticate } from '../auth/sigv4.js';
import { sha256Hex } from '../auth/signing.js';
import { principalOf, type AuditDecision } from '../authz/authorize.js';
import { globalKeys } from '../authz/keys.js';
import { decide, type RequestPrincipal } from '../authz/policy/index.js';
import { clientAddress } from '../http/request.js';
import { AdminError, asAdminError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { RawBody, resourceArn, type AdminCaller, type AdminRoute } from './route.js';
import { ROUTES } from './routes.js';
import { rootAccount } from './service.js';
import { AdminTokens, scopePolicy } from './tokens.js';

/** The SigV4 service name admin requests are signed for. */
export const ADMIN_SERVICE = 'trove-admin';
/** Where the API lives on its own listener, and on the S3 listener. */
export const ADMIN_PATH = '/admin/v1';
export const ADMIN_PATH_ON_S3 = '/_trove/admin/v1';
const MAX_BODY = 1024 * 1024;

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new Map<AdminRoute, ValidateFunction>();

function validatorOf(r: AdminRoute): ValidateFunction {
  let v = validators.get(r);
  if (!v) validators.set(r, (v = ajv.compile(r.body!)));
  return v;
}

interface Match {
  route: AdminRoute;
  params: Record<string, string>;
  /** The path with its parameters filled in (decoded): what the resource ARN names. */
  path: string;
}

/** The route for a method and decoded path segments; AdminError NoSuchRoute / MethodNotAllowed. */
export function matchRoute(method: string, segments: string[]): Match {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const tpl = route.path.split('/').slice(1);
    if (tpl.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let hit = true;
    for (let i = 0; i < tpl.length && hit; i++) {
      const t = tpl[i]!;
      if (t.startsWith('{')) params[t.slice(1, -1)] = segments[i]!;
      else hit = t === segments[i];
    }
    if (!hit) continue;
    if (route.method === method) return { route, params, path: segments.join('/') };
    allowed.push(route.method);
  }
  if (allowed.length) {
    const e = AdminError.of('MethodNotAllowed', `${method} is not allowed here; try ${allowed.join(', ')}`);
    (e as AdminError & { allow?: string }).allow = allowed.join(', ');
    throw e;
  }
  throw AdminError.of('NoSuchRoute', `no admin API route ${method} /${segments.join('/')} (GET ${ADMIN_PATH}/openapi.json lists them)`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) throw AdminError.of('RequestTooLarge', `a request body is at most ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_BODY) throw AdminError.of('RequestTooLarge', `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Who is asking, from the Authorization header. */
async function authenticateAdmin(app: App, req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, now: Date): Promise<AdminCaller> {
  const authorization = req.headers.authorization;
  if (authorization === undefined) throw AdminError.of('MissingAuthentication', `sign the request with SigV4 for the service "${ADMIN_SERVICE}", or send "Authorization: Bearer <admin token>"`);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) {
    const token = await new AdminTokens(app.meta).verify(bearer[1]!, now.getTime());
    return { kind: 'token', token, arn: `arn:trove:admin:::token/${token.id}` };
  }
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) throw AdminError.of('MissingAuthentication', `admin requests are signed with AWS4-HMAC-SHA256 for the service "${ADMIN_SERVICE}" or carry a bearer token`);
  const signed = (path: string) =>
    authenticate(
      { method: req.method ?? 'GET', rawPath: path, rawQuery, headers: req.headers, rawHeaders: req.rawHeaders, region: app.config.region, now, service: ADMIN_SERVICE, payloadHash: sha256Hex(body) },
      (id, token) => app.lookupCredential(id, token),
    );
  let auth;
  try {
    auth = await signed(rawPath);
  } catch (e) {
    // SigV4 for services other than S3 encodes the path's segments once more (what the SDKs and
    // curl --aws-sigv4 do for "trove-admin"); S3-style signers do not. Either canonical form of the
    // path received is accepted: both name the same path, and the signature is verified over it.
    if (!rawPath.includes('%') || (e as { code?: string }).code !== 'SignatureDoesNotMatch') throw e;
    auth = await signed(rawPath.split('/').map((s) => encodeURIComponent(s)).join('/'));
  }
  const identity = auth.identity!;
  app.iam.noteKeyUsed(identity.accessKeyId, ADMIN_SERVICE, app.config.region);
  return { kind: 'sigv4', identity, arn: principalOf(identity).arn ?? identity.accessKeyId };
}

/** admin:<Action> on the resource, for this caller: the policy engine's decision (AccessDenied for other accounts). */
async function authorizeAdmin(app: App, req: IncomingMessage, caller: AdminCaller, action: string, resource: string, now: number): Promise<AuditDecision> {
  const root = await rootAccount(app.meta);
  if (!root) throw AdminError.of('ServiceUnavailable', 'the server has no root account yet');
  let principal: RequestPrincipal;
  if (caller.kind === 'sigv4') {
    if (caller.identity.accountId !== root.accountId) {
      throw AdminError.of('AccessDenied', `${caller.arn} is not authorized to perform ${action}: admin rights are held by identities of the server's root account (${root.accountId}) only`);
    }
    principal = principalOf(caller.identity);
  } else if (caller.kind === 'token') {
    principal = { kind: 'user', accountId: root.accountId, arn: caller.arn, userId: caller.token.id, canonicalId: root.id };
  } else throw AdminError.of('MissingAuthentication', 'authentication required');
  const keys = globalKeys({ principal, headers: req.headers, sourceIp: clientAddress(req, app.config.trustedProxies), secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true, now });
  const policies = caller.kind === 'sigv4' ? await app.iam.callerPolicies(caller.identity) : { identityPolicies: [scopePolicy(caller.token.scope)] };
  const d = decide({ request: { principal, action, resource, resourceAccount: root.accountId, keys }, ...policies });
  return { action, resource, decision: d.decision, reason: d.reason, ...(d.source ? { source: d.source } : {}) };
}

function denied(caller: AdminCaller, d: AuditDecision): AdminError {
  const by = caller.kind === 'token' ? `admin token ${caller.token.id} (${caller.token.name})` : caller.arn;
  return AdminError.of('AccessDenied', `${by} is not authorized to perform ${d.action} on ${d.resource}${d.decision === 'ExplicitDeny' ? ' (explicit deny)' : caller.kind === 'token' ? " (outside the token's scope)" : ''}`);
}

function sendRaw(res: ServerResponse, method: string, status: number, requestId: string, raw: RawBody): void {
  res.writeHead(status, { 'Content-Type': raw.contentType, 'Content-Length': String(Buffer.byteLength(raw.body)), 'Cache-Control': 'no-store', 'X-Request-Id': requestId });
  res.end(method === 'HEAD' ? undefined : raw.body);
}

function sendJson(res: ServerResponse, method: string, status: number, requestId: string, body: unknown, extra: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
    ...extra,
  });
  res.end(method === 'HEAD' || body === undefined ? undefined : text);
}

export interface AdminExchange {
  /** The request path as received (percent-encoded), and its query string without "?". */
  rawPath: string;
  rawQuery: string;
  /** ADMIN_PATH or ADMIN_PATH_ON_S3: what rawPath starts with. */
  prefix: string;
  requestId?: string;
  /** The client waits for "100 Continue" before sending its body (the S3 listener leaves that to handlers). */
  expectContinue?: boolean;
}

/** Serves one admin API request; answers the operation's name for the access log. */
export async function serveAdmin(app: App, req: IncomingMessage, res: ServerResponse, x: AdminExchange): Promise<string> {
  const method = req.method ?? 'GET';
  const requestId = x.requestId ?? randomBytes(8).toString('hex').toUpperCase();
  const now = new Date();
  let op = 'admin';
  let caller: AdminCaller | undefined;
  let decision: AuditDecision | undefined;
  let status = 500;
  let code: string | undefined;
  let bodyRead = false;
  try {
    const rest = x.rawPath.slice(x.prefix.length);
    if (rest !== '' && !rest.startsWith('/')) throw AdminError.of('NoSuchRoute', 'no such route');
    let segments: string[];
    try {
      segments = rest.split('/').slice(1).map((s) => decodeURIComponent(s));
    } catch {
      throw AdminError.of('BadRequest', 'the path is not valid percent-encoded UTF-8');
    }
    const m = matchRoute(method, segments.length === 1 && segments[0] === '' ? [''] : segments);
    op = `admin:${m.route.action}`;
    if (x.expectContinue) res.writeContinue();
    const body = await readBody(req);
    bodyRead = true;
    if (m.route.public) {
      status = 200;
      sendJson(res, method, 200, requestId, openApiDocument(ROUTES));
      return op;
    }
    caller = await authenticateAdmin(app, req, x.rawPath, x.rawQuery, body, now);
    decision = await authorizeAdmin(app, req, caller, op, resourceArn(m.path), now.getTime());
    if (decision.decision !== 'Allow') throw denied(caller, decision);
    let json: unknown;
    if (m.route.body) {
      const type = req.headers['content-type'] ?? 'application/json';
      if (!/^application\/json\b/i.test(type)) throw AdminError.of('UnsupportedMediaType', 'send the body as application/json');
      try {
        json = body.length ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        throw AdminError.of('BadRequest', 'the body is not valid JSON');
      }
      const validate = validatorOf(m.route);
      if (!validate(json)) throw AdminError.of('BadRequest', `invalid request body: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`);
    } else if (body.length > 0) throw AdminError.of('BadRequest', `${method} ${m.route.path} takes no body`);
    const result = await m.route.handler({ app, caller, params: m.params, query: new URLSearchParams(x.rawQuery), body: json, requestId, now: now.getTime() });
    status = m.route.response.status;
    if (result instanceof RawBody) sendRaw(res, method, status, requestId, result);
    else sendJson(res, method, status, requestId, status === 204 ? undefined : result);
    return op;
  } catch (e) {
    let err = asAdminError(e);
    if (!err) {
      app.log.error({ err: e, req: requestId, op }, 'admin API: internal error');
      err = AdminError.of('InternalError', 'the server failed to answer; the log has the details (request id ' + requestId + ')');
    }
    status = err.status;
    code = err.code;
    if (!bodyRead && !req.complete) {
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.destroy());
    }
    if (res.headersSent) res.destroy();
    else {
      const extra: Record<string, string> = {};
      if (err.status === 401) extra['WWW-Authenticate'] = `Bearer realm="trove-admin"`;
      const allow = (err as AdminError & { allow?: string }).allow;
      if (allow) extra['Allow'] = allow;
      sendJson(res, method, err.status, requestId, { code: err.code, message: err.message, requestId }, extra);
    }
    return op;
  } finally {
    if (app.observe.audit && caller) {
      app.observe.audit.record({
        time: now.toISOString(),
        requestId,
        identity: caller.arn,
        ...(caller.kind === 'sigv4' ? { accessKeyId: caller.identity.accessKeyId, account: caller.identity.accountId } : {}),
        ...(clientAddress(req, app.config.trustedProxies) ? { sourceIp: clientAddress(req, app.config.trustedProxies)! } : {}),
        operation: op,
        decision: decision?.decision === 'Allow' ? 'allow' : code === 'AccessDenied' ? 'deny' : 'none',
        decisions: decision ? [decision] : [],
        status,
        ...(code ? { error: code } : {}),
      });
    }
  }
}

/** The separate admin listener (--admin-address): the API at /admin/v1/ (HTTPS when the server has a certificate). */
export async function listenAdmin(app: App, address: { host: string; port: number }, tls?: { cert: Buffer; key: Buffer }): Promise<{ server: http.Server | https.Server; url: string }> {
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    const rawQuery = q < 0 ? '' : target.slice(q + 1);
    const started = performance.now();
    const done = (op: string) =>
      app.log.info({ op, status: res.statusCode, ms: Math.round((performance.now() - started) * 100) / 100, listener: 'admin' }, 'request');
    // Also under the S3 listener's prefix, so that one client URL form works on both listeners.
    const prefix = [ADMIN_PATH, ADMIN_PATH_ON_S3].find((p) => rawPath === p || rawPath.startsWith(`${p}/`));
    if (!prefix) {
      req.resume();
      sendJson(res, req.method ?? 'GET', 404, '-', { code: 'NoSuchRoute', message: `the admin API is under ${ADMIN_PATH}/` });
      return;
    }
    serveAdmin(app, req, res, { rawPath, rawQuery, prefix }).then(done, (e: unknown) => {
      app.log.error({ err: e }, 'admin listener: internal error');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handle) : http.createServer(handle);
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  return { server, url: await listen(server, address, tls ? 'https' : 'http') };
}
