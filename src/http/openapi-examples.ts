// Examples for the OpenAPI document by operationId (a request body, the 200 answer), taken from
// real answers by scripts/openapi-examples.ts.
import examples from './openapi-examples.json' with { type: 'json' };

export const EXAMPLES: Record<string, { request?: unknown; response?: unknown }> = examples;
