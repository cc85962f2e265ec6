// The smoke check of scripts/three-nodes.sh: through the load balancer (127.0.0.1:9000) and each
// node directly (9001-9003), with the AWS SDK. Exits non-zero on the first failure.
//   node scripts/three-nodes-check.mjs <root-credentials.json> <pid of node 2>
import fs from 'node:fs';
import assert from 'node:assert/strict';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';

const creds = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const node2 = Number(process.argv[3]);
const client = (port) => new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: creds });
const lb = client(9000);
const nodes = [9001, 9002, 9003].map(client);
const text = async (c, Key) => (await (await c.send(new GetObjectCommand({ Bucket: 'demo', Key }))).Body.transformToString());

await lb.send(new CreateBucketCommand({ Bucket: 'demo' }));
for (let i = 0; i < 30; i++) {
  const Key = `k/${String(i).padStart(2, '0')}`;
  await lb.send(new PutObjectCommand({ Bucket: 'demo', Key, Body: `v${i}` }));
  // Read-after-write on every node, whichever node took the write.
  for (const c of nodes) assert.equal(await text(c, Key), `v${i}`);
}
for (const c of [lb, ...nodes]) assert.equal((await c.send(new ListObjectsV2Command({ Bucket: 'demo' }))).KeyCount, 30);
console.log('30 writes through the load balancer, each read back on all three nodes; listings agree');

process.kill(node2, 'SIGKILL');
for (let i = 30; i < 60; i++) {
  const Key = `k/${String(i).padStart(2, '0')}`;
  await lb.send(new PutObjectCommand({ Bucket: 'demo', Key, Body: `v${i}` }));
  assert.equal(await text(lb, Key), `v${i}`);
}
assert.equal((await lb.send(new ListObjectsV2Command({ Bucket: 'demo' }))).KeyCount, 60);
console.log('node 2 killed with -9: 30 more writes and reads through the load balancer, none failed');
