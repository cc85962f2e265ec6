// S3 CORS configuration: rules parsed and validated once (PutBucketCors), stored as JSON, and the
// evaluation a browser's requests get (preflight OPTIONS and actual requests with Origin).
//   <CORSConfiguration><CORSRule><ID/><AllowedHeader/>*<AllowedMethod/>+<AllowedOrigin/>+
//     <ExposeHeader/>*<MaxAgeSeconds/></CORSRule>{1,100}</CORSConfiguration>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html

import { S3Error } from '../../errors.js';
import { children, childText, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../../xml.js';

export interface CorsRule {
  id?: string;
  /** Upper case, as given: GET, PUT, POST, DELETE, HEAD. */
  methods: string[];
  /** As given; at most one `*` each. */
  origins: string[];
  /** As given; matched case-insensitively, at most one `*` each. */
  headers: string[];
  expose: string[];
  maxAge?: number;
}

export const CORS_ROOT = 'CORSConfiguration';
/** S3: a configuration is at most 64 KB and has at most 100 rules. */
export const CORS_XML_LIMITS: XmlLimits = { maxBytes: 64 * 1024, repeated: { name: 'CORSRule', max: 100 } };
export const MAX_CORS_RULES = 100;
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

function texts(node: ParsedXml, name: string): string[] {
  return children(node, name).map((c) => {
    if (typeof c === 'string') return c;
    // <AllowedHeader/>: an empty element is an empty string.
    if (Object.keys(c).length === 0) return '';
    throw new S3Error('MalformedXML');
  });
}

function oneWildcard(kind: string, value: string): void {
  if (value.indexOf('*') !== value.lastIndexOf('*')) {
    throw new S3Error('InvalidRequest', `${kind} "${value}" can not have more than one wildcard.`);
  }
}

/** The rules a PutBucketCors document asks for, validated as S3 does. */
export function parseCors(doc: ParsedDoc): CorsRule[] {
  const rules = children(doc, 'CORSRule');
  if (rules.length === 0) throw new S3Error('MalformedXML');
  if (rules.length > MAX_CORS_RULES) throw new S3Error('MalformedXML');
  return rules.map((r) => {
    if (typeof r === 'string') throw new S3Error('MalformedXML');
    const methods = texts(r, 'AllowedMethod').map((m) => m.trim());
    const origins = texts(r, 'AllowedOrigin').map((o) => o.trim());
    // A rule must name at least one method and one origin (S3's schema).
    if (methods.length === 0 || origins.length === 0) throw new S3Error('MalformedXML');
    for (const m of methods) {
      if (!METHODS.has(m)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of origins) oneWildcard('AllowedOrigin', o);
    const headers = texts(r, 'AllowedHeader').map((h) => h.trim());
    for (const h of headers) oneWildcard('AllowedHeader', h);
    const expose = texts(r, 'ExposeHeader').map((h) => h.trim());
    const rule: CorsRule = { methods, origins, headers, expose };
    const id = childText(r, 'ID');
    if (id !== undefined) {
      if (id.length > 255) throw new S3Error('InvalidArgument', 'The ID of a CORS rule can not be longer than 255 characters.');
      rule.id = id;
    }
    const maxAge = childText(r, 'MaxAgeSeconds');
    if (maxAge !== undefined) {
      const t = maxAge.trim();
      if (!/^-?\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new S3Error('MalformedXML');
      rule.maxAge = Number(t);
    }
    return rule;
  });
}

/** The GetBucketCors document, elements in S3's order. */
export function renderCors(rules: readonly CorsRule[]): { root: typeof CORS_ROOT; body: XmlNode } {
  return {
    root: CORS_ROOT,
    body: {
      CORSRule: rules.map((r) => {
        const n: XmlNode = {};
        if (r.id !== undefined) n.ID = r.id;
        if (r.headers.length) n.AllowedHeader = r.headers;
        n.AllowedMethod = r.methods;
        n.AllowedOrigin = r.origins;
        if (r.expose.length) n.ExposeHeader = r.expose;
        if (r.maxAge !== undefined) n.MaxAgeSeconds = r.maxAge;
        return n;
      }),
    },
  };
}

export function serializeCors(rules: readonly CorsRule[]): string {
  return JSON.stringify({ v: 1, rules });
}

export function deserializeCors(s: string): CorsRule[] {
  const parsed = JSON.parse(s) as { rules?: CorsRule[] };
  return parsed.rules ?? [];
}

/** `pattern` with at most one `*` (any run of characters, possibly empty). */
function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/** The request headers a preflight names (Access-Control-Request-Headers), lower-cased. */
export function requestedHeaders(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
}

/**
 * The first rule that allows `origin` with `method` and every header in `headers` (lower case):
 * origins match exactly (case-sensitive, as S3 does) or through their one wildcard; headers
 * case-insensitively, also through one wildcard.
 */
export function matchRule(rules: readonly CorsRule[], origin: string, method: string, headers: readonly string[] = []): CorsRule | undefined {
  for (const r of rules) {
    if (!r.methods.includes(method)) continue;
    if (!r.origins.some((o) => wildcardMatch(o, origin))) continue;
    if (headers.length && !headers.every((h) => r.headers.some((p) => wildcardMatch(p.toLowerCase(), h)))) continue;
    return r;
  }
  return undefined;
}

export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/**
 * The response headers of a rule that matched. Access-Control-Allow-Origin is `*` when the rule
 * allows every origin with `*` (then no Allow-Credentials: browsers refuse `*` with credentials),
 * else the request's origin with `Access-Control-Allow-Credentials: true`, as S3 answers.
 * Allow-Headers (preflight only) lists the requested headers.
 */
export function corsHeaders(rule: CorsRule, origin: string, allowHeaders?: readonly string[]): Record<string, string> {
  const any = rule.origins.includes('*');
  const h: Record<string, string> = { 'Access-Control-Allow-Origin': any ? '*' : origin };
  h['Access-Control-Allow-Methods'] = rule.methods.join(', ');
  if (allowHeaders && allowHeaders.length) h['Access-Control-Allow-Headers'] = allowHeaders.join(', ');
  if (rule.expose.length) h['Access-Control-Expose-Headers'] = rule.expose.join(', ');
  if (rule.maxAge !== undefined) h['Access-Control-Max-Age'] = String(rule.maxAge);
  if (!any) h['Access-Control-Allow-Credentials'] = 'true';
  h.Vary = CORS_VARY;
  return h;
}
