export { default, createS3Client, honoursConditionalWrites } from "./plugin.js";
export type { S3SinkOptions } from "./plugin.js";
export { createS3Store, S3StoreError } from "./s3-store.js";
export type { S3ObjectStore, S3StoreOptions, ServerSideEncryption } from "./s3-store.js";
export { describeS3Failure } from "./errors.js";
export type { S3Action, FailureContext } from "./errors.js";
export { resolveOptions, OPTIONS_SCHEMA } from "./options.js";
export type { ResolvedS3Options } from "./options.js";
