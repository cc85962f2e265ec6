// PostObject: POST /<bucket> with a multipart/form-data body (browser-based uploads).
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
//
// The pipeline reads the fields before the file (openPostForm), authenticates them (the signed
// policy, auth/post.ts) and authorises the write as a PutObject of the form's key on the URL's
// bucket, with the form's fields in the place of PutObject's headers (acl → x-amz-acl,
// Content-Type, x-amz-meta-*, tagging → x-amz-tagging…). The handler then streams the file
// through PutObject's own storage path (writeObject): the same temp blob, checksums, inline small
// objects and durability. Fields after the file are ignored, as S3 does.

import type { IncomingHttpHeaders } from 'node:http';
import { authenticatePost, type LengthRange } from '../../auth/post.js';
import type { AuthResult, CredentialLookup, DecodedBody } from '../../auth/types.js';
import { FormReader, type FormFile } from '../../http/form.js';
import { MAX_KEY_BYTES } from '../../http/request.js';
import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { writeObject } from './PutObject.js';
import { parseTaggingXml, taggingHeaderOf } from './tagging.js';

/** Fields that become the PutObject header of the same name. */
const HEADER_FIELDS: ReadonlySet<string> = new Set([
  'content-type',
  'content-disposition',
  'content-encoding',
  'content-language',
  'cache-control',
  'expires',
  'content-md5',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
  'x-amz-object-lock-mode',
  'x-amz-object-lock-retain-until-date',
  'x-amz-object-lock-legal-hold',
  // Refused by writeObject as not implemented, rather than ignored.
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm',
]);

/** Request headers that keep their meaning for a form upload (condition keys of authorisation). */
const REQUEST_HEADERS = ['host', 'user-agent', 'referer', 'origin'];

export interface PostForm {
  reader: FormReader;
  file: FormFile;
  auth: AuthResult;
  /** The object key (the key field, `${filename}` replaced). */
  key: string;
  /** The form as PutObject headers. */
  headers: IncomingHttpHeaders;
  /** Fields before the file, by lower-case name. */
  fields: ReadonlyMap<string, string>;
  lengthRange?: LengthRange;
  /** The bucket was addressed virtual-host style (for the object's Location). */
  virtualHost: boolean;
}

export interface PostFormInput {
  /** The request's headers (Content-Type with the boundary). */
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
  /** The bucket of the URL: the only one a form can write to. */
  bucket: string;
  region: string;
  now: Date;
  lookup: CredentialLookup;
  virtualHost: boolean;
}

/** Header values are latin1 strings of their bytes; form fields are text. */
function asHeaderValue(v: string): string {
  return Buffer.from(v, 'utf8').toString('latin1');
}

/** Reads and authenticates the form up to its file (see the file comment). */
export async function openPostForm(input: PostFormInput): Promise<PostForm> {
  const reader = new FormReader(input.headers, input.body);
  try {
    const head = await reader.head();
    const fields = new Map<string, string>();
    // The first of repeated fields counts, for the policy check and the write alike.
    for (const f of head.fields) {
      const name = f.name.toLowerCase();
      if (!fields.has(name)) fields.set(name, f.value);
    }
    // A bucket field may only repeat the URL's bucket: the write goes there whatever the form
    // says, and a policy is checked against that bucket (CVE-2023-43040 in Ceph RGW and
    // CVE-2023-28434 in MinIO came from trusting the field).
    const named = fields.get('bucket');
    if (named !== undefined && named !== input.bucket) {
      throw new S3Error('AccessDenied', 'The bucket field of the form does not name the bucket the request was sent to.');
    }
    fields.set('bucket', input.bucket);
    const rawKey = fields.get('key');
    if (rawKey === undefined) {
      throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key', ArgumentValue: '' });
    }
    const key = rawKey.replaceAll('${filename}', head.file.filename);
    if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' });
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: MAX_KEY_BYTES, Size: Buffer.byteLength(key, 'utf8') });
    // Conditions on the key see it with the filename in place.
    fields.set('key', key);
    const { auth, lengthRange } = await authenticatePost({ fields, region: input.region, now: input.now }, input.lookup);
    const form: PostForm = { reader, file: head.file, auth, key, headers: headersOf(fields, input.headers), fields, virtualHost: input.virtualHost };
    if (lengthRange) form.lengthRange = lengthRange;
    return form;
  } catch (e) {
    reader.abandon();
    throw e;
  }
}

/** The form's fields as the headers of the equivalent PutObject. */
function headersOf(fields: ReadonlyMap<string, string>, request: IncomingHttpHeaders): IncomingHttpHeaders {
  const h: IncomingHttpHeaders = {};
  for (const name of REQUEST_HEADERS) if (request[name] !== undefined) h[name] = request[name] as string;
  for (const [name, value] of fields) {
    if (HEADER_FIELDS.has(name) || name.startsWith('x-amz-meta-') || name.startsWith('x-amz-checksum-')) h[name] = asHeaderValue(value);
  }
  // The algorithm of a checksum field, as PutObject's SDK header names it.
  const algorithm = fields.get('x-amz-checksum-algorithm');
  if (algorithm !== undefined) {
    delete h['x-amz-checksum-algorithm'];
    h['x-amz-sdk-checksum-algorithm'] = algorithm;
  }
  const acl = fields.get('acl');
  if (acl !== undefined) h['x-amz-acl'] = acl;
  const tagging = fields.get('tagging');
  if (tagging !== undefined) h['x-amz-tagging'] = taggingHeaderOf(parseTaggingXml(tagging, 10));
  return h;
}

/** The file as the request body writeObject reads. */
export function fileBody(file: FormFile): DecodedBody {
  let length = 0;
  return {
    trailers: {},
    get length() {
      return length;
    },
    async *[Symbol.asyncIterator]() {
      for await (const chunk of file.stream) {
        length += chunk.length;
        yield chunk;
      }
    },
  };
}

const SUCCESS_STATUSES = new Set(['200', '201', '204']);

export const postObject: Handler = async (ctx) => {
  const form = formOf(ctx);
  try {
    const written = await writeObject(ctx, {
      ...(form.lengthRange ? { minSize: form.lengthRange.min, maxSize: form.lengthRange.max } : {}),
      // The rest of the form is read before the object is committed: a second file refuses it.
      beforeCommit: () => form.reader.rest(),
    });
    const headers: Record<string, string> = { ...written.headers };
    const location = objectUrl(ctx, form);
    headers.Location = location;
    const redirect = form.fields.get('success_action_redirect') ?? form.fields.get('redirect');
    const target = redirect === undefined ? undefined : redirectTarget(redirect, ctx.bucketName, form.key, written.etag);
    if (target !== undefined) return { status: 303, headers: { ...headers, Location: target } };
    const status = form.fields.get('success_action_status');
    if (status === '201') {
      return {
        status: 201,
        headers,
        xml: { root: 'PostResponse', body: { Location: location, Bucket: ctx.bucketName, Key: form.key, ETag: `"${written.etag}"` }, namespace: null },
      };
    }
    return { status: status !== undefined && SUCCESS_STATUSES.has(status) ? Number(status) : 204, headers };
  } catch (e) {
    form.reader.abandon();
    throw e;
  }
};

function formOf(ctx: S3Context): PostForm {
  if (!ctx.form) throw new Error('PostObject needs the form read by the pipeline');
  return ctx.form;
}

/** success_action_redirect with bucket, key and etag appended; undefined when it is not a URL (S3 then ignores it). */
function redirectTarget(raw: string, bucket: string, key: string, etag: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const q = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(`"${etag}"`)}`;
  const hash = raw.indexOf('#');
  const base = hash < 0 ? raw : raw.slice(0, hash);
  return base + (url.search ? '&' : '?') + q + (hash < 0 ? '' : raw.slice(hash));
}

/** Where the new object lives, as the client addressed the bucket. */
function objectUrl(ctx: S3Context, form: PostForm): string {
  const host = String(ctx.headers.host ?? 'localhost');
  const path = form.key.split('/').map(encodeURIComponent).join('/');
  return form.virtualHost ? `http://${host}/${path}` : `http://${host}/${ctx.bucketName}/${path}`;
}
