// A bucket's notification configuration (Put/GetBucketNotificationConfiguration): parsed and
// validated as S3 does, stored as JSON (bucket config kind 'notification'), rendered back.
//   <NotificationConfiguration>
//     <TopicConfiguration|QueueConfiguration|CloudFunctionConfiguration>
//       <Id/>? <Topic|Queue|CloudFunction/> <Event/>+
//       <Filter><S3Key><FilterRule><Name>prefix|suffix</Name><Value/></FilterRule>{0,2}</S3Key></Filter>?
//     </…>*
//     <EventBridgeConfiguration/>?
//   </NotificationConfiguration>
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html

import { randomBytes } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { children, childText, type ParsedDoc, type ParsedXml, type XmlLimits, type XmlNode } from '../s3/xml.js';
import { EVENT_NAMES } from './events.js';

export type DestinationKind = 'Topic' | 'Queue' | 'CloudFunction';
const KINDS: readonly DestinationKind[] = ['Topic', 'Queue', 'CloudFunction'];

export interface NotificationRule {
  id: string;
  kind: DestinationKind;
  /** The destination: a target the operator registered (trove admin target add). */
  arn: string;
  /** As given, with the s3: prefix (wildcards such as s3:ObjectCreated:* included). */
  events: string[];
  /** Filter rules in their given order and spelling (Name as sent). */
  filter: { name: string; value: string }[];
}

export interface NotificationConfig {
  rules: NotificationRule[];
}

export const NOTIFICATION_ROOT = 'NotificationConfiguration';
export const NOTIFICATION_XML_LIMITS: XmlLimits = { maxBytes: 64 * 1024 };

function invalid(message: string, name?: string, value?: string): S3Error {
  const details: Record<string, string> = {};
  if (name !== undefined) details.ArgumentName = name;
  if (value !== undefined) details.ArgumentValue = value;
  return new S3Error('InvalidArgument', message, details);
}

/** Whether `event` (s3:…, possibly ending in :*) is an event S3 can notify about. */
export function validEvent(event: string): boolean {
  if (EVENT_NAMES.includes(event)) return true;
  if (!event.endsWith(':*')) return false;
  const family = event.slice(0, -1);
  return EVENT_NAMES.some((n) => n.startsWith(family));
}

/** The prefix and suffix of a rule's filter. */
export function filterOf(rule: NotificationRule): { prefix: string; suffix: string } {
  let prefix = '';
  let suffix = '';
  for (const f of rule.filter) {
    if (f.name.toLowerCase() === 'prefix') prefix = f.value;
    else suffix = f.value;
  }
  return { prefix, suffix };
}

/** Whether `pattern` (event, possibly with :*) covers `event` (a concrete event name, s3:…). */
export function eventMatches(pattern: string, event: string): boolean {
  if (pattern === event) return true;
  return pattern.endsWith(':*') && event.startsWith(pattern.slice(0, -1));
}

function eventsOverlap(a: string, b: string): boolean {
  return EVENT_NAMES.some((n) => eventMatches(a, n) && eventMatches(b, n));
}

/** The destination configurations a PutBucketNotificationConfiguration document asks for. */
export function parseNotification(doc: ParsedDoc): NotificationConfig {
  if (children(doc, 'EventBridgeConfiguration').length > 0) {
    throw new S3Error('NotImplemented', 'EventBridge destinations are not implemented by this server.');
  }
  const rules: NotificationRule[] = [];
  const ids = new Set<string>();
  for (const kind of KINDS) {
    for (const node of children(doc, `${kind}Configuration`)) {
      if (typeof node === 'string') throw new S3Error('MalformedXML');
      const arn = childText(node, kind)?.trim();
      if (!arn) throw new S3Error('MalformedXML');
      const events = children(node, 'Event').map((e) => {
        if (typeof e !== 'string') throw new S3Error('MalformedXML');
        return e.trim();
      });
      if (events.length === 0) throw new S3Error('MalformedXML');
      for (const e of events) if (!validEvent(e)) throw invalid('The event is not supported for notifications', e, e);
      let id = childText(node, 'Id');
      if (id === undefined || id === '') id = randomBytes(24).toString('base64').replace(/[+/=]/g, '').slice(0, 32);
      if (id.length > 255) throw invalid('The Id of a notification configuration can not be longer than 255 characters.', 'Id', id);
      if (ids.has(id)) throw invalid('Configuration Id must be unique.', 'Id', id);
      ids.add(id);
      rules.push({ id, kind, arn, events, filter: parseFilter(node) });
    }
  }
  checkOverlaps(rules);
  return { rules };
}

function parseFilter(node: ParsedXml): { name: string; value: string }[] {
  const filters = children(node, 'Filter');
  if (filters.length === 0) return [];
  if (filters.length > 1) throw new S3Error('MalformedXML');
  const keys = children(filters[0], 'S3Key');
  if (keys.length === 0) return [];
  if (keys.length > 1) throw new S3Error('MalformedXML');
  const out: { name: string; value: string }[] = [];
  for (const r of children(keys[0], 'FilterRule')) {
    if (typeof r === 'string') throw new S3Error('MalformedXML');
    const name = childText(r, 'Name')?.trim() ?? '';
    const value = childText(r, 'Value') ?? '';
    const lower = name.toLowerCase();
    if (lower !== 'prefix' && lower !== 'suffix') throw invalid('filter rule name must be either prefix or suffix', 'FilterRule', name);
    if (out.some((f) => f.name.toLowerCase() === lower)) throw invalid(`Cannot specify more than one ${lower} rule in a filter.`, 'FilterRule', name);
    if (Buffer.byteLength(value) > 1024) throw invalid('The value of a filter rule can not be longer than 1024 bytes.', 'FilterRule', name);
    out.push({ name, value });
  }
  return out;
}

/**
 * S3 refuses two configurations whose events overlap and whose key filters could both match one
 * key: "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the
 * prefixes are overlapping for the same event type." Two prefixes overlap when one starts the
 * other; two suffixes when one ends the other (an absent prefix or suffix overlaps everything).
 */
function checkOverlaps(rules: NotificationRule[]): void {
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const a = rules[i]!;
      const b = rules[j]!;
      if (!a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)))) continue;
      const fa = filterOf(a);
      const fb = filterOf(b);
      const prefixes = fa.prefix.startsWith(fb.prefix) || fb.prefix.startsWith(fa.prefix);
      const suffixes = fa.suffix.endsWith(fb.suffix) || fb.suffix.endsWith(fa.suffix);
      if (prefixes && suffixes) {
        throw invalid(
          'Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.',
          'FilterRule',
        );
      }
    }
  }
}

/** The GetBucketNotificationConfiguration document, in S3's element order. */
export function renderNotification(config: NotificationConfig | undefined): { root: string; body: XmlNode } {
  const body: XmlNode = {};
  for (const kind of KINDS) {
    const rules = (config?.rules ?? []).filter((r) => r.kind === kind);
    if (rules.length === 0) continue;
    body[`${kind}Configuration`] = rules.map((r) => {
      const n: XmlNode = { Id: r.id, [kind]: r.arn, Event: r.events };
      if (r.filter.length) n.Filter = { S3Key: { FilterRule: r.filter.map((f) => ({ Name: f.name, Value: f.value })) } };
      return n;
    });
  }
  return { root: NOTIFICATION_ROOT, body };
}

export function serializeNotification(c: NotificationConfig): string {
  return JSON.stringify({ v: 1, rules: c.rules });
}

export function deserializeNotification(s: string): NotificationConfig {
  const parsed = JSON.parse(s) as { rules?: NotificationRule[] };
  return { rules: parsed.rules ?? [] };
}

/** The rules of `config` that want `event` (s3:…) for `key`. */
export function matchingRules(config: NotificationConfig | undefined, event: string, key: string): NotificationRule[] {
  if (!config) return [];
  return config.rules.filter((r) => {
    if (!r.events.some((p) => eventMatches(p, event))) return false;
    const { prefix, suffix } = filterOf(r);
    return key.startsWith(prefix) && key.endsWith(suffix);
  });
}
