// The request's path: parse → resolve operation → authenticate → load bucket → authorise →
// handler → respond, with one access-log line per request. Requests signed for the IAM or STS API
// take their own road (http/query.ts) right after parsing.

import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { App } from '../app.js';
import { authenticate } from '../auth/sigv4.js';
import { openBody } from '../auth/chunked.js';
import { SIGNED_SUBRESOURCES } from '../auth/sigv2.js';
import type { AuthResult, DecodedBody } from '../auth/types.js';
import { authorize, concealAbsence, mayAccess, principalOf, type AuthzRequest } from '../authz/authorize.js';
import { requestKeys } from '../authz/keys.js';
import { accessRequests } from '../authz/requests.js';
import { S3Error } from '../s3/errors.js';
import { asS3Error } from '../s3/store-errors.js';
import type { S3Context, S3Response } from '../s3/handler.js';
import { OPERATIONS, resolveOperation, type OperationSpec, type Resource } from '../s3/operations.js';
import type { Bucket } from '../store/meta/types.js';
import { s3ControlPath } from './control.js';
import { XmlReader, type ParsedDoc, type XmlLimits } from '../s3/xml.js';
import { RequestBody } from './body.js';
import { isOutOfSpace } from '../store/space.js';
import { HOST_ID, clientAddress, forwardedHttps, nextRequestId, parseRequest } from './request.js';
import { sendError, sendResponse, type ResponseState } from './respond.js';
import { queryServiceOf, serveQuery, type QueryNote } from './query.js';
import { fileBody, openPostForm, type PostForm } from '../s3/object/PostObject.js';
import { actualCorsHeaders, preflight } from './cors.js';
import { isWebsiteHost, serveWebsite, type WebsiteNote } from './website.js';
import { batchDeleteLines, recordLine, type RequestFacts } from '../logging/records.js';
import { admit, paced, pacedPooled, spendDown, type Pace } from './qos.js';
import { Readable } from 'node:stream';
import { OBSERVE_PREFIX, serveObserve } from '../observe/endpoints.js';
import { ADMIN_PATH_ON_S3, serveAdmin } from '../admin/api.js';
import type { AuditDecision } from '../authz/authorize.js';

/** XML request bodies are parsed this many bytes at a time, yielding after XML_TURN_MS. */
const XML_SLICE = 16 * 1024;
const XML_TURN_MS = 4;

/** Who asks a POST form, until its fields are read. */
const FORM_PENDING: AuthResult = { method: 'anonymous', identity: null, payload: { kind: 'unsigned' } };

/** Bodies at most this large are drained after an early error so the connection can be reused. */
const DRAIN_LIMIT = 1024 * 1024;

/** The body of each request being served, so the connection layer can fail it. */
const bodies = new WeakMap<IncomingMessage, RequestBody>();

/** The S3 listener: HTTPS when `tls` holds a certificate and key (swapped on SIGHUP: setSecureContext). */
export function createHttpServer(app: App, tls?: { cert: Buffer; key: Buffer }): http.Server | https.Server {
  const idleMs = app.config.idleTimeoutMs;
  const options: http.ServerOptions = {
    // Uploads of many GiB can take long: no overall request timeout. A body that stops arriving
    // is timed out by RequestBody; headers must arrive within the same idle time (Node checks
    // every quarter of it).
    requestTimeout: 0,
    headersTimeout: idleMs,
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(idleMs / 4))),
    keepAliveTimeout: 65_000,
    maxHeaderSize: 64 * 1024,
  };
  const server: http.Server | https.Server = tls ? https.createServer({ ...options, cert: tls.cert, key: tls.key }) : http.createServer(options);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(app, req, res, false));
  // With a listener here Node does not answer "100 Continue" by itself: we send it only once
  // the request is authenticated and the handler starts reading the body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void handle(app, req, res, true));
  // S3 ignores expectations it does not know (an empty `Expect:` included); Node would answer 417.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => void handle(app, req, res, false));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => onClientError(app, err, socket));
  return server;
}

function onClientError(app: App, err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  // A request is still being answered. Either bytes came after it (a body longer than its
  // Content-Length): let that response go out first, then close, rather than answering the
  // garbage before it. Or the client closed its side before sending the whole body: Node will
  // never end that request's stream, so fail the body (the handler discards what it wrote and
  // answers IncompleteBody, which a half-closed client can still read), then close.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    if (!inFlight.headersSent) inFlight.setHeader('Connection', 'close');
    inFlight.once('finish', () => socket.destroy());
    inFlight.once('close', () => socket.destroy());
    const req = inFlight.req;
    if (req && !req.complete) bodies.get(req)?.fail(new S3Error('IncompleteBody'));
    return;
  }
  const requestId = nextRequestId();
  const [code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period.']
        : ['BadRequest', 'An error occurred when parsing the HTTP request.'];
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>${HOST_ID}</HostId></Error>`;
  app.log.info({ req: requestId, status: 400, err: err.code }, 'malformed HTTP request');
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `x-amz-request-id: ${requestId}\r\nx-amz-id-2: ${HOST_ID}\r\nConnection: close\r\n\r\n${body}`,
  );
}

class Context implements S3Context {
  bucket: S3Context['bucket'] = undefined;
  latest: S3Context['latest'] = undefined;
  bodyOpened = false;
  /** Optional actions authorisation granted (e.g. s3:BypassGovernanceRetention). */
  private grantedActions = new Set<string>();
  /** What authorisation knows of the caller, for per-object checks. */
  authz: AuthzRequest | undefined;
  batchDeleted: S3Context['batchDeleted'] = undefined;
  /** The client's address and whether a trusted proxy says it came over https (set by authorize()). */
  transport: S3Context['transport'] = { sourceIp: undefined, forwardedHttps: false };
  private decoded: DecodedBody | undefined;
  readonly log;
  /** Byte rates the caller's QoS limits pace this request at (http/qos.ts). */
  pace: Pace | undefined;

  constructor(
    readonly requestId: string,
    readonly method: string,
    readonly op: OperationSpec,
    readonly bucketName: string,
    public key: string,
    readonly query: Map<string, string>,
    public auth: AuthResult,
    readonly app: App,
    readonly now: number,
    readonly contentLength: number | undefined,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly expectContinue: boolean,
    private readonly raw: RequestBody,
  ) {
    this.log = app.log;
  }

  /** POST object: the form, read up to its file (readForm). */
  form: PostForm | undefined;
  private fileOpened = false;

  /** The request's headers; for POST object, the form's fields as PutObject's headers. */
  get headers() {
    return this.form?.headers ?? this.req.headers;
  }

  /**
   * POST object: reads the form's fields up to the file and authenticates them; from then on the
   * request is the PutObject the form describes (its key, its fields as headers, its file as body).
   */
  async readForm(virtualHost: boolean): Promise<void> {
    const form = await openPostForm({
      headers: this.req.headers,
      body: this.openRaw(),
      bucket: this.bucketName,
      region: this.app.config.region,
      now: new Date(this.now),
      lookup: (id, token) => this.app.lookupCredential(id, token),
      virtualHost,
    });
    this.form = form;
    this.auth = form.auth;
    this.key = form.key;
  }

  get identity() {
    return this.auth.identity;
  }

  /** Checks every access the request makes (authz/requests.ts), before the handler runs. */
  async authorize(sourceIp: string | undefined, forwardedHttps = false): Promise<void> {
    this.transport = { sourceIp, forwardedHttps };
    const principal = principalOf(this.identity);
    this.authz = {
      principal,
      keys: requestKeys({ principal, method: this.auth.method, headers: this.headers, query: this.query, sourceIp, secureTransport: isTls(this.req), now: this.now }),
      buckets: new Map([[this.bucketName, this.bucket]]),
      ...(this.app.observe.audit ? { decisions: [] as AuditDecision[] } : {}),
    };
    // An IAM user's own and its groups' policies, a role session's role's and session policies
    // (cached per user or role: no store read once warm).
    if (this.identity) {
      const policies = this.app.iam.callerPolicies(this.identity);
      Object.assign(this.authz, policies instanceof Promise ? await policies : policies);
    }
    this.grantedActions = await authorize(this.app, this.authz, accessRequests(this.op, this.bucketName, this.key, this.query, this.headers));
  }

  /**
   * Runs the operation's handler (after authorize()). A read of a missing key becomes AccessDenied
   * for a caller who may not list the bucket (authz/authorize.ts concealAbsence).
   */
  async run(): Promise<S3Response> {
    try {
      return await this.op.handler!(this);
    } catch (e) {
      throw await concealAbsence(this.app, this.authz, this.op.name, this.bucketName, this.key, e);
    }
  }

  granted(action: string): boolean {
    return this.grantedActions.has(action);
  }

  async mayAccess(action: string, key: string): Promise<boolean> {
    if (!this.authz) throw new Error('authorize() first');
    return mayAccess(this.app, this.authz, { action, bucket: this.bucketName, key });
  }

  async mayUseKey(action: string, keyArn: string): Promise<boolean> {
    if (!this.authz) throw new Error('authorize() first');
    return mayAccess(this.app, this.authz, { action, bucket: '', kmsKey: keyArn });
  }

  async readBody(limit: number): Promise<Buffer> {
    if (this.contentLength !== undefined && this.contentLength > limit) throw new S3Error('MaxMessageLengthExceeded');
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of this.body()) {
      n += c.length;
      if (n > limit) throw new S3Error('MaxMessageLengthExceeded');
      chunks.push(c);
    }
    return Buffer.concat(chunks);
  }

  body(): DecodedBody {
    if (this.form) {
      if (this.fileOpened) throw new Error('request body opened twice');
      this.fileOpened = true;
      return fileBody(this.form.file);
    }
    return this.openRaw();
  }

  private openRaw(): DecodedBody {
    if (this.bodyOpened) throw new Error('request body opened twice');
    this.bodyOpened = true;
    if (this.expectContinue) this.res.writeContinue();
    const raw = this.req.headers['content-length'];
    const up = this.pace?.up;
    this.decoded = openBody(up?.length ? paced(this.raw, up) : this.raw, this.auth.payload, raw === undefined ? undefined : Number(raw));
    return this.decoded;
  }

  /** Decoded body bytes read so far (for the access log). */
  get bodyBytes(): number {
    return this.decoded?.length ?? 0;
  }

  async readXml(root: string, limits: XmlLimits & { optional?: boolean }, observe?: (chunk: Buffer) => void): Promise<ParsedDoc> {
    if (this.contentLength !== undefined && this.contentLength > limits.maxBytes) throw new S3Error('MaxMessageLengthExceeded');
    const reader = new XmlReader(root, limits);
    // Parse in slices and let other requests run between them once a turn has taken a few
    // milliseconds: several clients sending maximal documents at once (and a parser not yet
    // optimised by the JIT) never hold the event loop for long.
    let turn = performance.now();
    for await (const c of this.body()) {
      observe?.(c);
      for (let i = 0; i < c.length; i += XML_SLICE) {
        reader.write(i === 0 && c.length <= XML_SLICE ? c : c.subarray(i, i + XML_SLICE));
        if (performance.now() - turn > XML_TURN_MS) {
          await new Promise((r) => setImmediate(r));
          turn = performance.now();
        }
      }
    }
    if (limits.optional && reader.size === 0) return {};
    return reader.end();
  }
}

/** Whether the request came over TLS to this server (aws:SecureTransport). */
export function isTls(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

const GET_OBJECT = OPERATIONS.find((o) => o.name === 'GetObject')!;
const HEAD_OBJECT = OPERATIONS.find((o) => o.name === 'HeadObject')!;

/**
 * GetObject / HeadObject of `key` as an anonymous caller, through the same authorisation pass and
 * handler as the S3 API (website endpoints: content must be readable anonymously). The request's
 * own headers (Range, If-*) apply; its query and credentials do not.
 */
export async function readAnonymously(app: App, req: IncomingMessage, res: ServerResponse, raw: RequestBody, requestId: string, method: 'GET' | 'HEAD', bucket: Bucket, key: string): Promise<S3Response> {
  const op = method === 'HEAD' ? HEAD_OBJECT : GET_OBJECT;
  const auth: AuthResult = { method: 'anonymous', identity: null, payload: { kind: 'unsigned' } };
  const ctx = new Context(requestId, method, op, bucket.name, key, new Map(), auth, app, Date.now(), undefined, req, res, false, raw);
  ctx.bucket = bucket;
  await ctx.authorize(clientAddress(req, app.config.trustedProxies), forwardedHttps(req, app.config.trustedProxies));
  return ctx.run();
}

/**
 * SigV2 signs only a fixed list of sub-resources. An operation selected by any other parameter
 * (?retention, ?legal-hold, ?attributes…) could be reached by appending it to a validly signed
 * SigV2 request, so SigV2 is refused for those (list-type only picks an equivalent listing).
 */
function refuseUnsignedSubresource(auth: AuthResult, op: OperationSpec): void {
  if (auth.method !== 'sigv2-header' && auth.method !== 'sigv2-query') return;
  if (op.sub?.some((s) => s !== 'list-type' && !SIGNED_SUBRESOURCES.has(s))) {
    throw new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported for this operation. Please use AWS4-HMAC-SHA256.');
  }
}

function resourceOf(bucket: string, key: string): Resource {
  if (!bucket) return 'service';
  return key ? 'object' : 'bucket';
}

function declaredLength(req: IncomingMessage, auth: AuthResult | undefined): number | undefined {
  if (auth?.payload.kind === 'chunked') return auth.payload.decodedLength;
  const cl = req.headers['content-length'];
  // Unknown without a Content-Length (no body at all, or Transfer-Encoding: chunked).
  return cl === undefined ? undefined : Number(cl);
}

async function handle(app: App, req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
  const started = performance.now();
  const requestId = nextRequestId();
  const method = req.method ?? 'GET';
  const state: ResponseState = { requestId, close: false, bytesOut: 0 };
  const raw = new RequestBody(req, app.config.idleTimeoutMs);
  bodies.set(req, raw);

  let ctx: Context | undefined;
  let opName = '-';
  let bucketName: string | undefined;
  let key: string | undefined;
  let resourcePath = req.url?.split('?')[0] ?? '/';
  let errorCode: string | undefined;
  let query: QueryNote | undefined;
  const receivedAt = Date.now();
  let bodyEnded: number | undefined;
  req.once('end', () => (bodyEnded = performance.now()));

  // Server access logs: the one place a request's record is made. The response writer calls this
  // once the status and length are known and writes the status line only after it resolves: the
  // record of a request to a bucket with logging on is durable before the client sees an answer
  // (logging/service.ts says what that guarantees).
  state.beforeHead = async (status, headers) => {
    const bucket = ctx?.bucket;
    if (!bucket || query) return;
    try {
      const logging = await app.bucketLogging.get(bucket);
      if (!logging) return;
      const facts: RequestFacts = {
        bucket,
        req,
        requestId,
        hostId: HOST_ID,
        receivedAt,
        started,
        bodyEnded,
        now: performance.now(),
        op: ctx?.op,
        key,
        query: ctx?.query,
        auth: ctx?.auth,
        identity: ctx?.identity,
        remoteIp: ctx?.transport.sourceIp ?? req.socket.remoteAddress,
        status,
        errorCode,
        bytesSent: method === 'HEAD' ? 0 : state.bytesOut,
        bodyBytes: ctx?.bodyBytes ?? 0,
        headers,
        aclRequired: ctx?.authz?.aclRequired === true,
      };
      const lines = [recordLine(facts)];
      if (ctx?.batchDeleted?.length && status < 300) lines.push(...batchDeleteLines(facts, ctx.batchDeleted));
      await Promise.all(lines.map((line) => app.accessLogs.append(bucket, logging, line)));
    } catch (e) {
      // The request itself succeeded or failed on its own: its answer still goes out.
      app.log.error({ err: e, req: requestId, bucket: bucket.name }, 'could not record a server access log record');
    }
  };
  const metrics = app.observe.metrics;
  metrics?.started();
  const usage = app.usage.recorder;
  let opSpec: OperationSpec | undefined;
  let auth: AuthResult | undefined;

  res.once('close', () => {
    const ms = performance.now() - started;
    // A HEAD response's length is what a GET would send: none of it is sent.
    const bytesOut = method === 'HEAD' ? 0 : state.bytesOut;
    metrics?.finished(query?.op ?? opName, res.statusCode, ms / 1000, query?.bytesIn ?? ctx?.bodyBytes ?? 0, bytesOut);
    // Usage reports count S3 operations (the table's), not IAM/STS, website or operators' requests.
    if (usage && opSpec) usage.record(opSpec, usageBucket(opSpec, ctx, bucketName, res.statusCode), ctx?.identity ?? auth?.identity, res.statusCode, ctx?.bodyBytes ?? 0, bytesOut);
    if (app.observe.audit && ctx?.authz) audit(app, requestId, ctx, res.statusCode, errorCode, bucketName, key);
    app.log.info(
      {
        req: requestId,
        op: query?.op ?? opName,
        bucket: bucketName,
        key,
        status: res.statusCode,
        err: query?.err ?? errorCode,
        in: query?.bytesIn ?? ctx?.bodyBytes ?? 0,
        out: bytesOut,
        ms: Math.round(ms * 100) / 100,
        user: query?.user ?? ctx?.identity?.accessKeyId,
        aborted: !res.writableFinished || undefined,
      },
      'request',
    );
  });

  try {
    if (app.config.websiteDomains.length > 0 && isWebsiteHost(req.headers.host, app.config.websiteDomains)) {
      const note: WebsiteNote = { op: 'Website' };
      state.close = finishBody(req, res, undefined, expectContinue);
      await serveWebsite(app, req, res, state, raw, false, note);
      opName = note.op;
      errorCode = note.err;
      return;
    }
    const parsed = parseRequest(req, app.config.domains);
    if (!parsed.virtualHost && (parsed.rawPath === ADMIN_PATH_ON_S3 || parsed.rawPath.startsWith(`${ADMIN_PATH_ON_S3}/`))) {
      opName = await serveAdmin(app, req, res, { rawPath: parsed.rawPath, rawQuery: parsed.rawQuery, prefix: ADMIN_PATH_ON_S3, requestId, expectContinue });
      return;
    }
    if (!parsed.virtualHost && parsed.rawPath.startsWith(OBSERVE_PREFIX)) {
      opName = await serveObserve(app, parsed.rawPath.slice(OBSERVE_PREFIX.length), req, res);
      return;
    }
    bucketName = parsed.bucket || undefined;
    if (method === 'OPTIONS') {
      // A CORS preflight: anonymous by nature, answered from the bucket's rules alone.
      opName = 'PreflightCORS';
      key = parsed.key || undefined;
      resourcePath = '/' + (parsed.bucket ? parsed.bucket + (parsed.key ? '/' + parsed.key : '') : '');
      const result = await preflight(app, req, parsed.bucket, parsed.key);
      state.close = finishBody(req, res, undefined, expectContinue);
      await sendResponse(res, method, result, state, app.log);
      return;
    }
    const queryService = queryServiceOf(req, parsed);
    if (queryService) {
      if (req.headers.origin !== undefined) state.cors = await corsFor(app, req, '');
      query = { op: queryService, bytesIn: 0 };
      await serveQuery(app, queryService, req, res, { parsed, raw, state, expectContinue, note: query, unexpected: (e, op) => unexpected(app, e, requestId, op) });
      return;
    }
    const controlPath = s3ControlPath(parsed, req.headers);
    const resource = controlPath === undefined ? resourceOf(parsed.bucket, parsed.key) : 'account';
    // An S3 Control request addresses an account: no bucket, no key.
    const bucketPart = controlPath === undefined ? parsed.bucket : '';
    const keyPart = controlPath === undefined ? parsed.key : '';
    bucketName = bucketPart || undefined;
    key = keyPart || undefined;
    resourcePath = controlPath === undefined ? '/' + (parsed.bucket ? parsed.bucket + (parsed.key ? '/' + parsed.key : '') : '') : parsed.rawPath;
    const op = resolveOperation(method, resource, parsed.query, req.headers, controlPath);
    if (!op && controlPath !== undefined) throw new S3Error('NotImplemented', 'This S3 Control operation is not implemented by this server.');
    if (!op) throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: resource.toUpperCase() });
    opName = op.name;
    opSpec = op;
    // A POST form says who asks in its fields: read once the bucket is known (ctx.readForm).
    const form = op.authorizes === 'form';
    auth = form ? FORM_PENDING : await authenticate(
      {
        method,
        rawPath: parsed.rawPath,
        rawQuery: parsed.rawQuery,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        region: app.config.region,
        now: new Date(),
        presignMaxSeconds: app.config.presignMaxSeconds,
        virtualHostBucket: parsed.virtualHost ? parsed.bucket : undefined,
      },
      (id, token) => app.lookupCredential(id, token),
    );
    refuseUnsignedSubresource(auth, op);
    if (auth.identity) app.iam.noteKeyUsed(auth.identity.accessKeyId, 's3', app.config.region);
    // QoS: over its requests/s the caller gets SlowDown now; byte rates pace its body and response.
    const admitted = admit(app, auth.identity);
    const pace = admitted instanceof Promise ? await admitted : admitted;
    ctx = new Context(requestId, method, op, bucketPart, keyPart, parsed.query, auth, app, Date.now(), form ? undefined : declaredLength(req, auth), req, res, expectContinue, raw);
    ctx.pace = pace;
    if (op.resource !== 'service' && op.resource !== 'account' && op.authorizes !== 'new-bucket') {
      if ((op.name === 'GetObject' || op.name === 'HeadObject') && !parsed.query.has('versionId') && app.meta.getBucketWithLatest) {
        // One read for both where the store pays a round trip per read (PostgreSQL).
        const both = await app.meta.getBucketWithLatest(parsed.bucket, keyPart);
        ctx.bucket = both?.bucket;
        if (both) ctx.latest = { key: keyPart, version: both.latest };
      } else ctx.bucket = await app.meta.getBucket(parsed.bucket);
      if (!ctx.bucket) {
        // To anonymous callers too, as S3 answers: bucket names are global and public anyway.
        throw new S3Error('NoSuchBucket', undefined, { BucketName: parsed.bucket });
      }
    }
    if (form) {
      if (op.consumesSpace && !app.space.admits()) throw new S3Error('InsufficientStorage');
      await ctx.readForm(parsed.virtualHost);
      key = ctx.key;
      if (ctx.identity) app.iam.noteKeyUsed(ctx.identity.accessKeyId, 's3', app.config.region);
    }
    await ctx.authorize(clientAddress(req, app.config.trustedProxies), forwardedHttps(req, app.config.trustedProxies));
    if (!op.handler) throw new S3Error('NotImplemented', `${op.name} is not implemented by this server.`);
    // Before the body is read: a client that sent Expect: 100-continue never sends it.
    if (op.consumesSpace && !app.space.admits()) throw new S3Error('InsufficientStorage');
    let result: S3Response = await ctx.run();
    if (pace?.down.length && method !== 'HEAD') result = await pacedResponse(result, pace);
    if (req.headers.origin !== undefined) state.cors = await corsFor(app, req, bucketPart);
    state.close = finishBody(req, res, ctx, expectContinue);
    await sendResponse(res, method, result, state, app.log);
  } catch (e) {
    // A POST form refused after its fields were read (authorisation, a full disk…).
    ctx?.form?.reader.abandon();
    const err = asS3Error(e) ?? unexpected(app, e, requestId, opName);
    errorCode = err.code;
    if (req.headers.origin !== undefined && method !== 'OPTIONS' && query === undefined) state.cors = await corsFor(app, req, bucketName);
    state.close = finishBody(req, res, ctx, expectContinue);
    await sendError(res, method, err, state, resourcePath);
  }
}

/**
 * The bucket a request is counted against in usage reports: the one it addressed when it exists
 * (its owner's account pays), or the one a successful CreateBucket made (the caller's).
 */
function usageBucket(op: OperationSpec, ctx: Context | undefined, bucketName: string | undefined, status: number): { name: string; owner: string } | undefined {
  if (ctx?.bucket) return ctx.bucket;
  if (op.authorizes === 'new-bucket' && status < 300 && bucketName && ctx?.identity) return { name: bucketName, owner: ctx.identity.userId };
  return undefined;
}

/** A response whose body goes out at the caller's download rate (http/qos.ts). */
async function pacedResponse(r: S3Response, pace: Pace): Promise<S3Response> {
  const b = r.body;
  if (b === undefined) return r;
  if (typeof b === 'string' || Buffer.isBuffer(b)) {
    await spendDown(pace.down, Buffer.byteLength(b));
    return r;
  }
  if (b instanceof Readable) return { ...r, body: Readable.from(paced(b, pace.down), { objectMode: false }) };
  return { ...r, body: pacedPooled(b, pace.down) };
}

/** The request's audit record (src/observe/audit.ts): who, from where, what, and what authorisation decided. */
function audit(app: App, requestId: string, ctx: Context, status: number, error: string | undefined, bucket: string | undefined, key: string | undefined): void {
  const decisions = ctx.authz?.decisions ?? [];
  const p = ctx.authz!.principal;
  const id = ctx.identity;
  const denied = decisions.some((d) => d.decision !== 'Allow');
  app.observe.audit!.record({
    time: new Date().toISOString(),
    requestId,
    ...('arn' in p && p.arn ? { identity: p.arn } : {}),
    ...(id ? { accessKeyId: id.accessKeyId, account: id.accountId } : {}),
    ...(ctx.transport.sourceIp ? { sourceIp: ctx.transport.sourceIp } : {}),
    operation: ctx.op.name,
    ...(bucket ? { bucket } : {}),
    ...(key ? { key } : {}),
    // Optional actions (s3:BypassGovernanceRetention…) may be refused in an allowed request: the
    // request is denied when a required decision was, which its AccessDenied status shows.
    decision: decisions.length === 0 ? 'none' : denied && (error === 'AccessDenied' || error === 'NoSuchKey') ? 'deny' : 'allow',
    decisions,
    status,
    ...(error ? { error } : {}),
  });
}

/**
 * CORS headers for a response to a request with Origin (http/cors.ts). A failure to find them
 * leaves them out rather than failing a response whose body may already be open.
 */
async function corsFor(app: App, req: IncomingMessage, bucketName: string | undefined): Promise<Record<string, string> | undefined> {
  try {
    return await actualCorsHeaders(app, req, bucketName ?? '');
  } catch {
    return undefined;
  }
}

/**
 * The S3 error for a failure no handler turned into one. Running out of space, wherever it
 * happens (a blob write: ENOSPC/EDQUOT; a metadata commit: SQLITE_FULL, for one write or its
 * whole batch), is answered 507 InsufficientStorage, not 500 (see the error table for why), and
 * tells the space guard, which refuses further writes until there is room again.
 */
function unexpected(app: App, e: unknown, requestId: string, op: string): S3Error {
  if (isOutOfSpace(e)) {
    app.space.noteOutOfSpace();
    app.log.warn({ err: e, req: requestId, op }, 'out of space');
    return new S3Error('InsufficientStorage');
  }
  app.log.error({ err: e, req: requestId, op }, 'internal error');
  return new S3Error('InternalError');
}

/**
 * A response may go out before the request body was read (an early error, or a handler that
 * ignores the body). Small bodies are drained so the connection can be reused; large ones, and
 * bodies the client has not sent yet (100-continue), are refused by closing the connection.
 */
function finishBody(req: IncomingMessage, res: ServerResponse, ctx: Context | undefined, expectContinue: boolean): boolean {
  if (req.readableEnded || req.complete) return false;
  if (ctx?.bodyOpened) {
    // The handler stopped reading part-way (a bad chunk signature, a digest mismatch…): the
    // rest of the body is not worth reading.
    res.once('finish', () => req.destroy());
    return true;
  }
  const length = Number(req.headers['content-length'] ?? (req.headers['transfer-encoding'] ? Infinity : 0));
  if (length === 0) return false;
  if (expectContinue || length > DRAIN_LIMIT) {
    res.once('finish', () => req.destroy());
    return true;
  }
  req.resume();
  return false;
}
