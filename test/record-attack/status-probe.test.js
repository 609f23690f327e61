// @ts-check
'use strict';
/** Status texts: recording / queued: N / recorded / failed: CODE. */
const assert = require('node:assert/strict');
const { setup, until, sleep } = require('../support/record-flow');

describe('record node under attack: status', function () {
    this.timeout(30000);
    const ctx = setup(this);
    it('shows failed: UNIT_NOT_FOUND, queued: N while Serial is down, then recorded', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        /** @type {any[]} */ const seen = [];
        f.rec.on('call:status', (/** @type {any} */ c) => seen.push(c.args[0]));
        await f.record({ payload: { identifier: 'SN-NOPE', data: { V: 1 } } });
        await sleep(200);
        const texts = () => seen.map((s) => s && s.text).filter(Boolean);
        assert.ok(
            texts().some((t) => /UNIT_NOT_FOUND/.test(t)),
            JSON.stringify(texts()),
        );
        await ctx.serial.setDown(true);
        f.rec.receive({ payload: { identifier: 'SN-0042', data: { V: 1 } } });
        f.rec.receive({ payload: { identifier: 'SN-0043', data: { V: 1 } } });
        await sleep(2500);
        assert.ok(
            texts().some((t) => /2 queued|queued: ?2/.test(t)),
            JSON.stringify(texts()),
        );
        await ctx.serial.setDown(false);
        await until(() => f.outputs.length === 2, 20000, 'recorded');
        await sleep(300);
        assert.match(texts().at(-1), /recorded$/, JSON.stringify(texts()));
    });
});
