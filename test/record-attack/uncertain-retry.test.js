// @ts-check
'use strict';
/**
 * Answers lost after Serial did act. A datum's is settled by reading the entry back (no person
 * needed, no second datum). The entry's cannot be: REQUEST_UNCERTAIN, nothing more is sent, and a
 * person's retry (after checking Serial) resumes the record.
 */
const assert = require('node:assert/strict');
const helper = require('node-red-node-test-helper');
const { setup, until, sleep } = require('../support/record-flow');

describe('record node under attack: retrying a REQUEST_UNCERTAIN record', function () {
    this.timeout(60000);
    const ctx = setup(this);
    async function retryAll() {
        const list = await helper.request().get('/serial-mfg/outbox').expect(200);
        const box = list.body.find((/** @type {any} */ b) => b.id === 'rec' || b.node === 'rec' || JSON.stringify(b).includes('"rec"'));
        assert.ok(box, `outbox of rec in ${JSON.stringify(list.body).slice(0, 300)}`);
        await helper.request().post(`/serial-mfg/outbox/${box.id}/retry-all`).send({}).expect(200);
    }
    it('a datum PUT answered but lost: read back, recorded at once, the datum once', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        ctx.serial.fault({ mode: 'lostAnswer', path: '/processes/entries/', method: 'PUT' });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3, W: [1, 1] } } });
        assert.equal(ok, true, JSON.stringify(msg.error));
        const [entry, ...more] = ctx.entries();
        assert.equal(more.length, 0);
        assert.equal(entry.is_complete, true);
        assert.equal(entry.data.length, 3, 'each datum once, the two equal values both');
        assert.ok(
            ctx.serial.requests.some((/** @type {any} */ r) => r.method === 'GET' && r.path === '/processes/entries'),
            'the entry was read back',
        );
    });

    it('the entry POST answered but lost: REQUEST_UNCERTAIN, nothing more sent; a person retries once Serial is checked', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        ctx.serial.fault({ mode: 'lostAnswer', path: '/processes/entries', method: 'POST' });
        const first = await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
        assert.equal(first.ok, false);
        assert.equal(first.msg.error.code, 'REQUEST_UNCERTAIN');
        await sleep(500);
        assert.equal(ctx.entries().length, 1, 'no second entry');
        assert.ok(
            !ctx.serial.requests.some((/** @type {any} */ r) => r.method === 'PUT' && r.path.startsWith('/processes/entries/')),
            'no datum sent',
        );
        // The person finds the entry in Serial and removes it (or finds none), then retries.
        ctx.serial.entries.clear();
        await retryAll();
        await until(() => f.outputs.length === 1, 20000, 'the retried record');
        const entries = ctx.entries();
        assert.equal(entries.length, 1);
        assert.equal(entries[0].is_complete, true);
        assert.equal(entries[0].data.length, 1);
    });
});
