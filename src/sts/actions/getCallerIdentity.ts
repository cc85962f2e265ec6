// GetCallerIdentity: who the credentials are. No permission is needed, and none can refuse it.

import { principalOf } from '../../authz/authorize.js';
import type { StsHandler } from '../request.js';

export const getCallerIdentity: StsHandler = async (ctx) => {
  // The account root: its account id; an IAM user (or its GetSessionToken session): AIDA…;
  // a role session: AROA…:<session name>.
  const p = principalOf(ctx.identity);
  return { UserId: p.userId, Account: ctx.identity.accountId, Arn: p.arn };
};
