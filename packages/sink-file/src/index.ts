export { default } from "./plugin.js";
export type { FileSinkOptions } from "./plugin.js";
export { createFileStore, fileKeyProblem } from "./file-store.js";
export type { FileStoreOptions } from "./file-store.js";
