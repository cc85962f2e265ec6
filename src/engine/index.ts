// The durable work engine (runner.ts): handlers for kinds of work recorded in the metadata
// store's queue, claimed under leases by every process of every node.

export { Engine, backoffMs, type EngineOptions, type WorkContext, type WorkHandler, type WorkKindOptions } from './runner.js';
export type { NewWork, WorkItem, WorkStats, WorkKindStats, WriteOptions, WorkSpec, WriteEffect } from '../store/meta/types.js';
