// What an STS action handler works with — the caller, its parameters, the request's condition
// keys — and the response shapes the actions share (STS API Reference, "Data Types").

import type { App } from '../app.js';
import type { Identity } from '../auth/types.js';
import type { XmlNode } from '../s3/xml.js';
import { iamDate } from '../iam/shapes.js';
import type { StsParams } from './params.js';
import type { IssuedCredentials } from './service.js';

export interface StsContext {
  readonly action: string;
  readonly params: StsParams;
  /** Who is calling: a root user, an IAM user, or a session of either or of a role. */
  readonly identity: Identity;
  readonly app: App;
  readonly requestId: string;
  /** ms since epoch */
  readonly now: number;
  /** The request's global condition keys (aws:SourceIp, aws:PrincipalArn…: authz/keys.ts). */
  readonly keys: ReadonlyMap<string, string[]>;
}

/** The <ActionResult> element's content. */
export type StsHandler = (ctx: StsContext) => Promise<XmlNode>;

/** What an unsigned action (federation) works with: no caller identity. */
export type StsUnsignedContext = Omit<StsContext, 'identity'>;
export type StsUnsignedHandler = (ctx: StsUnsignedContext) => Promise<XmlNode>;

/** The Credentials element: the temporary key pair, its session token and when it expires. */
export function credentialsXml(c: IssuedCredentials): XmlNode {
  return { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, SessionToken: c.sessionToken, Expiration: iamDate(c.expiresAt) };
}
