// The configuration file (--config FILE, or TROVE_CONFIG): YAML (JSON being YAML, a .json file
// works too), one key per command-line flag, named as the flag without its dashes' prefix:
//
//   address: 0.0.0.0:9000
//   data-dir: /var/lib/trove
//   meta: postgres://trove@db/trove
//   domain: [s3.example.com, s3.internal]     # a list, or "s3.example.com,s3.internal"
//   no-fsync: false                           # switches take true / false
//   ldap-roles:                               # a mapping, for the options that take one
//     cn=admins,ou=groups,dc=example,dc=org: arn:aws:iam::123456789012:role/admins
//
// A key no flag has is refused with the list of those that exist nearby: a typo must not turn a
// setting silently off. Values are handed to the same parsing as the flags' (config.ts), so a
// file says nothing a flag could not.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError, type OptionSpec } from './config.js';

/** The YAML parser, loaded only when a file is given (it costs every process's start ~35 ms of CPU otherwise). */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

/** The file's settings as flag name → value, as the flag would have been given. */
export function readConfigFile(file: string, options: readonly OptionSpec[]): Map<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read the configuration file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const doc = yaml().parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(`configuration file ${file}: ${doc.errors[0]!.message}`);
  const data: unknown = doc.toJS();
  const out = new Map<string, string>();
  if (data === null || data === undefined) return out;
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`configuration file ${file}: expected a mapping of settings (key: value), got ${Array.isArray(data) ? 'a list' : typeof data}`);
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const spec = options.find((o) => o.flag === key);
    if (!spec || key === 'config') {
      const near = options.filter((o) => o.flag !== 'config' && (o.flag.includes(key) || key.includes(o.flag) || o.flag.split('-')[0] === key.split(/[-_]/)[0])).map((o) => o.flag);
      throw new ConfigError(`configuration file ${file}: unknown setting "${key}"${key === 'config' ? ' (a configuration file cannot name another)' : ''}${near.length > 0 ? `; did you mean ${near.slice(0, 4).join(', ')}?` : ''} (settings are named as the flags of trove server --help, without "--")`);
    }
    const bad = (what: string): ConfigError => new ConfigError(`configuration file ${file}: "${key}" ${what}`);
    if (value === null || value === undefined) throw bad('has no value');
    if (!spec.arg) {
      // A switch (--no-fsync…): true or false.
      if (typeof value !== 'boolean') throw bad('is a switch: give true or false');
      if (value) out.set(key, 'true');
      continue;
    }
    const sep = spec.listSeparator ?? ',';
    if (Array.isArray(value)) {
      const items = value.map(scalar);
      if (items.some((i) => i === undefined)) throw bad('must be a list of strings or numbers');
      out.set(key, items.join(sep));
    } else if (typeof value === 'object') {
      if (!spec.mapping) throw bad(`takes a value (${spec.arg}), not a mapping`);
      const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
        const s = scalar(v);
        if (s === undefined) throw bad(`maps "${k}" to something that is not a string`);
        return `${k}=${s}`;
      });
      out.set(key, entries.join(sep));
    } else {
      const s = scalar(value);
      if (s === undefined) throw bad(`takes a value (${spec.arg}), not ${typeof value}`);
      out.set(key, s);
    }
  }
  return out;
}
