// Every condition operator, with IfExists, the ForAnyValue/ForAllValues set operators, absent
// keys, several values and policy variables. Expected results follow the IAM User Guide pages
// "Condition operators" (reference_policies_elements_condition_operators) and "Conditions with
// multiple context keys or values" (reference_policies_multi-value-conditions).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, evaluateCondition, parseDate, parseOperator } from '../../src/authz/policy/conditions.js';
import { PolicyError } from '../../src/authz/policy/errors.js';

type Row = [operator: string, key: string, policy: string | string[], request: string | string[] | undefined, want: boolean, note?: string];

function run(rows: Row[], extra: Record<string, string[]> = {}): void {
  for (const [op, key, policy, request, want, note] of rows) {
    const label = `${op} ${key} ${JSON.stringify(policy)} vs ${request === undefined ? '(absent)' : JSON.stringify(request)} → ${want}${note ? ` (${note})` : ''}`;
    it(label, () => {
      const c = compileCondition(op, key, Array.isArray(policy) ? policy : [policy], { variables: true });
      const keys = new Map<string, string[]>(Object.entries(extra));
      if (request !== undefined) keys.set(key.toLowerCase(), Array.isArray(request) ? request : [request]);
      assert.equal(evaluateCondition(c, keys), want);
    });
  }
}

describe('string operators', () => {
  run([
    ['StringEquals', 'aws:PrincipalTag/job', 'admin', 'admin', true],
    ['StringEquals', 'aws:PrincipalTag/job', 'admin', 'Admin', false, 'case-sensitive'],
    ['StringEquals', 'aws:PrincipalTag/job', 'adm*', 'admin', false, 'no wildcards'],
    ['StringEquals', 'aws:PrincipalTag/job', 'adm*', 'adm*', true],
    ['StringEquals', 'aws:PrincipalTag/job', ['audit', 'security'], 'security', true, 'values are OR-ed'],
    ['StringEquals', 'aws:PrincipalTag/job', 'admin', undefined, false, 'absent key'],
    ['StringNotEquals', 'aws:PrincipalTag/job', 'admin', 'user', true],
    ['StringNotEquals', 'aws:PrincipalTag/job', 'admin', 'admin', false],
    ['StringNotEquals', 'aws:PrincipalTag/job', ['audit', 'security'], 'audit', false, 'negated values are NOR-ed'],
    ['StringNotEquals', 'aws:PrincipalTag/job', ['audit', 'security'], 'hr', true],
    ['StringNotEquals', 'aws:PrincipalTag/job', 'admin', undefined, true, 'absent key: negated operators are true'],
    ['StringEqualsIgnoreCase', 'aws:PrincipalTag/job', 'ADMIN', 'admin', true],
    ['StringEqualsIgnoreCase', 'aws:PrincipalTag/job', 'ADMIN', 'user', false],
    ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/job', 'ADMIN', 'Admin', false],
    ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/job', 'ADMIN', 'user', true],
    ['StringNotEqualsIgnoreCase', 'aws:PrincipalTag/job', 'ADMIN', undefined, true],
    ['StringLike', 's3:prefix', 'home/*', 'home/bob/', true],
    ['StringLike', 's3:prefix', 'home/*', 'Home/bob/', false, 'case-sensitive'],
    ['StringLike', 's3:prefix', ['', 'home/'], '', true, 'the empty prefix'],
    ['StringLike', 's3:prefix', 'h?me/', 'hime/', true],
    ['StringLike', 's3:prefix', 'home/*', undefined, false],
    ['StringNotLike', 's3:prefix', 'home/*', 'etc/', true],
    ['StringNotLike', 's3:prefix', 'home/*', 'home/x', false],
    ['StringNotLike', 's3:prefix', ['home/*', 'etc/*'], 'etc/x', false],
    ['StringNotLike', 's3:prefix', 'home/*', undefined, true],
  ]);
});

describe('numeric operators', () => {
  run([
    ['NumericEquals', 's3:max-keys', '10', '10', true],
    ['NumericEquals', 's3:max-keys', '10', '10.0', true],
    ['NumericEquals', 's3:max-keys', '10', '11', false],
    ['NumericEquals', 's3:max-keys', '10', 'ten', false, 'not a number'],
    ['NumericNotEquals', 's3:max-keys', '10', '11', true],
    ['NumericNotEquals', 's3:max-keys', ['10', '11'], '11', false],
    ['NumericNotEquals', 's3:max-keys', '10', undefined, true],
    ['NumericLessThan', 's3:max-keys', '10', '9', true],
    ['NumericLessThan', 's3:max-keys', '10', '10', false],
    ['NumericLessThanEquals', 's3:max-keys', '10', '10', true, 'the s3:max-keys example'],
    ['NumericLessThanEquals', 's3:max-keys', '10', '11', false],
    ['NumericLessThanEquals', 's3:max-keys', '10', undefined, false],
    ['NumericGreaterThan', 's3:max-keys', '10', '10.5', true],
    ['NumericGreaterThan', 's3:max-keys', '10', '-3', false],
    ['NumericGreaterThanEquals', 's3:max-keys', '1e1', '10', true],
    ['NumericGreaterThanEquals', 's3:max-keys', '10', '9.99', false],
  ]);
});

describe('date operators', () => {
  run([
    ['DateGreaterThan', 'aws:TokenIssueTime', '2020-01-01T00:00:01Z', '2020-06-01T00:00:00Z', true, 'the aws:TokenIssueTime example'],
    ['DateGreaterThan', 'aws:TokenIssueTime', '2020-01-01T00:00:01Z', '2019-12-31T23:59:59Z', false],
    ['DateGreaterThan', 'aws:TokenIssueTime', '2020-01-01T00:00:01Z', undefined, false, 'absent: long-term keys'],
    ['DateEquals', 'aws:CurrentTime', '2024-05-01T12:00:00Z', '2024-05-01T14:00:00+02:00', true, 'zones are honoured'],
    ['DateEquals', 'aws:CurrentTime', '2024-05-01', '2024-05-01T00:00:00Z', true, 'a date alone is midnight UTC'],
    ['DateEquals', 'aws:EpochTime', '1714564800', '2024-05-01T12:00:00Z', true, 'epoch seconds against ISO 8601'],
    ['DateEquals', 'aws:CurrentTime', '2024-05-01T12:00:00Z', '20240501T120000Z', true, 'the compact SigV4 form'],
    ['DateNotEquals', 'aws:CurrentTime', '2024-05-01T12:00:00Z', '2024-05-01T12:00:01Z', true],
    ['DateNotEquals', 'aws:CurrentTime', '2024-05-01T12:00:00Z', undefined, true],
    ['DateLessThan', 'aws:CurrentTime', '2024-05-01T12:00:00Z', '2024-05-01T11:59:59.999Z', true],
    ['DateLessThan', 'aws:CurrentTime', '2024-05-01T12:00:00Z', '2024-05-01T12:00:00Z', false],
    ['DateLessThanEquals', 'aws:CurrentTime', '2024-05-01T12:00:00Z', '2024-05-01T12:00:00Z', true],
    ['DateGreaterThanEquals', 'aws:CurrentTime', '2024-05-01T12:00Z', '2024-05-01T12:00:00Z', true, 'minutes without seconds'],
    ['DateGreaterThanEquals', 'aws:EpochTime', '1714564800', '1714564799', false],
    ['DateLessThan', 'aws:CurrentTime', '2024-05-01T12:00:00Z', 'yesterday', false, 'unparseable request value'],
  ]);
  it('parses the W3C profile of ISO 8601 and epoch seconds', () => {
    assert.equal(parseDate('2024'), 2_024_000, 'a bare number is epoch seconds, even four digits');
    assert.equal(parseDate('2024-01'), Date.UTC(2024, 0, 1));
    assert.equal(parseDate('2024-05'), Date.UTC(2024, 4, 1));
    assert.equal(parseDate('2024-05-01T10:20:30.5+01:00'), Date.UTC(2024, 4, 1, 9, 20, 30, 500));
    assert.equal(parseDate('0'), 0);
    assert.equal(parseDate('May 1 2024'), undefined);
    assert.equal(parseDate('2024-05-01T10:20'), undefined, 'a time needs a zone');
  });
});

describe('Bool, BinaryEquals, Null', () => {
  run([
    ['Bool', 'aws:SecureTransport', 'false', 'false', true, 'the deny-without-TLS example'],
    ['Bool', 'aws:SecureTransport', 'false', 'true', false],
    ['Bool', 'aws:SecureTransport', 'true', 'TRUE', true],
    ['Bool', 'aws:SecureTransport', 'false', undefined, false],
    ['BoolIfExists', 'aws:MultiFactorAuthPresent', 'false', undefined, true],
    ['BinaryEquals', 'key', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', true],
    ['BinaryEquals', 'key', 'QmluYXJ5VmFsdWVJbkJhc2U2NA==', 'QmluYXJ5VmFsdWVJbkJhc2U2NQ==', false],
    ['BinaryEquals', 'key', 'QUJD', 'QUJD', true],
    ['BinaryEquals', 'key', 'QUJD', undefined, false],
    ['Null', 'aws:TokenIssueTime', 'true', undefined, true, 'absent key is null'],
    ['Null', 'aws:TokenIssueTime', 'true', '2024-05-01T00:00:00Z', false],
    ['Null', 'aws:TokenIssueTime', 'false', '2024-05-01T00:00:00Z', true],
    ['Null', 'aws:TokenIssueTime', 'false', undefined, false],
    ['Null', 'aws:TokenIssueTime', 'false', [], false, 'no values is absent'],
  ]);
});

describe('IP address operators', () => {
  run([
    ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '203.0.113.9', true],
    ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', '198.51.100.1', false],
    ['IpAddress', 'aws:SourceIp', ['203.0.113.0/24', '2001:DB8:1234:5678::/64'], '2001:db8:1234:5678::7', true, 'mixed families'],
    ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', undefined, false, 'absent through a VPC endpoint'],
    ['IpAddress', 'aws:SourceIp', '203.0.113.0/24', 'garbage', false],
    ['NotIpAddress', 'aws:SourceIp', '203.0.113.0/24', '198.51.100.1', true],
    ['NotIpAddress', 'aws:SourceIp', ['203.0.113.0/24', '198.51.100.0/24'], '198.51.100.1', false],
    ['NotIpAddress', 'aws:SourceIp', '203.0.113.0/24', undefined, true],
  ]);
});

describe('ARN operators', () => {
  const topic = 'arn:aws:sns:us-east-1:123456789012:TOPIC-ID';
  run([
    ['ArnEquals', 'aws:SourceArn', topic, topic, true, 'the SQS/SNS example'],
    ['ArnEquals', 'aws:SourceArn', 'arn:aws:sns:*:123456789012:*', topic, true, 'ArnEquals takes wildcards like ArnLike'],
    ['ArnLike', 'aws:SourceArn', 'arn:aws:sns:*:123456789012:*', topic, true],
    ['ArnLike', 'aws:SourceArn', 'arn:aws:someservice:*:111122223333:finance/*', 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt', false, 'segments'],
    ['ArnLike', 'aws:SourceArn', 'arn:aws:sns:*:123456789012:*', 'not-an-arn', false],
    ['ArnLike', 'aws:SourceArn', '*', topic, true],
    ['ArnLike', 'aws:SourceArn', topic, undefined, false],
    ['ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::444455556666:user/user-name', 'arn:aws:iam::444455556666:user/other', true],
    ['ArnNotEquals', 'aws:PrincipalArn', 'arn:aws:iam::444455556666:user/user-name', 'arn:aws:iam::444455556666:user/user-name', false],
    ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/admin-*', 'arn:aws:iam::1:role/admin-x', false],
    ['ArnNotLike', 'aws:PrincipalArn', 'arn:aws:iam::*:role/admin-*', undefined, true],
  ]);
});

describe('IfExists', () => {
  run([
    ['StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], undefined, true, 'absent: true'],
    ['StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], 't2.micro', true],
    ['StringLikeIfExists', 'ec2:InstanceType', ['t1.*', 't2.*', 'm3.*'], 'c5.large', false],
    ['StringNotEqualsIfExists', 'aws:PrincipalTag/team', 'red', undefined, true, 'Deny still applies when missing'],
    ['StringNotEqualsIfExists', 'aws:PrincipalTag/team', 'red', 'red', false],
    ['NumericLessThanIfExists', 's3:max-keys', '10', undefined, true],
    ['DateLessThanIfExists', 'aws:CurrentTime', '2024-01-01T00:00:00Z', undefined, true],
    ['IpAddressIfExists', 'aws:SourceIp', '10.0.0.0/8', undefined, true],
    ['IpAddressIfExists', 'aws:SourceIp', '10.0.0.0/8', '11.0.0.1', false],
    ['ArnLikeIfExists', 'aws:SourceArn', 'arn:aws:sns:*:*:*', undefined, true],
    ['BinaryEqualsIfExists', 'key', 'QUJD', undefined, true],
  ]);
});

describe('set operators (the DynamoDB Thread examples)', () => {
  run([
    ['ForAllValues:StringEquals', 'dynamodb:Attributes', ['ID', 'Message', 'Tags'], ['Message', 'Tags'], true],
    ['ForAllValues:StringEquals', 'dynamodb:Attributes', ['ID', 'Message', 'Tags'], ['Message', 'UserName'], false],
    ['ForAllValues:StringEquals', 'dynamodb:Attributes', ['PostDateTime', 'Message', 'Tags'], ['PostDateTime', 'UserName'], false],
    ['ForAllValues:StringEquals', 'dynamodb:Attributes', ['ID'], undefined, true, 'absent key: true'],
    ['ForAllValues:StringEquals', 'dynamodb:Attributes', ['ID'], [], true, 'empty set: true'],
    ['ForAnyValue:StringEquals', 'dynamodb:Attributes', ['ID', 'PostDateTime'], ['UserName', 'Message', 'PostDateTime'], true],
    ['ForAnyValue:StringEquals', 'dynamodb:Attributes', ['ID', 'PostDateTime'], ['UserName'], false],
    ['ForAnyValue:StringEquals', 'dynamodb:Attributes', ['ID'], undefined, false, 'absent key: false'],
    ['ForAnyValue:StringEquals', 'dynamodb:Attributes', ['ID'], [], false, 'empty set: false'],
    ['ForAnyValue:StringEqualsIfExists', 'dynamodb:Attributes', ['ID'], undefined, true],
    ['ForAllValues:StringLike', 'aws:TagKeys', 'Created*', ['CreatedBy', 'CreatedAt'], true],
    ['ForAllValues:StringLike', 'aws:TagKeys', 'Created*', ['CreatedBy', 'Owner'], false],
    ['ForAnyValue:StringLike', 'aws:TagKeys', 'Created*', ['CreatedBy', 'Owner'], true],
    // Negated operators test each request value with the negated operator.
    ['ForAllValues:StringNotEquals', 'aws:TagKeys', ['secret', 'owner'], ['env', 'app'], true, 'no request value is forbidden'],
    ['ForAllValues:StringNotEquals', 'aws:TagKeys', ['secret', 'owner'], ['env', 'owner'], false],
    ['ForAllValues:StringNotEquals', 'aws:TagKeys', ['secret'], undefined, true],
    ['ForAnyValue:StringNotEquals', 'aws:TagKeys', ['env', 'app'], ['env', 'app'], false, 'every request value is listed'],
    ['ForAnyValue:StringNotEquals', 'aws:TagKeys', ['env', 'app'], ['env', 'x'], true, 'one request value is not listed'],
    ['ForAnyValue:StringNotEquals', 'aws:TagKeys', ['env'], undefined, false],
    ['ForAnyValue:NumericLessThan', 'k', '5', ['7', '3'], true],
    ['ForAllValues:NumericLessThan', 'k', '5', ['7', '3'], false],
    ['ForAnyValue:IpAddress', 'k', '10.0.0.0/8', ['1.1.1.1', '10.1.1.1'], true],
  ]);
});

describe('multivalued keys without a set operator', () => {
  run([
    ['StringEquals', 'k', 'a', ['b', 'a'], true, 'any request value'],
    ['StringNotEquals', 'k', 'a', ['b', 'a'], false, 'none may match'],
    ['StringNotEquals', 'k', 'a', ['b', 'c'], true],
  ]);
});

describe('policy variables in condition values', () => {
  const extra = { 'aws:username': ['bob'], 'aws:principaltag/team': ['red'] };
  run([
    ['StringLike', 's3:prefix', 'home/${aws:username}/*', 'home/bob/docs', true],
    ['StringLike', 's3:prefix', 'home/${aws:username}/*', 'home/alice/docs', false],
    ['StringEquals', 's3:ExistingObjectTag/team', '${aws:PrincipalTag/team}', 'red', true],
    ['StringEquals', 's3:ExistingObjectTag/team', '${aws:PrincipalTag/missing}', 'red', false, 'unresolved: no match'],
    ['StringNotEquals', 's3:ExistingObjectTag/team', '${aws:PrincipalTag/missing}', 'red', true, 'unresolved: negated matches'],
    ['StringEquals', 'k', "${aws:PrincipalTag/missing, 'blue'}", 'blue', true, 'default value'],
    ['StringEqualsIgnoreCase', 'k', '${aws:username}', 'BOB', true],
    ['ArnLike', 'aws:PrincipalArn', 'arn:aws:iam::*:user/${aws:username}', 'arn:aws:iam::1:user/bob', true],
    ['StringEquals', 'k', 'a${*}b', 'a*b', true, 'escape'],
    ['StringLike', 'k', 'a${*}b', 'axb', false, 'escaped star is not a wildcard'],
  ], extra);
  it('numeric values take no variables: a ${…} value is refused', () => {
    assert.throws(() => compileCondition('NumericEquals', 'k', ['${aws:username}'], { variables: true }), PolicyError);
  });
});

describe('operator names and values are validated', () => {
  it('splits operators into their parts', () => {
    assert.deepEqual(parseOperator('ForAnyValue:StringLikeIfExists'), { base: 'StringLike', set: 'ForAnyValue', ifExists: true });
    assert.deepEqual(parseOperator('Null'), { base: 'Null', set: undefined, ifExists: false });
    assert.equal(parseOperator('NullIfExists'), undefined, 'IfExists does not apply to Null');
    assert.equal(parseOperator('StringEqualz'), undefined);
    assert.equal(parseOperator('stringequals'), undefined, 'operator names are case-sensitive');
    assert.equal(parseOperator('ForSomeValues:StringEquals'), undefined);
  });
  const bad: [string, string, RegExp][] = [
    ['StringEqualz', 'x', /^Invalid Condition type : StringEqualz$/],
    ['NumericEquals', 'ten', /numeric/],
    ['DateEquals', 'tomorrow', /date/],
    ['Bool', 'yes', /boolean/],
    ['Null', 'maybe', /boolean/],
    ['BinaryEquals', '!!', /binary/],
    ['IpAddress', '300.1.1.1/8', /^Invalid IP address in Conditions$/],
  ];
  for (const [op, value, msg] of bad) {
    it(`${op} ${value} is refused`, () => assert.throws(() => compileCondition(op, 'k:k', [value], { variables: true }), { name: 'PolicyError', message: msg }));
  }
});
