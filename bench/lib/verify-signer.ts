// Checks the benchmark's SigV4 signer against the AWS SDK's (@smithy/signature-v4) on a few
// representative requests. Runs before every benchmark; also runnable on its own:
//   node dist/bench/lib/verify-signer.js

import { createHash, createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { SigV4Signer, encodeKey } from './sigv4.js';

class NodeSha256 {
  private h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: unknown) {
    this.h = secret ? createHmac('sha256', secret as Uint8Array) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.h.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.secret ? createHmac('sha256', this.secret as Uint8Array) : createHash('sha256');
  }
}

interface Case {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
}

const CASES: Case[] = [
  { method: 'PUT', path: '/bench-bucket', headers: { host: '127.0.0.1:9000', 'content-length': '0' } },
  { method: 'PUT', path: '/bench-bucket/' + encodeKey('put4k/r0/3/17'), headers: { host: '127.0.0.1:9000', 'content-length': '4096' } },
  { method: 'GET', path: '/bench-bucket/' + encodeKey('dir007/file07001'), headers: { host: '127.0.0.1:41234' } },
  { method: 'PUT', path: '/b/' + encodeKey("odd key +=&?/é~!*'()"), headers: { host: 'localhost:9000', 'content-length': '1', 'content-type': 'text/plain;  charset=utf-8' } },
  {
    method: 'GET',
    path: '/bench-list',
    query: { 'list-type': '2', 'max-keys': '1000', delimiter: '/', prefix: 'dir042/', 'continuation-token': 'ZGlyMDQyL2ZpbGUwNDIw+/=' },
    headers: { host: '127.0.0.1:9000' },
  },
];

export async function verifySigner(): Promise<void> {
  const accessKeyId = 'AKIDEXAMPLE';
  const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const date = new Date('2025-03-04T05:06:07Z');
  const ours = new SigV4Signer({ accessKeyId, secretAccessKey, region: 'us-east-1', service: 's3' });
  const sdk = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
  for (const c of CASES) {
    const mine = ours.sign({ method: c.method, path: c.path, query: c.query, headers: { ...c.headers }, date });
    const theirs = await sdk.sign(
      {
        method: c.method,
        protocol: 'http:',
        hostname: c.headers.host!.split(':')[0]!,
        path: c.path,
        query: c.query ?? {},
        headers: { ...c.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { signingDate: date },
    );
    const expected = theirs.headers['authorization'] ?? theirs.headers['Authorization'];
    if (mine['authorization'] !== expected) {
      throw new Error(`SigV4 signer disagrees with @smithy/signature-v4 on ${c.method} ${c.path}:\n  ours: ${mine['authorization']}\n  sdk:  ${expected}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  verifySigner().then(
    () => console.log(`signer agrees with @smithy/signature-v4 on ${CASES.length} requests`),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
