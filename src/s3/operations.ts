// Every S3 operation, in one table: how a request is recognised (method, addressed resource,
// sub-resource query parameters, discriminating headers), the IAM action it needs, and its handler.
// Operations without a handler answer 501 NotImplemented. No sub-resource is ever silently ignored:
// a request naming a known sub-resource never falls through to the plain bucket/object operation.

import type { IncomingHttpHeaders } from 'node:http';
import type { Handler, Query } from './handler.js';
import { listBuckets } from './service/ListBuckets.js';
import { createBucket } from './bucket/CreateBucket.js';
import { headBucket } from './bucket/HeadBucket.js';
import { deleteBucket } from './bucket/DeleteBucket.js';
import { getBucketLocation } from './bucket/GetBucketLocation.js';
import { listObjectsV1, listObjectsV2 } from './bucket/ListObjects.js';
import { putObject } from './object/PutObject.js';
import { postObject } from './object/PostObject.js';
import { getObject, headObject } from './object/GetObject.js';
import { deleteObject } from './object/DeleteObject.js';
import { deleteObjects } from './object/DeleteObjects.js';
import { restoreObject } from './object/RestoreObject.js';
import { listObjectVersions } from './bucket/ListObjectVersions.js';
import { getBucketVersioning, putBucketVersioning } from './bucket/versioning.js';
import { createMultipartUpload } from './multipart/CreateMultipartUpload.js';
import { uploadPart } from './multipart/UploadPart.js';
import { uploadPartCopy } from './multipart/UploadPartCopy.js';
import { completeMultipartUpload } from './multipart/CompleteMultipartUpload.js';
import { abortMultipartUpload } from './multipart/AbortMultipartUpload.js';
import { listParts } from './multipart/ListParts.js';
import { listMultipartUploads } from './multipart/ListMultipartUploads.js';
import { copyObject } from './object/CopyObject.js';
import { getObjectAttributes } from './object/GetObjectAttributes.js';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './object/tagging.js';
import { deleteBucketTagging, getBucketTagging, putBucketTagging } from './bucket/tagging.js';
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './bucket/encryption.js';
import { getObjectLockConfiguration, putObjectLockConfiguration } from './bucket/objectLock.js';
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './bucket/policy.js';
import { getObjectLegalHold, getObjectRetention, putObjectLegalHold, putObjectRetention } from './object/lock.js';
import { getBucketAcl, putBucketAcl } from './bucket/acl.js';
import { getObjectAcl, putObjectAcl } from './object/acl.js';
import { deleteBucketOwnershipControls, getBucketOwnershipControls, putBucketOwnershipControls } from './bucket/ownershipControls.js';
import { deleteBucketWebsite, getBucketWebsite, putBucketWebsite } from './bucket/website.js';
import { deleteBucketCors, getBucketCors, putBucketCors } from './bucket/cors.js';
import { deleteBucketReplication, getBucketReplication, putBucketReplication } from './bucket/replication.js';
import { deleteBucketLifecycle, getBucketLifecycle, putBucketLifecycle } from './bucket/lifecycle.js';
import { getBucketLogging, putBucketLogging } from './bucket/logging.js';
import { getBucketNotificationConfiguration, putBucketNotificationConfiguration } from './bucket/notification.js';
import { deletePublicAccessBlock, getPublicAccessBlock, putPublicAccessBlock } from './bucket/publicAccessBlock.js';
import { deleteAccountPublicAccessBlock, getAccountPublicAccessBlock, putAccountPublicAccessBlock } from './control/publicAccessBlock.js';

/**
 * What a request addresses: the service (/), a bucket, an object, or an account through the S3
 * Control API (/v20180820/…, with x-amz-account-id; http/control.ts tells those apart).
 */
export type Resource = 'service' | 'bucket' | 'object' | 'account';
export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS';

export interface OperationSpec {
  /** The S3 API name, e.g. "PutObject". */
  name: string;
  method: Method;
  resource: Resource;
  /** Query parameters that must be present (sub-resources). */
  sub?: readonly string[];
  /** S3 Control operations: the path after /v20180820/ (e.g. `configuration/publicAccessBlock`). */
  path?: string;
  /** A further test on the query or headers (e.g. `x-amz-copy-source` present). */
  when?: (q: Query, h: IncomingHttpHeaders) => boolean;
  /** IAM action checked by authorisation. */
  action: string;
  /**
   * How authorisation treats the operation beyond its action on its resource (authz/requests.ts):
   * 'new-bucket': the bucket does not exist yet, only the caller's own account decides;
   * 'per-object': the handler checks each object it touches (DeleteObjects);
   * 'form': a POST form says who asks (auth/post.ts) and what is written: the pipeline reads the
   * fields before the file, then authorises the write of the object the form names (PostObject).
   */
  authorizes?: 'new-bucket' | 'per-object' | 'form';
  /**
   * Writes new data or metadata: refused up front (507 InsufficientStorage) while the disk is
   * full. Deletes and reads never are, so space can always be freed through S3.
   */
  consumesSpace?: true;
  /**
   * Only the bucket owner's account may, whatever a policy or ACL grants others ("To set the
   * logging status of a bucket, you must be the bucket owner", PutBucketLogging).
   */
  ownerAccountOnly?: true;
  handler?: Handler;
}

const copySource = (_q: Query, h: IncomingHttpHeaders) => h['x-amz-copy-source'] !== undefined;
const notCopySource = (q: Query, h: IncomingHttpHeaders) => !copySource(q, h);
const hasId = (q: Query) => q.has('id');
const noId = (q: Query) => !q.has('id');

// Order matters only among entries of the same method and resource: more specific first.
export const OPERATIONS: readonly OperationSpec[] = [
  // ---- service
  { name: 'ListBuckets', method: 'GET', resource: 'service', action: 's3:ListAllMyBuckets', handler: listBuckets },

  // ---- bucket: GET
  { name: 'ListObjectsV2', method: 'GET', resource: 'bucket', sub: ['list-type'], when: (q) => q.get('list-type') === '2', action: 's3:ListBucket', handler: listObjectsV2 },
  { name: 'ListObjectVersions', method: 'GET', resource: 'bucket', sub: ['versions'], action: 's3:ListBucketVersions', handler: listObjectVersions },
  { name: 'ListMultipartUploads', method: 'GET', resource: 'bucket', sub: ['uploads'], action: 's3:ListBucketMultipartUploads', handler: listMultipartUploads },
  { name: 'GetBucketLocation', method: 'GET', resource: 'bucket', sub: ['location'], action: 's3:GetBucketLocation', handler: getBucketLocation },
  { name: 'GetBucketAcl', method: 'GET', resource: 'bucket', sub: ['acl'], action: 's3:GetBucketAcl', handler: getBucketAcl },
  { name: 'GetBucketCors', method: 'GET', resource: 'bucket', sub: ['cors'], action: 's3:GetBucketCORS', handler: getBucketCors },
  { name: 'GetBucketEncryption', method: 'GET', resource: 'bucket', sub: ['encryption'], action: 's3:GetEncryptionConfiguration', handler: getBucketEncryption },
  { name: 'GetBucketIntelligentTieringConfiguration', method: 'GET', resource: 'bucket', sub: ['intelligent-tiering'], when: hasId, action: 's3:GetIntelligentTieringConfiguration' },
  { name: 'ListBucketIntelligentTieringConfigurations', method: 'GET', resource: 'bucket', sub: ['intelligent-tiering'], when: noId, action: 's3:GetIntelligentTieringConfiguration' },
  { name: 'GetBucketInventoryConfiguration', method: 'GET', resource: 'bucket', sub: ['inventory'], when: hasId, action: 's3:GetInventoryConfiguration' },
  { name: 'ListBucketInventoryConfigurations', method: 'GET', resource: 'bucket', sub: ['inventory'], when: noId, action: 's3:GetInventoryConfiguration' },
  { name: 'GetBucketAnalyticsConfiguration', method: 'GET', resource: 'bucket', sub: ['analytics'], when: hasId, action: 's3:GetAnalyticsConfiguration' },
  { name: 'ListBucketAnalyticsConfigurations', method: 'GET', resource: 'bucket', sub: ['analytics'], when: noId, action: 's3:GetAnalyticsConfiguration' },
  { name: 'GetBucketMetricsConfiguration', method: 'GET', resource: 'bucket', sub: ['metrics'], when: hasId, action: 's3:GetMetricsConfiguration' },
  { name: 'ListBucketMetricsConfigurations', method: 'GET', resource: 'bucket', sub: ['metrics'], when: noId, action: 's3:GetMetricsConfiguration' },
  { name: 'GetBucketLifecycleConfiguration', method: 'GET', resource: 'bucket', sub: ['lifecycle'], action: 's3:GetLifecycleConfiguration', handler: getBucketLifecycle },
  { name: 'GetBucketLogging', method: 'GET', resource: 'bucket', sub: ['logging'], action: 's3:GetBucketLogging', handler: getBucketLogging },
  { name: 'GetBucketNotificationConfiguration', method: 'GET', resource: 'bucket', sub: ['notification'], action: 's3:GetBucketNotification', handler: getBucketNotificationConfiguration },
  { name: 'GetBucketOwnershipControls', method: 'GET', resource: 'bucket', sub: ['ownershipControls'], action: 's3:GetBucketOwnershipControls', handler: getBucketOwnershipControls },
  { name: 'GetBucketPolicy', method: 'GET', resource: 'bucket', sub: ['policy'], action: 's3:GetBucketPolicy', handler: getBucketPolicy },
  { name: 'GetBucketPolicyStatus', method: 'GET', resource: 'bucket', sub: ['policyStatus'], action: 's3:GetBucketPolicyStatus', handler: getBucketPolicyStatus },
  { name: 'GetBucketReplication', method: 'GET', resource: 'bucket', sub: ['replication'], action: 's3:GetReplicationConfiguration', handler: getBucketReplication },
  { name: 'GetBucketRequestPayment', method: 'GET', resource: 'bucket', sub: ['requestPayment'], action: 's3:GetBucketRequestPayment' },
  { name: 'GetBucketTagging', method: 'GET', resource: 'bucket', sub: ['tagging'], action: 's3:GetBucketTagging', handler: getBucketTagging },
  { name: 'GetBucketVersioning', method: 'GET', resource: 'bucket', sub: ['versioning'], action: 's3:GetBucketVersioning', handler: getBucketVersioning },
  { name: 'GetBucketWebsite', method: 'GET', resource: 'bucket', sub: ['website'], action: 's3:GetBucketWebsite', handler: getBucketWebsite },
  { name: 'GetObjectLockConfiguration', method: 'GET', resource: 'bucket', sub: ['object-lock'], action: 's3:GetBucketObjectLockConfiguration', handler: getObjectLockConfiguration },
  { name: 'GetPublicAccessBlock', method: 'GET', resource: 'bucket', sub: ['publicAccessBlock'], action: 's3:GetBucketPublicAccessBlock', handler: getPublicAccessBlock },
  { name: 'GetBucketAccelerateConfiguration', method: 'GET', resource: 'bucket', sub: ['accelerate'], action: 's3:GetAccelerateConfiguration' },
  { name: 'GetBucketMetadataTableConfiguration', method: 'GET', resource: 'bucket', sub: ['metadataTable'], action: 's3:GetBucketMetadataTableConfiguration' },
  { name: 'GetBucketMetadataConfiguration', method: 'GET', resource: 'bucket', sub: ['metadataConfiguration'], action: 's3:GetBucketMetadataTableConfiguration' },
  { name: 'GetBucketAbac', method: 'GET', resource: 'bucket', sub: ['abac'], action: 's3:GetBucketAbac' },
  { name: 'CreateSession', method: 'GET', resource: 'bucket', sub: ['session'], action: 's3express:CreateSession' },
  { name: 'ListObjects', method: 'GET', resource: 'bucket', action: 's3:ListBucket', handler: listObjectsV1 },

  // ---- bucket: HEAD
  { name: 'HeadBucket', method: 'HEAD', resource: 'bucket', action: 's3:ListBucket', handler: headBucket },

  // ---- bucket: PUT
  { name: 'PutBucketAcl', method: 'PUT', resource: 'bucket', sub: ['acl'], action: 's3:PutBucketAcl', consumesSpace: true, handler: putBucketAcl },
  { name: 'PutBucketCors', method: 'PUT', resource: 'bucket', sub: ['cors'], action: 's3:PutBucketCORS', consumesSpace: true, handler: putBucketCors },
  { name: 'PutBucketEncryption', method: 'PUT', resource: 'bucket', sub: ['encryption'], action: 's3:PutEncryptionConfiguration', consumesSpace: true, handler: putBucketEncryption },
  { name: 'PutBucketIntelligentTieringConfiguration', method: 'PUT', resource: 'bucket', sub: ['intelligent-tiering'], action: 's3:PutIntelligentTieringConfiguration', consumesSpace: true },
  { name: 'PutBucketInventoryConfiguration', method: 'PUT', resource: 'bucket', sub: ['inventory'], action: 's3:PutInventoryConfiguration', consumesSpace: true },
  { name: 'PutBucketAnalyticsConfiguration', method: 'PUT', resource: 'bucket', sub: ['analytics'], action: 's3:PutAnalyticsConfiguration', consumesSpace: true },
  { name: 'PutBucketMetricsConfiguration', method: 'PUT', resource: 'bucket', sub: ['metrics'], action: 's3:PutMetricsConfiguration', consumesSpace: true },
  { name: 'PutBucketLifecycleConfiguration', method: 'PUT', resource: 'bucket', sub: ['lifecycle'], action: 's3:PutLifecycleConfiguration', consumesSpace: true, handler: putBucketLifecycle },
  { name: 'PutBucketLogging', method: 'PUT', resource: 'bucket', sub: ['logging'], action: 's3:PutBucketLogging', ownerAccountOnly: true, consumesSpace: true, handler: putBucketLogging },
  { name: 'PutBucketNotificationConfiguration', method: 'PUT', resource: 'bucket', sub: ['notification'], action: 's3:PutBucketNotification', consumesSpace: true, handler: putBucketNotificationConfiguration },
  { name: 'PutBucketOwnershipControls', method: 'PUT', resource: 'bucket', sub: ['ownershipControls'], action: 's3:PutBucketOwnershipControls', consumesSpace: true, handler: putBucketOwnershipControls },
  { name: 'PutBucketPolicy', method: 'PUT', resource: 'bucket', sub: ['policy'], action: 's3:PutBucketPolicy', consumesSpace: true, handler: putBucketPolicy },
  { name: 'PutBucketReplication', method: 'PUT', resource: 'bucket', sub: ['replication'], action: 's3:PutReplicationConfiguration', consumesSpace: true, handler: putBucketReplication },
  { name: 'PutBucketRequestPayment', method: 'PUT', resource: 'bucket', sub: ['requestPayment'], action: 's3:PutBucketRequestPayment', consumesSpace: true },
  { name: 'PutBucketTagging', method: 'PUT', resource: 'bucket', sub: ['tagging'], action: 's3:PutBucketTagging', consumesSpace: true, handler: putBucketTagging },
  { name: 'PutBucketVersioning', method: 'PUT', resource: 'bucket', sub: ['versioning'], action: 's3:PutBucketVersioning', consumesSpace: true, handler: putBucketVersioning },
  { name: 'PutBucketWebsite', method: 'PUT', resource: 'bucket', sub: ['website'], action: 's3:PutBucketWebsite', consumesSpace: true, handler: putBucketWebsite },
  { name: 'PutObjectLockConfiguration', method: 'PUT', resource: 'bucket', sub: ['object-lock'], action: 's3:PutBucketObjectLockConfiguration', consumesSpace: true, handler: putObjectLockConfiguration },
  { name: 'PutPublicAccessBlock', method: 'PUT', resource: 'bucket', sub: ['publicAccessBlock'], action: 's3:PutBucketPublicAccessBlock', consumesSpace: true, handler: putPublicAccessBlock },
  { name: 'PutBucketAccelerateConfiguration', method: 'PUT', resource: 'bucket', sub: ['accelerate'], action: 's3:PutAccelerateConfiguration', consumesSpace: true },
  { name: 'PutBucketAbac', method: 'PUT', resource: 'bucket', sub: ['abac'], action: 's3:PutBucketAbac', consumesSpace: true },
  { name: 'UpdateBucketMetadataInventoryTableConfiguration', method: 'PUT', resource: 'bucket', sub: ['metadataInventoryTable'], action: 's3:UpdateBucketMetadataInventoryTableConfiguration', consumesSpace: true },
  { name: 'UpdateBucketMetadataJournalTableConfiguration', method: 'PUT', resource: 'bucket', sub: ['metadataJournalTable'], action: 's3:UpdateBucketMetadataJournalTableConfiguration', consumesSpace: true },
  { name: 'CreateBucket', method: 'PUT', resource: 'bucket', action: 's3:CreateBucket', authorizes: 'new-bucket', consumesSpace: true, handler: createBucket },

  // ---- bucket: DELETE
  { name: 'DeleteBucketCors', method: 'DELETE', resource: 'bucket', sub: ['cors'], action: 's3:PutBucketCORS', handler: deleteBucketCors },
  { name: 'DeleteBucketEncryption', method: 'DELETE', resource: 'bucket', sub: ['encryption'], action: 's3:PutEncryptionConfiguration', handler: deleteBucketEncryption },
  { name: 'DeleteBucketIntelligentTieringConfiguration', method: 'DELETE', resource: 'bucket', sub: ['intelligent-tiering'], action: 's3:PutIntelligentTieringConfiguration' },
  { name: 'DeleteBucketInventoryConfiguration', method: 'DELETE', resource: 'bucket', sub: ['inventory'], action: 's3:PutInventoryConfiguration' },
  { name: 'DeleteBucketAnalyticsConfiguration', method: 'DELETE', resource: 'bucket', sub: ['analytics'], action: 's3:PutAnalyticsConfiguration' },
  { name: 'DeleteBucketMetricsConfiguration', method: 'DELETE', resource: 'bucket', sub: ['metrics'], action: 's3:PutMetricsConfiguration' },
  { name: 'DeleteBucketLifecycle', method: 'DELETE', resource: 'bucket', sub: ['lifecycle'], action: 's3:PutLifecycleConfiguration', handler: deleteBucketLifecycle },
  { name: 'DeleteBucketOwnershipControls', method: 'DELETE', resource: 'bucket', sub: ['ownershipControls'], action: 's3:PutBucketOwnershipControls', handler: deleteBucketOwnershipControls },
  { name: 'DeleteBucketPolicy', method: 'DELETE', resource: 'bucket', sub: ['policy'], action: 's3:DeleteBucketPolicy', handler: deleteBucketPolicy },
  { name: 'DeleteBucketReplication', method: 'DELETE', resource: 'bucket', sub: ['replication'], action: 's3:PutReplicationConfiguration', handler: deleteBucketReplication },
  { name: 'DeleteBucketTagging', method: 'DELETE', resource: 'bucket', sub: ['tagging'], action: 's3:PutBucketTagging', handler: deleteBucketTagging },
  { name: 'DeleteBucketWebsite', method: 'DELETE', resource: 'bucket', sub: ['website'], action: 's3:DeleteBucketWebsite', handler: deleteBucketWebsite },
  { name: 'DeletePublicAccessBlock', method: 'DELETE', resource: 'bucket', sub: ['publicAccessBlock'], action: 's3:PutBucketPublicAccessBlock', handler: deletePublicAccessBlock },
  { name: 'DeleteBucketMetadataTableConfiguration', method: 'DELETE', resource: 'bucket', sub: ['metadataTable'], action: 's3:DeleteBucketMetadataTableConfiguration' },
  { name: 'DeleteBucketMetadataConfiguration', method: 'DELETE', resource: 'bucket', sub: ['metadataConfiguration'], action: 's3:DeleteBucketMetadataTableConfiguration' },
  { name: 'DeleteBucket', method: 'DELETE', resource: 'bucket', action: 's3:DeleteBucket', handler: deleteBucket },

  // ---- bucket: POST
  { name: 'DeleteObjects', method: 'POST', resource: 'bucket', sub: ['delete'], action: 's3:DeleteObject', authorizes: 'per-object', handler: deleteObjects },
  { name: 'CreateBucketMetadataTableConfiguration', method: 'POST', resource: 'bucket', sub: ['metadataTable'], action: 's3:CreateBucketMetadataTableConfiguration', consumesSpace: true },
  { name: 'CreateBucketMetadataConfiguration', method: 'POST', resource: 'bucket', sub: ['metadataConfiguration'], action: 's3:CreateBucketMetadataTableConfiguration', consumesSpace: true },
  { name: 'PostObject', method: 'POST', resource: 'bucket', action: 's3:PutObject', authorizes: 'form', consumesSpace: true, handler: postObject },

  // ---- object: GET / HEAD
  { name: 'ListParts', method: 'GET', resource: 'object', sub: ['uploadId'], action: 's3:ListMultipartUploadParts', handler: listParts },
  { name: 'GetObjectAcl', method: 'GET', resource: 'object', sub: ['acl'], action: 's3:GetObjectAcl', handler: getObjectAcl },
  { name: 'GetObjectTagging', method: 'GET', resource: 'object', sub: ['tagging'], action: 's3:GetObjectTagging', handler: getObjectTagging },
  { name: 'GetObjectRetention', method: 'GET', resource: 'object', sub: ['retention'], action: 's3:GetObjectRetention', handler: getObjectRetention },
  { name: 'GetObjectLegalHold', method: 'GET', resource: 'object', sub: ['legal-hold'], action: 's3:GetObjectLegalHold', handler: getObjectLegalHold },
  { name: 'GetObjectAttributes', method: 'GET', resource: 'object', sub: ['attributes'], action: 's3:GetObjectAttributes', handler: getObjectAttributes },
  { name: 'GetObjectTorrent', method: 'GET', resource: 'object', sub: ['torrent'], action: 's3:GetObjectTorrent' },
  { name: 'GetObject', method: 'GET', resource: 'object', action: 's3:GetObject', handler: getObject },
  { name: 'HeadObject', method: 'HEAD', resource: 'object', action: 's3:GetObject', handler: headObject },

  // ---- object: PUT
  { name: 'UploadPartCopy', method: 'PUT', resource: 'object', sub: ['partNumber', 'uploadId'], when: copySource, action: 's3:PutObject', consumesSpace: true, handler: uploadPartCopy },
  { name: 'UploadPart', method: 'PUT', resource: 'object', sub: ['partNumber', 'uploadId'], when: notCopySource, action: 's3:PutObject', consumesSpace: true, handler: uploadPart },
  { name: 'PutObjectAcl', method: 'PUT', resource: 'object', sub: ['acl'], action: 's3:PutObjectAcl', consumesSpace: true, handler: putObjectAcl },
  { name: 'PutObjectTagging', method: 'PUT', resource: 'object', sub: ['tagging'], action: 's3:PutObjectTagging', consumesSpace: true, handler: putObjectTagging },
  { name: 'PutObjectRetention', method: 'PUT', resource: 'object', sub: ['retention'], action: 's3:PutObjectRetention', consumesSpace: true, handler: putObjectRetention },
  { name: 'PutObjectLegalHold', method: 'PUT', resource: 'object', sub: ['legal-hold'], action: 's3:PutObjectLegalHold', consumesSpace: true, handler: putObjectLegalHold },
  { name: 'RenameObject', method: 'PUT', resource: 'object', sub: ['renameObject'], action: 's3express:RenameObject' },
  { name: 'CopyObject', method: 'PUT', resource: 'object', when: copySource, action: 's3:PutObject', consumesSpace: true, handler: copyObject },
  { name: 'PutObject', method: 'PUT', resource: 'object', action: 's3:PutObject', consumesSpace: true, handler: putObject },

  // ---- object: POST
  { name: 'CreateMultipartUpload', method: 'POST', resource: 'object', sub: ['uploads'], action: 's3:PutObject', consumesSpace: true, handler: createMultipartUpload },
  { name: 'CompleteMultipartUpload', method: 'POST', resource: 'object', sub: ['uploadId'], action: 's3:PutObject', consumesSpace: true, handler: completeMultipartUpload },
  { name: 'RestoreObject', method: 'POST', resource: 'object', sub: ['restore'], action: 's3:RestoreObject', consumesSpace: true, handler: restoreObject },
  { name: 'SelectObjectContent', method: 'POST', resource: 'object', sub: ['select'], action: 's3:GetObject' },

  // ---- object: DELETE
  { name: 'AbortMultipartUpload', method: 'DELETE', resource: 'object', sub: ['uploadId'], action: 's3:AbortMultipartUpload', handler: abortMultipartUpload },
  { name: 'DeleteObjectTagging', method: 'DELETE', resource: 'object', sub: ['tagging'], action: 's3:DeleteObjectTagging', handler: deleteObjectTagging },
  { name: 'DeleteObject', method: 'DELETE', resource: 'object', action: 's3:DeleteObject', handler: deleteObject },

  // ---- S3 Control (the account's configuration), signed for s3 like the rest: only the account-level
  // Block Public Access is implemented; other S3 Control paths answer NotImplemented (http/server.ts).
  // In the S3 Control API these are GetPublicAccessBlock, PutPublicAccessBlock, DeletePublicAccessBlock.
  { name: 'GetAccountPublicAccessBlock', method: 'GET', resource: 'account', path: 'configuration/publicAccessBlock', action: 's3:GetAccountPublicAccessBlock', handler: getAccountPublicAccessBlock },
  { name: 'PutAccountPublicAccessBlock', method: 'PUT', resource: 'account', path: 'configuration/publicAccessBlock', action: 's3:PutAccountPublicAccessBlock', consumesSpace: true, handler: putAccountPublicAccessBlock },
  { name: 'DeleteAccountPublicAccessBlock', method: 'DELETE', resource: 'account', path: 'configuration/publicAccessBlock', action: 's3:PutAccountPublicAccessBlock', handler: deleteAccountPublicAccessBlock },

  // ---- CORS preflight, on buckets and objects: anonymous, answered by http/cors.ts before
  // authentication (listed here so the surface stays visible in one place)
  { name: 'PreflightCORS', method: 'OPTIONS', resource: 'bucket', action: '' },
  { name: 'PreflightCORS', method: 'OPTIONS', resource: 'object', action: '' },
];

/** Every query parameter that names a sub-resource somewhere in the table. */
export const SUBRESOURCES: ReadonlySet<string> = new Set(OPERATIONS.flatMap((o) => o.sub ?? []));

/**
 * Finds the operation for a request, or undefined when the method is not an S3 method for this
 * resource. Among entries of the method/resource, the first whose required sub-resources are all
 * present (and whose `when` holds) wins; an entry with no sub-resources (the plain operation)
 * matches only when the request names no known sub-resource at all.
 */
export function resolveOperation(method: string, resource: Resource, query: Query, headers: IncomingHttpHeaders, controlPath?: string): OperationSpec | undefined {
  const m = method === 'HEAD' && resource === 'service' ? 'GET' : method;
  let namesSub: boolean | undefined;
  for (const op of OPERATIONS) {
    if (op.method !== m || op.resource !== resource) continue;
    if (op.path !== undefined && op.path !== controlPath) continue;
    if (op.sub) {
      if (!op.sub.every((s) => query.has(s))) continue;
    } else {
      namesSub ??= [...query.keys()].some((k) => SUBRESOURCES.has(k) && !PLAIN_PARAMS[resource].has(k));
      if (namesSub) continue;
    }
    if (op.when && !op.when(query, headers)) continue;
    return op;
  }
  return undefined;
}

/** Parameters that are sub-resources elsewhere but ordinary parameters of the plain operation. */
const PLAIN_PARAMS: Record<Resource, ReadonlySet<string>> = {
  service: new Set(),
  bucket: new Set(['list-type']),
  // GetObject?partNumber=N is a plain GetObject, as is HEAD with partNumber.
  object: new Set(['partNumber']),
  account: new Set(),
};
