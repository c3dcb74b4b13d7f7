import fs from 'node:fs';
import { open } from 'lmdb';
import { DkvError, ErrorCode } from '../errors.js';
import { MAX_KEY_BYTES } from './limits.js';
import { type LmdbDbs, lmdbMaxKeySize } from './lmdb-dbs.js';
import { LmdbNodeStore } from './lmdb-node-store.js';
import { STORAGE_FORMAT } from './meta-codec.js';
import { MetaStore } from './meta-store.js';

/** Options of openNodeStore. */
export interface OpenNodeStoreOptions {
  /** Initial LMDB map size (address space reserved for the data file); lmdb-js's default if unset. */
  mapSizeBytes?: number;
  /** Where to report opening and recovery facts (one line each). */
  log?: (msg: string) => void;
}

/**
 * Open (creating if needed) a node's LMDB environment in directory `path`
 * with its `log`, `meta` and `kv` DBs. Durability settings are lmdb-js's
 * defaults: overlappingSync on (commits are visible before they are flushed;
 * persist() waits for the flush) and no write map (useWritemap was seen to
 * leave a store unwritable after a power cut).
 */
export function openNodeStore(path: string, opts: OpenNodeStoreOptions = {}): LmdbNodeStore {
  fs.mkdirSync(path, { recursive: true });
  const env = open({
    path,
    // A path such as `data/node.db` would otherwise be taken as a file name.
    noSubdir: false,
    maxDbs: 4,
    useWritemap: false,
    ...(opts.mapSizeBytes !== undefined ? { mapSize: opts.mapSizeBytes } : {}),
  });
  try {
    const dbs: LmdbDbs = {
      env,
      log: env.openDB<Buffer, Buffer>({ name: 'log', keyEncoding: 'binary', encoding: 'binary' }),
      meta: env.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }),
      kv: env.openDB<Buffer, Buffer>({ name: 'kv', keyEncoding: 'binary', encoding: 'binary' }),
    };
    if (lmdbMaxKeySize(env) < MAX_KEY_BYTES) {
      // Every key the API accepts must be storable, or a committed put would stop every replica.
      throw new DkvError(
        ErrorCode.FailedPrecondition,
        `LMDB at ${path} accepts keys up to ${lmdbMaxKeySize(env)} bytes, below MAX_KEY_BYTES (${MAX_KEY_BYTES})`,
      );
    }
    const meta = new MetaStore(dbs.meta);
    const format = meta.format();
    if (format === null) {
      // A new environment: stamp the layout so a future incompatible one is refused, not misread.
      env.transactionSync(() => meta.setFormat(STORAGE_FORMAT));
    } else if (format !== STORAGE_FORMAT) {
      throw new DkvError(
        ErrorCode.FailedPrecondition,
        `storage at ${path} has format ${format}; this dkv reads format ${STORAGE_FORMAT}`,
      );
    }
    const store = new LmdbNodeStore(dbs, meta, opts.log);
    const hs = store.log.initialState().hardState;
    opts.log?.(
      `storage: opened ${path}: term ${hs.term}, commit ${hs.commit}, applied ${store.appliedIndex()}, ` +
        `log [${store.log.firstIndex()}, ${store.log.lastIndex()}]`,
    );
    return store;
  } catch (err) {
    void env.close();
    throw err;
  }
}
