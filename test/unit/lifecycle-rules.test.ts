// Lifecycle rule evaluation (src/lifecycle/rules.ts) as pure functions: day arithmetic, filters,
// which version expires or transitions, expired delete markers, uploads, the header, the ranges a
// pass walks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLifecycle, type LifecycleConfig } from '../../src/s3/bucket/config/lifecycle.js';
import { parseXmlBody } from '../../src/s3/xml.js';
import { abortRule, DAY_MS, decide, dueAt, expirationHeader, expirationOf, scanPrefixes, uploadPrefixes, type VersionFacts } from '../../src/lifecycle/rules.js';

const T0 = Date.parse('2026-03-10T15:30:00Z');

function config(rules: string, min?: 'varies_by_storage_class'): LifecycleConfig {
  return parseLifecycle(parseXmlBody(`<LifecycleConfiguration>${rules}</LifecycleConfiguration>`, 'LifecycleConfiguration'), () => true, min);
}

function v(key: string, lastModified: number, extra: Partial<VersionFacts> = {}): VersionFacts {
  return { key, versionId: `v${lastModified}`, size: 1000, lastModified, deleteMarker: false, storageClass: 'STANDARD', etag: 'e', ...extra };
}

describe('lifecycle rules', () => {
  it('counts days to the next midnight UTC; a short test day counts from the write itself', () => {
    assert.equal(dueAt(T0, 1), Date.parse('2026-03-12T00:00:00Z'));
    assert.equal(dueAt(Date.parse('2026-03-10T00:00:00Z'), 1), Date.parse('2026-03-11T00:00:00Z'), 'exactly midnight stays');
    assert.equal(dueAt(T0, 30), Date.parse('2026-04-10T00:00:00Z'));
    assert.equal(dueAt(T0, 3, 10_000), T0 + 30_000);
  });

  it('expires the current version by Days or Date when prefix, tags and size match', () => {
    const c = config(`
      <Rule><ID>days</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
      <Rule><ID>date</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Date>2026-03-15T00:00:00Z</Date></Expiration></Rule>`);
    const logs = v('logs/a', T0, { tags: [['t', '1']] });
    const due = Date.parse('2026-03-13T00:00:00Z');
    assert.deepEqual(decide(c, [logs], due - 1), []);
    assert.deepEqual(decide(c, [logs], due).map((a) => [a.kind, a.ruleId]), [['expire-current', 'days']]);
    assert.deepEqual(decide(c, [{ ...logs, tags: [['t', '2']] }], due), [], 'tag mismatch');
    assert.deepEqual(decide(c, [{ ...logs, size: 5 }], due), [], 'too small');
    assert.deepEqual(decide(c, [v('other/a', T0)], due), [], 'prefix mismatch');
    assert.deepEqual(decide(c, [v('old/a', T0)], Date.parse('2026-03-15T00:00:00Z')).map((a) => a.ruleId), ['date']);
    assert.deepEqual(decide(c, [v('old/a', T0)], Date.parse('2026-03-14T23:59:59Z')), []);
  });

  it('takes Prefix, Tag and sizes side by side in a Filter (as Ceph RGW does) as their conjunction', () => {
    const c = config(`
      <Rule><ID>sib</ID><Filter><Prefix>days1/</Prefix><Tag><Key>tom</Key><Value>sawyer</Value></Tag><ObjectSizeLessThan>2000</ObjectSizeLessThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`);
    assert.deepEqual(c.rules[0]!.filter, { prefix: 'days1/', tags: [['tom', 'sawyer']], sizeLessThan: 2000 });
    assert.deepEqual(c.rules[0]!.form, { kind: 'filter', element: 'Siblings', given: { Prefix: 'days1/', Tag: [{ Key: 'tom', Value: 'sawyer' }], ObjectSizeLessThan: 2000 } });
    const due = Date.parse('2026-03-12T00:00:00Z');
    const tom = v('days1/tom', T0, { tags: [['tom', 'sawyer']] });
    assert.deepEqual(decide(c, [tom], due).map((a) => a.ruleId), ['sib']);
    assert.deepEqual(decide(c, [{ ...tom, tags: [] }], due), [], 'the tag must match too');
    assert.deepEqual(decide(c, [{ ...tom, key: 'days2/tom' }], due), [], 'and the prefix');
    assert.deepEqual(decide(c, [{ ...tom, size: 5000 }], due), [], 'and the size');
    assert.deepEqual(scanPrefixes(c), ['days1/'], 'a pass walks only the prefix');
    // Two tags side by side: both must match.
    const two = config('<Rule><ID>t</ID><Filter><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>');
    assert.deepEqual(two.rules[0]!.filter.tags, [['a', '1'], ['b', '2']]);
    assert.deepEqual(decide(two, [v('k', T0, { tags: [['a', '1']] })], due), []);
    assert.equal(decide(two, [v('k', T0, { tags: [['a', '1'], ['b', '2']] })], due).length, 1);
    // Beside an And too (the Ceph suite's tags2 tests): everything in and beside it must match.
    const mixed = config(`<Rule><ID>m</ID><Filter><Prefix>days1/</Prefix><Tag><Key>tom</Key><Value>sawyer</Value></Tag>
      <And><Prefix>days1</Prefix><Tag><Key>huck</Key><Value>finn</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`);
    assert.deepEqual(mixed.rules[0]!.filter, { prefix: 'days1/', tags: [['tom', 'sawyer'], ['huck', 'finn']] });
    assert.deepEqual(decide(mixed, [v('days1/tom', T0, { tags: [['tom', 'sawyer']] })], due), [], 'huck=finn missing');
    assert.equal(decide(mixed, [v('days1/huck', T0, { tags: [['tom', 'sawyer'], ['huck', 'finn']] })], due).length, 1);
    // Still refused: prefixes no key can match both of, a repeated Prefix, a repeated tag key.
    assert.throws(() => config('<Rule><ID>x</ID><Filter><Prefix>a</Prefix><And><Prefix>b</Prefix></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'), /MalformedXML|Filter/);
    assert.throws(() => config('<Rule><ID>x</ID><Filter><Tag><Key>a</Key><Value>1</Value></Tag><And><Tag><Key>a</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'));
    assert.throws(() => config('<Rule><ID>x</ID><Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>'));
  });

  it('takes a Transition back to STANDARD (as Ceph RGW does), with no minimum size', () => {
    const c = config('<Rule><ID>back</ID><Prefix></Prefix><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition></Rule>');
    const due = Date.parse('2026-03-12T00:00:00Z');
    const a = decide(c, [v('k', T0, { storageClass: 'FROZEN', size: 10 })], due);
    assert.deepEqual(a.map((x) => (x.kind === 'transition' ? x.storageClass : x.kind)), ['STANDARD']);
    assert.deepEqual(decide(c, [v('k', T0, { size: 10 })], due), [], 'already STANDARD');
  });

  it('ignores disabled rules', () => {
    const c = config('<Rule><ID>off</ID><Prefix></Prefix><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>');
    assert.deepEqual(decide(c, [v('a', T0)], T0 + 10 * DAY_MS), []);
    assert.equal(expirationOf(c, v('a', T0)), undefined);
  });

  it('expires noncurrent versions by the time since they became noncurrent, keeping the newest N', () => {
    const c = config('<Rule><ID>nc</ID><Prefix></Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>');
    const day = 1000;
    // Newest first: written at 50, 40, 30, 20, 10 (s): version i became noncurrent when i-1 was written.
    const vs = [50, 40, 30, 20, 10].map((s) => v('k', s * 1000));
    const at = (now: number) => decide(c, vs, now, day).map((a) => (a.kind === 'expire-noncurrent' ? a.version.lastModified / 1000 : a.kind));
    // The 10 s version is noncurrent since 20 s (due at 21 s), the 20 s one since 30 s (due at 31 s).
    assert.deepEqual(at(20_500), []);
    assert.deepEqual(at(25_000), [10]);
    assert.deepEqual(at(31_000), [20, 10]);
    assert.deepEqual(at(1e9), [20, 10], 'the two newest noncurrent versions (40 s, 30 s) are kept however old');
  });

  it('removes an expired object delete marker (alone, or once its last noncurrent version goes)', () => {
    const c = config('<Rule><ID>dm</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>');
    const marker = v('k', 20_000, { deleteMarker: true, size: 0 });
    assert.deepEqual(decide(c, [marker], 20_001, 1000).map((a) => a.kind), ['remove-delete-marker']);
    const old = v('k', 10_000);
    assert.deepEqual(decide(c, [marker, old], 20_500, 1000).map((a) => a.kind), [], 'a version remains');
    assert.deepEqual(decide(c, [marker, old], 21_000, 1000).map((a) => a.kind), ['expire-noncurrent', 'remove-delete-marker']);
    const days = config('<Rule><ID>d</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><Days>5</Days></Expiration></Rule>');
    assert.deepEqual(decide(days, [marker], 24_000, 1000), [], 'a Days expiration removes a lone marker once that old');
    assert.deepEqual(decide(days, [marker], 25_000, 1000).map((a) => a.kind), ['remove-delete-marker']);
  });

  it('transitions to the latest due class, not twice, not small objects to Amazon classes by default', () => {
    const c = config('<Rule><ID>t</ID><Prefix></Prefix><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Transition><Days>60</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>'.replace('<Days>1</Days>', '<Days>30</Days>'));
    const big = v('k', T0, { size: 1 << 20 });
    const t = (x: VersionFacts, now: number) => decide(c, [x], now).map((a) => (a.kind === 'transition' ? a.storageClass : a.kind));
    assert.deepEqual(t(big, T0 + 29 * DAY_MS), []);
    assert.deepEqual(t(big, T0 + 31 * DAY_MS), ['STANDARD_IA']);
    assert.deepEqual(t({ ...big, storageClass: 'STANDARD_IA' }, T0 + 31 * DAY_MS), [], 'already there');
    assert.deepEqual(t({ ...big, storageClass: 'STANDARD_IA' }, T0 + 61 * DAY_MS), ['GLACIER']);
    assert.deepEqual(t({ ...big, size: 1000 }, T0 + 61 * DAY_MS), [], 'below 128 KiB');
    const custom = config('<Rule><ID>t</ID><Prefix></Prefix><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>COLD</StorageClass></Transition></Rule>');
    assert.deepEqual(decide(custom, [{ ...big, size: 10 }], T0 + 2 * DAY_MS).map((a) => a.kind), ['transition'], "an operator's own class has no minimum");
    const varies = config('<Rule><ID>t</ID><Prefix></Prefix><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>', 'varies_by_storage_class');
    assert.deepEqual(decide(varies, [{ ...big, size: 10 }], T0 + 2 * DAY_MS).map((a) => a.kind), ['transition']);
    const sized = config('<Rule><ID>t</ID><Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>');
    assert.deepEqual(decide(sized, [{ ...big, size: 10 }], T0 + 2 * DAY_MS).map((a) => a.kind), ['transition'], 'a size filter overrides the default');
    const both = config('<Rule><ID>t</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><Days>10</Days></Expiration><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>');
    assert.deepEqual(decide(both, [big], T0 + 11 * DAY_MS).map((a) => a.kind), ['expire-current'], 'what expires is not transitioned');
  });

  it('transitions noncurrent versions by NoncurrentDays and NewerNoncurrentVersions', () => {
    const c = config('<Rule><ID>n</ID><Prefix></Prefix><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions><StorageClass>COLD</StorageClass></NoncurrentVersionTransition></Rule>');
    const vs = [30_000, 20_000, 10_000].map((t) => v('k', t));
    assert.deepEqual(decide(c, vs, 40_000, 1000).map((a) => a.version.lastModified), [10_000], 'the newest noncurrent one is kept');
  });

  it('aborts uploads by DaysAfterInitiation under the rule prefix', () => {
    const c = config('<Rule><ID>a</ID><Prefix>mp/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>');
    assert.equal(abortRule(c, 'mp/x', T0, Date.parse('2026-03-13T00:00:00Z')), 'a');
    assert.equal(abortRule(c, 'mp/x', T0, Date.parse('2026-03-12T23:59:59Z')), undefined);
    assert.equal(abortRule(c, 'other', T0, T0 + 100 * DAY_MS), undefined);
  });

  it('x-amz-expiration: the earliest expiry and its rule, in HTTP date form', () => {
    const c = config(`
      <Rule><ID>late</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><Days>10</Days></Expiration></Rule>
      <Rule><ID>soon "one"</ID><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`);
    const e = expirationOf(c, v('ab', T0))!;
    assert.deepEqual(e, { at: Date.parse('2026-03-12T00:00:00Z'), ruleId: 'soon "one"' });
    assert.equal(expirationHeader(e), 'expiry-date="Thu, 12 Mar 2026 00:00:00 GMT", rule-id="soon \\"one\\""');
    assert.equal(expirationOf(c, v('b', T0))!.ruleId, 'late');
  });

  it('walks only the minimal set of rule prefixes', () => {
    const c = config(`
      <Rule><ID>1</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
      <Rule><ID>2</ID><Prefix>logs/2026/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
      <Rule><ID>3</ID><Prefix>a</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>
      <Rule><ID>4</ID><Prefix>z</Prefix><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
      <Rule><ID>5</ID><Prefix>mp/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`);
    assert.deepEqual(scanPrefixes(c), ['a', 'logs/']);
    assert.deepEqual(uploadPrefixes(c), ['mp/']);
    const all = config('<Rule><ID>1</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>2</ID><Prefix>x</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>');
    assert.deepEqual(scanPrefixes(all), ['']);
  });
});
