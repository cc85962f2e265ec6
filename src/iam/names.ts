// IAM's names, paths and ARNs: the constraints the IAM API reference gives for each parameter, and
// the ARNs of users, groups, roles and managed policies. Pure functions; the API answers a value
// that breaks a constraint with ValidationError in IAM's words:
//   1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member
//   must satisfy regular expression pattern: [\w+=,.@-]+

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_API_VERSION = '2010-05-08';

/** A parameter's constraint, as the API reference states it. */
export interface Rule {
  readonly min?: number;
  readonly max?: number;
  /** Whole-value pattern, and its text as AWS quotes it. */
  readonly pattern?: RegExp;
  readonly patternText?: string;
  readonly oneOf?: readonly string[];
}

const NAME = { pattern: /^[\w+=,.@-]+$/, patternText: '[\\w+=,.@-]+' };
const DOCUMENT = { min: 1, max: 131072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/, patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' };

/** The constraints of every parameter the API reads, by parameter name. */
export const RULES = {
  UserName: { ...NAME, min: 1, max: 64 },
  NewUserName: { ...NAME, min: 1, max: 64 },
  GroupName: { ...NAME, min: 1, max: 128 },
  NewGroupName: { ...NAME, min: 1, max: 128 },
  RoleName: { ...NAME, min: 1, max: 64 },
  PolicyName: { ...NAME, min: 1, max: 128 },
  Path: { min: 1, max: 512, pattern: /^(\/|\/[\u0021-\u007E]+\/)$/, patternText: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)' },
  NewPath: { min: 1, max: 512, pattern: /^(\/|\/[\u0021-\u007E]+\/)$/, patternText: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)' },
  PathPrefix: { min: 1, max: 512, pattern: /^\/[\u0021-\u007F]*$/, patternText: '\\u002F[\\u0021-\\u007F]*' },
  AccessKeyId: { min: 16, max: 128, pattern: /^\w+$/, patternText: '[\\w]+' },
  Status: { oneOf: ['Active', 'Inactive', 'Expired'] },
  PolicyArn: { min: 20, max: 2048 },
  VersionId: { pattern: /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/, patternText: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?' },
  PolicyDocument: DOCUMENT,
  AssumeRolePolicyDocument: DOCUMENT,
  Description: { min: 0, max: 1000, pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/, patternText: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*' },
  Marker: { min: 1, max: 320, pattern: /^[\u0020-\u00FF]+$/, patternText: '[\\u0020-\\u00FF]+' },
  Scope: { oneOf: ['All', 'AWS', 'Local'] },
  Url: { min: 1, max: 255 },
  ClientID: { min: 1, max: 255 },
  OpenIDConnectProviderArn: { min: 20, max: 2048 },
  PolicyUsageFilter: { oneOf: ['PermissionsPolicy', 'PermissionsBoundary'] },
} as const satisfies Record<string, Rule>;

export type RuledParam = keyof typeof RULES;

/** List parameters (Name.member.N) whose members have a rule of their own, and that rule. */
export const LIST_MEMBER_RULES = {
  ClientIDList: 'ClientID',
} as const satisfies Record<string, RuledParam>;

/** Integer parameters and their ranges. */
export const INT_RANGES = {
  MaxItems: [1, 1000],
  MaxSessionDuration: [3600, 43200],
} as const satisfies Record<string, readonly [number, number]>;

/** "UserName" → "userName", as AWS names a parameter in validation messages. */
export function memberName(param: string): string {
  return param.charAt(0).toLowerCase() + param.slice(1);
}

function violation(param: string, value: string, constraint: string): string {
  return `1 validation error detected: Value '${value}' at '${memberName(param)}' failed to satisfy constraint: ${constraint}`;
}

/** The ValidationError message for a value that breaks the rule, or undefined when it holds. */
export function ruleViolation(param: string, value: string, rule: Rule): string | undefined {
  if (rule.min !== undefined && value.length < rule.min) return violation(param, value, `Member must have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && value.length > rule.max) return violation(param, value, `Member must have length less than or equal to ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(value)) return violation(param, value, `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`);
  if (rule.oneOf && !rule.oneOf.includes(value)) return violation(param, value, `Member must satisfy enum value set: [${rule.oneOf.join(', ')}]`);
  return undefined;
}

/** The message for a required parameter that is missing. */
export function missingValue(param: string): string {
  return `1 validation error detected: Value null at '${memberName(param)}' failed to satisfy constraint: Member must not be null`;
}

export function intViolation(param: string, value: number, [min, max]: readonly [number, number]): string | undefined {
  if (value < min) return violation(param, String(value), `Member must have value greater than or equal to ${min}`);
  if (value > max) return violation(param, String(value), `Member must have value less than or equal to ${max}`);
  return undefined;
}

// ---------------------------------------------------------------- ARNs

export type ArnKind = 'user' | 'group' | 'role' | 'policy';

/** arn:aws:iam::<account>:<kind><path><name>, e.g. arn:aws:iam::123456789012:user/eng/alice. */
export function iamArn(accountId: string, kind: ArnKind, path: string, name: string): string {
  return `arn:aws:iam::${accountId}:${kind}${path}${name}`;
}

/** arn:aws:iam::<account>:oidc-provider/<url without https://>. */
export function oidcProviderArn(accountId: string, url: string): string {
  return `arn:aws:iam::${accountId}:oidc-provider/${url}`;
}

/** The account and URL (without scheme) an OpenID Connect provider's ARN names; undefined when it is not one. */
export function parseOidcProviderArn(arn: string): { accountId: string; url: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):oidc-provider\/([\u0021-\u007E]+)$/.exec(arn);
  return m ? { accountId: m[1]!, url: m[2]! } : undefined;
}

export interface ParsedIamArn {
  /** 12 digits, or "aws" for AWS managed policies. */
  accountId: string;
  kind: ArnKind;
  path: string;
  name: string;
}

const IAM_ARN = /^arn:aws:iam::(\d{12}|aws):(user|group|role|policy)(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]+)$/;

/** Parses an IAM ARN of a user, group, role or policy; undefined when it is not one. */
export function parseIamArn(arn: string): ParsedIamArn | undefined {
  const m = IAM_ARN.exec(arn);
  if (!m) return undefined;
  return { accountId: m[1]!, kind: m[2] as ArnKind, path: m[3]!, name: m[4]! };
}
