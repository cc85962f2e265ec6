// S3 Control's Get/Put/DeletePublicAccessBlock: the account's Block Public Access settings.
//   GET|PUT|DELETE /v20180820/configuration/publicAccessBlock   x-amz-account-id: <12 digits>
// The same document as a bucket's, in S3 Control's namespace. Authorisation has checked that the
// account named is the caller's (authz/requests.ts); what the settings do is enforced with each
// bucket's own (authz/bucketAccess.ts combines both, the most restrictive wins).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PutPublicAccessBlock.html

import { S3Error } from '../errors.js';
import type { Handler, S3Context } from '../handler.js';
import { PUBLIC_ACCESS_BLOCK_ROOT, PUBLIC_ACCESS_BLOCK_XML_LIMITS, parsePublicAccessBlock, renderPublicAccessBlock } from '../bucket/config/publicAccessBlock.js';

/** S3 Control's XML namespace. */
export const S3_CONTROL_NS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

function accountOf(ctx: S3Context): string {
  const id = ctx.headers['x-amz-account-id'];
  const s = Array.isArray(id) ? id[0] : id;
  if (s === undefined || !/^\d{12}$/.test(s)) throw new S3Error('InvalidRequest', 'x-amz-account-id must be a 12-digit account id.');
  return s;
}

export const putAccountPublicAccessBlock: Handler = async (ctx) => {
  const account = accountOf(ctx);
  const block = parsePublicAccessBlock(await ctx.readXml(PUBLIC_ACCESS_BLOCK_ROOT, PUBLIC_ACCESS_BLOCK_XML_LIMITS));
  await ctx.app.bucketAccess.putAccountPublicAccessBlock(account, block);
  return {};
};

export const getAccountPublicAccessBlock: Handler = async (ctx) => {
  const block = await ctx.app.accountPublicAccessBlocks.get(accountOf(ctx));
  if (!block) throw new S3Error('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found');
  return { xml: { ...renderPublicAccessBlock(block), namespace: S3_CONTROL_NS } };
};

export const deleteAccountPublicAccessBlock: Handler = async (ctx) => {
  await ctx.app.bucketAccess.putAccountPublicAccessBlock(accountOf(ctx), undefined);
  return { status: 204 };
};
