// @ts-check
'use strict';
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { startStandIn } = require('../harness/serial-stand-in');
const { startBlackhole } = require('./support/blackhole');
const { startSlowProxy } = require('../harness/slow-proxy');
const { loadUploadFlow, send, unload } = require('./support/flow');
const { API_KEY } = require('./support/secrets');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

describe('retries and timeouts against injected faults (outbox off)', function () {
    /** @type {any} */ let serial;

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
    });
    afterEach(async function () {
        await unload();
        serial.reset();
    });
    after(async function () {
        await serial.close();
    });

    const flow = (/** @type {any} */ upload = {}) =>
        loadUploadFlow({
            baseUrl: serial.url,
            upload: { outbox: 'off', attempts: 4, backoff: 0.02, ...upload },
        });
    const uploadTimes = () => serial.requests.filter((r) => r.path === '/files').map((r) => r.receivedAt);

    for (const status of [500, 502, 503, 504, 408]) {
        it(`retries ${status} and then delivers the exact bytes`, async function () {
            serial.fault({ mode: 'status', status, count: 2 });
            const f = await flow();
            const bytes = crypto.randomBytes(200 * 1024);
            const { ok, msg } = await send(f, { payload: bytes });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 3);
            assert.equal(serial.uploads.length, 1);
            assert.equal(serial.uploads[0].sha256, sha256(bytes));
            assert.ok(
                f.statuses.some((s) => s.text === 'retry 2/4'),
                'retry shown on the status',
            );
        });
    }

    it('waits as long as Retry-After asks on 429', async function () {
        serial.fault({ mode: 'retryAfter', status: 429, retryAfter: '1', count: 1 });
        const f = await flow();
        const { ok, msg } = await send(f, { payload: Buffer.from('rate limited') });
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(msg.attempts, 2);
        const [first, second] = uploadTimes().map((t) => new Date(t).getTime());
        assert.ok(second - first >= 900, `second attempt after ${second - first} ms, Retry-After was 1 s`);
    });

    it('reports RATE_LIMITED when 429 persists', async function () {
        serial.fault({ mode: 'retryAfter', status: 429, retryAfter: '0', count: 5 });
        const f = await flow({ attempts: 2 });
        const { ok, msg } = await send(f, { payload: Buffer.from('x') });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'RATE_LIMITED');
        assert.equal(msg.statusCode, 429);
        assert.equal(msg.attempts, 2);
    });

    it('abandons a stalled upload after the stall timeout, then retries it', async function () {
        serial.fault({ mode: 'stall', count: 1, afterBytes: 64 * 1024 });
        const f = await flow({ stallTimeout: 0.5 });
        const bytes = crypto.randomBytes(2 * 1024 * 1024);
        const t0 = Date.now();
        const { ok, msg } = await send(f, { payload: bytes });
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(msg.attempts, 2);
        assert.equal(serial.uploads[0].sha256, sha256(bytes));
        assert.ok(Date.now() - t0 >= 450, 'waited for the stall timeout');
    });

    it('reports STALLED when every attempt stalls', async function () {
        serial.fault({ mode: 'stall', count: 2, afterBytes: 0 });
        const f = await flow({ stallTimeout: 0.3, attempts: 2 });
        const { ok, msg } = await send(f, { payload: crypto.randomBytes(1024 * 1024) });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'STALLED');
        assert.match(msg.error.message, /0\.3/);
    });

    it('lets a slow but moving upload finish: the stall timeout is not a total timeout', async function () {
        this.timeout(30000);
        // 32 MiB through a 4 MiB/s link takes about 8 s, well over the 3.5 s stall timeout. (What the
        // OS has buffered when the last byte leaves the process drains unseen: it must fit in the
        // stall timeout, as documented, so the file is much larger than those buffers.)
        const proxy = await startSlowProxy(serial.port, 4 * 1024 * 1024);
        try {
            const f = await loadUploadFlow({
                baseUrl: `http://127.0.0.1:${proxy.port}`,
                upload: { outbox: 'off', stallTimeout: 3.5, attempts: 1 },
            });
            const bytes = crypto.randomBytes(32 * 1024 * 1024);
            const t0 = Date.now();
            const { ok, msg } = await send(f, { payload: bytes });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.ok(Date.now() - t0 > 6000, `the link was slow (${Date.now() - t0} ms)`);
            assert.equal(serial.uploads[0].sha256, sha256(bytes));
        } finally {
            await proxy.close();
        }
    });

    it('retries a connection dropped mid-body and delivers the exact bytes', async function () {
        serial.fault({ mode: 'drop', count: 1, afterBytes: 100 * 1024 });
        const f = await flow();
        const bytes = crypto.randomBytes(1024 * 1024);
        const { ok, msg } = await send(f, { payload: bytes });
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(msg.attempts, 2);
        assert.equal(serial.uploads.length, 1);
        assert.equal(serial.uploads[0].sha256, sha256(bytes));
    });

    it('repeats at once, without using an attempt, a request on a kept-alive connection Serial had just closed', async function () {
        const f = await flow({ attempts: 1 });
        const first = await send(f, { payload: Buffer.from('opens the connection') });
        assert.equal(first.ok, true, JSON.stringify(first.msg.error));
        // The next request reuses that connection; Serial cuts it on arrival, as a server closing an idle connection does.
        serial.fault({ mode: 'drop', count: 1 });
        const bytes = crypto.randomBytes(200 * 1024);
        const { ok, msg } = await send(f, { payload: bytes });
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(msg.attempts, 1);
        assert.equal(serial.requests.filter((/** @type {any} */ r) => r.path === '/files').length, 3);
        assert.equal(serial.uploads.length, 2);
        assert.equal(serial.uploads[1].sha256, sha256(bytes));
    });

    it('does not repeat a request whose own new connection was cut', async function () {
        serial.fault({ mode: 'drop', count: 1 });
        const f = await flow({ attempts: 1 });
        const { ok, msg } = await send(f, { payload: Buffer.from('fresh connection') });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'CONNECTION_FAILED');
        assert.equal(serial.requests.filter((/** @type {any} */ r) => r.path === '/files').length, 1);
    });

    it('retries a refused connection until Serial comes back', async function () {
        await serial.setDown(true);
        const f = await flow({ attempts: 6, backoff: 0.2 });
        const bytes = crypto.randomBytes(1000);
        const result = send(f, { payload: bytes });
        setTimeout(() => serial.setDown(false), 500);
        const { ok, msg } = await result;
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.ok(msg.attempts >= 2);
        assert.equal(serial.uploads[0].sha256, sha256(bytes));
    });

    it('gives up connecting after the connect timeout (CONNECT_TIMEOUT)', async function () {
        const hole = await startBlackhole();
        try {
            const f = await loadUploadFlow({
                baseUrl: `http://127.0.0.1:${hole.port}`,
                upload: { outbox: 'off', attempts: 2, backoff: 0.01, connectTimeout: 0.3, stallTimeout: 30 },
            });
            const t0 = Date.now();
            const { ok, msg } = await send(f, { payload: Buffer.from('x') });
            const took = Date.now() - t0;
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'CONNECT_TIMEOUT');
            assert.equal(msg.attempts, 2);
            assert.ok(took >= 550 && took < 5000, `two 0.3 s connect timeouts took ${took} ms`);
        } finally {
            hole.close();
        }
    });

    it('does not retry a 4xx other than 408 and 429', async function () {
        serial.fault({ mode: 'status', status: 400, count: 1 });
        const f = await flow();
        const { ok, msg } = await send(f, { payload: Buffer.from('x') });
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'CLIENT_ERROR');
        assert.equal(msg.attempts, 1);
        assert.equal(uploadTimes().length, 1);
    });
});
