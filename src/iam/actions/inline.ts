// Inline policies of users, groups and roles: Put/Get/Delete/List{User,Group,Role}Policy(ies).
// One set of handlers, made for each kind of owner.

import type { IamEntityKind } from '../../store/meta/types.js';
import { INLINE_LIMITS, checkDocument, identitySize } from '../documents.js';
import { IamError } from '../errors.js';
import { nameParam, namedEntity, type IamHandler } from '../request.js';
import { encodeDocument, members, page } from '../shapes.js';

export interface InlineHandlers {
  put: IamHandler;
  get: IamHandler;
  delete: IamHandler;
  list: IamHandler;
}

export function inlinePolicyHandlers(kind: IamEntityKind): InlineHandlers {
  const ownerParam = nameParam(kind);
  const limit = INLINE_LIMITS[kind];

  const put: IamHandler = async (ctx) => {
    const owner = await namedEntity(ctx, kind);
    const name = ctx.params.required('PolicyName');
    const doc = ctx.params.required('PolicyDocument');
    const tooLarge = `Maximum policy size of ${limit} bytes exceeded for ${kind} ${owner.name}`;
    checkDocument(doc, 'identity', limit, tooLarge);
    // The limit is on all of the owner's inline policies together (the one replaced excepted).
    let total = identitySize(doc);
    let after: string | undefined;
    for (;;) {
      const batch = await ctx.iam.store.listInlinePolicies(owner.id, { after, limit: 100 });
      for (const p of batch) if (p.name !== name) total += identitySize(p.document);
      if (batch.length < 100) break;
      after = batch[batch.length - 1]!.name;
    }
    if (total > limit) throw new IamError('LimitExceeded', tooLarge);
    await ctx.iam.store.putInlinePolicy({ kind, id: owner.id }, name, doc);
    return undefined;
  };

  const get: IamHandler = async (ctx) => {
    const owner = await namedEntity(ctx, kind);
    const name = ctx.params.required('PolicyName');
    const doc = await ctx.iam.store.getInlinePolicy(owner.id, name);
    if (doc === undefined) throw new IamError('NoSuchEntity', `The ${kind} policy with name ${name} cannot be found.`);
    return { [ownerParam]: owner.name, PolicyName: name, PolicyDocument: encodeDocument(doc) };
  };

  const del: IamHandler = async (ctx) => {
    const owner = await namedEntity(ctx, kind);
    const name = ctx.params.required('PolicyName');
    if ((await ctx.iam.store.getInlinePolicy(owner.id, name)) === undefined) throw new IamError('NoSuchEntity', `The ${kind} policy with name ${name} cannot be found.`);
    await ctx.iam.store.deleteInlinePolicy(owner.id, name);
    return undefined;
  };

  const list: IamHandler = async (ctx) => {
    const owner = await namedEntity(ctx, kind);
    const { after, maxItems } = ctx.params.page();
    const rows = await ctx.iam.store.listInlinePolicies(owner.id, { after, limit: maxItems + 1 });
    const p = page(rows, maxItems, (r) => r.name);
    return { PolicyNames: members(p.items.map((r) => r.name)), IsTruncated: p.IsTruncated, Marker: p.Marker };
  };

  return { put, get, delete: del, list };
}
