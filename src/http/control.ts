// Requests for the S3 Control API (account-level configuration) arrive on the S3 listener, signed
// for service s3: `/v20180820/<path>` with an `x-amz-account-id` header. Path-style, the version
// reads as a bucket name; with the SDKs' default host prefix (`<account id>.<endpoint>`) and a
// configured domain, the account id reads as a virtual-host bucket and the version leads the key.
// The header tells them apart from S3 requests, which never carry it.

import type { IncomingHttpHeaders } from 'node:http';
import type { ParsedRequest } from './request.js';

const VERSION = 'v20180820';

/** The S3 Control path after `/v20180820/` (e.g. `configuration/publicAccessBlock`), or undefined for an S3 request. */
export function s3ControlPath(parsed: Pick<ParsedRequest, 'bucket' | 'key' | 'virtualHost'>, headers: IncomingHttpHeaders): string | undefined {
  if (headers['x-amz-account-id'] === undefined) return undefined;
  if (!parsed.virtualHost) return parsed.bucket === VERSION ? parsed.key : undefined;
  return parsed.key.startsWith(`${VERSION}/`) ? parsed.key.slice(VERSION.length + 1) : undefined;
}
