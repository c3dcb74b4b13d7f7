/** Where reflection finds proto/, and the errors that name what is missing. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { addReflectionService, findProtoDir } from '../../src/api/reflection.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

describe('server reflection set-up', () => {
  it('finds the repository proto/ from the sources and from any build directory below the repository', () => {
    assert.equal(findProtoDir(join(root, 'src', 'api')), join(root, 'proto'));
    assert.equal(findProtoDir(join(root, 'dist', 'api')), join(root, 'proto'));
    assert.equal(findProtoDir(join(root, '.scratch', 'compose-dist-1', 'api')), join(root, 'proto'));
    assert.equal(findProtoDir(), join(root, 'proto'));
  });

  it('finds nothing where no proto/ holds the files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dkv-noproto-'));
    try {
      assert.equal(findProtoDir(join(dir, 'dist', 'api')), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start without the .proto files, naming the problem', () => {
    const server = new grpc.Server();
    assert.throws(
      () => addReflectionService(server, null),
      /no proto\/ directory with dkv\/v0\/kvstore\.proto/,
    );
    assert.throws(
      () => addReflectionService(server, '/nonexistent/proto'),
      /cannot load the \.proto files from \/nonexistent\/proto .*must ship with dkv/,
    );
  });
});
