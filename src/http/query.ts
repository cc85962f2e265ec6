// The query-protocol APIs on the S3 listener: IAM (iam/api.ts) and STS (sts/api.ts). A request
// whose SigV4 credential scope names the service "iam" or "sts" (…/<region>/iam/aws4_request,
// what the SDKs and the CLI send to those endpoints) is served here, before the S3 operation
// table; so is an unsigned form POST to "/", which S3 has no use for: STS's when its Action is
// one of the unsigned federation actions (AssumeRoleWithWebIdentity, AssumeRoleWithLDAPIdentity),
// else it gets IAM's MissingAuthenticationToken rather than an S3 error. An unsigned GET of "/"
// naming a federation Action in its query string is STS's too.
//
// Both services sign their payload without x-amz-content-sha256, so the (small) body is read first
// and its hash handed to authentication. Parameters come from the form body and the query string.
// The two differ only in their dispatcher and their error document.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/sigv4.js';
import { sha256Hex } from '../auth/signing.js';
import type { Identity } from '../auth/types.js';
import { scopeService } from '../auth/v4common.js';
import { principalOf } from '../authz/authorize.js';
import { globalKeys } from '../authz/keys.js';
import type { App } from '../app.js';
import { dispatchIam } from '../iam/api.js';
import { IamError, iamErrorXml, toIamError } from '../iam/errors.js';
import type { S3Error } from '../s3/errors.js';
import { asS3Error } from '../s3/store-errors.js';
import { IamStoreError } from '../store/meta/types.js';
import { dispatchSts, isUnsignedStsAction } from '../sts/api.js';
import { StsError, stsErrorXml, toStsError } from '../sts/errors.js';
import type { RequestBody } from './body.js';
import { clientAddress, type ParsedRequest } from './request.js';
import { sendResponse, type ResponseState } from './respond.js';
import type { TLSSocket } from 'node:tls';

/** Bodies above this are refused: the largest IAM request (a 131,072-character document, URL-encoded) fits. */
const MAX_BODY = 1024 * 1024;

/** The regions a scope may name besides the server's: the SDKs sign IAM and STS for us-east-1. */
const SIGNING_REGIONS = ['us-east-1'];

export type QueryService = 'iam' | 'sts';

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The query API a request is for, if any. */
export function queryServiceOf(req: IncomingMessage, parsed: ParsedRequest): QueryService | undefined {
  const authorization = firstHeader(req, 'authorization');
  const service = scopeService(authorization, parsed.query.get('X-Amz-Credential'));
  if (service !== undefined) return service === 'iam' || service === 'sts' ? service : undefined;
  if (authorization === undefined && parsed.bucket === '' && (req.method === 'GET' || req.method === 'POST') && isUnsignedStsAction(parsed.query.get('Action'))) return 'sts';
  const unsignedForm = authorization === undefined && req.method === 'POST' && parsed.bucket === '' && (firstHeader(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded');
  return unsignedForm ? 'iam' : undefined;
}

/** What the access log records of a query API request. */
export interface QueryNote {
  op: string;
  err?: string;
  user?: string;
  bytesIn: number;
}

export interface QueryExchange {
  parsed: ParsedRequest;
  raw: RequestBody;
  state: ResponseState;
  expectContinue: boolean;
  note: QueryNote;
  /** The pipeline's answer to a failure nothing turned into an error (500, or 507 for a full disk). */
  unexpected: (e: unknown, op: string) => S3Error;
}

interface QueryCall {
  params: ReadonlyMap<string, string>;
  identity: Identity | null;
  requestId: string;
  now: number;
  keys: ReadonlyMap<string, string[]>;
}

/** The errors the road itself raises, before any action runs; both services have them. */
type RoadError = 'InvalidAction' | 'MissingAuthenticationToken' | 'RequestEntityTooLarge';

/** One service's dispatcher and error rendering. */
interface QueryApi {
  dispatch(app: App, call: QueryCall): Promise<{ xml: string }>;
  refuse(code: RoadError, message?: string): Error;
  /** The service's error for any failure: its own, the pipeline's S3Errors, the store's, the unexpected. */
  errorOf(e: unknown, unexpected: (e: unknown) => S3Error): { code: string; status: number; xml(requestId: string): string };
}

const APIS: Record<QueryService, QueryApi> = {
  iam: {
    dispatch: dispatchIam,
    refuse: (code, message) => new IamError(code, message),
    errorOf(e, unexpected) {
      const s3 = e instanceof IamError ? undefined : asS3Error(e);
      const err = e instanceof IamError ? e : s3 ? toIamError(s3) : e instanceof IamStoreError ? toIamError(e) : toIamError(unexpected(e));
      return { code: err.code, status: err.status, xml: (id) => iamErrorXml(err, id) };
    },
  },
  sts: {
    dispatch: dispatchSts,
    refuse: (code, message) => new StsError(code, message),
    errorOf(e, unexpected) {
      const err = e instanceof StsError ? e : toStsError(asS3Error(e) ?? unexpected(e));
      return { code: err.code, status: err.status, xml: (id) => stsErrorXml(err, id) };
    },
  },
};

async function readBody(raw: RequestBody, note: QueryNote, api: QueryApi): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of raw) {
    note.bytesIn += c.length;
    if (note.bytesIn > MAX_BODY) throw api.refuse('RequestEntityTooLarge');
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export async function serveQuery(app: App, service: QueryService, req: IncomingMessage, res: ServerResponse, x: QueryExchange): Promise<void> {
  let api = APIS[service];
  const method = req.method ?? 'GET';
  const { parsed, state, note } = x;
  let bodyRead = false;
  try {
    if (parsed.bucket !== '' || (method !== 'POST' && method !== 'GET')) throw api.refuse('InvalidAction', `${service.toUpperCase()} requests are GET or POST requests to /.`);
    const unsigned = firstHeader(req, 'authorization') === undefined && !parsed.query.has('X-Amz-Credential');
    // Only a form POST (whose Action is in the body) or a federation Action may come unsigned.
    if (unsigned && method !== 'POST' && !isUnsignedStsAction(parsed.query.get('Action'))) throw api.refuse('MissingAuthenticationToken');
    if (Number(firstHeader(req, 'content-length') ?? 0) > MAX_BODY) throw api.refuse('RequestEntityTooLarge');
    if (x.expectContinue) res.writeContinue();
    const body = await readBody(x.raw, note, api);
    bodyRead = true;
    const now = new Date();

    // The form body's parameters, then the query string's (the first occurrence of a name wins).
    const params = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) if (!params.has(k)) params.set(k, v);
    for (const [k, v] of parsed.query) if (!params.has(k)) params.set(k, v);
    note.op = `${service}:${params.get('Action') ?? '-'}`;

    if (unsigned) {
      // The federation actions: the caller proves who it is inside the call (a token, a password).
      if (!isUnsignedStsAction(params.get('Action'))) throw api.refuse('MissingAuthenticationToken');
      service = 'sts';
      api = APIS.sts;
      note.op = `sts:${params.get('Action')!}`;
      const keys = globalKeys({ principal: { kind: 'anonymous' }, headers: req.headers, sourceIp: clientAddress(req, app.config.trustedProxies), secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true, now: now.getTime() });
      const { xml } = await api.dispatch(app, { params, identity: null, requestId: state.requestId, now: now.getTime(), keys });
      await sendResponse(res, method, { headers: { 'Content-Type': 'text/xml' }, body: xml }, state, app.log);
      return;
    }

    const auth = await authenticate(
      {
        method,
        rawPath: parsed.rawPath,
        rawQuery: parsed.rawQuery,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        region: app.config.region,
        now,
        service,
        payloadHash: sha256Hex(body),
        extraRegions: SIGNING_REGIONS,
      },
      (id, token) => app.lookupCredential(id, token),
    );
    const identity = auth.identity;
    if (!identity) throw api.refuse('MissingAuthenticationToken');
    note.user = identity.accessKeyId;
    app.iam.noteKeyUsed(identity.accessKeyId, service, app.config.region);
    const keys = globalKeys({ principal: principalOf(identity), headers: req.headers, sourceIp: clientAddress(req, app.config.trustedProxies), secureTransport: (req.socket as Partial<TLSSocket>).encrypted === true, now: now.getTime() });
    const { xml } = await api.dispatch(app, { params, identity, requestId: state.requestId, now: now.getTime(), keys });
    await sendResponse(res, method, { headers: { 'Content-Type': 'text/xml' }, body: xml }, state, app.log);
  } catch (e) {
    const err = api.errorOf(e, (u) => x.unexpected(u, note.op));
    note.err = err.code;
    // A body left unread (refused before it was needed) is not worth reading: close afterwards.
    if (!bodyRead && !req.complete) {
      state.close = true;
      res.once('finish', () => req.destroy());
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    await sendResponse(res, method, { status: err.status, headers: { 'Content-Type': 'text/xml' }, body: err.xml(state.requestId) }, state, app.log);
  }
}
