// OpenID Connect ID tokens, checked as AWS checks them for AssumeRoleWithWebIdentity:
// - the token's issuer (`iss`) is an OIDC provider registered in the role's account
//   (iam/actions/oidc.ts: https://<provider URL>);
// - its audience (`aud`) is one of the provider's client ids;
// - its signature verifies with a key of the provider's JWKS, found through its discovery document
//   (https://<provider URL>/.well-known/openid-configuration → jwks_uri), with one of the
//   algorithms the provider advertises (id_token_signing_alg_values_supported) — asymmetric ones
//   only: `none` and the HMAC algorithms (whose key would be a secret shared with every client)
//   are refused whatever the provider says;
// - exp, nbf and iat hold, give or take CLOCK_SKEW_S.
// Discovery documents and key sets are fetched over https only, verifying the server's certificate
// against Node's CA list plus the operator's --oidc-ca-file; never with verification off. They are
// cached per provider for CACHE_TTL_MS; a token signed with a key id the cached set lacks
// refetches them (such refetches at most once per REFRESH_COOLDOWN_MS: a provider rotating its
// keys is seen at once, a flood of forged key ids does not become a flood of fetches).

import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { createLocalJWKSet, JSONWebKeySet, JWTPayload } from 'jose';
import { StsError } from '../errors.js';

/** jose, loaded on first use: servers nobody federates to never pay for the module. */
const jose = (): Promise<typeof import('jose')> => import('jose');

/** Tolerated difference between our clock and the provider's (exp, nbf, iat). */
export const CLOCK_SKEW_S = 60;
const CACHE_TTL_MS = 3600_000;
const REFRESH_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5000;
const MAX_DOCUMENT = 1024 * 1024;

/** The JWS algorithms an ID token may be signed with here: public-key signatures only. */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

interface ProviderKeys {
  algorithms: string[];
  keys: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
  /** When a token with an unknown key id last caused a refetch. */
  refreshedAt: number;
}

/** Key sets by CA file and provider URL; process-wide, as the providers are. */
const cache = new Map<string, ProviderKeys>();
const loading = new Map<string, Promise<ProviderKeys>>();

/** Node's CA list plus the operator's extra CAs (PEM, several certificates allowed). */
function trustedCas(caFile: string | undefined): string[] | undefined {
  if (caFile === undefined) return undefined;
  return [...tls.rootCertificates, fs.readFileSync(caFile, 'utf8')];
}

/** GETs a JSON document over https (status 200, at most 1 MiB, no redirects followed). */
function getJson(url: string, caFile: string | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (!url.startsWith('https://')) {
      reject(new Error(`${url} is not an https:// URL`));
      return;
    }
    const ca = trustedCas(caFile);
    const req = https.get(url, { timeout: FETCH_TIMEOUT_MS, headers: { accept: 'application/json' }, ...(ca ? { ca } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${url} answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_DOCUMENT) {
          req.destroy(new Error(`${url} sent more than ${MAX_DOCUMENT} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`${url} did not send JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within ${FETCH_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

async function fetchKeys(providerUrl: string, caFile: string | undefined): Promise<ProviderKeys> {
  const issuer = `https://${providerUrl}`;
  // OpenID Connect Discovery 1.0, section 4: an issuer's trailing "/" is dropped before the well-known path.
  const discovery = (await getJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, caFile)) as Record<string, unknown> | null;
  if (typeof discovery !== 'object' || discovery === null) throw new Error('the discovery document is not a JSON object');
  if (discovery.issuer !== issuer) throw new Error(`the discovery document names issuer ${String(discovery.issuer)}, not ${issuer}`);
  const jwksUri = discovery.jwks_uri;
  if (typeof jwksUri !== 'string') throw new Error('the discovery document has no jwks_uri');
  const advertised = Array.isArray(discovery.id_token_signing_alg_values_supported) ? discovery.id_token_signing_alg_values_supported : [];
  const algorithms = advertised.filter((a): a is string => typeof a === 'string' && ASYMMETRIC.has(a));
  const jwks = (await getJson(jwksUri, caFile)) as JSONWebKeySet | null;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) throw new Error('the JWKS document has no keys');
  return { algorithms, keys: (await jose()).createLocalJWKSet(jwks), fetchedAt: Date.now(), refreshedAt: 0 };
}

/** The provider's keys: cached, or fetched (one fetch at a time per provider). */
async function providerKeys(providerUrl: string, caFile: string | undefined, refresh: boolean): Promise<ProviderKeys> {
  const id = `${caFile ?? ''}\n${providerUrl}`;
  const cached = cache.get(id);
  const now = Date.now();
  if (cached && now - cached.fetchedAt < CACHE_TTL_MS && !(refresh && now - cached.refreshedAt >= REFRESH_COOLDOWN_MS)) return cached;
  if (refresh && cached) cached.refreshedAt = now;
  let p = loading.get(id);
  if (!p) {
    p = fetchKeys(providerUrl, caFile).finally(() => loading.delete(id));
    loading.set(id, p);
  }
  try {
    const keys = await p;
    if (refresh) keys.refreshedAt = now;
    cache.set(id, keys);
    return keys;
  } catch (e) {
    // The provider is unreachable: keys fetched within the last day still verify its tokens.
    if (cached && now - cached.fetchedAt < 24 * CACHE_TTL_MS) return cached;
    throw new StsError('IDPCommunicationError', `The identity provider ${providerUrl} could not be reached: ${(e as Error).message}`);
  }
}

/** What AssumeRoleWithWebIdentity learns from the token before it is verified: its issuer. */
export async function unverifiedIssuer(token: string): Promise<string> {
  const { decodeJwt, decodeProtectedHeader } = await jose();
  let payload: JWTPayload;
  try {
    decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw new StsError('InvalidIdentityToken', 'The web identity token is not a signed JSON Web Token.');
  }
  if (typeof payload.iss !== 'string' || !payload.iss.startsWith('https://')) throw new StsError('InvalidIdentityToken', 'The web identity token has no https:// issuer (iss).');
  return payload.iss;
}

/** The verified claims of an ID token issued by the provider at `providerUrl` for one of `clientIds`. */
export async function verifyIdToken(token: string, providerUrl: string, clientIds: readonly string[], caFile: string | undefined, nowMs: number): Promise<JWTPayload> {
  const { decodeProtectedHeader, errors: joseErrors, jwtVerify } = await jose();
  const header = decodeProtectedHeader(token);
  if (typeof header.alg !== 'string' || !ASYMMETRIC.has(header.alg)) throw new StsError('InvalidIdentityToken', `The web identity token's algorithm ${String(header.alg)} is not accepted (public-key signatures only).`);
  if (clientIds.length === 0) throw new StsError('InvalidIdentityToken', 'Incorrect token audience');
  const verify = async (refresh: boolean): Promise<JWTPayload> => {
    const keys = await providerKeys(providerUrl, caFile, refresh);
    if (!keys.algorithms.includes(header.alg!)) throw new StsError('InvalidIdentityToken', `The identity provider does not advertise the algorithm ${header.alg!} for ID tokens.`);
    const { payload } = await jwtVerify(token, keys.keys, {
      issuer: `https://${providerUrl}`,
      audience: [...clientIds],
      algorithms: keys.algorithms,
      clockTolerance: CLOCK_SKEW_S,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    if (typeof payload.iat === 'number' && payload.iat > nowMs / 1000 + CLOCK_SKEW_S) throw new StsError('InvalidIdentityToken', 'The web identity token was issued in the future (iat).');
    return payload;
  };
  try {
    try {
      return await verify(false);
    } catch (e) {
      // A key the cached set lacks: the provider may have rotated its keys.
      if (e instanceof joseErrors.JWKSNoMatchingKey) return await verify(true);
      throw e;
    }
  } catch (e) {
    throw asStsError(e, nowMs, joseErrors);
  }
}

function asStsError(e: unknown, nowMs: number, joseErrors: typeof import('jose').errors): unknown {
  if (e instanceof StsError) return e;
  if (e instanceof joseErrors.JWTExpired) {
    const exp = typeof e.payload.exp === 'number' ? new Date(e.payload.exp * 1000).toISOString() : '?';
    return new StsError('ExpiredTokenException', `Token expired: current date/time ${new Date(nowMs).toISOString()} must be before the expiration date/time ${exp}`);
  }
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new StsError('InvalidIdentityToken', 'Incorrect token audience');
    if (e.claim === 'iss') return new StsError('InvalidIdentityToken', 'Incorrect token issuer');
    return new StsError('InvalidIdentityToken', `The web identity token's ${e.claim} claim is not valid: ${e.reason}`);
  }
  if (e instanceof joseErrors.JWKSNoMatchingKey) return new StsError('InvalidIdentityToken', 'No key of the identity provider matches the web identity token.');
  if (e instanceof joseErrors.JOSEError) return new StsError('InvalidIdentityToken', `The web identity token could not be verified (${e.code}).`);
  return e;
}
