// The IAM API on the S3 listener. A request whose SigV4 credential scope names the service "iam"
// (…/<region>/iam/aws4_request, what the SDKs and the CLI send to an IAM endpoint) is served
// here, before the S3 operation table; so is an unsigned form POST to "/", which S3 has no use
// for, so that it gets IAM's MissingAuthenticationToken rather than an S3 error.
//
// IAM signs its payload without x-amz-content-sha256, so the (small) body is read first and its
// hash handed to authentication. Parameters come from the form body and the query string.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/sigv4.js';
import { sha256Hex } from '../auth/signing.js';
import { scopeService } from '../auth/v4common.js';
import { principalOf } from '../authz/authorize.js';
import { globalKeys } from '../authz/keys.js';
import type { App } from '../app.js';
import { dispatchIam } from '../iam/api.js';
import { IamError, iamErrorXml, toIamError } from '../iam/errors.js';
import { isS3Error, type S3Error } from '../s3/errors.js';
import { IamStoreError } from '../store/meta/types.js';
import type { RequestBody } from './body.js';
import { clientAddress, type ParsedRequest } from './request.js';
import { sendResponse, type ResponseState } from './respond.js';

/** Bodies above this are refused: the largest IAM request (a 131,072-character document, URL-encoded) fits. */
const MAX_IAM_BODY = 1024 * 1024;

/** The regions an IAM scope may name besides the server's: the SDKs sign IAM for us-east-1. */
const IAM_SIGNING_REGIONS = ['us-east-1'];

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function isIamRequest(req: IncomingMessage, parsed: ParsedRequest): boolean {
  const authorization = firstHeader(req, 'authorization');
  const service = scopeService(authorization, parsed.query.get('X-Amz-Credential'));
  if (service !== undefined) return service === 'iam';
  return authorization === undefined && req.method === 'POST' && parsed.bucket === '' && (firstHeader(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded');
}

/** What the access log records of an IAM request. */
export interface IamNote {
  op: string;
  err?: string;
  user?: string;
  bytesIn: number;
}

export interface IamExchange {
  parsed: ParsedRequest;
  raw: RequestBody;
  state: ResponseState;
  expectContinue: boolean;
  note: IamNote;
  /** The pipeline's answer to a failure nothing turned into an error (500, or 507 for a full disk). */
  unexpected: (e: unknown, op: string) => S3Error;
}

async function readBody(raw: RequestBody, note: IamNote): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of raw) {
    note.bytesIn += c.length;
    if (note.bytesIn > MAX_IAM_BODY) throw new IamError('RequestEntityTooLarge');
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export async function serveIam(app: App, req: IncomingMessage, res: ServerResponse, x: IamExchange): Promise<void> {
  const method = req.method ?? 'GET';
  const { parsed, state, note } = x;
  let bodyRead = false;
  try {
    if (parsed.bucket !== '' || (method !== 'POST' && method !== 'GET')) throw new IamError('InvalidAction', 'IAM requests are GET or POST requests to /.');
    if (firstHeader(req, 'authorization') === undefined && !parsed.query.has('X-Amz-Credential')) throw new IamError('MissingAuthenticationToken');
    if (Number(firstHeader(req, 'content-length') ?? 0) > MAX_IAM_BODY) throw new IamError('RequestEntityTooLarge');
    if (x.expectContinue) res.writeContinue();
    const body = await readBody(x.raw, note);
    bodyRead = true;
    const now = new Date();
    const auth = await authenticate(
      {
        method,
        rawPath: parsed.rawPath,
        rawQuery: parsed.rawQuery,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        region: app.config.region,
        now,
        service: 'iam',
        payloadHash: sha256Hex(body),
        extraRegions: IAM_SIGNING_REGIONS,
      },
      (id) => app.lookupCredential(id),
    );
    const identity = auth.identity;
    if (!identity) throw new IamError('MissingAuthenticationToken');
    note.user = identity.accessKeyId;
    app.iam.noteKeyUsed(identity.accessKeyId, 'iam', app.config.region);

    // The form body's parameters, then the query string's (the first occurrence of a name wins).
    const params = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) if (!params.has(k)) params.set(k, v);
    for (const [k, v] of parsed.query) if (!params.has(k)) params.set(k, v);
    note.op = `iam:${params.get('Action') ?? '-'}`;
    const keys = globalKeys({ principal: principalOf(identity), headers: req.headers, sourceIp: clientAddress(req, app.config.trustedProxies), secureTransport: false, now: now.getTime() });
    const { xml } = await dispatchIam(app, { params, identity, requestId: state.requestId, now: now.getTime(), keys });
    await sendResponse(res, method, { headers: { 'Content-Type': 'text/xml' }, body: xml }, state, app.log);
  } catch (e) {
    const err =
      e instanceof IamError ? e : isS3Error(e) ? toIamError(e) : e instanceof IamStoreError ? toIamError(e) : toIamError(x.unexpected(e, note.op));
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
    await sendResponse(res, method, { status: err.status, headers: { 'Content-Type': 'text/xml' }, body: iamErrorXml(err, state.requestId) }, state, app.log);
  }
}
