// IAM behaviours clients rely on beyond the basics of iam.test.ts, each as AWS documents it:
// parameters validated before anything else, OpenID Connect providers, AWS managed policies,
// GetAccountSummary, UpdateGroup, UpdateRoleDescription.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateUserCommand, IAMClient, IAMServiceException, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type TestServer } from './helpers.js';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What an IAM call failed with: the error's code (the SDK names modelled ones …Exception), status and message. */
async function iamError(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof IAMServiceException)) throw e;
    return { code: e.name.replace(/Exception$/, ''), status: e.$metadata.httpStatusCode, message: e.message };
  }
  assert.fail('expected an IAM error');
}

describe('IAM compatibility', () => {
  let srv: TestServer;
  let root: IAMClient;
  const clients: IAMClient[] = [];

  function iamAs(keys: Keys): IAMClient {
    const c = new IAMClient({ endpoint: srv.url, region: REGION, credentials: keys, maxAttempts: 1 });
    clients.push(c);
    return c;
  }

  before(async () => {
    srv = await startServer();
    root = iamAs({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await srv.stop();
  });

  it('validates every parameter before looking anything up, as AWS does', async () => {
    // A policy name over 128 characters is a ValidationError even for a user that does not exist.
    const e = await iamError(root.send(new PutUserPolicyCommand({ UserName: 'nobody', PolicyName: 'p'.repeat(129), PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) })));
    assert.deepEqual([e.code, e.status], ['ValidationError', 400]);
    assert.match(e.message, /at 'policyName' failed to satisfy constraint: Member must have length less than or equal to 128/);
    // and for one that does: nothing is stored.
    await root.send(new CreateUserCommand({ UserName: 'val' }));
    const bad = await iamError(root.send(new PutUserPolicyCommand({ UserName: 'val', PolicyName: 'no spaces', PolicyDocument: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) })));
    assert.equal(bad.code, 'ValidationError');
  });
});
