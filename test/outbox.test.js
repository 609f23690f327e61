// @ts-check
'use strict';
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { loadUploadFlow, send, unload } = require('./support/flow');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { committedJobs, readJobFile } = require('./support/outbox');
const { until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

/** @param {() => boolean} cond */

/** Committed jobs in the upload node's outbox folder. */
const jobsIn = (/** @type {string} */ dir) => committedJobs(path.join(dir, 'up', 'jobs'));

describe('the durable outbox (upload node, outbox "disk")', function () {
    /** @type {any} */ let serial;
    /** @type {string} */ let root;
    /** @type {string} */ let outboxDir;

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-outbox-test-'));
    });
    beforeEach(function () {
        outboxDir = fs.mkdtempSync(path.join(root, 'box-'));
    });
    afterEach(async function () {
        await unload();
        await serial.setDown(false);
        serial.reset();
        scan('outbox files', { path: outboxDir });
    });
    after(async function () {
        await serial.close();
        fs.rmSync(root, { recursive: true, force: true });
    });

    const flow = (/** @type {any} */ upload = {}, /** @type {any} */ more = {}) =>
        loadUploadFlow({
            baseUrl: serial.url,
            upload: { outbox: 'disk', outboxDir, attempts: 2, backoff: 0.01, ...upload },
            ...more,
        });

    it('is the default, and leaves nothing behind after a delivery', async function () {
        const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outboxDir } });
        const bytes = crypto.randomBytes(100000);
        const { ok, msg } = await send(f, { payload: bytes, topic: 't' });
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(serial.uploads[0].sha256, sha256(bytes));
        assert.equal(msg.topic, 't');
        assert.deepEqual(jobsIn(outboxDir), []);
        assert.deepEqual(fs.readdirSync(path.join(outboxDir, 'up', 'jobs')), []);
    });

    it('uploads its own copy: the source file deleted after acceptance still arrives intact', async function () {
        await serial.setDown(true);
        const f = await flow();
        const bytes = crypto.randomBytes(256 * 1024);
        const file = path.join(root, 'station-7.csv');
        fs.writeFileSync(file, bytes);
        const result = send(f, { payload: file });
        await until(() => jobsIn(outboxDir).length === 1, 10000, 'job on disk');
        fs.rmSync(file);
        await until(() => f.statuses.some((s) => /offline/.test(s.text ?? '')), 10000, 'offline status');
        await serial.setDown(false);
        const { ok, msg } = await result;
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(serial.uploads.length, 1);
        assert.equal(serial.uploads[0].sha256, sha256(bytes));
        assert.equal(serial.uploads[0].filename, 'station-7.csv');
        assert.equal(serial.uploads[0].mimetype, 'text/csv');
        assert.deepEqual(jobsIn(outboxDir), []);
    });

    it('uploads its own copy: rewriting the source after acceptance does not change what is sent', async function () {
        await serial.setDown(true);
        const f = await flow();
        const original = Buffer.from('version 1\n'.repeat(1000));
        const file = path.join(root, 'rewritten.log');
        fs.writeFileSync(file, original);
        const result = send(f, { payload: file });
        await until(() => jobsIn(outboxDir).length === 1, 10000, 'job on disk');
        fs.writeFileSync(file, 'version 2, shorter\n');
        await serial.setDown(false);
        const { ok } = await result;
        assert.equal(ok, true);
        assert.equal(serial.uploads[0].sha256, sha256(original));
    });

    it('shows the queue depth and that Serial is unreachable', async function () {
        await serial.setDown(true);
        const f = await flow({}, { config: { concurrency: 1 } });
        const outputs = [];
        f.out.on('input', (m) => outputs.push(m));
        for (const i of [1, 2, 3]) f.up.receive({ payload: Buffer.from(`job ${i}`) });
        await until(() => f.statuses.some((s) => s.text === 'offline: CONNECTION_FAILED, 3 queued'), 10000, 'offline, 3 queued');
        // Red while offline (a later probe may already paint the next attempt).
        assert.equal(f.statuses.find((s) => s.text === 'offline: CONNECTION_FAILED, 3 queued')?.fill, 'red');
        await serial.setDown(false);
        await until(() => outputs.length === 3, 20000, '3 outputs');
        assert.equal(serial.uploads.length, 3);
        assert.equal(f.statuses[f.statuses.length - 1].text, 'serial-mfg-upload.status.done');
    });

    it('delivers queued jobs in order once Serial is back', async function () {
        await serial.setDown(true);
        const f = await flow({}, { config: { concurrency: 1 } });
        const outputs = [];
        f.out.on('input', (m) => outputs.push(m));
        for (let i = 0; i < 5; i++) {
            f.up.receive({ payload: Buffer.from(`in order ${i}`), filename: `n${i}.txt`, seq: i });
            await until(() => jobsIn(outboxDir).length === i + 1, 5000, `job ${i}`);
        }
        await serial.setDown(false);
        await until(() => outputs.length === 5, 20000, '5 outputs');
        assert.deepEqual(
            serial.uploads.map((u) => u.filename),
            ['n0.txt', 'n1.txt', 'n2.txt', 'n3.txt', 'n4.txt'],
        );
        assert.deepEqual(
            outputs.map((m) => m.seq),
            [0, 1, 2, 3, 4],
        );
    });

    it('copies a large file beside its job when the upload cannot go straight through; a later rewrite changes nothing', async function () {
        await serial.setDown(true);
        const f = await flow();
        const bytes = crypto.randomBytes(3 * 1024 * 1024);
        const file = path.join(root, 'large-report.bin');
        fs.writeFileSync(file, bytes);
        const result = send(f, { payload: file });
        const jobs = path.join(outboxDir, 'up', 'jobs');
        await until(() => fs.existsSync(jobs) && fs.readdirSync(jobs).some((n) => n.endsWith('.0.bin')), 10000, 'the copy beside the job');
        // The station writes the next unit's report to the same path.
        fs.writeFileSync(file, crypto.randomBytes(3 * 1024 * 1024));
        await serial.setDown(false);
        const { ok, msg } = await result;
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(serial.uploads.at(-1).sha256, sha256(bytes));
        assert.deepEqual(fs.readdirSync(jobs), []);
    });

    it('queues jobs in arrival order even when an earlier copy takes longer', async function () {
        await serial.setDown(true);
        const f = await flow({}, { config: { concurrency: 1 } });
        const big = path.join(root, 'big-first.bin');
        fs.writeFileSync(big, crypto.randomBytes(16 * 1024 * 1024));
        const outputs = [];
        f.out.on('input', (m) => outputs.push(m.seq));
        f.up.receive({ payload: big, seq: 0 });
        for (let i = 1; i <= 3; i++) f.up.receive({ payload: Buffer.from(`small ${i}`), filename: `s${i}.txt`, seq: i });
        await until(() => jobsIn(outboxDir).length === 4, 10000, '4 jobs');
        const names = jobsIn(outboxDir).map((n) => readJobFile(path.join(outboxDir, 'up', 'jobs', n)).header.files[0].filename);
        assert.deepEqual(names, ['big-first.bin', 's1.txt', 's2.txt', 's3.txt']);
        await serial.setDown(false);
        await until(() => outputs.length === 4, 20000, '4 outputs');
        assert.deepEqual(
            serial.uploads.map((/** @type {any} */ u) => u.filename),
            ['big-first.bin', 's1.txt', 's2.txt', 's3.txt'],
        );
        assert.deepEqual(outputs, [0, 1, 2, 3]);
    });

    it('refuses a message with OUTBOX_FULL when the outbox is full, and keeps the others', async function () {
        await serial.setDown(true);
        const f = await flow({ outboxMaxFiles: 2 });
        const first = send(f, { payload: Buffer.from('one') });
        await until(() => jobsIn(outboxDir).length === 1, 5000, 'job 1');
        f.out.removeAllListeners('input');
        f.err.removeAllListeners('input');
        const second = send(f, { payload: Buffer.from('two') });
        await until(() => jobsIn(outboxDir).length === 2, 5000, 'job 2');
        f.out.removeAllListeners('input');
        f.err.removeAllListeners('input');
        const third = await send(f, { payload: Buffer.from('three') });
        assert.equal(third.ok, false);
        assert.equal(third.msg.error.code, 'OUTBOX_FULL');
        assert.equal(jobsIn(outboxDir).length, 2);
        await serial.setDown(false);
        await until(() => serial.uploads.length === 2, 20000, 'the two accepted jobs');
        assert.deepEqual(serial.uploads.map((u) => u.sha256).sort(), [sha256(Buffer.from('one')), sha256(Buffer.from('two'))].sort());
        void first;
        void second;
    });

    it('refuses a message with OUTBOX_FULL when the bytes would pass the size limit', async function () {
        const f = await flow({ outboxMaxSize: 1 });
        const res = await send(f, { payload: crypto.randomBytes(2 * 1024 * 1024) });
        assert.equal(res.ok, false);
        assert.equal(res.msg.error.code, 'OUTBOX_FULL');
        assert.equal(serial.requests.length, 0);
    });

    it('reports OUTBOX_UNWRITABLE when the folder cannot be written, and uploads nothing', async function () {
        const notADir = path.join(root, 'a-file');
        fs.writeFileSync(notADir, 'x');
        const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'disk', outboxDir: notADir } });
        const res = await send(f, { payload: Buffer.from('x') });
        assert.equal(res.ok, false);
        assert.equal(res.msg.error.code, 'OUTBOX_UNWRITABLE');
        assert.equal(serial.requests.length, 0);
    });

    it('moves a job Serial refuses for good to dead-letter/ and tells a Catch node', async function () {
        serial.fault({ mode: 'status', status: 422, count: 1, body: { error: 'Unprocessable' } });
        const f = await flow();
        const res = await send(f, { payload: Buffer.from('refused'), filename: 'refused.txt' });
        assert.equal(res.ok, false);
        assert.equal(res.msg.error.code, 'CLIENT_ERROR');
        assert.equal(res.msg.statusCode, 422);
        const where = res.msg.deadLetter;
        const job = path.join(where, `${path.basename(where)}.job`);
        assert.ok(where && fs.existsSync(job), 'the job in dead-letter');
        assert.equal(readJobFile(job).body.toString(), 'refused');
        assert.equal(JSON.parse(fs.readFileSync(path.join(where, 'error.json'), 'utf8')).code, 'CLIENT_ERROR');
        assert.deepEqual(jobsIn(outboxDir), []);
    });

    it('resumes after a redeploy and sends the rebuilt message', async function () {
        await serial.setDown(true);
        let f = await flow();
        const bytes = crypto.randomBytes(5000);
        void send(f, { payload: bytes, topic: 'unit-9', station: { id: 'EOL-1' } }).catch(() => undefined);
        await until(() => jobsIn(outboxDir).length === 1, 5000, 'job on disk');
        await unload(); // the flow stops: in-flight upload aborted, job stays
        assert.equal(jobsIn(outboxDir).length, 1);
        await serial.setDown(false);
        f = await flow();
        const msg = await new Promise((resolve) => f.out.once('input', resolve));
        assert.equal(serial.uploads.length, 1);
        assert.equal(serial.uploads[0].sha256, sha256(bytes));
        assert.equal(msg.topic, 'unit-9');
        assert.deepEqual(msg.station, { id: 'EOL-1' });
        assert.equal(msg.payload.name, serial.uploads[0].fileStorage.name);
        await until(() => jobsIn(outboxDir).length === 0, 5000, 'outbox empty');
    });

    it('finishes close() quickly while an upload is stalled, keeping the job', async function () {
        serial.fault({ mode: 'stall', count: 1, afterBytes: 0 });
        const f = await flow({ stallTimeout: 60 });
        void send(f, { payload: crypto.randomBytes(1024 * 1024) }).catch(() => undefined);
        await until(() => serial.requests.length === 1, 5000, 'request started');
        const t0 = Date.now();
        await unload();
        assert.ok(Date.now() - t0 < 5000, `close took ${Date.now() - t0} ms`);
        assert.equal(jobsIn(outboxDir).length, 1);
    });

    it('ignores a half-written job (no metadata) left by a crash', async function () {
        const jobs = path.join(outboxDir, 'up', 'jobs');
        fs.mkdirSync(jobs, { recursive: true });
        fs.writeFileSync(path.join(jobs, '00000000000001-000001-abcdef.bin'), 'half');
        fs.mkdirSync(path.join(outboxDir, 'up', 'tmp'), { recursive: true });
        fs.writeFileSync(path.join(outboxDir, 'up', 'tmp', 'x.json'), '{');
        const f = await flow();
        const { ok } = await send(f, { payload: Buffer.from('whole') });
        assert.equal(ok, true);
        assert.equal(serial.uploads.length, 1);
        assert.deepEqual(fs.readdirSync(jobs), []);
        // Emptied at start; what the delivery left is its job file, kept to write the next job over.
        assert.deepEqual(
            fs.readdirSync(path.join(outboxDir, 'up', 'tmp')).filter((n) => !n.endsWith('.spare')),
            [],
        );
    });
});
