// Target definitions (src/notify/targets.ts): what `trove admin target add` accepts and refuses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTarget, TargetError, type TargetType } from '../../src/notify/targets.js';

describe('notification targets', () => {
  it('a Kafka target is refused with a message that says so', () => {
    assert.throws(
      () => checkTarget({ name: 'k', type: 'kafka' as TargetType, endpoint: 'kafka://127.0.0.1:9092', destination: 'events' }),
      (e: unknown) => e instanceof TargetError && /Kafka targets are not supported/.test(e.message),
    );
  });
  it('an unknown type lists the types there are; a webhook is accepted', () => {
    assert.throws(() => checkTarget({ name: 'x', type: 'sqs' as TargetType, endpoint: 'https://example.com/' }), /--type must be one of webhook, amqp/);
    checkTarget({ name: 'w', type: 'webhook', endpoint: 'https://example.com/hook' });
  });
});
