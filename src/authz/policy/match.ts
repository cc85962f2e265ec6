// Wildcards, ARNs and policy variables, compiled once at parse time.
//
// A pattern is compiled into pieces: literal text, `*`, `?` and variable references. Matching
// never builds a RegExp (a glob turned into a backtracking regex can take exponential time on
// `*a*a*a*b`-shaped patterns); it runs the classic greedy glob algorithm, which backtracks only
// to the last `*` and is O(pattern × value) at worst. Common shapes (`exact`, `prefix*`,
// `*suffix`, `*infix*`, `*`) get a fast path that is a single string comparison.
//
// Policy variables (IAM User Guide, "IAM policy elements: Variables and tags",
// reference_policies_variables):
// - `${key}` is replaced by the single value of the context key `key` (names are
//   case-insensitive); a multivalued key cannot be a variable.
// - `${key, 'default'}` uses the default when the key is absent.
// - `${*}`, `${?}`, `${$}` stand for the literal characters.
// - A variable whose key is absent (and has no default) makes the element match nothing.
// - Variables exist only in policies whose Version is 2012-10-17; in 2008-10-17 documents
//   `${…}` is literal text.

/** Context keys: lower-cased key name → values. */
export type ContextKeys = ReadonlyMap<string, readonly string[]>;

const STAR = 0;
const QMARK = 1;
interface VarRef {
  /** Lower-cased context key name. */
  readonly key: string;
  readonly fallback: string | undefined;
}
type Piece = string | typeof STAR | typeof QMARK | VarRef;

type Fast =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly s: string }
  | { readonly kind: 'prefix'; readonly s: string }
  | { readonly kind: 'suffix'; readonly s: string }
  | { readonly kind: 'infix'; readonly s: string }
  | { readonly kind: 'glob' }
  | { readonly kind: 'vars' };

export interface Template {
  readonly pieces: readonly Piece[];
  readonly fast: Fast;
  /** Lower-case resolved variable values too (case-insensitive comparisons). */
  readonly lower: boolean;
  /** Contains `*` or `?` wildcards (after escapes). */
  readonly wild: boolean;
  readonly hasVars: boolean;
}

export interface TemplateOptions {
  /** `*` and `?` are wildcards. */
  readonly wildcards: boolean;
  /** `${…}` is a policy variable (Version 2012-10-17 only). */
  readonly variables: boolean;
  /** Compare case-insensitively: literals are lower-cased here, values by the caller. */
  readonly lower?: boolean;
}

// `${aws:username}` or `${aws:username, 'anonymous'}`. The key is anything up to the comma or
// closing brace; tag keys may contain characters beyond [A-Za-z0-9].
const VAR_BODY = /^\s*([^\s,'}][^,'}]*?)\s*(?:,\s*'([^']*)'\s*)?$/;

/** Compiles a policy string into a template. */
export function compileTemplate(text: string, opts: TemplateOptions): Template {
  const lower = opts.lower ?? false;
  const pieces: Piece[] = [];
  let lit = '';
  let wild = false;
  let hasVars = false;
  const flush = (): void => {
    if (lit !== '') pieces.push(lower ? lit.toLowerCase() : lit);
    lit = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (opts.variables && c === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end > 0) {
        const body = text.slice(i + 2, end);
        if (body === '*' || body === '?' || body === '$') {
          lit += body;
          i = end;
          continue;
        }
        const m = VAR_BODY.exec(body);
        if (m && m[1]!.includes(':')) {
          flush();
          pieces.push({ key: m[1]!.toLowerCase(), fallback: m[2] === undefined ? undefined : lower ? m[2].toLowerCase() : m[2] });
          hasVars = true;
          i = end;
          continue;
        }
      }
      // Not a variable: literal text, as AWS leaves unrecognised `${` alone.
    }
    if (opts.wildcards && (c === '*' || c === '?')) {
      flush();
      wild = true;
      if (c === '*') {
        if (pieces[pieces.length - 1] !== STAR) pieces.push(STAR);
      } else pieces.push(QMARK);
      continue;
    }
    lit += c;
  }
  flush();
  return { pieces, fast: fastForm(pieces, hasVars), lower, wild, hasVars };
}

function fastForm(p: readonly Piece[], hasVars: boolean): Fast {
  if (hasVars) return { kind: 'vars' };
  if (p.length === 0) return { kind: 'exact', s: '' };
  if (p.length === 1) {
    if (p[0] === STAR) return { kind: 'any' };
    if (typeof p[0] === 'string') return { kind: 'exact', s: p[0] };
  }
  if (p.length === 2) {
    if (typeof p[0] === 'string' && p[1] === STAR) return { kind: 'prefix', s: p[0] };
    if (p[0] === STAR && typeof p[1] === 'string') return { kind: 'suffix', s: p[1] };
  }
  if (p.length === 3 && p[0] === STAR && typeof p[1] === 'string' && p[2] === STAR) return { kind: 'infix', s: p[1] };
  return { kind: 'glob' };
}

/**
 * Does `value` match the template? `keys` resolves variables; a variable without a value (and
 * without a default) makes the template match nothing.
 */
export function matchTemplate(t: Template, value: string, keys: ContextKeys | undefined): boolean {
  const f = t.fast;
  switch (f.kind) {
    case 'any': return true;
    case 'exact': return value === f.s;
    case 'prefix': return value.startsWith(f.s);
    case 'suffix': return value.endsWith(f.s);
    case 'infix': return value.includes(f.s);
    case 'glob': return globMatch(t.pieces, value);
    case 'vars': {
      const resolved = resolvePieces(t, keys);
      return resolved !== undefined && globMatch(resolved, value);
    }
  }
}

/**
 * The template's text with variables substituted, or undefined when a variable has no value.
 * Only meaningful for templates without wildcards (exact comparisons).
 */
export function resolveLiteral(t: Template, keys: ContextKeys | undefined): string | undefined {
  const f = t.fast;
  if (f.kind === 'exact') return f.s;
  const resolved = resolvePieces(t, keys);
  if (resolved === undefined) return undefined;
  let s = '';
  for (const p of resolved) if (typeof p === 'string') s += p;
  return s;
}

/** The single value of a context key usable as a policy variable, if any. */
export function variableValue(keys: ContextKeys | undefined, key: string): string | undefined {
  const v = keys?.get(key);
  // "You can't use a multivalued condition key as a variable."
  return v !== undefined && v.length === 1 ? v[0] : undefined;
}

function resolvePieces(t: Template, keys: ContextKeys | undefined): Piece[] | undefined {
  const out: Piece[] = [];
  for (const p of t.pieces) {
    if (typeof p === 'object') {
      let v = variableValue(keys, p.key);
      if (v === undefined) {
        if (p.fallback === undefined) return undefined;
        v = p.fallback;
      } else if (t.lower) v = v.toLowerCase();
      // A substituted value is literal: a `*` in a user name does not become a wildcard.
      const last = out.length - 1;
      if (last >= 0 && typeof out[last] === 'string') out[last] = (out[last] as string) + v;
      else out.push(v);
    } else if (typeof p === 'string' && out.length > 0 && typeof out[out.length - 1] === 'string') {
      out[out.length - 1] = (out[out.length - 1] as string) + p;
    } else out.push(p);
  }
  return out;
}

/**
 * Greedy glob matching over pieces. On a mismatch after a `*`, retry with that `*` swallowing
 * one more character; only the last `*` needs to be revisited, which bounds the work.
 */
function globMatch(pieces: readonly Piece[], s: string): boolean {
  let pi = 0;
  let si = 0;
  let starPi = -1;
  let starSi = 0;
  while (si < s.length || pi < pieces.length) {
    if (pi < pieces.length) {
      const p = pieces[pi]!;
      if (p === STAR) {
        starPi = pi;
        starSi = si;
        pi++;
        continue;
      }
      if (p === QMARK) {
        if (si < s.length) {
          pi++;
          si++;
          continue;
        }
      } else if (typeof p === 'string' && s.startsWith(p, si)) {
        pi++;
        si += p.length;
        continue;
      }
    }
    if (starPi < 0 || starSi >= s.length) return false;
    starSi++;
    si = starSi;
    pi = starPi + 1;
  }
  return true;
}

// ---- ARNs

/**
 * An ARN has six colon-separated parts: arn:partition:service:region:account:resource. The
 * resource part may itself contain colons, so we split at the first five only. Wildcards never
 * cross a colon between parts (IAM User Guide, condition operators, "ArnLike": "Each of the six
 * colon-delimited components of the ARN is checked separately").
 */
export function splitArn(s: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let n = 0; n < 5; n++) {
    const i = s.indexOf(':', start);
    if (i < 0) return undefined;
    parts.push(s.slice(start, i));
    start = i + 1;
  }
  parts.push(s.slice(start));
  return parts;
}

/** An ARN's first five parts with their colons ("arn:aws:s3:::"), or undefined when it has fewer than five colons. */
export function arnHead(s: string): string | undefined {
  let i = -1;
  for (let n = 0; n < 5; n++) {
    i = s.indexOf(':', i + 1);
    if (i < 0) return undefined;
  }
  return s.slice(0, i + 1);
}

/** Like splitArn, but a colon inside `${…}` (a variable such as `${aws:username}`) does not split. */
function splitArnPattern(s: string): string[] | undefined {
  const parts: string[] = [];
  let start = 0;
  let depth = false;
  for (let i = 0; i < s.length && parts.length < 5; i++) {
    const c = s[i];
    if (c === '$' && s[i + 1] === '{' && s.indexOf('}', i) > 0) depth = true;
    else if (c === '}') depth = false;
    else if (c === ':' && !depth) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length < 5) return undefined;
  parts.push(s.slice(start));
  return parts;
}

export interface ArnPattern {
  readonly text: string;
  /** `*` alone: every resource. */
  readonly any: boolean;
  /** The six compiled parts; undefined when the pattern is not ARN-shaped (matches nothing). */
  readonly parts: readonly Template[] | undefined;
  /**
   * When the first five parts are plain text (`arn:aws:s3:::` in every S3 resource), that text
   * with its five colons: an ARN matches those parts exactly when its own head (arnHead) is this.
   */
  readonly head: string | undefined;
  readonly hasVars: boolean;
  readonly wild: boolean;
}

/**
 * Compiles an ARN pattern. `variables` applies to the resource part only when `varsInResourceOnly`
 * (the Resource element: "You can't use a variable to replace parts of the ARN before the fifth
 * colon"); ARN condition values accept them anywhere.
 */
export function compileArnPattern(text: string, opts: { variables: boolean; varsInResourceOnly: boolean }): ArnPattern {
  if (text === '*') return { text, any: true, parts: undefined, head: undefined, hasVars: false, wild: true };
  const raw = opts.variables ? splitArnPattern(text) : splitArn(text);
  if (!raw) return { text, any: false, parts: undefined, head: undefined, hasVars: false, wild: false };
  const parts = raw.map((p, i) =>
    compileTemplate(p, { wildcards: true, variables: opts.variables && (i === 5 || !opts.varsInResourceOnly) }),
  );
  const plain = parts.slice(0, 5).every((t) => t.fast.kind === 'exact');
  return {
    text,
    any: false,
    parts,
    head: plain ? parts.slice(0, 5).map((t) => (t.fast as { s: string }).s).join(':') + ':' : undefined,
    hasVars: parts.some((p) => p.hasVars),
    wild: parts.some((p) => p.wild),
  };
}

/** Matches an ARN already split by `splitArn` (undefined: the value is not an ARN). */
export function matchArn(p: ArnPattern, value: readonly string[] | undefined, keys: ContextKeys | undefined): boolean {
  if (p.any) return true;
  if (!p.parts || !value) return false;
  // The resource part decides most comparisons: test it first.
  for (let i = 5; i >= 0; i--) if (!matchTemplate(p.parts[i]!, value[i]!, keys)) return false;
  return true;
}
