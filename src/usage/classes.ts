// Operation classes, as object stores bill requests, derived from the S3 operation table
// (s3/operations.ts) rather than kept as a second list:
//
//   free  DELETE requests (DeleteObject, DeleteBucket*, AbortMultipartUpload…) and the
//         multi-object delete (POST ?delete, whose action is s3:DeleteObject)
//   A     writes and listings: every other PUT and POST (PutObject, CopyObject, UploadPart,
//         CreateMultipartUpload, CompleteMultipartUpload, PostObject, Put*Configuration…), and
//         GETs whose action lists (s3:List*: ListBuckets, ListObjects(V2), ListObjectVersions,
//         ListMultipartUploads, ListParts)
//   B     reads and everything else: GET and HEAD (GetObject, HeadObject, HeadBucket,
//         Get*Configuration…), SelectObjectContent (a POST whose action is s3:GetObject), CORS
//         preflights
//
// This is AWS S3's split ("PUT, COPY, POST, LIST" / "GET, SELECT and all other requests" /
// "DELETE and CANCEL are free"), which Cloudflare R2 and others follow as class A / class B.

import { OPERATIONS, type OperationSpec } from '../s3/operations.js';

export type OperationClass = 'A' | 'B' | 'free';
export const OPERATION_CLASSES: readonly OperationClass[] = ['A', 'B', 'free'];

/** The class of an operation, from its method and IAM action. */
export function operationClass(op: Pick<OperationSpec, 'method' | 'action'>): OperationClass {
  if (op.method === 'DELETE') return 'free';
  if (op.action === 's3:DeleteObject') return 'free';
  if (op.action === 's3:GetObject') return 'B';
  if (op.method === 'PUT' || op.method === 'POST') return 'A';
  if (op.method === 'GET' && op.action.startsWith('s3:List')) return 'A';
  return 'B';
}

/** Every operation of the table by name, with its class (PreflightCORS appears twice, as B). */
export const CLASS_OF: ReadonlyMap<string, OperationClass> = new Map(OPERATIONS.map((op) => [op.name, operationClass(op)]));
