// Wildcards, ARNs, policy variables and IP ranges: the primitives under the policy language.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileArnPattern, compileTemplate, matchArn, matchTemplate, splitArn } from '../../src/authz/policy/match.js';
import { cidrContains, parseCidr, parseIp } from '../../src/authz/policy/ip.js';

const keys = (o: Record<string, string | string[]>): Map<string, string[]> =>
  new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));

const glob = (pattern: string, value: string, k = keys({}), variables = true): boolean =>
  matchTemplate(compileTemplate(pattern, { wildcards: true, variables }), value, k);

describe('policy wildcards', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything', true],
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['ab*', 'abc', true],
    ['ab*', 'a', false],
    ['*bc', 'abc', true],
    ['*b*', 'abc', true],
    ['*x*', 'abc', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a??', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['a*a*a*a*b', 'a'.repeat(40), false],
    ['*/test/*', '1/2/test/3/object.jpg', true],
    ['*/test/*', 'test/object.jpg', false],
    ['**', 'x', true],
    ['?*', '', false],
  ];
  for (const [p, v, want] of cases) it(`${p} ~ ${JSON.stringify(v)} → ${want}`, () => assert.equal(glob(p, v), want));

  it('the S3 examples of "DOC-EXAMPLE-BUCKET/*/test/*" (IAM User Guide, Resource element)', () => {
    const p = 'DOC-EXAMPLE-BUCKET/*/test/*';
    for (const v of ['1/test/object.jpg', '1/2/test/object.jpg', '1/2/test/3/object.jpg', '1/2/3/test/4/object.jpg', '1///test///object.jpg', '1/test/.jpg', '/test/object.jpg', '1/test/']) {
      assert.ok(glob(p, `DOC-EXAMPLE-BUCKET/${v}`), v);
    }
    for (const v of ['1-test/object.jpg', 'test/object.jpg', '1/2/test.jpg']) assert.ok(!glob(p, `DOC-EXAMPLE-BUCKET/${v}`), v);
  });

  it('pathological patterns stay fast (no regex backtracking)', () => {
    const p = compileTemplate('*a*a*a*a*a*a*a*a*a*b', { wildcards: true, variables: false });
    const v = 'a'.repeat(5000);
    const t0 = process.hrtime.bigint();
    assert.equal(matchTemplate(p, v, undefined), false);
    assert.ok(Number(process.hrtime.bigint() - t0) < 500e6);
  });

  it('case-insensitive templates lower their literals and variable values', () => {
    const t = compileTemplate('S3:Get*', { wildcards: true, variables: false, lower: true });
    assert.ok(matchTemplate(t, 's3:getobject', undefined));
  });

  it('without wildcards, * and ? are literal', () => {
    const t = compileTemplate('a*?', { wildcards: false, variables: false });
    assert.ok(matchTemplate(t, 'a*?', undefined));
    assert.ok(!matchTemplate(t, 'abc', undefined));
  });
});

describe('policy variables', () => {
  const k = keys({ 'aws:username': 'bob', 'aws:PrincipalTag/team': 'yellow', 'aws:TagKeys': ['a', 'b'], 'aws:userid': 'AIDA*X' });
  it('substitutes a present key (names are case-insensitive)', () => {
    assert.ok(glob('home/${aws:username}/*', 'home/bob/x', k));
    assert.ok(glob('home/${AWS:UserName}/*', 'home/bob/x', k));
    assert.ok(!glob('home/${aws:username}/*', 'home/alice/x', k));
  });
  it('an absent key matches nothing', () => {
    assert.ok(!glob('home/${aws:username}/*', 'home/bob/x', keys({})));
    assert.ok(!glob('${aws:username}', '', keys({})));
  });
  it('a multivalued key cannot be a variable', () => assert.ok(!glob('${aws:TagKeys}', 'a', k)));
  it("uses the default of ${key, 'default'} when absent", () => {
    assert.ok(glob("bucket-${aws:PrincipalTag/team, 'company-wide'}", 'bucket-yellow', k));
    assert.ok(glob("bucket-${aws:PrincipalTag/team, 'company-wide'}", 'bucket-company-wide', keys({})));
    assert.ok(glob("${aws:username, 'anonymous'}/*", 'anonymous/x', keys({})));
  });
  it('${*}, ${?} and ${$} are literal characters', () => {
    assert.ok(glob('a${*}b', 'a*b'));
    assert.ok(!glob('a${*}b', 'aXb'));
    assert.ok(glob('a${?}', 'a?'));
    assert.ok(!glob('a${?}', 'ab'));
    assert.ok(glob('${$}{x}', '${x}'));
  });
  it('a substituted value is literal, not a wildcard', () => {
    assert.ok(glob('${aws:userid}', 'AIDA*X', k));
    assert.ok(!glob('${aws:userid}', 'AIDAyyyX', k));
  });
  it('Version 2008-10-17 documents keep ${…} as text', () => {
    assert.ok(glob('home/${aws:username}', 'home/${aws:username}', k, false));
    assert.ok(!glob('home/${aws:username}', 'home/bob', k, false));
  });
  it('an unterminated ${ is literal', () => assert.ok(glob('a${b', 'a${b')));
});

describe('ARN matching', () => {
  const arn = (p: string, v: string, k = keys({}), opts = { variables: true, varsInResourceOnly: true }): boolean =>
    matchArn(compileArnPattern(p, opts), splitArn(v), k);
  it('splits at the first five colons only', () => {
    assert.deepEqual(splitArn('arn:aws:s3:::b/k:with:colons'), ['arn', 'aws', 's3', '', '', 'b/k:with:colons']);
    assert.equal(splitArn('arn:aws:s3'), undefined);
  });
  it('matches segment by segment', () => {
    assert.ok(arn('arn:aws:s3:::bucket/*', 'arn:aws:s3:::bucket/a/b:c'));
    assert.ok(arn('arn:aws:s3:::*', 'arn:aws:s3:::bucket'));
    assert.ok(arn('arn:aws:s3:*:*:bucket', 'arn:aws:s3:::bucket'));
    assert.ok(!arn('arn:aws:s3:::bucket', 'arn:aws:s3:::bucket/k'));
    assert.ok(!arn('arn:aws:s3:::Bucket/*', 'arn:aws:s3:::bucket/k'), 'case-sensitive');
    assert.ok(arn('*', 'anything'));
  });
  it('a wildcard does not cross a colon between segments (IAM User Guide, ArnLike example)', () => {
    const p = 'arn:aws:someservice:*:111122223333:finance/*';
    const v = 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt';
    assert.ok(!arn(p, v));
    assert.ok(glob(p, v), 'StringLike matches the same pair');
  });
  it('variables only in the resource part of a Resource element', () => {
    const k = keys({ 'aws:username': 'bob', 'aws:PrincipalAccount': '111122223333' });
    assert.ok(arn('arn:aws:s3:::b/${aws:username}/*', 'arn:aws:s3:::b/bob/x', k));
    assert.ok(!arn('arn:aws:iam::${aws:PrincipalAccount}:user/bob', 'arn:aws:iam::111122223333:user/bob', k));
    assert.ok(arn('arn:aws:iam::${aws:PrincipalAccount}:user/bob', 'arn:aws:iam::111122223333:user/bob', k, { variables: true, varsInResourceOnly: false }));
  });
  it('a non-ARN value or pattern matches nothing', () => {
    assert.ok(!arn('arn:aws:s3:::b', 'b'));
    assert.ok(!arn('bucket/*', 'arn:aws:s3:::bucket/x'));
  });
});

describe('IP addresses and CIDR blocks', () => {
  const within = (cidr: string, ip: string): boolean => cidrContains(parseCidr(cidr)!, parseIp(ip)!);
  it('IPv4', () => {
    assert.ok(within('203.0.113.0/24', '203.0.113.255'));
    assert.ok(!within('203.0.113.0/24', '203.0.114.0'));
    assert.ok(within('203.0.113.7', '203.0.113.7'), 'no prefix means /32');
    assert.ok(!within('203.0.113.7', '203.0.113.8'));
    assert.ok(within('0.0.0.0/0', '8.8.8.8'));
    assert.ok(within('10.1.2.3/8', '10.200.0.1'), 'host bits are ignored');
  });
  it('IPv6', () => {
    assert.ok(within('2001:DB8:1234:5678::/64', '2001:db8:1234:5678:abcd::1'));
    assert.ok(!within('2001:DB8:1234:5678::/64', '2001:db8:1234:5679::1'));
    assert.ok(within('::/0', '::1'));
    assert.ok(within('2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'));
    assert.ok(within('2001:db8::/127', '2001:db8::1'));
    assert.ok(!within('2001:db8::/128', '2001:db8::1'));
  });
  it('families do not mix; IPv4-mapped IPv6 addresses count as IPv4', () => {
    assert.ok(!within('::/0', '1.2.3.4'));
    assert.ok(within('1.2.3.0/24', '::ffff:1.2.3.4'));
  });
  it('refuses malformed input', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4/33', '1.2.3.4/', '::1/129', '1::2::3', 'gggg::', 'abc']) {
      assert.equal(parseCidr(bad), undefined, bad);
    }
  });
});
