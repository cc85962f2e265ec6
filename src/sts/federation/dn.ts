// Distinguished names as the LDAP role mapping compares them.

/**
 * A DN with attribute names and values lower-cased and the blanks around its `,` and `=`
 * separators dropped (directories compare the usual attributes — cn, ou, dc, uid —
 * case-insensitively), so `CN=Admins, OU=Groups,DC=example,DC=org` maps like
 * `cn=admins,ou=groups,dc=example,dc=org`. Escaped separators (`\,`, `\=`) stay.
 */
export function normalizeDn(dn: string): string {
  return dn
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .split(/(?<!\\)=/)
        .map((s) => s.trim())
        .join('='),
    )
    .join(',')
    .toLowerCase();
}
