export * from './store.ts';
export { openEmbeddedStore } from './embedded/embedded-store.ts';
