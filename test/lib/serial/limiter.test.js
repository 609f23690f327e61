// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { Limiter } = require('../../../nodes/lib/serial/limiter');

const tick = () => new Promise((r) => setImmediate(r));

describe('lib/serial/limiter: at most N at once, the rest in arrival order', function () {
    it('runs at most `limit` tasks and starts the waiting ones first in, first out', async function () {
        const limiter = new Limiter(2);
        /** @type {Array<() => void>} */ const finish = [];
        /** @type {number[]} */ const started = [];
        const runs = [0, 1, 2, 3, 4].map((i) =>
            limiter.run(() => {
                started.push(i);
                return new Promise((resolve) => finish.push(() => resolve(i)));
            }),
        );
        await tick();
        assert.deepEqual(started, [0, 1]);
        assert.equal(limiter.queued, 3);
        finish[1]();
        await tick();
        assert.deepEqual(started, [0, 1, 2]);
        finish[0]();
        finish[2]();
        await tick();
        assert.deepEqual(started, [0, 1, 2, 3, 4]);
        finish[3]();
        finish[4]();
        assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
    });

    it('frees the slot of a task that fails, and drops a waiting task whose signal aborts', async function () {
        const limiter = new Limiter(1);
        await assert.rejects(
            limiter.run(async () => {
                throw new Error('x');
            }),
            /x/,
        );
        let release = () => {};
        const first = limiter.run(() => new Promise((r) => (release = () => r(undefined))));
        const ctl = new AbortController();
        const waiting = limiter.run(async () => 'never', ctl.signal);
        ctl.abort();
        await assert.rejects(waiting, (/** @type {any} */ e) => e.code === 'ABORTED');
        assert.equal(limiter.queued, 0);
        release();
        await first;
        assert.equal(await limiter.run(async () => 'next'), 'next');
    });
});
