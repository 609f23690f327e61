// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { InOrder } = require('../../../nodes/lib/outbox/in-order');

const later = (/** @type {number} */ ms, /** @type {unknown} */ value, fail = false) =>
    new Promise((resolve, reject) => setTimeout(() => (fail ? reject(value) : resolve(value)), ms));

describe('lib/outbox/in-order: admission in arrival order', function () {
    it('hands values on in the order they were added, not the order they were ready', async function () {
        const order = new InOrder();
        /** @type {string[]} */
        const handed = [];
        const results = ['slow', 'fast', 'instant'].map((name, i) =>
            order.add(later([30, 5, 0][i], name), async (v) => {
                handed.push(/** @type {string} */ (v));
                return `${v}!`;
            }),
        );
        assert.deepEqual(await Promise.all(results), ['slow!', 'fast!', 'instant!']);
        assert.deepEqual(handed, ['slow', 'fast', 'instant']);
    });

    it('does not wait for the work an earlier entry started', async function () {
        const order = new InOrder();
        /** @type {string[]} */
        const events = [];
        const first = order.add(Promise.resolve(1), async () => {
            events.push('first started');
            await later(30, null);
            events.push('first finished');
        });
        const second = order.add(Promise.resolve(2), async () => void events.push('second started'));
        await Promise.all([first, second]);
        assert.deepEqual(events, ['first started', 'second started', 'first finished']);
    });

    it('passes a failed preparation to its own caller only, in its turn, never as an unhandled rejection', async function () {
        /** @type {unknown[]} */
        const unhandled = [];
        const onUnhandled = (/** @type {unknown} */ reason) => unhandled.push(reason);
        process.on('unhandledRejection', onUnhandled);
        after(() => process.off('unhandledRejection', onUnhandled));
        const order = new InOrder();
        /** @type {unknown[]} */
        const handed = [];
        const a = order.add(later(20, 'a'), async (v) => void handed.push(v));
        const b = order.add(later(0, new Error('b failed'), true), async (v) => void handed.push(v));
        const c = order.add(later(0, 'c'), async (v) => void handed.push(v));
        await assert.rejects(b, /b failed/);
        await Promise.all([a, c]);
        assert.deepEqual(handed, ['a', 'c']);
        await later(10, null);
        assert.deepEqual(unhandled, []);
    });
});
