// The STS API (query protocol, version 2011-06-15): one table of actions — which callers each
// admits, and its handler — and the dispatcher that runs a call through it:
//   Action/Version → table entry → caller admitted? → handler → XML.
// Actions STS has but this server does not implement are in the table without a handler and answer
// NotImplemented; names STS does not have answer InvalidAction, as AWS does.
//
// Authorisation is each action's own, as in AWS: AssumeRole is decided on the role's trust policy
// and the caller's policies (trust.ts); GetSessionToken and GetCallerIdentity need no permission
// and cannot be denied by a policy. The federation actions are unsigned (the caller has no AWS
// credentials yet): AssumeRoleWithWebIdentity proves who it is with an OpenID Connect token
// (federation/oidc.ts) and is decided on the role's trust policy; AssumeRoleWithLDAPIdentity,
// MinIO's extension, with an LDAP user's name and password (federation/ldap.ts), the role coming
// from the operator's mapping of LDAP groups to roles.

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import { renderXml } from '../s3/xml.js';
import { assumeRole } from './actions/assumeRole.js';
import { assumeRoleWithLdapIdentity } from './actions/assumeRoleWithLdapIdentity.js';
import { assumeRoleWithWebIdentity } from './actions/assumeRoleWithWebIdentity.js';
import { getCallerIdentity } from './actions/getCallerIdentity.js';
import { getSessionToken } from './actions/getSessionToken.js';
import { StsError } from './errors.js';
import { STS_API_VERSION, STS_NAMESPACE } from './names.js';
import { StsParams } from './params.js';
import type { StsContext, StsHandler, StsUnsignedHandler } from './request.js';

export type StsActionSpec =
  | {
      readonly name: string;
      readonly handler: StsHandler;
      /** Refused to temporary credentials, with AWS's message (GetSessionToken). */
      readonly refusesSessions?: string;
      readonly unsigned?: undefined;
    }
  /** An action callers make without AWS credentials (they are federating to get some); a signed call is served alike. */
  | { readonly name: string; readonly unsigned: StsUnsignedHandler; readonly handler?: undefined; readonly refusesSessions?: undefined }
  /** An STS action this server does not implement (NotImplemented). */
  | { readonly name: string; readonly handler?: undefined; readonly refusesSessions?: undefined; readonly unsigned?: undefined };

const NOT_IMPLEMENTED = [
  'AssumeRoleWithSAML', 'AssumeRoot', 'DecodeAuthorizationMessage', 'GetAccessKeyInfo',
  'GetDelegatedAccessToken', 'GetFederationToken', 'GetScopedCredentials', 'GetWebIdentityToken',
] as const;

export const STS_ACTIONS: readonly StsActionSpec[] = [
  { name: 'AssumeRole', handler: assumeRole },
  { name: 'GetSessionToken', handler: getSessionToken, refusesSessions: 'Cannot call GetSessionToken with session credentials' },
  { name: 'GetCallerIdentity', handler: getCallerIdentity },
  { name: 'AssumeRoleWithWebIdentity', unsigned: assumeRoleWithWebIdentity },
  { name: 'AssumeRoleWithLDAPIdentity', unsigned: assumeRoleWithLdapIdentity },
  ...NOT_IMPLEMENTED.map((name) => ({ name })),
];

const BY_NAME: ReadonlyMap<string, StsActionSpec> = new Map(STS_ACTIONS.map((a) => [a.name, a]));

/** Whether an unsigned request naming this Action is STS's (the federation actions). */
export function isUnsignedStsAction(action: string | undefined | null): boolean {
  return action != null && BY_NAME.get(action)?.unsigned !== undefined;
}

export interface StsCall {
  /** Decoded query-protocol parameters (the form body, and the query string). */
  params: ReadonlyMap<string, string>;
  /** null: an unsigned request (only the federation actions admit one). */
  identity: Identity | null;
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
  let result;
  if (spec.unsigned) {
    result = await spec.unsigned({ action, params, app, requestId: call.requestId, now: call.now, keys: call.keys });
  } else {
    if (!spec.handler) throw new StsError('NotImplemented', `${action} is not implemented by this server.`);
    if (!call.identity) throw new StsError('MissingAuthenticationToken');
    if (spec.refusesSessions !== undefined && call.identity.session) throw new StsError('AccessDenied', spec.refusesSessions);
    const ctx: StsContext = { action, params, identity: call.identity, app, requestId: call.requestId, now: call.now, keys: call.keys };
    result = await spec.handler(ctx);
  }
  const xml = renderXml(`${action}Response`, { [`${action}Result`]: result, ResponseMetadata: { RequestId: call.requestId } }, { namespace: STS_NAMESPACE });
  return { action, xml };
}
