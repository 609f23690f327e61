// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { startStandIn } = require('../harness/serial-stand-in');
const { helper, loadRequestFlow, request } = require('./support/request-flow');
const { API_KEY, WRONG_KEY } = require('./support/secrets');

const PROCESS_ID = 'proc-eol-test';

describe('serial-mfg-request against the Serial stand-in', function () {
    /** @type {any} */ let serial;

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
    });
    after(async function () {
        await serial.close();
    });
    afterEach(async function () {
        await helper.unload();
        serial.reset();
    });

    const flow = (/** @type {Record<string, unknown>} */ props = {}, /** @type {any} */ opts = {}) =>
        loadRequestFlow({ baseUrl: serial.url, request: props, ...opts });

    /** An entry created directly through the stand-in's API, as a previous step of a flow would. */
    async function createEntry() {
        const f = await flow({ method: 'POST', path: '/processes/entries' });
        const { ok, msg } = await request(f, { payload: { process_id: PROCESS_ID, component_instance_id: 'SN-1' } });
        assert.equal(ok, true, JSON.stringify(msg.error));
        await helper.unload();
        serial.requests.length = 0;
        return msg.payload.id;
    }

    const last = () => serial.requests[serial.requests.length - 1];

    describe('requests', function () {
        it('POSTs msg.payload as JSON with the key and passes on the created entry', async function () {
            const f = await flow({ method: 'POST', path: '/processes/entries' });
            const body = { process_id: PROCESS_ID, component_instance_id: 'SN-000123', station_id: 'EOL-3' };
            const { ok, msg } = await request(f, { payload: body, topic: 'unit', keep: { a: 1 } });
            assert.equal(ok, true, JSON.stringify(msg.error));

            assert.equal(serial.requests.length, 1);
            const rec = serial.requests[0];
            assert.equal(rec.method, 'POST');
            assert.equal(rec.url, '/processes/entries');
            assert.equal(rec.authorized, true, 'the stand-in saw Bearer <key>');
            assert.equal(rec.headers.authorization, '<redacted>');
            assert.equal(rec.headers['content-type'], 'application/json');
            assert.equal(rec.headers.accept, 'application/json');
            assert.match(rec.headers['user-agent'], /^node-red-contrib-serial-mfg\//);
            assert.deepEqual(rec.body, body);

            assert.equal(serial.entries.size, 1);
            const [entry] = [...serial.entries.values()];
            assert.deepEqual(msg.payload, entry);
            assert.equal(msg.payload.component_instance_id, 'SN-000123');
            assert.equal(msg.statusCode, 200);
            assert.equal(msg.attempts, 1);
            assert.equal(msg.topic, 'unit');
            assert.deepEqual(msg.keep, { a: 1 });
            assert.deepEqual(
                f.statuses.map((s) => s.fill),
                ['blue', 'green'],
            );
            assert.equal(f.statuses[0].text, 'serial-mfg-request.status.requesting');
            assert.equal(f.statuses[1].text, 'HTTP 200');
        });

        it('GETs with msg.params as the query and sends no body', async function () {
            serial.addDataset({ name: 'Unit photo', type: 'IMAGE', process_id: PROCESS_ID });
            const wanted = serial.addDataset({ name: 'Torque log', type: 'FILE', process_id: PROCESS_ID });
            serial.addDataset({ name: 'Torque log', type: 'FILE', process_id: 'other-process' });
            const f = await flow({ method: 'GET', path: '/datasets' });
            const params = { name: 'Torque log', type: 'FILE', process_id: PROCESS_ID, skipped: null };
            const { ok, msg } = await request(f, { payload: { ignored: true }, params });
            assert.equal(ok, true, JSON.stringify(msg.error));
            const rec = last();
            assert.equal(rec.method, 'GET');
            assert.equal(rec.path, '/datasets');
            const query = new URL(rec.url, 'http://x').searchParams;
            assert.deepEqual([...query.entries()].sort(), [
                ['name', 'Torque log'],
                ['process_id', PROCESS_ID],
                ['type', 'FILE'],
            ]);
            assert.equal(rec.headers['content-type'], undefined);
            assert.equal(rec.headers['content-length'] ?? '0', '0');
            assert.deepEqual(msg.payload, [wanted]);
        });

        it('PUTs a datum to /processes/entries/{{entryId}}', async function () {
            const entryId = await createEntry();
            const dataset = serial.addDataset({ name: 'Torque', type: 'NUMERICAL', process_id: PROCESS_ID });
            const f = await flow({ method: 'PUT', path: '/processes/entries/{{entryId}}' });
            const datum = { type: 'NUMERICAL', dataset_id: dataset.id, value: 12.5 };
            const { ok, msg } = await request(f, { entryId, payload: datum });
            assert.equal(ok, true, JSON.stringify(msg.error));
            const rec = last();
            assert.equal(rec.method, 'PUT');
            assert.equal(rec.path, `/processes/entries/${entryId}`);
            assert.deepEqual(rec.body, datum);
            assert.equal(serial.entries.get(entryId).data.length, 1);
            assert.equal(serial.entries.get(entryId).data[0].value, 12.5);
            assert.equal(msg.payload.id, entryId);
            assert.equal(msg.payload.data[0].dataset_id, dataset.id);
        });

        it('PATCHes an entry complete, with the id from a nested property', async function () {
            const entryId = await createEntry();
            const f = await flow({ method: 'PATCH', path: '/processes/entries/{{ entry.id }}' });
            const { ok, msg } = await request(f, { entry: { id: entryId }, payload: '{"is_complete": true, "is_pass": true}' });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(last().method, 'PATCH');
            assert.deepEqual(last().body, { is_complete: true, is_pass: true });
            assert.equal(serial.entries.get(entryId).is_complete, true);
            assert.equal(serial.entries.get(entryId).is_pass, true);
            assert.equal(msg.payload.is_complete, true);
        });

        it('takes method and path from msg when the node leaves them empty', async function () {
            const entryId = await createEntry();
            const f = await flow();
            const { ok, msg } = await request(f, { method: 'get', path: '/processes/entries/{{id}}', id: entryId });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(last().method, 'GET');
            assert.equal(last().path, `/processes/entries/${entryId}`);
            assert.equal(msg.payload.id, entryId);
        });

        it('ignores msg.method and msg.path when the node sets them', async function () {
            const f = await flow({ method: 'GET', path: '/datasets' });
            const { ok } = await request(f, { method: 'DELETE', path: '/files' });
            assert.equal(ok, true);
            assert.equal(serial.requests.length, 1);
            assert.equal(last().method, 'GET');
            assert.equal(last().path, '/datasets');
        });
    });

    describe('path placeholders', function () {
        it('keeps a value with slashes, dots and a question mark one encoded segment', async function () {
            const f = await flow({ method: 'GET', path: '/processes/entries/{{entryId}}' });
            const { ok, msg } = await request(f, { entryId: 'a/../b?x' });
            assert.equal(ok, false);
            assert.equal(serial.requests.length, 1);
            assert.equal(last().url, '/processes/entries/a%2F..%2Fb%3Fx');
            assert.equal(msg.error.code, 'CLIENT_ERROR');
            assert.equal(msg.statusCode, 404);
            assert.match(msg.error.message, /404/);
            assert.match(msg.error.message, /a\/\.\.\/b\?x not found/, 'the stand-in looked up the whole value as one id');
        });

        it('fills numbers and encodes spaces and unicode', async function () {
            const f = await flow({ method: 'GET', path: '/processes/entries/{{n}}-{{s}}' });
            await request(f, { n: 42, s: 'Prüf #1' });
            assert.equal(last().url, '/processes/entries/42-Pr%C3%BCf%20%231');
        });

        /** @type {Array<[string, Record<string, unknown>, RegExp]>} */
        const refused = [
            ['no path at all', {}, /no path/],
            ['a missing value', { path: '/processes/entries/{{entryId}}' }, /\{\{entryId\}\}/],
            ['an empty value', { path: '/processes/entries/{{entryId}}', entryId: '' }, /\{\{entryId\}\}/],
            ['a missing nested value', { path: '/processes/entries/{{entry.id}}' }, /\{\{entry\.id\}\}/],
            ['an object value', { path: '/processes/entries/{{entryId}}', entryId: { id: 1 } }, /object/],
            ['an array value', { path: '/processes/entries/{{entryId}}', entryId: ['a'] }, /array/],
            ['a NaN value', { path: '/processes/entries/{{entryId}}', entryId: NaN }, /\{\{entryId\}\}/],
            ['a ".." value', { path: '/processes/entries/{{entryId}}', entryId: '..' }, /'\.\.'/],
            ['a "." value', { path: '/processes/{{entryId}}/x', entryId: '.' }, /'\.\.'/],
            ['a value and a dot forming ".."', { path: '/processes/.{{a}}/x', a: '.' }, /\{\{a\}\} must not be '\.'/],
            ['an absolute URL', { path: 'http://127.0.0.1:9/files' }, /not a URL/],
            ['a scheme-relative URL', { path: '//evil.example/files' }, /\/\//],
            ['a URL after a slash', { path: '/x/https://evil.example' }, /not a URL/],
            ['a relative path', { path: 'processes/entries' }, /start with \//],
            ['a dot-dot segment', { path: '/processes/../files' }, /segments/],
            ['an encoded dot-dot segment', { path: '/processes/%2e%2E/files' }, /segments/],
            ['a query', { path: '/datasets?name=x' }, /msg\.params/],
            ['a fragment', { path: '/datasets#x' }, /#/],
            ['a backslash', { path: '/processes\\..\\files' }, /backslash/],
            ['a newline', { path: '/datasets\r\nX-Injected: 1' }, /control/],
            ['an unclosed placeholder', { path: '/processes/entries/{{entryId', entryId: 'x' }, /unmatched/],
            ['an expression as placeholder', { path: '/processes/entries/{{entry["id"]}}', entry: { id: 'x' } }, /not a placeholder/],
            ['a placeholder with spaces inside', { path: '/processes/entries/{{entry id}}' }, /not a placeholder/],
            ['an unknown method', { method: 'TRACE', path: '/datasets' }, /TRACE/],
            ['no method', { method: undefined, path: '/datasets' }, /no method/],
            ['msg.params that is not an object', { path: '/datasets', params: 'name=x' }, /msg\.params/],
            ['msg.params with a nested object', { path: '/datasets', params: { name: { $ne: 1 } } }, /msg\.params\.name/],
            ['a Buffer body', { method: 'POST', path: '/processes/entries', payload: Buffer.from('{}') }, /Buffer/],
            ['a string body that is not JSON', { method: 'POST', path: '/processes/entries', payload: 'process_id=1' }, /not JSON/],
        ];
        for (const [what, msg, message] of refused) {
            it(`refuses ${what} without sending anything`, async function () {
                const f = await flow();
                const { ok, msg: out } = await request(f, { method: 'GET', ...msg });
                assert.equal(ok, false, `sent: ${JSON.stringify(serial.requests.map((/** @type {any} */ r) => r.url))}`);
                assert.equal(out.error.code, 'INVALID_REQUEST');
                assert.match(out.error.message, message);
                assert.equal(serial.requests.length, 0);
                assert.equal(out.statusCode, undefined);
                assert.deepEqual(
                    f.statuses.map((s) => [s.fill, s.shape, s.text]),
                    [['red', 'ring', 'failed: INVALID_REQUEST']],
                );
            });
        }

        it('refuses an unsafe path set on the node too', async function () {
            const f = await flow({ method: 'GET', path: '/processes/../files' });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'INVALID_REQUEST');
            assert.equal(serial.requests.length, 0);
        });

        it("drops a previous step's statusCode when nothing was sent", async function () {
            const f = await flow({ method: 'GET', path: '/processes/entries/{{entryId}}' });
            const { ok, msg } = await request(f, { statusCode: 200, attempts: 1 });
            assert.equal(ok, false);
            assert.equal(msg.statusCode, undefined);
            assert.equal(msg.attempts, undefined);
        });
    });

    describe('retries', function () {
        const retrying = { attempts: 3, backoff: 0.01 };
        const entry = { process_id: PROCESS_ID, component_instance_id: 'SN-RETRY' };

        it('does not retry a POST on 500: Serial may have created the record', async function () {
            serial.fault({ mode: 'status', status: 500, count: 5, path: '/processes/entries', method: 'POST' });
            const f = await flow({ method: 'POST', path: '/processes/entries', ...retrying });
            const { ok, msg } = await request(f, { payload: entry });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'SERVER_ERROR');
            assert.equal(msg.statusCode, 500);
            assert.equal(msg.attempts, 1);
            assert.equal(serial.requests.length, 1);
        });

        it('does not retry a POST whose connection broke after sending', async function () {
            serial.fault({ mode: 'drop', count: 5, path: '/processes/entries', method: 'POST' });
            const f = await flow({ method: 'POST', path: '/processes/entries', ...retrying });
            const { ok, msg } = await request(f, { payload: entry });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'CONNECTION_FAILED');
            assert.equal(serial.requests.length, 1);
        });

        it('retries a POST on 503, which Serial answers without acting', async function () {
            serial.fault({ mode: 'status', status: 503, count: 2, path: '/processes/entries', method: 'POST' });
            const f = await flow({ method: 'POST', path: '/processes/entries', ...retrying });
            const { ok, msg } = await request(f, { payload: entry });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 3);
            assert.equal(serial.requests.length, 3);
            assert.equal(serial.entries.size, 1);
            assert.ok(
                f.statuses.some((s) => s.fill === 'yellow' && s.text === 'retry 2/3'),
                JSON.stringify(f.statuses),
            );
        });

        it('retries a POST on 429', async function () {
            serial.fault({ mode: 'retryAfter', retryAfter: '0', count: 1, path: '/processes/entries', method: 'POST' });
            const f = await flow({ method: 'POST', path: '/processes/entries', ...retrying });
            const { ok, msg } = await request(f, { payload: entry });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 2);
            assert.equal(serial.requests.length, 2);
            assert.equal(serial.entries.size, 1);
        });

        it('retries a POST on 500 when Retry POST is on', async function () {
            serial.fault({ mode: 'status', status: 500, count: 1, path: '/processes/entries', method: 'POST' });
            const f = await flow({ method: 'POST', path: '/processes/entries', retryPost: true, ...retrying });
            const { ok, msg } = await request(f, { payload: entry });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 2);
            assert.equal(serial.requests.length, 2);
        });

        it('retries a GET on 500', async function () {
            serial.fault({ mode: 'status', status: 500, count: 2, path: '/datasets', method: 'GET' });
            const f = await flow({ method: 'GET', path: '/datasets', ...retrying });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 3);
            assert.equal(serial.requests.length, 3);
            assert.deepEqual(msg.payload, []);
        });

        it('gives up on a GET after the configured attempts', async function () {
            serial.fault({ mode: 'status', status: 502, count: 5, path: '/datasets', method: 'GET' });
            const f = await flow({ method: 'GET', path: '/datasets', attempts: 2, backoff: 0.01 });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'SERVER_ERROR');
            assert.equal(msg.statusCode, 502);
            assert.equal(msg.attempts, 2);
            assert.equal(serial.requests.length, 2);
        });
    });

    describe('errors reach a Catch node with a stable code', function () {
        it('401 → UNAUTHORIZED, and the wrong key appears nowhere', async function () {
            const f = await flow({ method: 'GET', path: '/datasets' }, { apiKey: WRONG_KEY });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'UNAUTHORIZED');
            assert.equal(msg.statusCode, 401);
            assert.equal(serial.requests[0].authorized, false);
            assert.ok(!JSON.stringify(msg).includes(WRONG_KEY));
        });

        it('404 → CLIENT_ERROR with statusCode 404 and what Serial said', async function () {
            const f = await flow({ method: 'GET', path: '/processes/entries/{{entryId}}' });
            const { ok, msg } = await request(f, { entryId: 'no-such-entry' });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'CLIENT_ERROR');
            assert.equal(msg.statusCode, 404);
            assert.match(msg.error.message, /no-such-entry not found/);
            assert.deepEqual(f.statuses.at(-1), { fill: 'red', shape: 'ring', text: 'failed: CLIENT_ERROR' });
        });

        it('400 from Serial → CLIENT_ERROR naming the problem', async function () {
            const f = await flow({ method: 'POST', path: '/processes/entries' });
            const { ok, msg } = await request(f, { payload: { process_id: PROCESS_ID } });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'CLIENT_ERROR');
            assert.equal(msg.statusCode, 400);
            assert.match(msg.error.message, /component_instance_id/);
        });

        it('a reply that is not JSON → INVALID_RESPONSE', async function () {
            serial.fault({ mode: 'notJson', path: '/datasets', method: 'GET' });
            const f = await flow({ method: 'GET', path: '/datasets' });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'INVALID_RESPONSE');
        });

        it('no config node → NO_CONFIG', async function () {
            const f = await flow({ method: 'GET', path: '/datasets' }, { noConfig: true });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'NO_CONFIG');
            assert.equal(serial.requests.length, 0);
        });

        it('no API key → NO_API_KEY', async function () {
            const f = await flow({ method: 'GET', path: '/datasets' }, { apiKey: null });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'NO_API_KEY');
            assert.equal(serial.requests.length, 0);
        });

        it('Serial unreachable → CONNECTION_FAILED', async function () {
            const f = await loadRequestFlow({ baseUrl: 'http://127.0.0.1:9', request: { method: 'GET', path: '/datasets' } });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'CONNECTION_FAILED');
            assert.equal(msg.statusCode, undefined);
        });
    });
});
