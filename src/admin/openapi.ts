// The OpenAPI 3.1 document of the admin API, generated from the route table (routes.ts): every
// route is in it and nothing else is. Served at /admin/v1/openapi.json (and, on the S3 listener,
// /_trove/admin/v1/openapi.json).

import type { AdminRoute, JsonSchema } from './route.js';
import { errorBody } from './schema.js';

export const ADMIN_API_VERSION = 'v1';

let cached: Record<string, unknown> | undefined;

export function openApiDocument(routes: readonly AdminRoute[]): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1]!, in: 'path', required: true, schema: { type: 'string' } }));
    const query = (r.query ?? []).map((q) => ({ name: q.name, in: 'query', required: q.required === true, description: q.description, schema: q.schema }));
    const responses: Record<string, unknown> = {
      [String(r.response.status)]: r.response.schema
        ? { description: r.response.description, content: { 'application/json': { schema: r.response.schema }, ...Object.fromEntries((r.response.alternatives ?? []).map((t) => [t, { schema: { type: 'string' } }])) } }
        : { description: r.response.description },
      default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    };
    const op: Record<string, unknown> = {
      operationId: r.operationId ?? r.action,
      summary: r.summary,
      tags: [r.tag],
      'x-trove-action': r.public ? undefined : `admin:${r.action}`,
      parameters: [...params, ...query],
      responses,
      ...(r.public ? { security: [] } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body as JsonSchema } } } } : {}),
    };
    if (op['x-trove-action'] === undefined) delete op['x-trove-action'];
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Trove admin API',
      version: ADMIN_API_VERSION,
      description:
        'Administration of a Trove server: accounts, IAM users, groups, keys and policies, buckets, quotas, QoS, ' +
        'KMS keys, tiers, replication remotes, notification targets, admin tokens, server information. Requests are ' +
        'signed with AWS SigV4 for the service "trove-admin" by an identity of the server\'s root account allowed ' +
        'the route\'s admin action (x-trove-action), or carry an admin token as "Authorization: Bearer <token>".',
    },
    servers: [{ url: '/admin/v1', description: 'on the admin listener (--admin-address)' }, { url: '/_trove/admin/v1', description: 'on the S3 listener' }],
    security: [{ sigv4: [] }, { token: [] }],
    paths,
    components: {
      schemas: { Error: errorBody },
      securitySchemes: {
        sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS Signature Version 4, service "trove-admin", the server\'s region' },
        token: { type: 'http', scheme: 'bearer', description: 'an admin token (POST /tokens, trove admin token create)' },
      },
    },
  };
  return cached;
}
