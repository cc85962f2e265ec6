// AWS managed policies (arn:aws:iam::aws:policy/…): a built-in, read-only set every account can
// attach to its users, groups and roles, list (ListPolicies Scope=AWS or All) and read (GetPolicy,
// GetPolicyVersion, ListPolicyVersions), but not change or delete — they belong to AWS's account,
// so such requests are refused as cross-account (AccessDenied), as AWS refuses them.
//
// Each keeps AWS's name, id, description and dates, and the document of its current default
// version, which is the only version served. ReadOnlyAccess is the exception: AWS's document lists
// read actions of every AWS service; this one keeps the statements for the services this server
// has (S3, IAM, STS).

import type { IamManagedPolicy, IamPolicyVersion } from '../store/meta/types.js';

export interface AwsManagedPolicy {
  /** attachmentCount is per account: see IamStore.countPolicyAttachments. */
  readonly policy: Omit<IamManagedPolicy, 'attachmentCount'>;
  readonly version: IamPolicyVersion;
}

function managed(name: string, id: string, description: string, created: string, versionId: string, updated: string, actions: string | string[]): AwsManagedPolicy {
  const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }, null, 4);
  const createdAt = Date.parse(created);
  const updatedAt = Date.parse(updated);
  return {
    policy: { accountId: 'aws', id, name, path: '/', createdAt, updatedAt, description, defaultVersionId: versionId },
    version: { versionId, document, isDefault: true, createdAt: updatedAt },
  };
}

export const AWS_MANAGED_POLICIES: readonly AwsManagedPolicy[] = [
  managed('AdministratorAccess', 'ANPAIWMBCKSKIEE64ZLYK', 'Provides full access to AWS services and resources.', '2015-02-06T18:39:46Z', 'v1', '2015-02-06T18:39:46Z', '*'),
  managed('AmazonS3FullAccess', 'ANPAIFIR6V6BVTRAHWINE', 'Provides full access to all buckets via the AWS Management Console.', '2015-02-06T18:40:58Z', 'v2', '2021-09-27T20:16:37Z', [
    's3:*',
    's3-object-lambda:*',
  ]),
  managed('AmazonS3ReadOnlyAccess', 'ANPAIZTJ4DXE7G6AGAE6M', 'Provides read only access to all buckets via the AWS Management Console.', '2015-02-06T18:40:59Z', 'v3', '2023-08-10T21:31:39Z', [
    's3:Get*',
    's3:List*',
    's3:Describe*',
    's3-object-lambda:Get*',
    's3-object-lambda:List*',
  ]),
  managed('IAMFullAccess', 'ANPAI7XKCFMBPM3QQRRVQ', 'Provides full access to IAM via the AWS Management Console.', '2015-02-06T18:40:38Z', 'v2', '2019-06-21T19:40:00Z', [
    'iam:*',
    'organizations:DescribeAccount',
    'organizations:DescribeOrganization',
    'organizations:DescribeOrganizationalUnit',
    'organizations:DescribePolicy',
    'organizations:ListChildren',
    'organizations:ListParents',
    'organizations:ListPoliciesForTarget',
    'organizations:ListRoots',
    'organizations:ListPolicies',
    'organizations:ListTargetsForPolicy',
  ]),
  managed('IAMReadOnlyAccess', 'ANPAJKSO7NDY4T57MWDSQ', 'Provides read only access to IAM via the AWS Management Console.', '2015-02-06T18:40:39Z', 'v4', '2018-01-25T19:11:27Z', [
    'iam:GenerateCredentialReport',
    'iam:GenerateServiceLastAccessedDetails',
    'iam:Get*',
    'iam:List*',
    'iam:SimulateCustomPolicy',
    'iam:SimulatePrincipalPolicy',
  ]),
  // The S3, IAM and STS statements of AWS's document (which covers every AWS service).
  managed('ReadOnlyAccess', 'ANPAILL3HVNFSB6DCOWYQ', 'Provides read-only access to AWS services and resources.', '2015-02-06T18:39:48Z', 'v1', '2015-02-06T18:39:48Z', [
    'iam:Generate*',
    'iam:Get*',
    'iam:List*',
    'iam:Simulate*',
    's3:DescribeJob',
    's3:Get*',
    's3:List*',
    'sts:GetAccessKeyInfo',
    'sts:GetCallerIdentity',
    'sts:GetSessionToken',
  ]),
].sort((a, b) => cmpName(a.policy.name, b.policy.name));

const BY_NAME = new Map(AWS_MANAGED_POLICIES.map((p) => [p.policy.name.toLowerCase(), p]));
const BY_ID = new Map(AWS_MANAGED_POLICIES.map((p) => [p.policy.id, p]));

/** Names compare as the store orders them: ASCII case folded. */
export function cmpName(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The AWS managed policy of that name (any case, as IAM names go) and path. */
export function awsManagedPolicy(name: string, path = '/'): AwsManagedPolicy | undefined {
  const p = BY_NAME.get(name.toLowerCase());
  return p && p.policy.path === path ? p : undefined;
}

export function awsManagedPolicyById(id: string): AwsManagedPolicy | undefined {
  return BY_ID.get(id);
}

/** The document in force of the AWS managed policy with that id (for evaluating attachments). */
export function awsManagedDocument(id: string): string | undefined {
  return BY_ID.get(id)?.version.document;
}
