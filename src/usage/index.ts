// Usage reports: per account, bucket and user, per hour, requests by operation class (classes.ts),
// bytes in and out, errors (counted in memory, flushed: recorder.ts), stored bytes and objects by
// storage class (hourly snapshots: service.ts), queried as JSON or CSV (report.ts).

export { CLASS_OF, OPERATION_CLASSES, operationClass, type OperationClass } from './classes.js';
export { HOUR_MS, hourOf, principalName, UsageRecorder } from './recorder.js';
export { HOURLY_KIND, UsageService, type UsageOptions } from './service.js';
export {
  CSV_COLUMNS,
  MAX_REPORT_DAYS,
  USAGE_QUERY_PARAMETERS,
  USAGE_REPORT_SCHEMA,
  UsageQueryError,
  parseUsageQuery,
  queryUsage,
  usageCsv,
  usageReport,
  type UsageDeps,
  type UsageFormat,
  type UsageGranularity,
  type UsageQuery,
  type UsageReport,
  type UsageRequestEntry,
  type UsageStorageEntry,
} from './report.js';
