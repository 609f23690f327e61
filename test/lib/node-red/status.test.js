// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { ActivityStatus, LatestStatus } = require('../../../nodes/lib/node-red/status');

const { sleep } = require('../../support/wait');

/** An ActivityStatus on a clock the test moves, recording what it paints. */
function subject() {
    /** @type {any[]} */
    const painted = [];
    const clock = { t: 1_000_000 };
    const text = (/** @type {string} */ key, /** @type {any} */ params) =>
        `${key.replace(/^shared:/, '')}${params ? ` ${JSON.stringify(params)}` : ''}`;
    const status = new ActivityStatus(
        (s) => painted.push(s),
        text,
        { working: 'status.uploading', done: 'status.done' },
        () => clock.t,
    );
    return { status, painted, clock };
}

describe('lib/node-red/status: what the node shows, and how often', function () {
    it('paints "uploading" once for a burst, and "uploaded" when the last one is done', function () {
        const { status, painted } = subject();
        for (let i = 0; i < 100; i++) status.start();
        for (let i = 0; i < 100; i++) {
            status.end();
            status.done();
        }
        assert.deepEqual(
            painted.map((s) => s.text),
            ['status.uploading', 'status.done'],
        );
    });

    it('shows progress at most once per second', function () {
        const { status, painted, clock } = subject();
        status.start();
        for (let sent = 1; sent <= 100; sent++) {
            clock.t += 50;
            status.progress(sent, 100);
        }
        // 5 s of progress: one repaint per second at most.
        assert.equal(painted.filter((s) => /progress/.test(s.text)).length, 5);
    });

    it('repaints the outbox count at most once per second, ending on the latest count', async function () {
        const { status, painted, clock } = subject();
        for (let depth = 1; depth <= 50; depth++) status.queue({ depth, inFlight: 0, state: 'online' });
        assert.deepEqual(
            painted.map((s) => s.text),
            ['status.queued {"count":1,"age":""}'],
        );
        clock.t += 1000;
        await sleep(1050); // the trailing repaint, with the count as it is by then
        assert.deepEqual(
            painted.map((s) => s.text),
            ['status.queued {"count":1,"age":""}', 'status.queued {"count":50,"age":""}'],
        );
    });

    it('shows going offline at once, whatever was painted just before', function () {
        const { status, painted } = subject();
        status.queue({ depth: 3, inFlight: 1, state: 'online' });
        status.queue({ depth: 3, inFlight: 0, state: 'offline', code: 'CONNECTION_FAILED' });
        assert.deepEqual(
            painted.map((s) => [s.fill, s.text]),
            [
                ['blue', 'status.queued {"count":3,"age":""}'],
                ['red', 'status.offline {"code":"CONNECTION_FAILED","count":3,"age":""}'],
            ],
        );
    });

    it('adds how long the oldest job has waited, once that is a minute or more', function () {
        const { status, painted, clock } = subject();
        status.queue({ depth: 2, inFlight: 0, state: 'offline', code: 'CONNECT_TIMEOUT', oldest: new Date(clock.t - 5 * 60_000).toISOString() });
        assert.equal(painted.at(-1).text, 'status.offline {"code":"CONNECT_TIMEOUT","count":2,"age":", 5 min"}');
    });

    it('shows a held queue and a paused one with their cause and count', function () {
        const { status, painted } = subject();
        status.queue({ depth: 4, inFlight: 0, state: 'held', code: 'UNAUTHORIZED' });
        status.queue({ depth: 4, inFlight: 0, state: 'paused' });
        assert.deepEqual(
            painted.map((s) => [s.fill, s.text]),
            [
                ['yellow', 'status.held {"code":"UNAUTHORIZED","count":4,"age":""}'],
                ['grey', 'status.paused {"count":4,"age":""}'],
            ],
        );
    });

    it('clears the status at close, with any repaint still due, and paints nothing after', async function () {
        const { status, painted } = subject();
        status.start();
        status.queue({ depth: 1, inFlight: 0, state: 'online' });
        status.queue({ depth: 2, inFlight: 0, state: 'online' });
        status.clear();
        // An upload the close aborted ends now.
        status.end();
        status.failed('ABORTED');
        await sleep(1100);
        assert.deepEqual(
            painted.map((s) => s.text),
            ['status.uploading', 'status.queued {"count":1,"age":""}', undefined],
        );
    });
});

describe('lib/node-red/status: LatestStatus, for counts and names that change often', function () {
    it('paints at most once a second with the latest last, urgent ones at once, nothing twice or after close', async function () {
        /** @type {any[]} */
        const painted = [];
        const clock = { t: 1_000_000 };
        const status = new LatestStatus(
            (s) => painted.push(s),
            () => clock.t,
        );
        for (let i = 1; i <= 400; i++) status.set({ fill: 'green', shape: 'dot', text: `sent: f${i}` });
        assert.deepEqual(
            painted.map((s) => s.text),
            ['sent: f1'],
        );
        clock.t += 1000;
        await sleep(1050);
        assert.deepEqual(
            painted.map((s) => s.text),
            ['sent: f1', 'sent: f400'],
        );
        status.set({ fill: 'yellow', shape: 'ring', text: 'folder missing' }, true);
        status.set({ fill: 'yellow', shape: 'ring', text: 'folder missing' }, true);
        assert.equal(painted.length, 3);
        status.set({ fill: 'green', shape: 'ring', text: 'watching 3 files' });
        status.clear();
        await sleep(1050);
        assert.deepEqual(painted.at(-1), {});
        assert.equal(painted.length, 4);
    });
});
