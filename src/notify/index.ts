// Event notifications (see notifier.ts): bucket configurations (config.ts), S3's event records
// (events.ts), operator-registered targets and their senders (targets.ts).

export { Notifier, NOTIFY_KIND, type NotifyPayload, type ObjectFacts, type NotifierOptions } from './notifier.js';
export { type NotificationConfig, serializeNotification, deserializeNotification } from './config.js';
export { type EmittedEvent, type EventRequest } from './events.js';
