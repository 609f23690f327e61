// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { SettleTracker } = require('../../../nodes/lib/watch/settle');

const { sleep } = require('../../support/wait');

/**
 * A tracker over a fake disk (`files`: rel → {size, mtimeMs}) recording the batches it completes.
 * @param {number} settleMs
 */
function subject(settleMs = 100) {
    /** @type {Map<string, {size: number, mtimeMs: number}>} */
    const files = new Map();
    /** @type {any[][]} */
    const batches = [];
    let stats = 0;
    const tracker = new SettleTracker({
        settleMs,
        graceMs: 20,
        batch: 3,
        stat: async (rel) => {
            stats++;
            return files.get(rel);
        },
        complete: (list) => {
            batches.push(list);
        },
    });
    /** @param {string} rel @param {number} size @param {number} mtimeMs */
    const write = (rel, size, mtimeMs) => {
        files.set(rel, { size, mtimeMs });
        tracker.touch({ rel, size, mtimeMs });
    };
    return { tracker, files, batches, write, stats: () => stats };
}

describe('lib/watch/settle: when a file is complete', function () {
    it('holds everything until released, then completes each file once it has settled', async function () {
        const { tracker, batches, write } = subject();
        write('a.csv', 10, 1000);
        await sleep(200);
        assert.deepEqual(batches, [], 'held');
        tracker.release();
        write('b.csv', 20, 2000);
        await sleep(60);
        assert.deepEqual(batches, [[{ rel: 'a.csv', size: 10, mtimeMs: 1000 }]], 'a.csv settled while held; b.csv not yet');
        await sleep(150);
        assert.deepEqual(batches[1], [{ rel: 'b.csv', size: 20, mtimeMs: 2000 }]);
        tracker.close();
    });

    it('waits while a file keeps changing, even when no event says so, and completes it at its final size', async function () {
        const { tracker, batches, files, write } = subject(100);
        tracker.release();
        write('log.txt', 1, 1);
        // The writer appends without events (as on a share): the stat at the deadline sees it.
        for (let i = 2; i <= 6; i++) {
            await sleep(60);
            files.set('log.txt', { size: i, mtimeMs: i });
        }
        await sleep(400);
        assert.deepEqual(batches, [[{ rel: 'log.txt', size: 6, mtimeMs: 6 }]]);
        tracker.close();
    });

    it('keeps one entry per file, however many events it gets', async function () {
        const { tracker, write } = subject(10_000);
        tracker.release();
        for (let i = 0; i < 100_000; i++) write(`f${i % 3}`, i, i);
        assert.equal(tracker.size, 3);
        tracker.close();
        assert.equal(tracker.size, 0);
    });

    it('completes a burst in one sorted run, oldest mtime first, in batches of the given size', async function () {
        const { tracker, batches, write } = subject(50);
        tracker.release();
        const mtimes = [5, 3, 9, 1, 7, 3, 8];
        mtimes.forEach((m, i) => write(`f${i}`, 1, m));
        await sleep(250);
        assert.deepEqual(
            batches.map((b) => b.length),
            [3, 3, 1],
        );
        assert.deepEqual(
            batches.flat().map((f) => f.rel),
            ['f3', 'f1', 'f5', 'f0', 'f4', 'f6', 'f2'],
        );
        tracker.close();
    });

    it('drops a file that is gone, and one forgotten, and completes nothing after close', async function () {
        const { tracker, batches, files, write } = subject(50);
        tracker.release();
        write('gone', 1, 1);
        write('forgotten', 1, 1);
        write('late', 1, 1);
        files.delete('gone');
        tracker.forget('forgotten');
        tracker.close();
        await sleep(200);
        assert.deepEqual(batches, []);
    });
});
