export * from './types.js';
export { EtcdStore, type EtcdStoreOptions } from './etcd.js';
export { MemoryStore, type MemoryStoreOptions } from './memory.js';
export * from './status.js';
