// S3 access control lists: what a request asks for (canned ACL, grant headers, document), what
// is stored, what is rendered, and what an ACL allows. Pure functions; the handlers, the store
// and the authorisation pipeline call them.

export * from './types.js';
export * from './canned.js';
export * from './headers.js';
export * from './document.js';
export * from './resolve.js';
export * from './evaluate.js';
export * from './serialize.js';
