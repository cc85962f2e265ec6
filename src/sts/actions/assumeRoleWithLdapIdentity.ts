// AssumeRoleWithLDAPIdentity (MinIO's STS extension): a role session for an LDAP / Active
// Directory user who gives a name and password (LDAPUsername, LDAPPassword), unsigned.
//
// Which role: the operator maps group DNs (and user DNs) to roles (--ldap-roles). The user's own
// DN and the DNs of the groups the directory lists for the user are looked up in that mapping;
// exactly one role must come out, or the caller names one of those it has with RoleArn (an
// addition to MinIO's parameters). The mapping is the role's trust: no trust policy is consulted
// (roles for LDAP users are best made with a trust policy that admits no one else). The session
// is then an assumed-role session like AssumeRole's — the role's policies, the optional session
// policies (Policy, PolicyArns), the role's MaxSessionDuration — with the user name as its session
// name and its source identity (aws:SourceIdentity), so bucket policies and the audit log can tell
// LDAP users apart.
//
// Errors are MinIO's: a missing name or password is MissingParameter; an unknown user, a wrong
// password and a user in no mapped group are InvalidParameterValue (400) with one message for the
// first two, so that the answer does not tell whether a user exists; a directory that cannot be
// reached is IDPCommunicationError. The password never reaches a log line.

import { StsError } from '../errors.js';
import { LdapLoginError, ldapDirectory, normalizeDn } from '../federation/ldap.js';
import { DURATIONS } from '../names.js';
import type { StsUnsignedHandler } from '../request.js';
import { issueRoleSession, readSessionPolicies, roleOf, roleSessionXml, sessionPolicyIds } from '../sessionPolicies.js';

const SESSION_NAME_MAX = 64;

/** The user name as a session name and source identity: [\w+=,.@-], 2 to 64 characters. */
export function sessionNameOf(username: string): string {
  let name = username.replace(/[^\w+=,.@-]/g, '-').slice(0, SESSION_NAME_MAX);
  while (name.length < 2) name += '-';
  return name;
}

export const assumeRoleWithLdapIdentity: StsUnsignedHandler = async (ctx) => {
  const { params, app } = ctx;
  const directory = ldapDirectory(app.config);
  if (!directory) throw new StsError('NotImplemented', 'LDAP logins are not configured on this server (--ldap-url).');
  const username = params.get('LDAPUsername') ?? '';
  const password = params.get('LDAPPassword') ?? '';
  if (username === '' || password === '') throw new StsError('MissingParameter', 'LDAPUsername and LDAPPassword cannot be empty');
  for (const name of params.names()) {
    if (name.startsWith('Tags.') || name.startsWith('TransitiveTagKeys.')) throw new StsError('NotImplemented', 'Session tags are not implemented by this server.');
  }
  const requested = params.int('DurationSeconds', DURATIONS.AssumeRole.min, DURATIONS.AssumeRole.max);
  const policies = readSessionPolicies(params);
  const chosen = params.optional('RoleArn');

  let user;
  try {
    user = await directory.login(username, password);
  } catch (e) {
    if (!(e instanceof LdapLoginError)) throw e;
    if (e.kind === 'unavailable') {
      app.log.warn({ ldap: app.config.ldap!.url, problem: e.message }, 'LDAP login failed: the directory could not be used');
      throw new StsError('IDPCommunicationError', 'LDAP server error: the directory could not be reached or failed; try again later.');
    }
    app.log.info({ ldapUser: username, problem: e.message }, 'LDAP login refused');
    throw new StsError('InvalidParameterValue', 'LDAP server error: the user name or the password is not valid');
  }

  // The roles the user's DN and groups map to.
  const mapping = app.config.ldap!.roles;
  const roles = new Set<string>();
  for (const dn of [user.dn, ...user.groups]) {
    const arn = mapping.get(normalizeDn(dn));
    if (arn !== undefined) roles.add(arn);
  }
  if (roles.size === 0) {
    app.log.info({ ldapUser: username, dn: user.dn, groups: user.groups }, 'LDAP login refused: no role is mapped to the user or its groups');
    throw new StsError('InvalidParameterValue', `expecting a role to be mapped to user \`${user.dn}\` or one of their groups - rejecting this request`);
  }
  let roleArn: string;
  if (chosen !== undefined) {
    if (!roles.has(chosen)) throw new StsError('AccessDenied', `Not authorized to perform sts:AssumeRoleWithLDAPIdentity on resource: ${chosen}`);
    roleArn = chosen;
  } else if (roles.size === 1) {
    roleArn = [...roles][0]!;
  } else {
    throw new StsError('ValidationError', `User ${user.dn} may act as several roles (${[...roles].sort().join(', ')}): name one with RoleArn.`);
  }

  const role = await roleOf(app, roleArn);
  if (!role) {
    app.log.warn({ ldapUser: username, role: roleArn }, 'LDAP login refused: --ldap-roles names a role that does not exist');
    throw new StsError('InvalidParameterValue', `expecting a role to be mapped to user \`${user.dn}\` or one of their groups - rejecting this request`);
  }
  const duration = requested ?? DURATIONS.AssumeRole.default;
  if (duration > role.maxSessionDuration) throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  const policyIds = await sessionPolicyIds(app, role, policies.policyArns);
  const sessionName = sessionNameOf(username);
  const issued = await issueRoleSession(app, role, { sessionName, sourceIdentity: sessionName, policies, policyIds, duration, now: ctx.now });
  if (!issued) throw new StsError('InvalidParameterValue', `the account of role ${roleArn} no longer exists`);
  app.log.info({ ldapUser: username, dn: user.dn, role: roleArn }, 'LDAP login');
  return { ...roleSessionXml(role, sessionName, issued, policies), SourceIdentity: sessionName };
};
