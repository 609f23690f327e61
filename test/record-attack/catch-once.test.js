// @ts-check
'use strict';
/** Errors reach Catch once, with a code; no API key anywhere (msg, status, outbox files); Serial down with outbox off/on. */
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { setup, sleep, until } = require('../support/record-flow');
const { API_KEY } = require('../support/secrets');

function walk(/** @type {string} */ d) {
    /** @type {string[]} */ const out = [];
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) out.push(...walk(p));
        else out.push(p);
    }
    return out;
}

describe('record node under attack: Catch once, no key (these held up)', function () {
    const ctx = setup(this);
    for (const outbox of ['off', 'disk']) {
        it(`UNIT_NOT_FOUND reaches Catch exactly once (outbox ${outbox}), no key anywhere`, async function () {
            const f = await ctx.flow({ outbox });
            const { ok, msg } = await f.record({
                payload: { identifier: 'SN-NOPE', data: { V: 1, F: { file: Buffer.from('x'), filename: 'a.txt' } } },
            });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'UNIT_NOT_FOUND');
            await sleep(1500);
            assert.equal(f.errors.length, 1);
            assert.ok(!JSON.stringify(msg).includes(API_KEY));
            for (const file of walk(ctx.dir)) assert.ok(!fs.readFileSync(file).includes(API_KEY), file);
        });
    }
    it('Serial down, outbox off: CONNECTION_FAILED once; nothing created', async function () {
        const f = await ctx.flow({ outbox: 'off' });
        await ctx.serial.setDown(true);
        try {
            const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { V: 1 } } });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'CONNECTION_FAILED');
            await sleep(1000);
            assert.equal(f.errors.length, 1);
        } finally {
            await ctx.serial.setDown(false);
        }
    });
    it('Serial down, outbox disk: 3 records of the same unit queued, then recorded as 3 entries, in order', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        await ctx.serial.setDown(true);
        for (let i = 0; i < 3; i++) f.rec.receive({ payload: { identifier: 'SN-0042', timestamp: `2026-12-02T10:0${i}:00Z`, data: { V: i } } });
        await sleep(1500);
        await ctx.serial.setDown(false);
        await until(() => f.outputs.length + f.errors.length >= 3, 25000, 'three outcomes');
        assert.equal(f.errors.length, 0);
        const entries = ctx.entries();
        assert.equal(entries.length, 3);
        // Entries may reach Serial in another order (records only *start* in arrival order); each keeps its own time and value.
        const got = entries.map((/** @type {any} */ e) => [e.timestamp, e.data.map((/** @type {any} */ d) => d.value), e.is_complete]).sort();
        assert.deepEqual(got, [
            ['2026-12-02T10:00:00.000Z', [0], true],
            ['2026-12-02T10:01:00.000Z', [1], true],
            ['2026-12-02T10:02:00.000Z', [2], true],
        ]);
    });
});
