// @ts-check
'use strict';
/** A file dataset named like an Object.prototype member ("constructor", "toString", "__proto__"). */
const assert = require('node:assert/strict');
const { setup } = require('../support/record-flow');

describe('record node under attack: file dataset named constructor / toString / __proto__', function () {
    const ctx = setup(this);
    for (const name of ['constructor', 'toString', '__proto__']) {
        it(`a FILE datum named ${name} is recorded and comes out in msg.files (outbox off)`, async function () {
            const f = await ctx.flow();
            const data = JSON.parse(`{"${name}": {"file": null}}`);
            data[name].file = Buffer.from('a,b\n1,2\n');
            data[name].filename = 'r.csv';
            const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data } });
            const entries = ctx.entries();
            // Serial has the complete entry ...
            assert.equal(entries.length, 1);
            assert.equal(entries[0].is_complete, true, 'entry submitted');
            // ... but the node reports a failure (TypeError: files[name].push is not a function).
            assert.equal(ok, true, `expected success, got error ${JSON.stringify(msg.error)}`);
            assert.equal(Object.prototype.hasOwnProperty.call(msg.files, name), true);
        });
    }
    it('outbox disk: a FILE datum named constructor dead-letters a record Serial already has complete', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        const { ok, msg } = await f.record({
            payload: { identifier: 'SN-0042', data: { constructor: { file: Buffer.from('x'), filename: 'r.csv' } } },
        });
        assert.equal(ctx.entries()[0].is_complete, true, 'entry submitted');
        assert.equal(ok, true, `expected success, got ${msg.error && msg.error.code} (deadLetter: ${JSON.stringify(msg.deadLetter)})`);
    });
});
