// @ts-check
'use strict';
/** PUT /components/links is meant only when the LINK dataset was just created; the dataset cache keeps "created". */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');

describe('record node under attack: component link per record', function () {
    const ctx = setup(this);
    it('three records with the same new LINK dataset make one PUT /components/links, not three', async function () {
        const f = await ctx.flow();
        for (const id of ['SN-0042', 'SN-0043', 'SN-0042']) {
            const { ok, msg } = await f.record({ payload: { identifier: id, data: { PCBA: { link: 'PCB-7781' } } } });
            assert.equal(ok, true, JSON.stringify(msg.error));
        }
        const puts = ctx.serial.requests.filter((/** @type {any} */ r) => r.method === 'PUT' && r.path === '/components/links');
        assert.equal(ctx.serial.datasetPuts, 1, 'dataset made once');
        assert.equal(
            puts.length,
            1,
            `PUT /components/links sent ${puts.length} times; stand-in holds ${ctx.serial.componentLinks.length} component links`,
        );
    });
});
