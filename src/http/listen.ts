// Starting a listener: every server Trove runs (S3, website, metrics, admin) binds the same way
// and is announced by the same kind of URL.

import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on `address` (port 0: any free one); resolves once bound, rejects with the bind error
 * (EADDRINUSE…). Answers the URL the listener is reached at (IPv6 hosts in brackets).
 */
export async function listen(server: http.Server, address: { host: string; port: number }, scheme: 'http' | 'https' = 'http'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return `${scheme}://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
}
