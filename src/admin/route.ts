// What a route of the admin API is (the table itself is routes.ts): method and path template, the
// admin action it needs (authorised on the resource the filled-in path names), its request and
// response schemas (JSON Schema, which the OpenAPI document is generated from and bodies are
// validated against), and its handler.

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import type { TokenRecord } from './tokens.js';

export type JsonSchema = Record<string, unknown>;
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who is calling: a SigV4-signed identity of the server's root account, or an admin token. */
export type AdminCaller = { kind: 'sigv4'; identity: Identity; arn: string } | { kind: 'token'; token: TokenRecord; arn: string } | { kind: 'anonymous'; arn: 'anonymous' };

export interface AdminCall {
  readonly app: App;
  readonly caller: AdminCaller;
  /** Path parameters, decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The JSON body, validated against the route's schema (undefined when the route takes none). */
  readonly body: any;
  readonly requestId: string;
  readonly now: number;
}

export interface QueryParam {
  readonly name: string;
  readonly description: string;
  readonly schema: JsonSchema;
  readonly required?: boolean;
}

export interface AdminRoute {
  readonly method: Method;
  /** Under /admin/v1, with {param} segments: '/accounts/{accountId}/users'. */
  readonly path: string;
  /** The admin action, without its `admin:` prefix (also the OpenAPI operationId). */
  readonly action: string;
  /** The OpenAPI operationId when two routes share an action (default: the action). */
  readonly operationId?: string;
  readonly tag: string;
  readonly summary: string;
  /** Anyone may call it (the OpenAPI document). */
  readonly public?: boolean;
  readonly query?: readonly QueryParam[];
  readonly body?: JsonSchema;
  /**
   * 200 and 201 answer a JSON body of `schema`; 204 answers none. `alternatives` are other media
   * types the handler may answer instead (as a RawBody), e.g. text/csv.
   */
  readonly response: { readonly status: 200 | 201 | 204; readonly schema?: JsonSchema; readonly description: string; readonly alternatives?: readonly string[] };
  readonly handler: (call: AdminCall) => Promise<unknown>;
}

/** A handler's answer in another media type than JSON (one of its route's response.alternatives). */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly body: string,
  ) {}
}

/** The resource ARN of a request: the route's path, filled in. */
export function resourceArn(path: string): string {
  return `arn:trove:admin:::${path.replace(/^\/+/, '')}`;
}
