// PutBucketVersioning: PUT /<bucket>?versioning   <VersioningConfiguration><Status/><MfaDelete/>
// GetBucketVersioning: GET /<bucket>?versioning

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { bucketOf } from '../handler.js';
import { childText, type XmlNode } from '../xml.js';

export const putBucketVersioning: Handler = async (ctx) => {
  const bucket = bucketOf(ctx);
  const doc = await ctx.readXml('VersioningConfiguration', { maxBytes: 64 * 1024 });
  const status = childText(doc, 'Status');
  const mfa = childText(doc, 'MfaDelete');
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  if (mfa !== undefined && mfa !== 'Enabled' && mfa !== 'Disabled') throw new S3Error('MalformedXML');
  if (mfa === 'Enabled') throw new S3Error('NotImplemented', 'MFA delete is not implemented by this server.');
  if (status === undefined) {
    if (mfa === undefined) throw new S3Error('IllegalVersioningConfigurationException');
    return {};
  }
  if (bucket.objectLock && status === 'Suspended') {
    throw new S3Error('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
  }
  // S3 keeps a replicating bucket versioned (replication follows versions).
  if (status === 'Suspended' && (await ctx.app.replication.configs.get(bucket))) {
    throw new S3Error('InvalidBucketState', 'A replication configuration is present on this bucket, so the versioning state cannot be changed.');
  }
  await ctx.app.meta.setVersioning(bucket.id, status);
  return {};
};

export const getBucketVersioning: Handler = async (ctx) => {
  const state = bucketOf(ctx).versioning;
  const body: XmlNode = {};
  if (state !== 'Unversioned') body.Status = state;
  return { xml: { root: 'VersioningConfiguration', body } };
};
