// A request as the authentication checks see it: headers and query string parsed once.

import { firstHeader, headerValues, parseQuery, type QueryParam } from './canonical.js';
import type { AuthRequest, Credential, Identity } from './types.js';

export interface ParsedAuthRequest {
  req: AuthRequest;
  /** All values of each header, by lower-case name, in order received. */
  headers: Map<string, string[]>;
  /** Query parameters in order received. */
  query: QueryParam[];
  /** First value of a header (lower-case name). */
  header(name: string): string | undefined;
  /** Decoded value of the first query parameter of that (decoded, case-sensitive) name. */
  queryParam(name: string): string | undefined;
  hasQueryParam(name: string): boolean;
}

export function parseAuthRequest(req: AuthRequest): ParsedAuthRequest {
  const headers = headerValues(req);
  const query = parseQuery(req.rawQuery);
  return {
    req,
    headers,
    query,
    header: (name) => firstHeader(headers, name),
    queryParam: (name) => query.find((p) => p.name === name)?.value,
    hasQueryParam: (name) => query.some((p) => p.name === name),
  };
}

/**
 * Identities by credential. A long-term key's Credential is one cached object for as long as the
 * IAM cache keeps it (iam/service.ts), and neither is ever modified: handing every request the
 * same Identity lets what is derived from it (its policy principal, authz/authorize.ts) be
 * derived once.
 */
const identities = new WeakMap<Credential, Identity>();

export function identityOf(c: Credential): Identity {
  let id = identities.get(c);
  if (!id) {
    id = newIdentity(c);
    identities.set(c, id);
  }
  return id;
}

function newIdentity(c: Credential): Identity {
  const id: Identity = { accessKeyId: c.accessKeyId, userId: c.userId, accountId: c.accountId, displayName: c.displayName };
  if (c.user) id.user = c.user;
  if (c.session) id.session = c.session;
  return id;
}
