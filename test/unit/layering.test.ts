// The dependency arrow points down: store/ (and common/, below every layer) imports nothing from
// the layers above it. Reads the TypeScript sources and resolves every module specifier.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const ABOVE = ['s3', 'http', 'auth', 'authz', 'iam', 'sts', 'workers', 'admin'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every module a file names: static imports and re-exports, dynamic import(), new URL(…, import.meta.url). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, /\bnew URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The top-level folder of src/ a relative specifier of `file` lands in (undefined: outside src/ or a package). */
function landsIn(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const rel = path.relative(SRC, path.resolve(path.dirname(file), spec));
  if (rel.startsWith('..')) return undefined;
  const first = rel.split(path.sep)[0]!;
  return rel.includes(path.sep) ? first : first.replace(/\.js$/, '');
}

function violations(layer: string, forbidden: string[]): string[] {
  const bad: string[] = [];
  for (const file of sources(path.join(SRC, layer))) {
    for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
      const top = landsIn(file, spec);
      if (top !== undefined && forbidden.includes(top)) bad.push(`${path.relative(SRC, file)} imports ${spec}`);
    }
  }
  return bad;
}

describe('layering', () => {
  it('finds the imports it checks (the checker itself works)', () => {
    const file = path.join(SRC, 'store', 'meta', 'x.ts');
    const specs = specifiers(`import type { A } from '../../s3/errors.js';\nexport { B } from "../../http/pooled.js";\nawait import('../../auth/x.js');\nnew URL('./w.js', import.meta.url);`);
    assert.deepEqual(specs.map((s) => landsIn(file, s)), ['s3', 'http', 'auth', 'store']);
    assert.equal(landsIn(file, 'better-sqlite3'), undefined);
    assert.equal(landsIn(path.join(SRC, 'trove.ts'), './app.js'), 'app');
  });

  it('store/ imports nothing from the layers above it', () => {
    assert.deepEqual(violations('store', [...ABOVE, 'app', 'trove', 'main', 'config']), []);
  });

  it('common/ imports nothing but itself', () => {
    const everything = fs.readdirSync(SRC).map((n) => n.replace(/\.ts$/, '')).filter((n) => n !== 'common');
    assert.deepEqual(violations('common', everything), []);
  });
});
