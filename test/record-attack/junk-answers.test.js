// @ts-check
'use strict';
/** Serial (or a proxy in between) answering 200 with a JSON body of the wrong shape ({ok: true}). */
const assert = require('node:assert/strict');
const helper = require('node-red-node-test-helper');
const { setup, until, sleep } = require('../support/record-flow');

describe('record node under attack: 200 with junk', function () {
    const ctx = setup(this);
    it('POST /processes/entries -> 200 {ok:true}: no entry id "undefined" is used', async function () {
        const f = await ctx.flow();
        ctx.serial.fault({ mode: 'badJson', path: '/processes/entries', method: 'POST' });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
        assert.equal(ok, false);
        const paths = ctx.serial.requests.map((/** @type {any} */ r) => `${r.method} ${r.path}`);
        assert.ok(
            !paths.some((/** @type {string} */ p) => p.includes('/processes/entries/undefined')),
            `requests: ${paths.join(' | ')}; error ${msg.error.code}: ${msg.error.message}`,
        );
    });
    it('PUT /datasets -> 200 {ok:true} once: the next record is not stuck with dataset id "undefined"', async function () {
        const f = await ctx.flow();
        ctx.serial.fault({ mode: 'badJson', path: '/datasets', method: 'PUT' });
        const first = await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
        assert.equal(first.ok, false);
        const bodies = ctx.serial.requests
            .filter((/** @type {any} */ r) => r.method === 'PUT' && r.path.startsWith('/processes/entries/'))
            .map((/** @type {any} */ r) => r.body);
        // Serial answers the junk fine once; the next records for the same dataset should work.
        const second = await f.record({ payload: { identifier: 'SN-0043', data: { V: 3.4 } } });
        const bodies2 = ctx.serial.requests
            .filter((/** @type {any} */ r) => r.method === 'PUT' && r.path.startsWith('/processes/entries/'))
            .map((/** @type {any} */ r) => r.body);
        assert.equal(
            second.ok,
            true,
            `second record: ${second.msg.error && second.msg.error.message}; datum bodies sent: ${JSON.stringify(bodies2)} (first: ${JSON.stringify(bodies)})`,
        );
    });
    it('GET /components/instances -> 200 {ok:true} is not reported as UNIT_NOT_FOUND (a permanent, misleading code)', async function () {
        const f = await ctx.flow();
        ctx.serial.fault({ mode: 'badJson', path: '/components/instances', method: 'GET' });
        const { ok, msg } = await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
        assert.ok(
            ok || msg.error.code !== 'UNIT_NOT_FOUND',
            `SN-0042 exists, but the node says ${msg.error && msg.error.code}: ${msg.error && msg.error.message}`,
        );
    });
    it('GET /datasets -> 200 {ok:true} does not make Serial create a second dataset of the same name', async function () {
        ctx.serial.addDataset({ name: 'V', type: 'NUMERICAL', process_id: 'process-adv' });
        const f = await ctx.flow();
        ctx.serial.fault({ mode: 'badJson', path: '/datasets', method: 'GET' });
        await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
        // The stand-in's PUT /datasets is an upsert; real Serial's may not be: the node should not PUT at all.
        assert.equal(ctx.serial.datasetPuts, 0, 'a junk list was taken as "no such dataset" and PUT /datasets was sent');
    });
    it('outbox disk: after POST /processes/entries -> 200 {ok:true}, a retry from dead-letter can succeed (id "undefined" is not journaled)', async function () {
        const f = await ctx.flow({ outbox: 'disk' });
        ctx.serial.fault({ mode: 'badJson', path: '/processes/entries', method: 'POST' });
        const first = await f.record({ payload: { identifier: 'SN-0042', data: { V: 3.3 } } });
        assert.equal(first.ok, false);
        const list = await helper.request().get('/serial-mfg/outbox').expect(200);
        const box = list.body.find((/** @type {any} */ b) => JSON.stringify(b).includes('"rec"'));
        await helper.request().post(`/serial-mfg/outbox/${box.id}/retry-all`).send({}).expect(200);
        await until(() => f.outputs.length + f.errors.length > 1, 20000, 'the retried record');
        await sleep(200);
        const paths = ctx.serial.requests.map((/** @type {any} */ r) => `${r.method} ${r.path}`);
        assert.equal(f.outputs.length, 1, `retry failed again: ${f.errors.at(-1).error.message}; requests: ${paths.join(' | ')}`);
    });
});
