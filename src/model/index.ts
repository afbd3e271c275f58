export * from './alert.js';
export * from './destination.js';
export * from './duration.js';
export * from './hash.js';
export * from './keys.js';
export * from './object.js';
export * from './policy.js';
export * from './severity.js';
export { describeType, fieldPath, isJsonObject, quote, type JsonObject } from './json.js';
