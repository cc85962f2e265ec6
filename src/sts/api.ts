// The STS API (query protocol, version 2011-06-15): one table of actions — which callers each
// admits, and its handler — and the dispatcher that runs a call through it:
//   Action/Version → table entry → caller admitted? → handler → XML.
// Actions STS has but this server does not implement are in the table without a handler and answer
// NotImplemented; names STS does not have answer InvalidAction, as AWS does.
//
// Authorisation is each action's own, as in AWS: AssumeRole is decided on the role's trust policy
// and the caller's policies (trust.ts); GetSessionToken and GetCallerIdentity need no permission
// and cannot be denied by a policy.

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import { renderXml } from '../s3/xml.js';
import { assumeRole } from './actions/assumeRole.js';
import { getCallerIdentity } from './actions/getCallerIdentity.js';
import { getSessionToken } from './actions/getSessionToken.js';
import { StsError } from './errors.js';
import { STS_API_VERSION, STS_NAMESPACE } from './names.js';
import { StsParams } from './params.js';
import type { StsContext, StsHandler } from './request.js';

export type StsActionSpec =
  | {
      readonly name: string;
      readonly handler: StsHandler;
      /** Refused to temporary credentials, with AWS's message (GetSessionToken). */
      readonly refusesSessions?: string;
    }
  /** An STS action this server does not implement (NotImplemented). */
  | { readonly name: string; readonly handler?: undefined; readonly refusesSessions?: undefined };

const NOT_IMPLEMENTED = [
  'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'AssumeRoot', 'DecodeAuthorizationMessage', 'GetAccessKeyInfo',
  'GetDelegatedAccessToken', 'GetFederationToken', 'GetScopedCredentials', 'GetWebIdentityToken',
] as const;

export const STS_ACTIONS: readonly StsActionSpec[] = [
  { name: 'AssumeRole', handler: assumeRole },
  { name: 'GetSessionToken', handler: getSessionToken, refusesSessions: 'Cannot call GetSessionToken with session credentials' },
  { name: 'GetCallerIdentity', handler: getCallerIdentity },
  ...NOT_IMPLEMENTED.map((name) => ({ name })),
];

const BY_NAME: ReadonlyMap<string, StsActionSpec> = new Map(STS_ACTIONS.map((a) => [a.name, a]));

export interface StsCall {
  /** Decoded query-protocol parameters (the form body, and the query string). */
  params: ReadonlyMap<string, string>;
  identity: Identity;
  requestId: string;
  /** ms since epoch */
  now: number;
  /** The request's global condition keys (authz/keys.ts). */
  keys: ReadonlyMap<string, string[]>;
}

/** Runs one STS call: the action's response document, or an StsError. */
export async function dispatchSts(app: App, call: StsCall): Promise<{ action: string; xml: string }> {
  const params = new StsParams(call.params);
  const action = params.get('Action');
  if (action === undefined || action === '') throw new StsError('MissingAction', 'The request must contain the parameter Action.');
  const version = params.get('Version');
  if (version === undefined) throw new StsError('MissingParameter', 'The request must contain the parameter Version.');
  const spec = BY_NAME.get(action);
  if (!spec || version !== STS_API_VERSION) throw new StsError('InvalidAction', `Could not find operation ${action} for version ${version}`);
  if (!spec.handler) throw new StsError('NotImplemented', `${action} is not implemented by this server.`);
  if (spec.refusesSessions !== undefined && call.identity.session) throw new StsError('AccessDenied', spec.refusesSessions);

  const ctx: StsContext = { action, params, identity: call.identity, app, requestId: call.requestId, now: call.now, keys: call.keys };
  const result = await spec.handler(ctx);
  const xml = renderXml(`${action}Response`, { [`${action}Result`]: result, ResponseMetadata: { RequestId: call.requestId } }, { namespace: STS_NAMESPACE });
  return { action, xml };
}
