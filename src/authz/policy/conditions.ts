// Condition operators: parsed and compiled once, evaluated against the request's context keys.
//
// Semantics, all from the IAM User Guide ("Condition operators",
// reference_policies_elements_condition_operators; "Conditions with multiple context keys or
// values", reference_policies_multi-value-conditions):
// - Several operators, or several keys under one operator, are AND-ed; several values for one
//   key are OR-ed, and for a negated operator (StringNotEquals, NotIpAddress…) NOR-ed: the request
//   value must match none of them.
// - A key absent from the request: the condition is false, except for negated operators, where
//   it is true; `…IfExists` makes it true for every operator; `Null` tests presence itself.
// - `ForAllValues:` is true when every request value satisfies the operator — including when the
//   key is absent or has no values. `ForAnyValue:` is true when at least one does — false when
//   absent or empty. With a negated operator each request value is tested with the negated
//   operator (ForAllValues:StringNotEquals: no request value is among the policy values).
// - Without a set operator, a multivalued key behaves like ForAnyValue for positive operators and
//   as the negation of that for negated ones.
// - Policy variables are substituted in String, ARN and Bool operators only (not in Numeric,
//   Date, Binary, IpAddress or Null), and only in Version 2012-10-17 documents.
// - Key names are case-insensitive; values compare per operator.

import { PolicyError, MSG, invalidConditionType } from './errors.js';
import { type ArnPattern, type ContextKeys, type Template, compileArnPattern, compileTemplate, matchArn, matchTemplate, resolveLiteral, splitArn } from './match.js';
import { type Cidr, cidrContains, parseCidr, parseIp } from './ip.js';

export const BASE_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress',
  'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
] as const;
export type BaseOperator = (typeof BASE_OPERATORS)[number];
const BASE_SET: ReadonlySet<string> = new Set(BASE_OPERATORS);

export type SetOperator = 'ForAnyValue' | 'ForAllValues';

const NEGATED: ReadonlySet<BaseOperator> = new Set<BaseOperator>([
  'StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike',
]);

/** One key under one operator: `"StringLike": {"s3:prefix": ["home/", "home/${aws:username}/*"]}`. */
export interface Condition {
  /** The operator as written, e.g. "ForAnyValue:StringLikeIfExists". */
  readonly operator: string;
  readonly base: BaseOperator;
  readonly set: SetOperator | undefined;
  readonly ifExists: boolean;
  readonly negated: boolean;
  /** Lower-cased context key name. */
  readonly key: string;
  /** The policy values, normalised to strings (JSON numbers and booleans become strings). */
  readonly values: readonly string[];
  /** Does one request value match at least one policy value (the operator's positive form)? */
  readonly test: (value: string, keys: ContextKeys) => boolean;
  /** Null only: true for "the key must be absent", false for "must be present". */
  readonly nullWants?: readonly boolean[];
}

export interface OperatorParts {
  readonly base: BaseOperator;
  readonly set: SetOperator | undefined;
  readonly ifExists: boolean;
}

/** Splits "ForAnyValue:StringLikeIfExists" into its parts, or undefined if unknown. */
export function parseOperator(op: string): OperatorParts | undefined {
  let rest = op;
  let set: SetOperator | undefined;
  if (rest.startsWith('ForAnyValue:')) {
    set = 'ForAnyValue';
    rest = rest.slice('ForAnyValue:'.length);
  } else if (rest.startsWith('ForAllValues:')) {
    set = 'ForAllValues';
    rest = rest.slice('ForAllValues:'.length);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!BASE_SET.has(rest)) return undefined;
  // "You can add IfExists to the end of any condition operator name except the Null condition."
  if (ifExists && rest === 'Null') return undefined;
  return { base: rest as BaseOperator, set, ifExists };
}

/** Options from the enclosing document that change how values compile. */
export interface ConditionCompileOptions {
  /** Version 2012-10-17: policy variables are substituted. */
  readonly variables: boolean;
}

/**
 * Compiles one operator/key/values triple. Throws PolicyError for values the operator cannot
 * take (a malformed CIDR, a date that is not ISO 8601 or epoch seconds…).
 */
export function compileCondition(operator: string, key: string, rawValues: readonly string[], opts: ConditionCompileOptions): Condition {
  const parts = parseOperator(operator);
  if (!parts) throw new PolicyError(invalidConditionType(operator));
  const { base, set, ifExists } = parts;
  const negated = NEGATED.has(base);
  const common = { operator, base, set, ifExists, negated, key: key.toLowerCase(), values: rawValues };
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
      return { ...common, test: stringEquals(rawValues, false, opts) };
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return { ...common, test: stringEquals(rawValues, true, opts) };
    case 'StringLike':
    case 'StringNotLike': {
      const ts = rawValues.map((v) => compileTemplate(v, { wildcards: true, variables: opts.variables }));
      return { ...common, test: (v, keys) => anyTemplate(ts, v, keys) };
    }
    case 'NumericEquals':
    case 'NumericNotEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      const nums = rawValues.map((v) => {
        const n = parseNumber(v);
        if (n === undefined) throw new PolicyError(`Invalid numeric value in Conditions: ${v}`);
        return n;
      });
      return { ...common, test: compareTest(nums, base, parseNumber) };
    }
    case 'DateEquals':
    case 'DateNotEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals': {
      const dates = rawValues.map((v) => {
        const d = parseDate(v);
        if (d === undefined) throw new PolicyError(`Invalid date value in Conditions: ${v}`);
        return d;
      });
      return { ...common, test: compareTest(dates, base, parseDate) };
    }
    case 'Bool': {
      const ts = rawValues.map((v) => {
        const t = compileTemplate(v, { wildcards: false, variables: opts.variables, lower: true });
        if (!t.hasVars && v.toLowerCase() !== 'true' && v.toLowerCase() !== 'false') {
          throw new PolicyError(`Invalid boolean value in Conditions: ${v}`);
        }
        return t;
      });
      return { ...common, test: (v, keys) => anyLiteral(ts, v.toLowerCase(), keys) };
    }
    case 'BinaryEquals': {
      const bins = new Set(rawValues.map((v) => {
        const b = canonicalBase64(v);
        if (b === undefined) throw new PolicyError(`Invalid binary value in Conditions: ${v}`);
        return b;
      }));
      return { ...common, test: (v) => { const b = canonicalBase64(v); return b !== undefined && bins.has(b); } };
    }
    case 'IpAddress':
    case 'NotIpAddress': {
      const cidrs: Cidr[] = rawValues.map((v) => {
        const c = parseCidr(v);
        if (!c) throw new PolicyError(MSG.invalidIp);
        return c;
      });
      return { ...common, test: (v) => { const ip = parseIp(v); return ip !== undefined && cidrs.some((c) => cidrContains(c, ip)); } };
    }
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike': {
      // "The ArnEquals and ArnLike condition operators behave identically": both take wildcards.
      const ps: ArnPattern[] = rawValues.map((v) => compileArnPattern(v, { variables: opts.variables, varsInResourceOnly: false }));
      return { ...common, test: (v, keys) => { const arn = splitArn(v); return ps.some((p) => matchArn(p, arn, keys)); } };
    }
    case 'Null': {
      const wants = rawValues.map((v) => {
        const l = v.toLowerCase();
        if (l !== 'true' && l !== 'false') throw new PolicyError(`Invalid boolean value in Conditions: ${v}`);
        return l === 'true';
      });
      return { ...common, test: () => false, nullWants: wants };
    }
  }
}

/** Evaluates one compiled condition against the request's keys. */
export function evaluateCondition(c: Condition, keys: ContextKeys): boolean {
  const values = keys.get(c.key);
  const present = values !== undefined && values.length > 0;
  if (c.nullWants) {
    for (const wantAbsent of c.nullWants) if (wantAbsent !== present) return true;
    return false;
  }
  if (!present) {
    if (c.ifExists) return true;
    if (c.set === 'ForAllValues') return true;
    if (c.set === 'ForAnyValue') return false;
    return c.negated;
  }
  if (c.set === 'ForAllValues') {
    for (const v of values) if (c.test(v, keys) === c.negated) return false;
    return true;
  }
  if (c.set === 'ForAnyValue') {
    for (const v of values) if (c.test(v, keys) !== c.negated) return true;
    return false;
  }
  let any = false;
  for (const v of values) {
    if (c.test(v, keys)) {
      any = true;
      break;
    }
  }
  return any !== c.negated;
}

// ---- value helpers

function stringEquals(raw: readonly string[], ignoreCase: boolean, opts: ConditionCompileOptions): Condition['test'] {
  const literals = new Set<string>();
  const templates: Template[] = [];
  for (const v of raw) {
    const t = compileTemplate(v, { wildcards: false, variables: opts.variables, lower: ignoreCase });
    if (t.hasVars) templates.push(t);
    else literals.add(resolveLiteral(t, undefined)!);
  }
  if (templates.length === 0) return ignoreCase ? (v) => literals.has(v.toLowerCase()) : (v) => literals.has(v);
  return (v, keys) => {
    const value = ignoreCase ? v.toLowerCase() : v;
    return literals.has(value) || anyLiteral(templates, value, keys);
  };
}

function anyLiteral(ts: readonly Template[], value: string, keys: ContextKeys): boolean {
  for (const t of ts) if (resolveLiteral(t, keys) === value) return true;
  return false;
}

function anyTemplate(ts: readonly Template[], value: string, keys: ContextKeys): boolean {
  for (const t of ts) if (matchTemplate(t, value, keys)) return true;
  return false;
}

function compareTest(policy: readonly number[], base: BaseOperator, parse: (s: string) => number | undefined): Condition['test'] {
  const cmp = base.replace(/^(Numeric|Date)(Not)?/, '');
  const test: (r: number, p: number) => boolean =
    cmp === 'Equals' ? (r, p) => r === p
    : cmp === 'LessThan' ? (r, p) => r < p
    : cmp === 'LessThanEquals' ? (r, p) => r <= p
    : cmp === 'GreaterThan' ? (r, p) => r > p
    : (r, p) => r >= p;
  return (v) => {
    const r = parse(v);
    if (r === undefined) return false;
    for (const p of policy) if (test(r, p)) return true;
    return false;
  };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

// W3C profile of ISO 8601 (YYYY, YYYY-MM, YYYY-MM-DD, with hh:mm[:ss[.s]] and a zone), as the
// operators page asks, or epoch seconds.
const W3C_DATE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EPOCH = /^\d+(\.\d+)?$/;

/** Milliseconds since the epoch for an ISO 8601 date or epoch seconds. */
export function parseDate(s: string): number | undefined {
  if (EPOCH.test(s)) return Number(s) * 1000;
  let text = s;
  const basic = BASIC_DATE.exec(s);
  // aws:CurrentTime may come in the compact form SigV4 uses (20130808T150000Z).
  if (basic) text = `${basic[1]}-${basic[2]}-${basic[3]}T${basic[4]}:${basic[5]}:${basic[6]}Z`;
  else if (!W3C_DATE.test(s)) return undefined;
  if (/T\d{2}:\d{2}(Z|[+-])/.test(text)) text = text.replace(/T(\d{2}:\d{2})/, 'T$1:00');
  const ms = Date.parse(text.length === 4 ? `${text}-01-01T00:00:00Z` : text.length <= 10 ? `${text.length === 7 ? `${text}-01` : text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? undefined : ms;
}

function canonicalBase64(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  return Buffer.from(s, 'base64').toString('base64');
}
