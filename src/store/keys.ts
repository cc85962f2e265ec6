// Key ordering helpers. Object keys sort by their UTF-8 bytes everywhere (as S3 lists them),
// which is code-point order — not JavaScript's UTF-16 code-unit order.

/** Compares two strings in UTF-8 byte (= code point) order. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (U+D800–DFFF) encode code points above U+FFFF, which sort after U+E000–FFFF.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The smallest string greater than every string that starts with `prefix`, in UTF-8 byte order;
 * undefined when there is none (empty prefix, or only U+10FFFF). Used to bound prefix scans and
 * to seek past a common prefix in one index seek.
 */
export function prefixSuccessor(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** True if the string is well-formed UTF-16 (no lone surrogates), i.e. encodes to valid UTF-8. */
export function isWellFormed(s: string): boolean {
  // String.prototype.isWellFormed is Node 20+.
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}
