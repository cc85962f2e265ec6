// OpenID Connect identity providers of an account: Create/Get/List/DeleteOpenIDConnectProvider,
// Add/RemoveClientID…, UpdateOpenIDConnectProviderThumbprint. A provider is identified by its URL
// without the https:// scheme, which ends its ARN and is what GetOpenIDConnectProvider answers as
// Url, as AWS does. STS's AssumeRoleWithWebIdentity (sts/federation/oidc.ts) accepts the ID
// tokens they issue for the roles of the same account.

import { IamStoreError, type IamOidcProvider } from '../../store/meta/types.js';
import { IamError } from '../errors.js';
import { missingValue, oidcProviderArn, parseOidcProviderArn } from '../names.js';
import type { IamContext, IamHandler } from '../request.js';
import { QUOTAS } from '../service.js';
import { iamDate, members } from '../shapes.js';

const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * What identifies a provider, from the Url parameter: host and optional path, without the scheme.
 * The URL must be https:// with a host name (or IP address), no user, query or fragment. Unlike
 * AWS, a port is accepted (self-hosted identity providers often listen on one, e.g. :8443).
 */
export function oidcUrl(raw: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(raw);
  if (!m || m[2] === '') throw new IamError('ValidationError', 'Invalid Open ID Connect Provider URL');
  if (m[1]!.toLowerCase() !== 'https') throw new IamError('InvalidInput', 'Invalid Open ID Connect Provider URL. The URL must begin with https://.');
  const rest = m[2]!;
  const slash = rest.indexOf('/');
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const port = /:(\d{1,5})$/.exec(hostPort);
  if (port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) throw new IamError('InvalidInput', 'Invalid Open ID Connect Provider URL.');
  const host = port ? hostPort.slice(0, port.index) : hostPort;
  const path = slash < 0 ? '' : rest.slice(slash);
  if (!HOST.test(host) || !/^[\u0021-\u007E]*$/.test(path) || /[?#]/.test(path)) throw new IamError('InvalidInput', 'Invalid Open ID Connect Provider URL.');
  return rest;
}

function notFound(arn: string): IamError {
  return new IamError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
}

/** The ARN parameter, parsed (authorisation has refused another account's). */
function providerArn(ctx: IamContext): { arn: string; url: string } {
  const arn = ctx.params.required('OpenIDConnectProviderArn');
  const parsed = parseOidcProviderArn(arn);
  if (!parsed) throw new IamError('InvalidInput', `ARN ${arn} is not valid.`);
  return { arn, url: parsed.url };
}

/** Thumbprints as AWS keeps them: 40 characters each, at most five, lower case. */
function thumbprints(ctx: IamContext): string[] {
  const list = ctx.params.list('ThumbprintList');
  for (const t of list) if (t.length !== 40) throw new IamError('InvalidInput', 'Thumbprint must be exactly 40 characters.');
  if (list.length > QUOTAS.thumbprintsPerOidcProvider) throw new IamError('InvalidInput', `Thumbprint list must contain fewer than ${QUOTAS.thumbprintsPerOidcProvider} entries.`);
  return [...new Set(list.map((t) => t.toLowerCase()))];
}

function tooManyClientIds(): IamError {
  return new IamError('LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${QUOTAS.clientIdsPerOidcProvider}`);
}

/** Runs a change of a provider, answering NoSuchEntity in AWS's words when there is none. */
async function update(ctx: IamContext, change: (p: IamOidcProvider) => { clientIds?: string[]; thumbprints?: string[] }): Promise<undefined> {
  const { arn, url } = providerArn(ctx);
  try {
    await ctx.iam.store.updateOidcProvider(ctx.caller.accountId, url, change);
  } catch (e) {
    if (e instanceof IamStoreError && e.code === 'NoSuchEntity') throw notFound(arn);
    throw e;
  }
  return undefined;
}

export const createOidcProvider: IamHandler = async (ctx) => {
  const url = oidcUrl(ctx.params.required('Url'));
  const clientIds = [...new Set(ctx.params.list('ClientIDList', 'ClientID'))];
  if (clientIds.length > QUOTAS.clientIdsPerOidcProvider) throw tooManyClientIds();
  const provider: IamOidcProvider = { accountId: ctx.caller.accountId, url, clientIds, thumbprints: thumbprints(ctx), createdAt: ctx.now };
  await ctx.iam.store.createOidcProvider(provider, QUOTAS.oidcProvidersPerAccount);
  return { OpenIDConnectProviderArn: oidcProviderArn(provider.accountId, url) };
};

export const getOidcProvider: IamHandler = async (ctx) => {
  const { arn, url } = providerArn(ctx);
  const p = await ctx.iam.store.getOidcProvider(ctx.caller.accountId, url);
  if (!p) throw notFound(arn);
  return { Url: p.url, ClientIDList: members(p.clientIds), ThumbprintList: members(p.thumbprints), CreateDate: iamDate(p.createdAt) };
};

export const listOidcProviders: IamHandler = async (ctx) => {
  const all = await ctx.iam.store.listOidcProviders(ctx.caller.accountId);
  return { OpenIDConnectProviderList: members(all.map((p) => ({ Arn: oidcProviderArn(p.accountId, p.url) }))) };
};

/** Idempotent, as AWS documents it: deleting a provider that does not exist succeeds. */
export const deleteOidcProvider: IamHandler = async (ctx) => {
  await ctx.iam.store.deleteOidcProvider(ctx.caller.accountId, providerArn(ctx).url);
  return undefined;
};

/** Idempotent: adding a client id the provider has already changes nothing. */
export const addClientIdToOidcProvider: IamHandler = async (ctx) => {
  const id = ctx.params.required('ClientID');
  return update(ctx, (p) => {
    if (p.clientIds.includes(id)) return {};
    if (p.clientIds.length >= QUOTAS.clientIdsPerOidcProvider) throw tooManyClientIds();
    return { clientIds: [...p.clientIds, id] };
  });
};

/** Idempotent: removing a client id the provider does not have changes nothing. */
export const removeClientIdFromOidcProvider: IamHandler = async (ctx) => {
  const id = ctx.params.required('ClientID');
  return update(ctx, (p) => ({ clientIds: p.clientIds.filter((c) => c !== id) }));
};

/** Replaces the provider's thumbprints. */
export const updateOidcProviderThumbprint: IamHandler = async (ctx) => {
  if (!ctx.params.has('ThumbprintList') && !ctx.params.has('ThumbprintList.member.1')) throw new IamError('ValidationError', missingValue('ThumbprintList'));
  const list = thumbprints(ctx);
  return update(ctx, () => ({ thumbprints: list }));
};
