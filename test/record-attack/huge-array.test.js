// @ts-check
'use strict';
/** A record with more values than a record may hold (each is a request and a journal write): refused before any request. */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');
const { MAX_VALUES } = require('../../nodes/lib/record/record.js');

describe('record node under attack: huge arrays', function () {
    this.timeout(120000);
    const ctx = setup(this);
    it(`${MAX_VALUES + 1} values are INVALID_RECORD before any request; ${MAX_VALUES} are recorded`, async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        const refused = await f.record({ payload: { identifier: 'SN-0042', data: { V: new Array(MAX_VALUES).fill(1.5), W: 2 } } });
        assert.equal(refused.ok, false);
        assert.equal(refused.msg.error.code, 'INVALID_RECORD');
        assert.match(refused.msg.error.message, new RegExp(`more than ${MAX_VALUES} values`));
        assert.equal(ctx.serial.requests.length, 0);
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { V: new Array(MAX_VALUES).fill(1.5) } } }, 60000);
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(ctx.entries()[0].data.length, MAX_VALUES);
    });
});
