// Notification targets: destinations the operator registers (trove admin target add), each with an
// ARN that bucket notification configurations name. Kept in the metadata store's settings
// (`notify.targets`), so every process and node sees the same ones. Each type publishes through
// the broker's maintained client library: webhook (node:http/https), AMQP 0-9-1 (amqplib), Redis
// (ioredis), NATS (nats), MQTT (mqtt), PostgreSQL (pg).
//
// A sender is connected lazily, kept while it works and dropped on any error (the next attempt
// reconnects); every publish waits for the broker's acknowledgement (publisher confirms, QoS 1,
// NATS flush, Redis reply, COMMIT), so a delivery that returns is in the broker.

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { MetaStore } from '../store/meta/types.js';

export const TARGETS_SETTING = 'notify.targets';
export const TARGET_TYPES = ['webhook', 'amqp', 'redis', 'nats', 'mqtt', 'postgres'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

export interface TargetDef {
  name: string;
  type: TargetType;
  arn: string;
  /** http(s)://…, amqp(s)://…, redis(s)://…, nats://…, mqtt(s)://…, postgres://… */
  endpoint: string;
  /**
   * Where in the broker: the AMQP routing key (the queue, through the default exchange), the
   * Redis key, the NATS subject, the MQTT topic, the PostgreSQL table. Unused by webhooks.
   */
  destination?: string;
  /** AMQP exchange (default: the default exchange ''). */
  exchange?: string;
  /** Redis: `list` (RPUSH, the default) or `stream` (XADD). */
  format?: 'list' | 'stream';
  /** Webhook: bearer token sent as Authorization. A secret: never printed. */
  token?: string;
  /** PEM of the CA to trust for TLS endpoints (besides the system's). */
  ca?: string;
  createdAt: number;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** The ARN of a target: arn:trove:sqs::<name>:<type> (any configuration kind may name it). */
export function targetArn(name: string, type: TargetType): string {
  return `arn:trove:sqs::${name}:${type}`;
}

const SCHEMES: Record<TargetType, RegExp> = {
  webhook: /^https?:$/,
  amqp: /^amqps?:$/,
  redis: /^rediss?:$/,
  nats: /^(nats|tls):$/,
  mqtt: /^(mqtts?|wss?):$/,
  postgres: /^postgres(ql)?:$/,
};

export class TargetError extends Error {}

/** Validates a target definition (as `trove admin target add` builds it). */
export function checkTarget(t: Omit<TargetDef, 'arn' | 'createdAt'>): void {
  if (!NAME_RE.test(t.name)) throw new TargetError('--name must be 1-64 letters, digits, - or _');
  if ((t.type as string) === 'kafka') {
    // Said plainly rather than "not one of": a Kafka client we could not test against a real
    // broker would not be honest (no Kafka broker is packaged where the tests run).
    throw new TargetError(`Kafka targets are not supported by this server; use one of ${TARGET_TYPES.join(', ')} (e.g. a webhook or AMQP bridge into Kafka)`);
  }
  if (!(TARGET_TYPES as readonly string[]).includes(t.type)) throw new TargetError(`--type must be one of ${TARGET_TYPES.join(', ')}`);
  let url: URL;
  try {
    url = new URL(t.endpoint);
  } catch {
    throw new TargetError(`--endpoint is not a URL: ${redact(t.endpoint)}`);
  }
  if (!SCHEMES[t.type].test(url.protocol)) throw new TargetError(`--endpoint of a ${t.type} target cannot be ${url.protocol}//…`);
  if (t.type !== 'webhook' && !t.destination) throw new TargetError(`a ${t.type} target needs --destination (${DEST_HELP[t.type]})`);
  if (t.type === 'postgres' && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(t.destination!)) throw new TargetError('--destination of a postgres target is a table name (letters, digits, _)');
  if (t.format !== undefined && t.format !== 'list' && t.format !== 'stream') throw new TargetError('--format must be list or stream');
  if (t.token !== undefined && t.type !== 'webhook') throw new TargetError('--token applies to webhook targets');
}

const DEST_HELP: Record<TargetType, string> = {
  webhook: '',
  amqp: 'the routing key: a queue name with the default exchange',
  redis: 'the key of the list or stream',
  nats: 'the subject',
  mqtt: 'the topic',
  postgres: 'the table, created if missing',
};

/** A URL with its password (and any user info) hidden. */
export function redact(endpoint: string): string {
  return endpoint.replace(/\/\/[^@/]*@/, '//…@');
}

export async function loadTargets(meta: MetaStore): Promise<TargetDef[]> {
  const raw = await meta.getSetting(TARGETS_SETTING);
  if (!raw) return [];
  return (JSON.parse(raw) as { targets: TargetDef[] }).targets;
}

export async function saveTargets(meta: MetaStore, targets: TargetDef[]): Promise<void> {
  await meta.putSetting(TARGETS_SETTING, JSON.stringify({ targets }));
}

/** Reads a --ca file for storing with the target. */
export function readCa(file: string): string {
  const pem = readFileSync(file, 'utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new TargetError(`${file} holds no PEM certificate`);
  return pem;
}

// ------------------------------------------------------------------------------------ senders

export interface Sender {
  /** Publishes one message; resolves once the broker acknowledged it. */
  send(body: string, key: string): Promise<void>;
  close(): Promise<void>;
}

/** How long one delivery may take before it counts as failed (and is retried). */
export const SEND_TIMEOUT_MS = 10_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

class WebhookSender implements Sender {
  private readonly agent: http.Agent;
  constructor(private readonly t: TargetDef) {
    const url = new URL(t.endpoint);
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(t.ca ? { ca: t.ca } : {}) }) : new http.Agent({ keepAlive: true });
  }
  send(body: string): Promise<void> {
    const url = new URL(this.t.endpoint);
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': 'Trove-Notifications' };
    if (this.t.token) headers.Authorization = `Bearer ${this.t.token}`;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method: 'POST', headers, agent: this.agent, timeout: SEND_TIMEOUT_MS }, (res) => {
        res.resume();
        res.on('end', () => {
          const s = res.statusCode ?? 0;
          if (s >= 200 && s < 300) resolve();
          else reject(new Error(`webhook ${redact(this.t.endpoint)} answered ${s}`));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`webhook ${redact(this.t.endpoint)}: no answer within ${SEND_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
  async close(): Promise<void> {
    this.agent.destroy();
  }
}

async function amqpSender(t: TargetDef): Promise<Sender> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(t.endpoint, { timeout: SEND_TIMEOUT_MS, ...(t.ca ? { ca: [t.ca] } : {}) });
  let broken: Error | undefined;
  conn.on('error', (e: Error) => (broken = e));
  conn.on('close', () => (broken ??= new Error('AMQP connection closed')));
  const ch = await conn.createConfirmChannel();
  ch.on('error', (e: Error) => (broken = e));
  ch.on('close', () => (broken ??= new Error('AMQP channel closed')));
  // Mandatory: a message no queue takes (the queue is missing, say after a broker lost it) comes
  // back (basic.return, before its confirm) instead of being confirmed and dropped.
  const returned = new Set<string>();
  ch.on('return', (m: { properties: { messageId?: string } }) => {
    if (m.properties.messageId) returned.add(m.properties.messageId);
  });
  let seq = 0;
  return {
    async send(body) {
      if (broken) throw broken;
      const messageId = `${process.pid}-${Date.now()}-${++seq}`;
      ch.publish(t.exchange ?? '', t.destination!, Buffer.from(body), { persistent: true, mandatory: true, contentType: 'application/json', messageId });
      await withTimeout(ch.waitForConfirms(), SEND_TIMEOUT_MS, 'AMQP confirm');
      if (returned.delete(messageId)) throw new Error(`AMQP: no queue took the message (exchange "${t.exchange ?? ''}", routing key "${t.destination}")`);
    },
    async close() {
      await conn.close().catch(() => undefined);
    },
  };
}

async function redisSender(t: TargetDef): Promise<Sender> {
  const { Redis } = await import('ioredis');
  const client = new Redis(t.endpoint, {
    lazyConnect: true,
    // Fail fast and let the engine retry: no offline queue, no reconnect loop of its own.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: SEND_TIMEOUT_MS,
    ...(t.ca ? { tls: { ca: t.ca } } : {}),
  });
  client.on('error', () => undefined);
  await client.connect();
  return {
    async send(body, key) {
      if (client.status !== 'ready') throw new Error(`Redis connection is ${client.status}`);
      if (t.format === 'stream') await withTimeout(client.xadd(t.destination!, '*', 'key', key, 'event', body), SEND_TIMEOUT_MS, 'Redis XADD');
      else await withTimeout(client.rpush(t.destination!, body), SEND_TIMEOUT_MS, 'Redis RPUSH');
    },
    async close() {
      client.disconnect();
    },
  };
}

async function natsSender(t: TargetDef): Promise<Sender> {
  const { connect } = await import('nats');
  const url = new URL(t.endpoint);
  const nc = await connect({
    servers: `${url.hostname}:${url.port || 4222}`,
    reconnect: false,
    timeout: SEND_TIMEOUT_MS,
    ...(url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'tls:' || t.ca ? { tls: t.ca ? { ca: t.ca } : {} } : {}),
  });
  return {
    async send(body) {
      if (nc.isClosed()) throw new Error('NATS connection closed');
      nc.publish(t.destination!, body);
      // The server has it once a PING sent after it is answered.
      await withTimeout(nc.flush(), SEND_TIMEOUT_MS, 'NATS flush');
    },
    async close() {
      await nc.close().catch(() => undefined);
    },
  };
}

async function mqttSender(t: TargetDef): Promise<Sender> {
  const mqtt = await import('mqtt');
  const client = await withTimeout(
    mqtt.connectAsync(t.endpoint, { reconnectPeriod: 0, connectTimeout: SEND_TIMEOUT_MS, clean: true, ...(t.ca ? { ca: t.ca } : {}) }, false),
    SEND_TIMEOUT_MS + 1000,
    'MQTT connect',
  );
  client.on('error', () => undefined);
  return {
    async send(body) {
      if (!client.connected) throw new Error('MQTT connection closed');
      // QoS 1: resolved on the broker's PUBACK.
      await withTimeout(client.publishAsync(t.destination!, body, { qos: 1 }), SEND_TIMEOUT_MS, 'MQTT publish');
    },
    async close() {
      await client.endAsync(true).catch(() => undefined);
    },
  };
}

async function postgresSender(t: TargetDef): Promise<Sender> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: t.endpoint, connectionTimeoutMillis: SEND_TIMEOUT_MS, ...(t.ca ? { ssl: { ca: t.ca } } : {}) });
  let broken: Error | undefined;
  client.on('error', (e) => (broken = e));
  client.on('end', () => (broken ??= new Error('PostgreSQL connection ended')));
  await client.connect();
  const table = `"${t.destination!}"`;
  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigserial PRIMARY KEY, event_time timestamptz NOT NULL, key text NOT NULL, event jsonb NOT NULL)`);
  return {
    async send(body, key) {
      if (broken) throw broken;
      const time = (JSON.parse(body) as { Records?: { eventTime?: string }[]; Time?: string }).Records?.[0]?.eventTime ?? new Date().toISOString();
      await withTimeout(client.query(`INSERT INTO ${table} (event_time, key, event) VALUES ($1, $2, $3)`, [time, key, body]), SEND_TIMEOUT_MS, 'PostgreSQL insert');
    },
    async close() {
      await client.end().catch(() => undefined);
    },
  };
}

/** Connects a sender for a target (throws when the broker cannot be reached). */
export async function connectSender(t: TargetDef): Promise<Sender> {
  switch (t.type) {
    case 'webhook':
      return new WebhookSender(t);
    case 'amqp':
      return amqpSender(t);
    case 'redis':
      return redisSender(t);
    case 'nats':
      return natsSender(t);
    case 'mqtt':
      return mqttSender(t);
    case 'postgres':
      return postgresSender(t);
  }
}
