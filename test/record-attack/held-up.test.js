// @ts-check
'use strict';
/** Cases that held up (kept as regression guards). */
const assert = require('node:assert/strict');
const helper = require('node-red-node-test-helper');
const { setup, until, sleep } = require('../support/record-flow');

describe('record node under attack: held up', function () {
    this.timeout(60000);
    const ctx = setup(this);
    it('409 on PATCH dead-letters; a retry resumes and submits, data once', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        ctx.serial.fault({ mode: 'status', status: 409, path: '/processes/entries/', method: 'PATCH', body: { error: 'conflict' } });
        const first = await f.record({ payload: { identifier: 'SN-0042', pass: false, data: { V: 1, T: 'x' } } });
        assert.equal(first.ok, false);
        assert.equal(first.msg.error.code, 'CLIENT_ERROR');
        const list = await helper.request().get('/serial-mfg/outbox').expect(200);
        const box = list.body.find((/** @type {any} */ b) => JSON.stringify(b).includes('"rec"'));
        await helper.request().post(`/serial-mfg/outbox/${box.id}/retry-all`).send({}).expect(200);
        await until(() => f.outputs.length > 0, 20000, 'recorded');
        await sleep(200);
        assert.equal(ctx.entries().length, 1);
        assert.equal(ctx.entries()[0].is_complete, true);
        assert.equal(ctx.entries()[0].data.length, 2);
        assert.equal(f.errors.length, 1);
    });
    it('a lost answer to POST /files re-uploads (harmless) and attaches once', async function () {
        const f = await ctx.flow({ outbox: 'disk', attempts: 3 });
        ctx.serial.fault({ mode: 'lostAnswer' });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { F: { file: Buffer.from('abc'), filename: 'a.txt' } } } });
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(ctx.entries()[0].data.length, 1);
    });
    it('bad records make zero requests: NaN, Infinity, usl<lsl, Buffer as TEXT, nested object, directory, missing file, empty name, __proto__ key', async function () {
        const f = await ctx.flow();
        const bad = [
            { V: NaN },
            { V: Infinity },
            { V: { value: 1, usl: 1, lsl: 2 } },
            { T: Buffer.from('x') },
            { T: { value: { a: 1 } } },
            { F: { file: '/tmp' } },
            { F: { file: '/no/such/file' } },
            { '': 1 },
            { ' ': 1 },
            { V: [] },
            { V: [1, 'a'] },
        ];
        for (const data of bad) {
            const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data } });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'INVALID_RECORD', JSON.stringify(data));
        }
        const proto = await f.record({ payload: JSON.parse('{"identifier":"SN-0042","__proto__":{"pass":true}}') });
        assert.equal(proto.msg.error.code, 'INVALID_RECORD');
        for (const identifier of ['', 'a\nb', 'x'.repeat(201), 42, null]) {
            const { msg } = await f.record({ payload: { identifier, data: { V: 1 } } });
            assert.equal(msg.error.code, 'INVALID_RECORD');
        }
        assert.equal(ctx.serial.requests.length, 0);
        assert.equal(f.errors.length, bad.length + 6);
    });
});
