// S3 static website configuration: parsed and validated once (PutBucketWebsite), stored as JSON,
// read by the website endpoints (s3/website/serve.ts).
//   <WebsiteConfiguration>
//     <RedirectAllRequestsTo><HostName/><Protocol/></RedirectAllRequestsTo>          (alone), or
//     <IndexDocument><Suffix/></IndexDocument> <ErrorDocument><Key/></ErrorDocument>
//     <RoutingRules><RoutingRule><Condition><KeyPrefixEquals/><HttpErrorCodeReturnedEquals/></Condition>
//       <Redirect><Protocol/><HostName/><ReplaceKeyPrefixWith/><ReplaceKeyWith/><HttpRedirectCode/></Redirect>
//     </RoutingRule></RoutingRules>
//   </WebsiteConfiguration>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketWebsite.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/how-to-page-redirect.html

import { S3Error } from '../../errors.js';
import { children, childText, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../../xml.js';

export interface RedirectTarget {
  hostName?: string;
  protocol?: 'http' | 'https';
}

export interface RoutingRule {
  condition?: { keyPrefixEquals?: string; httpErrorCodeReturnedEquals?: number };
  redirect: RedirectTarget & { httpRedirectCode?: number; replaceKeyWith?: string; replaceKeyPrefixWith?: string };
}

export interface WebsiteConfig {
  redirectAll?: RedirectTarget & { hostName: string };
  indexSuffix?: string;
  errorKey?: string;
  rules: RoutingRule[];
}

export const WEBSITE_ROOT = 'WebsiteConfiguration';
/** S3 allows up to 50 routing rules. */
export const MAX_ROUTING_RULES = 50;
export const WEBSITE_XML_LIMITS: XmlLimits = { maxBytes: 128 * 1024 };

// S3 answers InvalidArgument (naming the element) for the document's shape, InvalidRequest for a
// routing rule's content (as LocalStack's AWS-validated snapshots and peers record).
const invalid = (message: string, name: string, value: string) => new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
const request = (message: string) => new S3Error('InvalidRequest', message);

function one(node: ParsedXml | ParsedXml[] | undefined, name: string): ParsedXml | undefined {
  const c = children(node, name);
  if (c.length > 1) throw new S3Error('MalformedXML');
  return c[0];
}

function protocolOf(node: ParsedXml): 'http' | 'https' | undefined {
  const p = childText(node, 'Protocol');
  if (p === undefined) return undefined;
  if (p !== 'http' && p !== 'https') throw request('Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.');
  return p;
}

/** The configuration a PutBucketWebsite document asks for, validated as S3 does. */
export function parseWebsite(doc: ParsedDoc): WebsiteConfig {
  const all = one(doc, 'RedirectAllRequestsTo');
  const index = one(doc, 'IndexDocument');
  const error = one(doc, 'ErrorDocument');
  const rules = one(doc, 'RoutingRules');
  if (all !== undefined) {
    if (index !== undefined || error !== undefined || rules !== undefined) {
      throw invalid('RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.', 'RedirectAllRequestsTo', 'not null');
    }
    const hostName = childText(all, 'HostName');
    if (!hostName) throw new S3Error('MalformedXML');
    const protocol = protocolOf(all);
    return { redirectAll: protocol ? { hostName, protocol } : { hostName }, rules: [] };
  }
  if (index === undefined) throw invalid('A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty', 'IndexDocument', 'null');
  const suffix = childText(index, 'Suffix');
  if (suffix === undefined) throw new S3Error('MalformedXML');
  if (suffix === '' || suffix.includes('/')) throw invalid('The IndexDocument Suffix is not well formed', 'IndexDocument', suffix || 'null');
  const out: WebsiteConfig = { indexSuffix: suffix, rules: [] };
  if (error !== undefined) {
    const key = childText(error, 'Key');
    if (!key) throw new S3Error('MalformedXML');
    out.errorKey = key;
  }
  if (rules !== undefined) {
    const list = children(rules, 'RoutingRule');
    if (list.length === 0) throw new S3Error('MalformedXML');
    if (list.length > MAX_ROUTING_RULES) {
      throw request(`${list.length} routing rules provided, the number of routing rules in a website configuration is limited to ${MAX_ROUTING_RULES}.`);
    }
    out.rules = list.map(parseRule);
  }
  return out;
}

function parseRule(r: ParsedXml): RoutingRule {
  if (typeof r === 'string') throw new S3Error('MalformedXML');
  const rule: RoutingRule = { redirect: {} };
  const c = one(r, 'Condition');
  if (c !== undefined) {
    const prefix = childText(c, 'KeyPrefixEquals');
    const code = childText(c, 'HttpErrorCodeReturnedEquals');
    if (prefix === undefined && code === undefined) {
      throw request("Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.");
    }
    rule.condition = {};
    if (prefix !== undefined) rule.condition.keyPrefixEquals = prefix;
    if (code !== undefined) {
      const n = /^\d{3}$/.test(code.trim()) ? Number(code.trim()) : NaN;
      if (!(n >= 400 && n <= 599)) throw request(`The provided HTTP error code (${code}) is not valid. Valid codes are 4XX or 5XX.`);
      rule.condition.httpErrorCodeReturnedEquals = n;
    }
  }
  const d = one(r, 'Redirect');
  if (d === undefined) throw new S3Error('MalformedXML');
  const redirect = rule.redirect;
  const host = childText(d, 'HostName');
  if (host !== undefined) redirect.hostName = host;
  const protocol = protocolOf(d);
  if (protocol) redirect.protocol = protocol;
  const withKey = childText(d, 'ReplaceKeyWith');
  const withPrefix = childText(d, 'ReplaceKeyPrefixWith');
  if (withKey !== undefined && withPrefix !== undefined) throw request('You can only define ReplaceKeyPrefix or ReplaceKey but not both.');
  if (withKey !== undefined) redirect.replaceKeyWith = withKey;
  if (withPrefix !== undefined) redirect.replaceKeyPrefixWith = withPrefix;
  const code = childText(d, 'HttpRedirectCode');
  if (code !== undefined) {
    const n = /^\d{3}$/.test(code.trim()) ? Number(code.trim()) : NaN;
    if (!(n >= 301 && n <= 399)) throw request(`The provided HTTP redirect code (${code}) is not valid. Valid codes are 3XX except 300.`);
    redirect.httpRedirectCode = n;
  }
  return rule;
}

/** The GetBucketWebsite document. */
export function renderWebsite(c: WebsiteConfig): { root: typeof WEBSITE_ROOT; body: XmlNode } {
  const body: XmlNode = {};
  if (c.redirectAll) {
    const all: XmlNode = { HostName: c.redirectAll.hostName };
    if (c.redirectAll.protocol) all.Protocol = c.redirectAll.protocol;
    body.RedirectAllRequestsTo = all;
    return { root: WEBSITE_ROOT, body };
  }
  if (c.indexSuffix !== undefined) body.IndexDocument = { Suffix: c.indexSuffix };
  if (c.errorKey !== undefined) body.ErrorDocument = { Key: c.errorKey };
  if (c.rules.length) {
    body.RoutingRules = {
      RoutingRule: c.rules.map((r) => {
        const n: XmlNode = {};
        if (r.condition) {
          const cond: XmlNode = {};
          if (r.condition.httpErrorCodeReturnedEquals !== undefined) cond.HttpErrorCodeReturnedEquals = r.condition.httpErrorCodeReturnedEquals;
          if (r.condition.keyPrefixEquals !== undefined) cond.KeyPrefixEquals = r.condition.keyPrefixEquals;
          n.Condition = cond;
        }
        const d = r.redirect;
        const red: XmlNode = {};
        if (d.hostName !== undefined) red.HostName = d.hostName;
        if (d.httpRedirectCode !== undefined) red.HttpRedirectCode = d.httpRedirectCode;
        if (d.protocol !== undefined) red.Protocol = d.protocol;
        if (d.replaceKeyPrefixWith !== undefined) red.ReplaceKeyPrefixWith = d.replaceKeyPrefixWith;
        if (d.replaceKeyWith !== undefined) red.ReplaceKeyWith = d.replaceKeyWith;
        n.Redirect = red;
        return n;
      }),
    };
  }
  return { root: WEBSITE_ROOT, body };
}

export function serializeWebsite(c: WebsiteConfig): string {
  return JSON.stringify({ v: 1, c });
}

export function deserializeWebsite(s: string): WebsiteConfig {
  return (JSON.parse(s) as { c: WebsiteConfig }).c;
}

/**
 * The first rule that applies: to a key before it is looked up (`errorCode` undefined: rules
 * whose condition names no error code), or to the error a lookup returned.
 */
export function matchRoutingRule(rules: readonly RoutingRule[], key: string, errorCode?: number): RoutingRule | undefined {
  for (const r of rules) {
    const c = r.condition;
    if (c?.keyPrefixEquals !== undefined && !key.startsWith(c.keyPrefixEquals)) continue;
    if (errorCode === undefined ? c?.httpErrorCodeReturnedEquals !== undefined : c?.httpErrorCodeReturnedEquals !== errorCode) continue;
    return r;
  }
  return undefined;
}
