// The configuration file (--config / TROVE_CONFIG): every flag has a key; precedence flags > env >
// file > defaults; lists, switches and mappings; unknown keys and malformed files refused with a
// clear message; and a real `trove server --config FILE` serving from what the file says.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, OPTIONS, loadConfig } from '../src/config.js';
import { readConfigFile } from '../src/configFile.js';
import { tempDir } from './helpers.js';
import { freePort } from './support/slapd.js';

describe('configuration file', () => {
  let dir: string;
  let n = 0;
  const write = (text: string, ext = 'yaml'): string => {
    const f = path.join(dir, `c${++n}.${ext}`);
    fs.writeFileSync(f, text);
    return f;
  };
  const refused = (fn: () => unknown, re: RegExp): void => {
    assert.throws(fn, (e: unknown) => e instanceof ConfigError && re.test(e.message));
  };

  before(async () => {
    dir = await tempDir('trove-config-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has a key for every flag, named as the flag', () => {
    const lines = OPTIONS.filter((o) => o.flag !== 'config').map((o) => `${o.flag}: ${o.arg ? '"x"' : 'true'}`);
    const got = readConfigFile(write(lines.join('\n')), OPTIONS);
    assert.equal(got.size, OPTIONS.length - 1);
    for (const o of OPTIONS) if (o.flag !== 'config') assert.equal(got.get(o.flag), o.arg ? 'x' : 'true', o.flag);
  });

  it('gives settings: flags over environment over file over defaults', () => {
    const file = write(['address: 127.0.0.1:9100', 'region: eu-west-3', 'log-level: warn', 'inline-threshold: 4096', 'domain: [s3.example.com, S3.Internal]'].join('\n'));
    const fromFile = loadConfig(['--config', file], {});
    assert.equal(fromFile.port, 9100);
    assert.equal(fromFile.region, 'eu-west-3');
    assert.equal(fromFile.logLevel, 'warn');
    assert.equal(fromFile.inlineThreshold, 4096);
    assert.deepEqual(fromFile.domains, ['s3.example.com', 's3.internal']);
    assert.equal(fromFile.idleTimeoutMs, 20_000); // a default, untouched
    const env = loadConfig(['--config', file], { TROVE_REGION: 'ap-south-1', TROVE_LOG_LEVEL: 'error' });
    assert.equal(env.region, 'ap-south-1');
    assert.equal(env.logLevel, 'error');
    assert.equal(env.port, 9100);
    const flags = loadConfig(['--config', file, '--region', 'us-west-2'], { TROVE_REGION: 'ap-south-1' });
    assert.equal(flags.region, 'us-west-2');
    // TROVE_CONFIG names the file when no flag does.
    assert.equal(loadConfig([], { TROVE_CONFIG: file }).region, 'eu-west-3');
  });

  it('reads switches as true / false, and JSON files', () => {
    assert.equal(loadConfig(['--config', write('no-fsync: true')], {}).fsync, false);
    assert.equal(loadConfig(['--config', write('no-fsync: false')], {}).fsync, true);
    refused(() => loadConfig(['--config', write('no-fsync: "yes"')], {}), /"no-fsync" is a switch: give true or false/);
    const json = write(JSON.stringify({ region: 'eu-north-1', 'cors-origins': ['https://a.example', 'https://b.example'] }), 'json');
    const c = loadConfig(['--config', json], {});
    assert.equal(c.region, 'eu-north-1');
    assert.deepEqual(c.corsOrigins, ['https://a.example', 'https://b.example']);
  });

  it('takes the LDAP role mapping as a mapping', () => {
    const pw = write('secret\n', 'txt');
    const file = write(
      [
        'ldap-url: ldaps://ldap.example.org',
        'ldap-bind-dn: cn=trove,dc=example,dc=org',
        `ldap-bind-password-file: ${pw}`,
        'ldap-user-base: ou=people,dc=example,dc=org',
        'ldap-group-base: ou=groups,dc=example,dc=org',
        'ldap-roles:',
        '  "CN=Admins, OU=Groups,DC=example,DC=org": arn:aws:iam::123456789012:role/admins',
        '  cn=readers,ou=groups,dc=example,dc=org: arn:aws:iam::123456789012:role/readers',
      ].join('\n'),
    );
    const ldap = loadConfig(['--config', file], {}).ldap!;
    assert.equal(ldap.url, 'ldaps://ldap.example.org');
    assert.equal(ldap.userFilter, '(uid=%s)');
    assert.deepEqual([...ldap.roles], [
      ['cn=admins,ou=groups,dc=example,dc=org', 'arn:aws:iam::123456789012:role/admins'],
      ['cn=readers,ou=groups,dc=example,dc=org', 'arn:aws:iam::123456789012:role/readers'],
    ]);
    // The same as a flag: entries separated by ";".
    const flag = loadConfig(['--config', file, '--ldap-roles', 'cn=ops,dc=example,dc=org=arn:aws:iam::123456789012:role/ops'], {}).ldap!;
    assert.deepEqual([...flag.roles], [['cn=ops,dc=example,dc=org', 'arn:aws:iam::123456789012:role/ops']]);
    refused(() => loadConfig(['--config', file, '--ldap-roles', 'cn=ops,dc=example,dc=org'], {}), /--ldap-roles: each entry is a group or user DN/);
    refused(() => loadConfig(['--ldap-user-base', 'dc=x'], {}), /--ldap-user-base is set but --ldap-url is not/);
    refused(() => loadConfig(['--ldap-url', 'http://x', '--ldap-user-base', 'dc=x'], {}), /--ldap-url must be ldap:\/\//);
    refused(() => loadConfig(['--ldap-url', 'ldap://x', '--ldap-user-base', 'dc=x'], {}), /needs --ldap-roles/);
    refused(() => loadConfig(['--region', 'x', '--config', write('region: [a, {b: c}]')], {}), /"region" must be a list of strings or numbers/);
    refused(() => loadConfig(['--config', write('region: {a: b}')], {}), /"region" takes a value \(name\), not a mapping/);
  });

  it('loads the example file shipped in packaging/', () => {
    const example = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'packaging', 'trove.yaml');
    const c = loadConfig(['--config', example], {});
    assert.equal(c.dataDir, '/var/lib/trove');
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.ldap, undefined);
  });

  it('refuses unknown keys, with the settings it may have meant', () => {
    refused(() => loadConfig(['--config', write('data_dir: /srv/trove')], {}), /unknown setting "data_dir"; did you mean data-dir/);
    refused(() => loadConfig(['--config', write('colour: blue')], {}), /unknown setting "colour" \(settings are named as the flags of trove server --help, without "--"\)/);
    refused(() => loadConfig(['--config', write('config: other.yaml')], {}), /a configuration file cannot name another/);
  });

  it('refuses files it cannot read or parse', () => {
    refused(() => loadConfig(['--config', path.join(dir, 'missing.yaml')], {}), /cannot read the configuration file .*missing\.yaml: ENOENT/);
    refused(() => loadConfig(['--config', write('region: [unclosed')], {}), /configuration file .*c\d+\.yaml: /);
    refused(() => loadConfig(['--config', write('- a\n- b')], {}), /expected a mapping of settings/);
    refused(() => loadConfig(['--config', write('region: a\nregion: b')], {}), /configuration file/);
    refused(() => loadConfig(['--config', write('region:')], {}), /"region" has no value/);
    // An empty file is no settings at all.
    assert.equal(loadConfig(['--config', write('')], {}).region, 'us-east-1');
  });

  it('runs `trove server --config FILE`', async () => {
    const port = await freePort();
    const dataDir = path.join(dir, 'data');
    const file = write([`address: 127.0.0.1:${port}`, `data-dir: ${dataDir}`, 'workers: 1', 'root-access-key: CONFIGFILEKEY0000001', 'root-secret-key: config-file-secret-0001', 'space-reserve: 0', 'log-level: warn'].join('\n'));
    const main = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');
    const child = spawn(process.execPath, [main, 'server', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const until = Date.now() + 20_000;
        const attempt = (): void => {
          const req = http.get({ host: '127.0.0.1', port, path: '/_trove/health/live', agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', () => {
            if (child.exitCode !== null) reject(new Error(`trove exited (${child.exitCode}): ${output}`));
            else if (Date.now() > until) reject(new Error(`trove did not listen on ${port}: ${output}`));
            else setTimeout(attempt, 100);
          });
        };
        attempt();
      });
      assert.equal(status, 200);
      assert.ok(fs.existsSync(path.join(dataDir, 'meta')), 'the data directory is the file’s');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
