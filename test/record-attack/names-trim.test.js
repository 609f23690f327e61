// @ts-check
'use strict';
/** Two data keys that differ only by surrounding white space ("Voltage" and "Voltage "). */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');

describe('record node under attack: data names equal after trimming', function () {
    const ctx = setup(this);
    it('different types under "Voltage" and "Voltage " are refused as INVALID_RECORD before any request', async function () {
        const f = await ctx.flow();
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { Voltage: 3.3, 'Voltage ': 'high' } } });
        assert.equal(ok, false);
        const requests = ctx.serial.requests.map((/** @type {any} */ r) => `${r.method} ${r.path}`);
        // What happens: both data share the step "dataset:Voltage" -> the TEXT datum is PUT onto the
        // NUMERICAL dataset, Serial answers 400, and an incomplete entry is left behind in Serial.
        assert.equal(msg.error.code, 'INVALID_RECORD', `got ${msg.error.code}: ${msg.error.message}; requests: ${requests.join(' | ')}`);
        assert.equal(ctx.entries().length, 0, 'no entry left in Serial');
    });
    it('same type under "Voltage" and " Voltage" is refused or kept apart (not silently merged into one dataset)', async function () {
        const f = await ctx.flow();
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { Voltage: 3.3, ' Voltage': 3.4 } } });
        if (!ok) return assert.equal(msg.error.code, 'INVALID_RECORD');
        // Accepted: then msg.files/payload must still be unambiguous; both went to one dataset.
        const ds = ctx.serial.datasets.filter((/** @type {any} */ d) => d.name.trim() === 'Voltage');
        assert.ok(ds.length !== 1 || ctx.entries()[0].data.length !== 2, 'two keys silently merged into one dataset "Voltage"');
    });
});
