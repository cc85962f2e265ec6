// The one error the policy language throws: a document we refuse, with a reason in AWS's words.
//
// S3 answers PutBucketPolicy with `MalformedPolicy` and IAM answers with
// `MalformedPolicyDocument` (or `LimitExceeded` for size); both carry a human sentence. The
// sentences below are AWS's where we know them (from S3's and IAM's answers as observed by other
// S3 implementations that test against AWS, e.g. versitygw's auth/bucket_policy.go), ours
// otherwise. Callers map `tooLarge` to their service's size error.

export class PolicyError extends Error {
  /** True when the document exceeds the size limit of its kind (not a syntax problem). */
  readonly tooLarge: boolean;

  constructor(reason: string, opts: { tooLarge?: boolean } = {}) {
    super(reason);
    this.name = 'PolicyError';
    this.tooLarge = opts.tooLarge ?? false;
  }
}

/** AWS's sentences, kept in one place so tests and callers can refer to them. */
export const MSG = {
  invalidJson: 'This policy contains invalid Json',
  firstByte: "Policies must be valid JSON and the first byte must be '{'",
  missingStatement: 'Missing required field Statement',
  emptyStatement: 'Could not parse the policy: Statement is empty!',
  invalidVersion: 'The policy must contain a valid version string',
  invalidAction: 'Policy has invalid action',
  invalidResource: 'Policy has invalid resource',
  invalidPrincipal: 'Invalid principal in policy',
  invalidConditionKey: 'Policy has an invalid condition key',
  invalidIp: 'Invalid IP address in Conditions',
  actionResourceMismatch: 'Action does not apply to any resource(s) in statement',
  conditionMismatch: 'Conditions do not apply to combination of actions and resources in statement',
  // IAM's wording for identity-side documents.
  iamVendorPrefix: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
  iamNoActions: 'Policy statement must contain actions.',
  iamNoResources: 'Policy statement must contain resources.',
  iamSid: 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
  iamSidUnique: 'Statement IDs (SID) in a single policy must be unique.',
} as const;

export const missingField = (field: string): string => `Missing required field ${field}`;
export const prohibitedField = (field: string): string => `Has prohibited field ${field}`;
export const unknownField = (field: string): string => `Unknown field ${field}`;
export const invalidEffect = (effect: string): string => `Invalid effect: ${effect}`;
export const invalidConditionType = (op: string): string => `Invalid Condition type : ${op}`;
export const iamResourceFormat = (r: string): string => `Resource ${r} must be in ARN format or "*".`;
