// XML in and out. Responses are rendered by a small template-free writer (listing 1000 keys is on
// a hot path); request bodies are parsed with fast-xml-parser and validated before use.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * Pre-rendered XML, written as is in place of the property holding it (the property's name is
 * not used): for hot repeated elements, such as listing entries, built with templates instead of
 * walked as objects.
 */
export class RawXml {
  constructor(readonly xml: string) {}
}

/** A value renderable as XML: nested objects become elements, arrays repeat the element. */
export type XmlValue = string | number | boolean | Date | null | undefined | RawXml | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

/** Escapes text for element content and attribute values. */
export function escapeXml(s: string): string {
  // Fast path: most keys and values need no escaping.
  return /[&<>"'\r]/.test(s) ? s.replace(/[&<>"'\r]/g, (c) => ESC[c]!) : s;
}

/** Attributes are given under this property: { [ATTRS]: { 'xmlns:xsi': '…' } }. */
export const ATTRS = '@attrs';
/** Text content of an element that also has attributes: { [TEXT]: 'us-west-2' }. */
export const TEXT = '#text';

function renderValue(name: string, v: XmlValue, out: string[]): void {
  if (v === undefined) return;
  if (Array.isArray(v)) {
    for (const item of v) renderValue(name, item, out);
    return;
  }
  if (v === null) {
    out.push(`<${name}/>`);
    return;
  }
  if (v instanceof Date) {
    out.push(`<${name}>${isoTime(v)}</${name}>`);
    return;
  }
  if (v instanceof RawXml) {
    out.push(v.xml);
    return;
  }
  if (typeof v === 'object') {
    let attrs = '';
    const a = v[ATTRS] as Record<string, string> | undefined;
    if (a) for (const [k, val] of Object.entries(a)) attrs += ` ${k}="${escapeXml(val)}"`;
    out.push(`<${name}${attrs}>`);
    for (const [k, child] of Object.entries(v)) {
      if (k === TEXT) out.push(escapeXml(String(child ?? '')));
      else if (k !== ATTRS) renderValue(k, child, out);
    }
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${escapeXml(String(v))}</${name}>`);
}

/** Renders a document: `<?xml …?><Root xmlns="…">…</Root>`. */
export function renderXml(root: string, body: XmlNode, opts: { namespace?: string | null } = {}): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  const ns = opts.namespace === undefined ? S3_NS : opts.namespace;
  const node: XmlNode = ns ? { [ATTRS]: { xmlns: ns, ...((body[ATTRS] as object) ?? {}) } as unknown as XmlValue, ...body } : body;
  renderValue(root, node, out);
  return out.join('');
}

/** S3's timestamp format in XML: 2006-02-03T16:45:09.000Z */
export function isoTime(d: Date | number): string {
  return (typeof d === 'number' ? new Date(d) : d).toISOString();
}

/** RFC 7231 date for headers: Wed, 12 Oct 2009 17:50:00 GMT */
export function httpDate(d: Date | number): string {
  return (typeof d === 'number' ? new Date(d) : d).toUTCString();
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: true,
  isArray: () => false,
});

/** A parsed element: text content, or child elements by name (repeated names become arrays). */
export type ParsedXml = string | { [name: string]: ParsedXml | ParsedXml[] };

/**
 * Parses a request body. Throws MalformedXML when the document is not well formed, is empty, or
 * its root element is not `expectedRoot`. Returns the root element's content.
 */
export function parseXmlBody(body: Buffer | string, expectedRoot: string, errorCode: 'MalformedXML' | 'MalformedACLError' = 'MalformedXML'): Record<string, ParsedXml | ParsedXml[]> {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (!text.trim()) throw new S3Error(errorCode);
  if (XMLValidator.validate(text) !== true) throw new S3Error(errorCode);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error(errorCode);
  }
  const roots = Object.keys(doc);
  if (roots.length !== 1 || roots[0] !== expectedRoot) throw new S3Error(errorCode);
  const content = doc[expectedRoot];
  if (content === '' || content === undefined || content === null) return {};
  if (typeof content !== 'object') return { '#text': String(content) };
  return content as Record<string, ParsedXml | ParsedXml[]>;
}

/** Children named `name` as an array (0, 1 or many). */
export function children(node: ParsedXml | ParsedXml[] | undefined, name: string): ParsedXml[] {
  if (node === undefined || typeof node === 'string') return [];
  if (Array.isArray(node)) return node.flatMap((n) => children(n, name));
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Text of the single child `name`; undefined if absent; MalformedXML if it is not text. */
export function childText(node: ParsedXml | ParsedXml[] | undefined, name: string): string | undefined {
  const c = children(node, name);
  if (c.length === 0) return undefined;
  if (c.length > 1) throw new S3Error('MalformedXML');
  const v = c[0]!;
  if (typeof v === 'string') return v;
  if (Object.keys(v).length === 0) return '';
  throw new S3Error('MalformedXML');
}
