export { PreconditionFailedError, isPreconditionFailed, compareKeys, JSON_CONTENT_TYPE } from "./store.js";
export type { ObjectStore, StoredObject, PutOptions, ListOptions, Precondition, UpdateResult } from "./store.js";
export { validateHostname, hostnameProblem, fitsUtf8Bytes, MAX_HOSTNAME_BYTES } from "./hostname.js";
export {
  LIST_KEY,
  HISTORY_FOLDER,
  normalizePrefix,
  keyTimestamp,
  collisionSuffix,
  latestKey,
  historyPrefix,
  historyKey,
  historyKeyTime,
  listKey,
  corruptListKey,
  probeKey,
} from "./keys.js";
export {
  mergeHostList,
  readHostList,
  updateHostList,
  ensureHostListed,
  parseListTimestamp,
  isoSecond,
  HostListConflictError,
  logHostListUpdate,
  HOST_LIST_MAX_AGE_MS,
  HOST_LIST_MAX_FUTURE_MS,
  MAX_COLLISION_ATTEMPTS,
} from "./host-list.js";
export type { HostList, HostListLogger, HostListReading, HostListMerge, HostListUpdate, UpdateHostListOptions } from "./host-list.js";
export { writeSample, createSampleWriter, latestModeFor } from "./write-sample.js";
export { NODE_TIMERS } from "./host-list-keeper.js";
export type { RefreshTimers } from "./host-list-keeper.js";
export type { SampleDocument, WriteSampleOptions, WrittenSample, SampleWriter, SampleWriterOptions, WrittenTick, LatestMode } from "./write-sample.js";
