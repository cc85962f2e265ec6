// Event notifications to real brokers started by the test (Debian packages redis-server,
// nats-server, mosquitto, rabbitmq-server; a throwaway PostgreSQL cluster): each target type
// receives S3's event JSON through the broker's own client library, and a broker stopped under
// load and restarted gets every event written meanwhile. A broker that is not installed fails the
// test when CI is set (.ci/run installs them all); elsewhere its test is skipped with a message.
// Brokers listen on ports picked free at each start (freePort): several runs share the machine.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import mqtt from 'mqtt';
import amqp from 'amqplib';
import pg from 'pg';
import { TEST_META, freePort, startServer, uniqueBucket, type TestServer } from './helpers.js';
import { saveTargets, targetArn, type TargetDef, type TargetType } from '../src/notify/targets.js';
import { freshDatabase, postgresAvailable } from './support/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(bin: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/sbin', ...(process.env.PATH ?? '').split(':')]) {
    const p = path.join(dir, bin);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** Skip (locally) or fail (CI) when a broker is not installed. */
function need(bin: string): string | false {
  if (which(bin)) return false;
  const msg = `${bin} is not installed (apt-get install ${bin === 'rabbitmq-server' ? 'rabbitmq-server' : bin}); .ci/run installs it`;
  if (process.env.CI) throw new Error(msg);
  return msg;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function waitPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await portOpen(port)) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await sleep(100);
  }
}

class Broker {
  child: ChildProcess | undefined;
  constructor(
    readonly name: string,
    readonly port: number,
    private readonly cmd: string,
    private readonly args: string[],
    readonly env: Record<string, string> = {},
    private readonly startMs = 15_000,
  ) {}
  async start(): Promise<void> {
    if (await portOpen(this.port)) throw new Error(`port ${this.port} is taken: a ${this.name} left over from another run?`);
    this.child = spawn(this.cmd, this.args, { env: { ...process.env, ...this.env }, stdio: 'ignore', detached: true });
    await waitPort(this.port, this.startMs);
  }
  /** Kills the broker (SIGKILL: a crash, not a clean shutdown) and waits until its port is free. */
  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    // RabbitMQ's start script runs the Erlang VM in a process group of its own: its pid file says
    // which process to kill.
    const pidFile = this.env.RABBITMQ_PID_FILE;
    if (pidFile && fs.existsSync(pidFile)) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
      fs.rmSync(pidFile, { force: true });
    }
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
    }
    this.child = undefined;
    const end = Date.now() + 10_000;
    while (await portOpen(this.port)) {
      if (Date.now() > end) throw new Error(`${this.name} still listens on ${this.port}`);
      await sleep(100);
    }
  }
}

function target(name: string, type: TargetType, endpoint: string, extra: Partial<TargetDef> = {}): TargetDef {
  return { name, type, arn: targetArn(name, type), endpoint, createdAt: Date.now(), ...extra };
}

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

type Rec = { eventName: string; s3: { object: { key: string; sequencer: string; size?: number }; bucket: { name: string } }; eventVersion: string; eventSource: string };
const recordsOf = (bodies: string[]): Rec[] => bodies.flatMap((b) => ((JSON.parse(b) as { Records?: Rec[] }).Records ?? []));

describe(`event notifications to brokers (${TEST_META})`, () => {
  let srv: TestServer;
  const brokers: Broker[] = [];
  const targets: TargetDef[] = [];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-brokers-'));

  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
    for (const b of brokers) await b.stop();
    await fs.promises.rm(work, { recursive: true, force: true }).catch(() => undefined);
  });

  /** Registers a target, a bucket notifying it of creates and removals, and writes `n` objects. */
  async function scenario(t: TargetDef, n: number, prefix = 'o'): Promise<{ bucket: string; keys: string[] }> {
    targets.push(t);
    await saveTargets(srv.trove.app.meta, targets);
    const bucket = uniqueBucket();
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await srv.s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: { QueueConfigurations: [{ Id: t.name, QueueArn: t.arn, Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
    }));
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      const key = `${prefix}/${i}`;
      keys.push(key);
      await srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${i}` }));
    }
    await srv.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[0] }));
    return { bucket, keys };
  }

  function checkRecords(recs: Rec[], bucket: string, keys: string[]): void {
    const mine = recs.filter((r) => r.s3.bucket.name === bucket);
    const puts = mine.filter((r) => r.eventName === 'ObjectCreated:Put').map((r) => r.s3.object.key);
    assert.deepEqual([...new Set(puts)].sort(), [...keys].sort(), 'a Put event for every object');
    assert.ok(mine.some((r) => r.eventName === 'ObjectRemoved:Delete' && r.s3.object.key === keys[0]), 'the delete');
    for (const r of mine) {
      assert.equal(r.eventSource, 'aws:s3');
      assert.equal(r.eventVersion, '2.1');
    }
  }

  it('Redis: a list (RPUSH) and a stream (XADD); every event written while Redis was down arrives after its restart', { skip: need('redis-server') }, async () => {
    const port = await freePort();
    const broker = new Broker('redis', port, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work]);
    brokers.push(broker);
    await broker.start();
    const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await redis.connect();
    try {
      const list = await scenario(target('redis-list', 'redis', `redis://127.0.0.1:${port}`, { destination: 'trove:events' }), 5, 'list');
      const bodies = await until(async () => {
        const l = await redis.lrange('trove:events', 0, -1);
        return recordsOf(l).filter((r) => r.s3.bucket.name === list.bucket).length >= 6 ? l : undefined;
      }, 20_000, 'Redis list events');
      checkRecords(recordsOf(bodies), list.bucket, list.keys);

      const stream = await scenario(target('redis-stream', 'redis', `redis://127.0.0.1:${port}`, { destination: 'trove:stream', format: 'stream' }), 3, 'stream');
      const entries = await until(async () => {
        const xs = await redis.xrange('trove:stream', '-', '+');
        const bodies = xs.map(([, fields]) => fields[fields.indexOf('event') + 1]!);
        return recordsOf(bodies).filter((r) => r.s3.bucket.name === stream.bucket).length >= 4 ? xs : undefined;
      }, 20_000, 'Redis stream events');
      assert.equal(entries[0]![1][0], 'key');
      checkRecords(recordsOf(entries.map(([, f]) => f[3]!)), stream.bucket, stream.keys);

      // Outage under load: stop Redis, keep writing, restart it (empty: no persistence) → every
      // event written meanwhile is in the list.
      redis.disconnect();
      await broker.stop();
      const bucket = list.bucket;
      const N = 60;
      const writes = [];
      for (let i = 0; i < N; i++) writes.push(srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `outage/${i % 6}`, Body: `v${i}` })));
      await Promise.all(writes);
      await sleep(3000);
      const st = await srv.trove.app.meta.workStats();
      assert.ok((st.kinds.find((k) => k.kind === 'notify')?.depth ?? 0) >= N, 'queued while Redis is down');
      await broker.start();
      await redis.connect();
      const after = await until(async () => {
        const l = recordsOf(await redis.lrange('trove:events', 0, -1)).filter((r) => r.s3.object.key.startsWith('outage/'));
        return l.length >= N ? l : undefined;
      }, 60_000, 'events after the restart');
      assert.equal(new Set(after.map((r) => r.s3.object.sequencer)).size, N, 'each event written during the outage');
      for (let k = 0; k < 6; k++) {
        const seqs = after.filter((r) => r.s3.object.key === `outage/${k}`).map((r) => r.s3.object.sequencer);
        assert.deepEqual([...seqs].sort(), seqs, 'in order per key');
      }
    } finally {
      redis.disconnect();
    }
  });

  it('NATS: published on the subject', { skip: need('nats-server') }, async () => {
    const port = await freePort();
    const broker = new Broker('nats', port, 'nats-server', ['-a', '127.0.0.1', '-p', String(port)]);
    brokers.push(broker);
    await broker.start();
    const nc = await natsConnect({ servers: `127.0.0.1:${port}` });
    const got: string[] = [];
    const sub = nc.subscribe('trove.events');
    void (async () => {
      for await (const m of sub) got.push(m.string());
    })();
    await nc.flush();
    try {
      const s = await scenario(target('nats', 'nats', `nats://127.0.0.1:${port}`, { destination: 'trove.events' }), 5);
      await until(() => (recordsOf(got).filter((r) => r.s3.bucket.name === s.bucket).length >= 6 ? true : undefined), 20_000, 'NATS events');
      checkRecords(recordsOf(got), s.bucket, s.keys);
    } finally {
      await nc.close();
    }
  });

  it('MQTT: published with QoS 1 on the topic', { skip: need('mosquitto') }, async () => {
    const port = await freePort();
    const broker = new Broker('mqtt', port, 'mosquitto', ['-p', String(port)]);
    brokers.push(broker);
    await broker.start();
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    const got: string[] = [];
    client.on('message', (_t, payload) => got.push(payload.toString()));
    await client.subscribeAsync('trove/events', { qos: 1 });
    try {
      const s = await scenario(target('mqtt', 'mqtt', `mqtt://127.0.0.1:${port}`, { destination: 'trove/events' }), 5);
      await until(() => (recordsOf(got).filter((r) => r.s3.bucket.name === s.bucket).length >= 6 ? true : undefined), 20_000, 'MQTT events');
      checkRecords(recordsOf(got), s.bucket, s.keys);
    } finally {
      await client.endAsync();
    }
  });

  it('AMQP 0-9-1 (RabbitMQ): persistent messages with publisher confirms, to a queue', { skip: need('rabbitmq-server'), timeout: 240_000 }, async () => {
    const dir = path.join(work, 'rabbitmq');
    fs.mkdirSync(path.join(dir, 'mnesia'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'log'), { recursive: true });
    // The server script runs RabbitMQ as the rabbitmq user when started as root.
    fs.chmodSync(work, 0o777);
    for (const d of [dir, path.join(dir, 'mnesia'), path.join(dir, 'log')]) fs.chmodSync(d, 0o777);
    const port = await freePort();
    const distPort = await freePort();
    const broker = new Broker(
      'rabbitmq',
      port,
      'rabbitmq-server',
      [],
      {
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_NODENAME: `trove${process.pid}@localhost`,
        RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(dir, 'log'),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'plugins'),
        RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
        RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
        RABBITMQ_PID_FILE: path.join(dir, 'rabbit.pid'),
        HOME: dir,
      },
      60_000,
    );
    brokers.push(broker);
    await broker.start();
    let lastError = '';
    const conn = await until(
      () =>
        amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`).catch((e: Error) => {
          lastError = e.message;
          return undefined;
        }),
      90_000,
      'RabbitMQ accepting connections',
    ).catch((e: Error) => {
      throw new Error(`${e.message} (last: ${lastError}; logs in ${path.join(dir, 'log')}: ${fs.readdirSync(path.join(dir, 'log')).join(', ')})`);
    });
    conn.on('error', () => undefined);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.assertQueue('trove-events', { durable: true });
    const got: string[] = [];
    await ch.consume('trove-events', (m) => {
      if (m) {
        got.push(m.content.toString());
        ch.ack(m);
      }
    });
    try {
      const s = await scenario(target('amqp', 'amqp', `amqp://guest:guest@127.0.0.1:${port}`, { destination: 'trove-events' }), 5);
      await until(() => (recordsOf(got).filter((r) => r.s3.bucket.name === s.bucket).length >= 6 ? true : undefined), 30_000, 'AMQP events');
      checkRecords(recordsOf(got), s.bucket, s.keys);

      // Outage under load: kill RabbitMQ, keep writing, restart it → every event written meanwhile
      // arrives (the sender reconnects; the queue is durable, the messages persistent).
      await broker.stop();
      const N = 40;
      const writes = [];
      for (let i = 0; i < N; i++) writes.push(srv.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: `outage/${i % 4}`, Body: `v${i}` })));
      await Promise.all(writes);
      await broker.start();
      const conn2 = await until(() => amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`).catch(() => undefined), 60_000, 'RabbitMQ back');
      conn2.on('error', () => undefined);
      const again: string[] = [];
      const ch2 = await conn2.createChannel();
      // Whether or not the broker kept the queue through the crash: events it could not route were
      // returned to Trove, which retries them until the queue is there.
      await ch2.assertQueue('trove-events', { durable: true });
      await ch2.consume('trove-events', (m) => {
        if (m) {
          again.push(m.content.toString());
          ch2.ack(m);
        }
      });
      try {
        const recs = await until(() => {
          const l = recordsOf(again).filter((r) => r.s3.object.key.startsWith('outage/'));
          return new Set(l.map((r) => r.s3.object.sequencer)).size >= N ? l : undefined;
        }, 90_000, 'AMQP events after the restart');
        for (let k = 0; k < 4; k++) {
          const seqs = [...new Set(recs.filter((r) => r.s3.object.key === `outage/${k}`).map((r) => r.s3.object.sequencer))];
          assert.deepEqual([...seqs].sort(), seqs, 'in order per key');
        }
      } finally {
        await conn2.close();
      }
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it('PostgreSQL: rows in a table (created if missing)', { skip: postgresAvailable() ? false : process.env.CI ? undefined : 'PostgreSQL server binaries not found' }, async () => {
    if (!postgresAvailable()) throw new Error('PostgreSQL server binaries not found (CI must install them)');
    const url = await freshDatabase();
    const s = await scenario(target('pg', 'postgres', url, { destination: 'trove_events' }), 5);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = await until(async () => {
        const r = await client.query<{ key: string; event: unknown; event_time: Date }>('SELECT key, event, event_time FROM trove_events ORDER BY id').catch(() => undefined);
        return r && r.rows.length >= 7 ? r.rows : undefined;
      }, 20_000, 'PostgreSQL rows');
      // Rows are jsonb documents: Records[] as sent.
      checkRecords(rows.flatMap((r) => ((r.event as { Records?: Rec[] }).Records ?? [])), s.bucket, s.keys);
      assert.ok(rows.some((r) => r.key === 'o/1'));
    } finally {
      await client.end();
    }
  });
});
