// Contracts between the HTTP pipeline and the authentication layer.
//
// The pipeline calls `authenticate()` once per request, before any handler runs and before any
// body byte is read. It answers who is asking (or throws an S3Error), and how the body must be
// decoded and verified. The handler then reads the body through `openBody()`, which yields the
// *decoded* object bytes (aws-chunked framing removed), verifying signatures and hashes as it goes,
// and which fails with an S3Error (never commits a half-checked body) on any mismatch.

import type { IncomingHttpHeaders } from 'node:http';

/** The IAM user holding a key (absent from identities of an account's root user). */
export interface IdentityUser {
  /** Unique id, AIDA… (aws:userid). */
  id: string;
  /** aws:username */
  name: string;
  path: string;
  /** arn:aws:iam::<account>:user<path><name> */
  arn: string;
}

/** The role a role session acts as (AssumeRole). */
export interface IdentityRole {
  /** Unique id, AROA… */
  id: string;
  name: string;
  path: string;
  /** arn:aws:iam::<account>:role<path><name> */
  arn: string;
  /** RoleSessionName */
  sessionName: string;
  /** arn:aws:sts::<account>:assumed-role/<name>/<session> (no path, as AWS writes it) */
  sessionArn: string;
}

/** What temporary credentials (STS) add to an identity: their session, as its token carries it. */
export interface IdentitySession {
  /** AssumeRole: the session acts as `role`; GetSessionToken: as the IAM user or root that asked. */
  kind: 'assumed-role' | 'session-token';
  /** ms since epoch (aws:TokenIssueTime) */
  issuedAt: number;
  /** ms since epoch: from then on the credentials are refused (ExpiredToken). */
  expiresAt: number;
  /** aws:SourceIdentity, once set. */
  sourceIdentity?: string;
  /** Role sessions. */
  role?: IdentityRole;
  /** The inline session policy (role sessions). */
  policy?: string;
  /** Unique ids of the managed session policies (role sessions). */
  policyIds?: readonly string[];
}

/**
 * A secret known to the server, looked up by access key id (only active keys are found), or the
 * temporary credentials a session token carries.
 */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** Canonical user id of the owning account (64 hex chars). */
  userId: string;
  /** The owner's 12-digit account id. */
  accountId: string;
  displayName: string;
  /** The IAM user holding the key; absent for the account's root user. */
  user?: IdentityUser;
  /** Temporary credentials: the session token they are valid with, and their session. */
  sessionToken?: string;
  session?: IdentitySession;
}

/**
 * Finds the credential of an access key id. With a session token (never empty), only the
 * temporary credentials that token carries may be answered; authentication checks that they are
 * the token's (v4common.ts lookupCredential), so a lookup that knows nothing of tokens is safe.
 */
export type CredentialLookup = (accessKeyId: string, sessionToken?: string) => Credential | undefined | Promise<Credential | undefined>;

export interface AuthRequest {
  method: string;
  /** Path part of the request-target exactly as received (still percent-encoded), e.g. "/bucket/a%20b". */
  rawPath: string;
  /** Query string exactly as received, without the leading '?' ('' when absent). */
  rawQuery: string;
  /** Node's parsed (lower-cased) headers. */
  headers: IncomingHttpHeaders;
  /** Node's rawHeaders (name, value, name, value…), to rebuild repeated headers exactly. */
  rawHeaders: string[];
  /**
   * The bucket when it was addressed virtual-host style (from the Host header), else undefined.
   * SigV2 signs "/bucket/key" whichever style the request used, so it needs to know.
   */
  virtualHostBucket?: string;
  /** Server region (TROVE_REGION); a credential scope for another region is rejected. */
  region: string;
  /**
   * The service the request is signed for (the credential scope's): 's3' (default), 'iam' or
   * 'sts' (the IAM and STS APIs on the same listener). Only SigV4 header signatures are accepted
   * for 'iam' and 'sts'.
   */
  service?: SignedService;
  /**
   * Services other than S3 sign the payload without an x-amz-content-sha256 header: the pipeline
   * reads such a body first and passes its SHA-256 (hex) here.
   */
  payloadHash?: string;
  /** Regions a scope may name besides `region` (the SDKs sign IAM and STS requests for us-east-1). */
  extraRegions?: readonly string[];
  /** Current time, injectable for tests. */
  now: Date;
  /** Longest validity of a presigned URL in seconds (default, and SigV4's maximum: 7 days). */
  presignMaxSeconds?: number;
}

export type AuthMethod = 'anonymous' | 'sigv4-header' | 'sigv4-query' | 'sigv2-header' | 'sigv2-query' | 'post-policy';

export type SignedService = 's3' | 'iam' | 'sts' | 'trove-admin';

export interface Identity {
  accessKeyId: string;
  /** Canonical user id of the caller's account: what the caller's writes are owned by. */
  userId: string;
  /** The caller's 12-digit account id. */
  accountId: string;
  displayName: string;
  /** The IAM user making the request (itself, or through a GetSessionToken session); absent for the account's root user and for role sessions. */
  user?: IdentityUser;
  /** Temporary credentials' session: a role session, or a GetSessionToken session of `user` or the root user. */
  session?: IdentitySession;
}

/** How the request body must be decoded and verified. */
export type PayloadMode =
  /** No verification beyond Content-Length (UNSIGNED-PAYLOAD, presigned URLs, anonymous). */
  | { kind: 'unsigned' }
  /** x-amz-content-sha256 is a hex SHA-256: the whole body must hash to it (else XAmzContentSHA256Mismatch). */
  | { kind: 'sha256'; expectedHex: string }
  /**
   * aws-chunked framing (x-amz-content-sha256 = STREAMING-…):
   *  STREAMING-AWS4-HMAC-SHA256-PAYLOAD           signed: true,  trailer: false
   *  STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER   signed: true,  trailer: true
   *  STREAMING-UNSIGNED-PAYLOAD-TRAILER           signed: false, trailer: true
   */
  | {
      kind: 'chunked';
      signed: boolean;
      trailer: boolean;
      /** x-amz-decoded-content-length, when sent (required by S3 for streaming uploads). */
      decodedLength: number | undefined;
      /** Header names announced in x-amz-trailer (lower-case). */
      trailerNames: string[];
      /** For signed modes: what chunk signatures chain from. */
      signing?: ChunkSigningContext;
    };

export interface ChunkSigningContext {
  /** Derived SigV4 signing key (HMAC of date/region/service/aws4_request). */
  signingKey: Buffer;
  /** x-amz-date of the request, e.g. 20130524T000000Z */
  amzDate: string;
  /** Credential scope, e.g. 20130524/us-east-1/s3/aws4_request */
  scope: string;
  /** Signature of the request headers: the seed of the chunk-signature chain. */
  seedSignature: string;
}

export interface AuthResult {
  method: AuthMethod;
  /** null for anonymous requests. */
  identity: Identity | null;
  payload: PayloadMode;
}

/**
 * A decoded request body. Iterate it once to get the object bytes. When iteration ends without
 * error, `trailers` holds the trailing headers (lower-case names), if the mode had any, and
 * `length` the number of decoded bytes.
 */
export interface DecodedBody extends AsyncIterable<Buffer> {
  readonly trailers: Record<string, string>;
  readonly length: number;
}
