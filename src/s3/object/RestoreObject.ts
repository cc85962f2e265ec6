// RestoreObject: POST /<bucket>/<key>?restore[&versionId=V]
//   <RestoreRequest><Days>n</Days><GlacierJobParameters><Tier>Standard</Tier></GlacierJobParameters></RestoreRequest>
// A version in an archive tier gets a temporary local copy for `Days` (tiering/work.ts makes it):
// 202 when a restore starts, 200 when the version is restored already (its expiry moves),
// 409 RestoreAlreadyInProgress while one runs. SELECT requests and OutputLocation are not
// implemented.

import { S3Error } from '../errors.js';
import type { Handler } from '../handler.js';
import { children, childText } from '../xml.js';
import { loadVersion } from './GetObject.js';
import { requestRestore } from '../../tiering/restore.js';
import { eventRequest } from '../bucket/notification.js';

const TIERS = new Set(['Standard', 'Bulk', 'Expedited']);

export const restoreObject: Handler = async (ctx) => {
  const doc = await ctx.readXml('RestoreRequest', { maxBytes: 64 * 1024 });
  if (childText(doc, 'Type') !== undefined || children(doc, 'SelectParameters').length || children(doc, 'OutputLocation').length) {
    throw new S3Error('NotImplemented', 'RestoreObject with SELECT or an output location is not implemented by this server.');
  }
  const daysText = childText(doc, 'Days');
  const params = children(doc, 'GlacierJobParameters');
  if (params.length > 1) throw new S3Error('MalformedXML');
  const tier = params.length ? childText(params[0], 'Tier') : childText(doc, 'Tier');
  if (tier !== undefined && !TIERS.has(tier)) throw new S3Error('MalformedXML');
  const v = await loadVersion(ctx);
  if (!v.tier?.archive) throw new S3Error('InvalidObjectState', "Restore is not allowed for the object's current storage class", { StorageClass: v.storageClass });
  if (daysText === undefined) throw new S3Error('MalformedXML', 'Days is required to restore an archived object');
  if (!/^\d{1,9}$/.test(daysText.trim()) || Number(daysText) < 1) throw new S3Error('InvalidArgument', 'Days must be a positive integer', { ArgumentName: 'Days', ArgumentValue: daysText });
  const outcome = await requestRestore(ctx.app, v, Number(daysText), eventRequest(ctx));
  if (outcome === 'in-progress') throw new S3Error('RestoreAlreadyInProgress');
  if (outcome === 'started') ctx.app.engine.kick('restore');
  const headers: Record<string, string> = {};
  if (v.versionId !== 'null') headers['x-amz-version-id'] = v.versionId;
  return { status: outcome === 'started' ? 202 : 200, headers };
};
