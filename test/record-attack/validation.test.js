// @ts-check
'use strict';
/** Inputs the validation lets through, or changes, silently. */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');

describe('record node under attack: validation gaps', function () {
    const ctx = setup(this);
    for (const ts of ['1', '12/02/2026', 'Wed Dec 2 2026', '2026-12-02 10:00', '9999-12-31T00:00:00Z']) {
        it(`timestamp ${JSON.stringify(ts)} (not an unambiguous ISO 8601 date-time, or centuries ahead) is INVALID_RECORD`, async function () {
            const f = await ctx.flow();
            const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', timestamp: ts, data: { V: 1 } } });
            const e = ctx.entries()[0];
            assert.equal(ok, false, `accepted; entry timestamp ${e && e.timestamp}`);
            assert.equal(msg.error.code, 'INVALID_RECORD');
        });
    }
    it('a TEXT value is recorded as given ("  OK  " is not silently trimmed to "OK")', async function () {
        const f = await ctx.flow();
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { Label: { value: ' OK ', expected: ' OK ' } } } });
        if (!ok) return assert.equal(msg.error.code, 'INVALID_RECORD');
        const d = ctx.entries()[0].data[0];
        assert.equal(d.value, ' OK ', `recorded ${JSON.stringify(d.value)} / expected ${JSON.stringify(d.expected_value)}`);
    });
    it('two values of one dataset with different units ("V" then "mV") are refused, not one unit silently dropped', async function () {
        const f = await ctx.flow();
        const { ok, msg } = await f.record({
            payload: {
                identifier: 'SN-0042',
                data: {
                    Rail: [
                        { value: 3.3, unit: 'V' },
                        { value: 3300, unit: 'mV' },
                    ],
                },
            },
        });
        const ds = ctx.serial.datasets.find((/** @type {any} */ d) => d.name === 'Rail');
        assert.equal(
            ok,
            false,
            `accepted; dataset made with unit ${ds && ds.unit}, both values ${JSON.stringify(ctx.entries()[0]?.data.map((/** @type {any} */ d) => d.value))} under it`,
        );
        assert.equal(msg.error.code, 'INVALID_RECORD');
    });
});
