/** The benchmark's disk figures: block requests from /proc/diskstats, durable writes from /metrics. */
import assert from 'node:assert/strict';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  blockDeviceOf,
  DiskSampler,
  type DiskStats,
  diskPerRequest,
  meanDurableWriteMs,
  parseDiskstats,
  parseHistogramTotals,
} from '../../scripts/bench/disk-stats.js';

// Two lines as Linux 6.x prints them (20 fields: with discards and flushes), one as Linux 4.x did.
const DISKSTATS = [
  ' 254       0 vda 29390 6360 887482 21882 9238274 81450 69160912 2824919 0 541956 3063057 9696 38 6250672 2074 1901552 214180',
  ' 254       1 vda1 100 0 800 10 200 0 1600 20 0 30 30 0 0 0 0 0 0',
  '   8       0 sdb 10 0 80 1 7 0 56 2 0 3 3',
].join('\n');

test('parseDiskstats takes write requests and flushes of the named device', () => {
  assert.deepEqual(parseDiskstats(DISKSTATS, 'vda'), { writes: 9238274, flushes: 1901552 });
  assert.deepEqual(parseDiskstats(DISKSTATS, 'vda1'), { writes: 200, flushes: 0 });
  // Before Linux 5.5 there are no flush counters: 0, not a misread field.
  assert.deepEqual(parseDiskstats(DISKSTATS, 'sdb'), { writes: 7, flushes: 0 });
  assert.equal(parseDiskstats(DISKSTATS, 'vd'), null);
});

test('parseHistogramTotals sums _count and _sum over label sets and ignores buckets', () => {
  const text = [
    '# HELP dkv_storage_fsync_duration_seconds Durable storage transactions',
    '# TYPE dkv_storage_fsync_duration_seconds histogram',
    'dkv_storage_fsync_duration_seconds_bucket{le="0.001"} 7',
    'dkv_storage_fsync_duration_seconds_bucket{le="+Inf"} 100',
    'dkv_storage_fsync_duration_seconds_sum 0.25',
    'dkv_storage_fsync_duration_seconds_count 100',
    '# TYPE etcd_disk_wal_fsync_duration_seconds histogram',
    'etcd_disk_wal_fsync_duration_seconds_bucket{x="1",le="+Inf"} 10',
    'etcd_disk_wal_fsync_duration_seconds_sum{x="1"} 1.5',
    'etcd_disk_wal_fsync_duration_seconds_count{x="1"} 10',
    'etcd_disk_wal_fsync_duration_seconds_bucket{x="2",le="+Inf"} 30',
    'etcd_disk_wal_fsync_duration_seconds_sum{x="2"} 0.5',
    'etcd_disk_wal_fsync_duration_seconds_count{x="2"} 30',
    '',
  ].join('\n');
  assert.deepEqual(parseHistogramTotals(text, 'dkv_storage_fsync_duration_seconds'), {
    count: 100,
    sum: 0.25,
  });
  assert.deepEqual(parseHistogramTotals(text, 'etcd_disk_wal_fsync_duration_seconds'), { count: 40, sum: 2 });
  assert.equal(parseHistogramTotals(text, 'dkv_missing_seconds'), null);
});

test('per request: disk rates over the request rate; mean durable write weighted by writes', () => {
  const disk: DiskStats = {
    device: 'vda',
    writesPerSecond: 5000,
    flushesPerSecond: 1000,
    servers: [
      { id: 'a', perSecond: 300, meanMs: 1 },
      { id: 'b', perSecond: 100, meanMs: 3 },
      { id: 'c', perSecond: 0, meanMs: Number.NaN },
    ],
  };
  assert.deepEqual(diskPerRequest(disk, 500), { writes: 10, flushes: 2, durableWrites: 0.8 });
  assert.equal(meanDurableWriteMs(disk), 1.5);
  assert.ok(Number.isNaN(diskPerRequest(disk, 0).writes));
  assert.ok(Number.isNaN(meanDurableWriteMs({ ...disk, servers: [] })));
});

test('blockDeviceOf names a device that /proc/diskstats lists', () => {
  const device = blockDeviceOf(tmpdir());
  // Some sandboxes keep /tmp on an overlay or tmpfs, with no block device behind it.
  if (device === null) return;
  assert.notEqual(parseDiskstats(readFileSync('/proc/diskstats', 'utf8'), device), null, device);
});

test('DiskSampler counts real fsyncs on the disk and durable writes scraped over HTTP', async () => {
  let count = 10;
  let sum = 0.01;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.end(
      `dkv_storage_fsync_duration_seconds_sum ${sum}\ndkv_storage_fsync_duration_seconds_count ${count}\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const restUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'disk-stats-test-'));
  try {
    const sampler = new DiskSampler(
      [
        { id: 'a', restUrl },
        { id: 'b', restUrl: 'http://127.0.0.1:1' },
      ],
      'dkv_storage_fsync_duration_seconds',
      dir,
    );
    await sampler.start();
    // Four durable writes of 2 ms each, as the server would time them, and real writes to disk.
    count += 4;
    sum += 0.008;
    const fd = openSync(join(dir, 'f'), 'w');
    for (let i = 0; i < 20; i++) {
      writeSync(fd, Buffer.alloc(4096, i));
      fsyncSync(fd);
    }
    closeSync(fd);
    const disk = await sampler.stop();
    assert.equal(disk.servers[0]!.id, 'a');
    assert.ok(Math.abs(disk.servers[0]!.meanMs - 2) < 1e-9, String(disk.servers[0]!.meanMs));
    assert.ok(disk.servers[0]!.perSecond > 0);
    // A server that does not answer has no figures rather than made-up ones.
    assert.ok(Number.isNaN(disk.servers[1]!.meanMs));
    assert.ok(Number.isNaN(disk.servers[1]!.perSecond));
    if (disk.device !== null) {
      // 20 fsyncs of new data: at least 20 write requests reached the device.
      assert.ok(disk.writesPerSecond > 0, `writes/s ${disk.writesPerSecond}`);
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
