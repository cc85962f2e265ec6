// S3's event names and the event record JSON, as Amazon S3 sends them.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html

/** Every event S3 notifies about (the wildcards s3:ObjectCreated:* … cover their family). */
export const EVENT_NAMES: readonly string[] = [
  's3:TestEvent',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:ReducedRedundancyLostObject',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationMissedThreshold',
  's3:Replication:OperationReplicatedAfterThreshold',
  's3:Replication:OperationNotTracked',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:LifecycleTransition',
  's3:IntelligentTiering',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
  's3:ObjectAcl:Put',
];

/** The event names this server emits (others are accepted in configurations, reserved). */
export type EmittedEvent =
  | 's3:ObjectCreated:Put'
  | 's3:ObjectCreated:Post'
  | 's3:ObjectCreated:Copy'
  | 's3:ObjectCreated:CompleteMultipartUpload'
  | 's3:ObjectRemoved:Delete'
  | 's3:ObjectRemoved:DeleteMarkerCreated'
  | 's3:ObjectRestore:Post'
  | 's3:ObjectRestore:Completed'
  | 's3:ObjectRestore:Delete'
  | 's3:LifecycleExpiration:Delete'
  | 's3:LifecycleExpiration:DeleteMarkerCreated'
  | 's3:LifecycleTransition'
  | 's3:ObjectTagging:Put'
  | 's3:ObjectTagging:Delete'
  | 's3:ObjectAcl:Put'
  | 's3:Replication:OperationFailedReplication'
  | 's3:Replication:OperationMissedThreshold'
  | 's3:Replication:OperationReplicatedAfterThreshold'
  | 's3:Replication:OperationNotTracked';

/**
 * S3's eventVersion: 2.1 for most events, 2.2 for replication, 2.3 for lifecycle, tagging, ACL
 * and restore-delete events (the versions S3 documents for the 2.1 structure).
 */
export function eventVersion(event: string): string {
  if (event.startsWith('s3:Replication:')) return '2.2';
  if (event.startsWith('s3:Lifecycle') || event.startsWith('s3:ObjectTagging:') || event === 's3:ObjectAcl:Put' || event === 's3:ObjectRestore:Delete') return '2.3';
  return '2.1';
}

/**
 * The object key as S3 writes it in event records: URL-encoded as a form value (a space is `+`),
 * `/` kept. "red flower.jpg" → "red+flower.jpg".
 */
export function encodeEventKey(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.*/]/.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

let lastSeq = 0n;
/**
 * A sequencer: a hex string that grows with each event this process records (ms clock · 2^16 +
 * a counter), so that of two events of one key the later has the greater value, compared as S3
 * says (pad the shorter with leading zeros, compare as strings).
 */
export function nextSequencer(now = Date.now()): string {
  let s = BigInt(now) << 16n;
  if (s <= lastSeq) s = lastSeq + 1n;
  lastSeq = s;
  return s.toString(16).toUpperCase().padStart(18, '0');
}

/** What a record says about who asked and how. */
export interface EventRequest {
  /** userIdentity.principalId */
  principalId: string;
  sourceIp: string;
  requestId: string;
  hostId: string;
}

export interface EventObject {
  key: string;
  size?: number;
  etag?: string;
  /** Omitted for null versions (unversioned buckets), as S3 does. */
  versionId?: string;
  sequencer: string;
}

export interface EventBucket {
  name: string;
  /** ownerIdentity.principalId */
  owner: string;
}

/** One record of the Records[] S3 sends. */
export function eventRecord(
  event: string,
  region: string,
  time: number,
  req: EventRequest,
  configurationId: string,
  bucket: EventBucket,
  object: EventObject,
  /** What some events add beside `s3`: glacierEventData, lifecycleEventData, replicationEventData. */
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  const obj: Record<string, unknown> = { key: encodeEventKey(object.key) };
  if (object.size !== undefined) obj.size = object.size;
  if (object.etag !== undefined) obj.eTag = object.etag;
  if (object.versionId !== undefined && object.versionId !== 'null') obj.versionId = object.versionId;
  obj.sequencer = object.sequencer;
  return {
    eventVersion: eventVersion(event),
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: new Date(time).toISOString(),
    eventName: event.slice(3),
    userIdentity: { principalId: req.principalId },
    requestParameters: { sourceIPAddress: req.sourceIp },
    responseElements: { 'x-amz-request-id': req.requestId, 'x-amz-id-2': req.hostId },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId,
      bucket: { name: bucket.name, ownerIdentity: { principalId: bucket.owner }, arn: `arn:aws:s3:::${bucket.name}` },
      object: obj,
    },
    ...extra,
  };
}

/** The message S3 sends to each destination when a configuration is put. */
export function testEvent(bucket: string, time: number, requestId: string, hostId: string): Record<string, unknown> {
  return { Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date(time).toISOString(), Bucket: bucket, RequestId: requestId, HostId: hostId };
}
