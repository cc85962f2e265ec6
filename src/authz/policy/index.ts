// The IAM policy language and AWS's evaluation logic: pure functions over typed inputs.
// Parse once (parsePolicy), evaluate per request (evaluatePolicy, decide).

export { PolicyError } from './errors.js';
export {
  parsePolicy,
  coversBucket,
  policySize,
  POLICY_SIZE_LIMITS,
  type Policy,
  type PolicyKind,
  type PolicyVersion,
  type Effect,
  type Statement,
  type ParseOptions,
  type ActionCatalog,
  type CatalogAction,
} from './document.js';
export { principalKeys, rootArn, type RequestContext, type RequestPrincipal, type PrincipalKind, type PrincipalSession, type ContextKeys } from './context.js';
export { evaluatePolicy, statementApplies, decide, type DecisionInput, type Decision, type DecisionSource } from './evaluate.js';
export { isPublicPolicy, isPublicStatement } from './public.js';
