// @ts-check
'use strict';
/** data given as a Map (natural in a function node): its values must not vanish silently. */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');

describe('record node under attack: data as a Map', function () {
    const ctx = setup(this);
    it('data: new Map([["Voltage", 3.3]]) is refused (INVALID_RECORD) rather than recorded with no data', async function () {
        const f = await ctx.flow();
        const { ok } = await f.record({ payload: { identifier: 'SN-0042', pass: true, data: new Map([['Voltage', 3.3]]) } });
        const e = ctx.entries()[0];
        assert.equal(ok, false, `accepted: entry submitted with ${e && e.data.length} data, is_pass ${e && e.is_pass}`);
    });
    it('a datum given as a class instance/Date ({ value: new Date() }) is refused', async function () {
        const f = await ctx.flow();
        const { ok } = await f.record({ payload: { identifier: 'SN-0042', data: { When: new Date() } } });
        assert.equal(ok, false);
    });
});
