// XML in and out. Responses are rendered by a small template-free writer (listing 1000 keys is on
// a hot path); request bodies are parsed as they stream in (XmlReader) and validated before use.

import { SaxesParser } from 'saxes';
import { S3Error, isS3Error } from './errors.js';

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

/**
 * A parsed element: text content, or child elements by name (repeated names become arrays).
 * When the reader keeps attributes (XmlLimits.attributes), an element that has any is an object
 * with them under ATTRS (`{ '@attrs': { type: 'Group' }, URI: '…' }`) and its text, if it has no
 * children, under TEXT. Neither key can clash with an element name: XML names cannot start with
 * '@' or '#'.
 */
export type ParsedXml = string | { [name: string]: ParsedXml | ParsedXml[] };
export type ParsedDoc = Record<string, ParsedXml | ParsedXml[]>;

/** What one operation accepts as its XML request body. */
export interface XmlLimits {
  /** Bytes of the whole document (MaxMessageLengthExceeded beyond). */
  maxBytes: number;
  /** Elements in the document, all levels (the error code beyond). */
  maxElements?: number;
  /** The most children of the root with this name (e.g. 1000 <Object> in <Delete>). */
  repeated?: { name: string; max: number };
  /** The error for a document that is not well formed or not of the expected shape. */
  errorCode?: 'MalformedXML' | 'MalformedACLError';
  /**
   * Keep element attributes (see ParsedXml), by local name (`xsi:type` → `type`); namespace
   * declarations are not attributes. Off by default: S3 request documents carry meaning in
   * attributes only in ACLs (Grantee's xsi:type), and every other document is read as if its
   * elements had none, so a client's stray `xmlns:xsi` never changes its shape.
   */
  attributes?: boolean;
}

const DEFAULT_MAX_ELEMENTS = 10_000;
const MAX_DEPTH = 32;

interface Frame {
  name: string;
  children: ParsedDoc | undefined;
  text: string;
  attrs: Record<string, string> | undefined;
}

/** `s3:Key` → `Key`: S3 documents are matched by local name. */
function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

/**
 * A streaming parser for S3 request documents: bytes go in as they arrive (a chunk parses in
 * well under a millisecond, so a maximal document never holds the event loop), and the limits
 * are enforced as elements open, so an oversized document is refused at the first element too
 * many rather than after it was all buffered.
 *
 * Strict XML 1.0 (saxes): numeric character references and the five predefined entities are
 * decoded (Go's encoding/xml writes `&#34;`, `&#39;`, `&#x9;`); a DOCTYPE (and so any declared
 * entity) is refused; bytes that are not UTF-8 and characters XML forbids (NUL…) are malformed.
 * Children may come in any order; the result groups them by local name.
 */
export class XmlReader {
  private readonly parser = new SaxesParser({ position: false });
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly stack: Frame[] = [];
  private readonly code: 'MalformedXML' | 'MalformedACLError';
  private root: ParsedDoc | undefined;
  private bytes = 0;
  private elements = 0;
  private repeated = 0;

  constructor(
    private readonly expectedRoot: string,
    private readonly limits: XmlLimits,
  ) {
    this.code = limits.errorCode ?? 'MalformedXML';
    const p = this.parser;
    p.on('doctype', () => {
      throw this.malformed();
    });
    p.on('opentag', (tag) => this.open(localName(tag.name), limits.attributes ? this.attributesOf(tag.attributes as Record<string, string>) : undefined));
    p.on('text', (t) => this.addText(t));
    p.on('cdata', (t) => this.addText(t));
    p.on('closetag', () => this.close());
  }

  get size(): number {
    return this.bytes;
  }

  private malformed(): S3Error {
    return new S3Error(this.code);
  }

  /** Attributes by local name, without namespace declarations; undefined when none is left. */
  private attributesOf(raw: Record<string, string>): Record<string, string> | undefined {
    let out: Record<string, string> | undefined;
    for (const [qname, value] of Object.entries(raw)) {
      if (qname === 'xmlns' || qname.startsWith('xmlns:')) continue;
      const name = localName(qname);
      out ??= {};
      // `a:type` beside `b:type` would be read as one or the other: refuse the ambiguity.
      if (Object.hasOwn(out, name)) throw this.malformed();
      out[name] = value;
    }
    return out;
  }

  private open(name: string, attrs?: Record<string, string>): void {
    const depth = this.stack.length;
    if (depth === 0 && (name !== this.expectedRoot || this.root !== undefined)) throw this.malformed();
    if (++this.elements > (this.limits.maxElements ?? DEFAULT_MAX_ELEMENTS) || depth >= MAX_DEPTH) throw this.malformed();
    const r = this.limits.repeated;
    if (r && depth === 1 && name === r.name && ++this.repeated > r.max) throw this.malformed();
    this.stack.push({ name, children: undefined, text: '', attrs });
  }

  private addText(t: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top) top.text += t;
  }

  private close(): void {
    const f = this.stack.pop()!;
    let value: ParsedXml;
    if (f.children) {
      // S3's schemas have no mixed content: text beside child elements is only layout.
      if (f.text.trim() !== '') throw this.malformed();
      value = f.children;
    } else {
      value = f.text;
    }
    if (f.attrs) value = typeof value === 'string' ? { [ATTRS]: f.attrs, ...(value === '' ? {} : { [TEXT]: value }) } : { [ATTRS]: f.attrs, ...value };
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      this.root = typeof value === 'string' ? (value === '' ? {} : { [TEXT]: value }) : value;
      return;
    }
    const c = (parent.children ??= {});
    const prev = c[f.name];
    if (prev === undefined) c[f.name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else c[f.name] = [prev, value];
  }

  /** Feeds the next bytes of the document. */
  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limits.maxBytes) throw new S3Error('MaxMessageLengthExceeded');
    this.feed(() => this.decoder.decode(chunk, { stream: true }));
  }

  /** Ends the document and returns the root element's content. */
  end(): ParsedDoc {
    this.feed(() => this.decoder.decode());
    try {
      this.parser.close();
    } catch (e) {
      throw isS3Error(e) ? e : this.malformed();
    }
    if (this.root === undefined) throw this.malformed();
    return this.root;
  }

  private feed(text: () => string): void {
    try {
      const t = text();
      if (t) this.parser.write(t);
    } catch (e) {
      // Invalid UTF-8 (TypeError from the decoder) and saxes' well-formedness errors alike.
      throw isS3Error(e) ? e : this.malformed();
    }
  }
}

/**
 * Parses a whole document held in memory (see XmlReader). Throws MalformedXML when it is not
 * well formed, is empty, or its root element is not `expectedRoot`.
 */
export function parseXmlBody(
  body: Buffer | string,
  expectedRoot: string,
  errorCode: 'MalformedXML' | 'MalformedACLError' = 'MalformedXML',
  opts: { attributes?: boolean } = {},
): ParsedDoc {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const r = new XmlReader(expectedRoot, { maxBytes: Infinity, maxElements: Infinity, errorCode, attributes: opts.attributes });
  r.write(buf);
  return r.end();
}

/** Children named `name` as an array (0, 1 or many). */
export function children(node: ParsedXml | ParsedXml[] | undefined, name: string): ParsedXml[] {
  if (node === undefined || typeof node === 'string') return [];
  if (Array.isArray(node)) return node.flatMap((n) => children(n, name));
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * Text of the single child `name`; undefined if absent; MalformedXML if it is not text. An
 * element's attributes (kept only when asked for) do not make its text any less text.
 */
export function childText(node: ParsedXml | ParsedXml[] | undefined, name: string): string | undefined {
  const c = children(node, name);
  if (c.length === 0) return undefined;
  if (c.length > 1) throw new S3Error('MalformedXML');
  const v = c[0]!;
  if (typeof v === 'string') return v;
  const keys = Object.keys(v);
  if (keys.every((k) => k === ATTRS || k === TEXT)) {
    const t = v[TEXT];
    return typeof t === 'string' ? t : '';
  }
  throw new S3Error('MalformedXML');
}

/** Attributes of an element read with XmlLimits.attributes, by local name ({} when none). */
export function attributesOf(node: ParsedXml | undefined): Readonly<Record<string, string>> {
  if (node === undefined || typeof node === 'string') return {};
  const a = node[ATTRS];
  if (a === undefined || typeof a === 'string' || Array.isArray(a)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (typeof v === 'string') out[k] = v;
  return out;
}
