// AssumeRoleWithWebIdentity: a role session for the bearer of an OpenID Connect ID token, unsigned
// (the caller has no credentials yet). The token is verified against the OIDC provider registered
// in the role's account for its issuer (federation/oidc.ts); the role's trust policy must then
// allow sts:AssumeRoleWithWebIdentity to {"Federated": "<provider ARN>"}, its conditions seeing
// `<provider URL>:aud`, `<provider URL>:sub`, `<provider URL>:azp` (when the token has one),
// sts:RoleSessionName and the request's global keys, as AWS fills them.

import { decide, parsePolicy } from '../../authz/policy/index.js';
import { oidcProviderArn } from '../../iam/names.js';
import { StsError } from '../errors.js';
import { unverifiedIssuer, verifyIdToken } from '../federation/oidc.js';
import { DURATIONS } from '../names.js';
import type { StsUnsignedHandler } from '../request.js';
import { issueRoleSession, readSessionPolicies, roleOf, roleSessionXml, sessionPolicyIds } from '../sessionPolicies.js';

const MAX_TOKEN = 20_000;

/** AWS's answer when the trust policy does not allow the call (or the role does not exist). */
function notAuthorized(): StsError {
  return new StsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
}

export const assumeRoleWithWebIdentity: StsUnsignedHandler = async (ctx) => {
  const { params } = ctx;
  for (const name of params.names()) {
    if (name.startsWith('Tags.') || name.startsWith('TransitiveTagKeys.')) throw new StsError('NotImplemented', 'Session tags are not implemented by this server.');
  }
  if (params.get('ProviderId') !== undefined) throw new StsError('NotImplemented', 'OAuth 2.0 access tokens (ProviderId) are not supported by this server: present an OpenID Connect ID token.');
  const roleArn = params.required('RoleArn');
  const sessionName = params.required('RoleSessionName');
  const token = params.get('WebIdentityToken');
  if (token === undefined) throw new StsError('ValidationError', "1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null");
  if (token.length < 4 || token.length > MAX_TOKEN) {
    throw new StsError('ValidationError', `1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and ${MAX_TOKEN}`);
  }
  const requested = params.int('DurationSeconds', DURATIONS.AssumeRole.min, DURATIONS.AssumeRole.max);
  const policies = readSessionPolicies(params);

  // The role first: the provider that may vouch for the token is one of the role's account.
  const role = await roleOf(ctx.app, roleArn);
  if (!role) throw notAuthorized();
  const issuer = await unverifiedIssuer(token);
  const providerUrl = issuer.slice('https://'.length);
  const provider = await ctx.app.iam.store.getOidcProvider(role.accountId, providerUrl);
  if (!provider) throw new StsError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${issuer}`);
  const claims = await verifyIdToken(token, providerUrl, provider.clientIds, ctx.app.config.oidcCaFile, ctx.now);
  const sub = claims.sub!;
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
  const audience = audiences.find((a) => provider.clientIds.includes(a))!;
  const azp = typeof claims['azp'] === 'string' ? claims['azp'] : undefined;

  // The trust policy, with the token's claims as condition keys.
  const providerArn = oidcProviderArn(role.accountId, providerUrl);
  const keys = new Map(ctx.keys);
  keys.delete('aws:principaltype');
  keys.delete('aws:userid');
  keys.set('aws:federatedprovider', [providerArn]);
  keys.set('sts:rolesessionname', [sessionName]);
  const prefix = providerUrl.toLowerCase();
  keys.set(`${prefix}:aud`, [audience]);
  keys.set(`${prefix}:sub`, [sub]);
  if (azp !== undefined) keys.set(`${prefix}:azp`, [azp]);
  // Stored trust policies were validated; one that no longer parses fails the call (500) rather than being half-read.
  const trust = parsePolicy(role.assumeRolePolicy, 'trust');
  const d = decide({ request: { principal: { kind: 'federated', provider: providerArn }, action: 'sts:AssumeRoleWithWebIdentity', resource: roleArn, resourceAccount: role.accountId, keys }, resourcePolicy: trust });
  if (d.decision !== 'Allow') {
    ctx.app.log.debug({ action: 'sts:AssumeRoleWithWebIdentity', resource: roleArn, provider: providerArn, sub, decision: d.decision, reason: d.reason }, 'STS access denied');
    throw notAuthorized();
  }

  const duration = requested ?? DURATIONS.AssumeRole.default;
  if (duration > role.maxSessionDuration) throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  const policyIds = await sessionPolicyIds(ctx.app, role, policies.policyArns);
  const issued = await issueRoleSession(ctx.app, role, { sessionName, sourceIdentity: undefined, policies, policyIds, duration, now: ctx.now });
  if (!issued) throw notAuthorized();
  const session = roleSessionXml(role, sessionName, issued, policies);
  return {
    Credentials: session.Credentials,
    SubjectFromWebIdentityToken: sub,
    AssumedRoleUser: session.AssumedRoleUser,
    PackedPolicySize: session.PackedPolicySize,
    Provider: issuer,
    Audience: audience,
  };
};
