// @ts-check
'use strict';
/**
 * The edges an adversarial pass broke in 0.1.0, each kept fixed here: a crash when a file source is
 * stopped mid-read, the key echoed by an error body, empty-bodied errors taken for success, CR/LF in a
 * content type, test connection sending a stored key anywhere, job ids taken as paths, an outbox that
 * never recovers, raw fs errors, unbounded answers, two owners of one outbox, whole messages and whole
 * paths copied into jobs and errors.
 */
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { startStandIn } = require('../harness/serial-stand-in');
const { loadUploadFlow, send, unload, configNode } = require('./support/flow');
const { loadRequestFlow, request } = require('./support/request-flow');
const { API_KEY, WRONG_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { committedJobs, writeJob } = require('./support/outbox');
const { pathSource } = require('../nodes/lib/source/sources');
const { Outbox } = require('../nodes/lib/outbox/outbox');
const { sleep, until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const uploads = (/** @type {any} */ serial) => serial.requests.filter((/** @type {any} */ r) => r.path === '/files');

describe('hardening: no crash, no leak, no injection at the edges', function () {
    /** @type {any} */ let serial;
    /** @type {string} */ let root;

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-hardening-'));
    });
    afterEach(async function () {
        await unload();
        await serial.setDown(false); // a test that failed while it was down leaves it up for the next
        serial.reset();
        scan('hardening files', { path: root });
    });
    after(async function () {
        await serial.close();
        fs.rmSync(root, { recursive: true, force: true });
    });

    describe('1. a file source stopped while a read is in flight', function () {
        it('never calls into a closed descriptor (no uncaught TypeError)', async function () {
            const file = path.join(root, 'three-chunks.bin');
            fs.writeFileSync(file, crypto.randomBytes(300 * 1024));
            /** @type {Error[]} */ const uncaught = [];
            const onUncaught = (/** @type {Error} */ e) => uncaught.push(e);
            process.prependListener('uncaughtException', onUncaught);
            try {
                for (let i = 0; i < 30; i++) {
                    const stream = (await pathSource(file)).open();
                    await new Promise((r) => stream.once('readable', r));
                    stream.read();
                    stream.read(); // the second chunk's read is now in flight
                    stream.destroy();
                    await sleep(5);
                }
                await sleep(50);
            } finally {
                process.removeListener('uncaughtException', onUncaught);
            }
            assert.deepEqual(
                uncaught.map((e) => e.message),
                [],
            );
        });

        it('survives Serial refusing the key before reading a 4 MiB body, ten times over', async function () {
            const file = path.join(root, 'four-mib.bin');
            fs.writeFileSync(file, crypto.randomBytes(4 * 1024 * 1024));
            const f = await loadUploadFlow({ baseUrl: serial.url, apiKey: WRONG_KEY, upload: { outbox: 'off' } });
            for (let i = 0; i < 10; i++) {
                const { ok, msg } = await send(f, { payload: file });
                assert.equal(ok, false);
                assert.equal(msg.error.code, 'UNAUTHORIZED');
            }
        });
    });

    describe('2. the API key in an error body', function () {
        for (const [status, code] of [
            [500, 'SERVER_ERROR'],
            [401, 'UNAUTHORIZED'],
            [400, 'CLIENT_ERROR'],
        ]) {
            it(`is redacted from a ${status} (${code}): message, stack and dead-letter`, async function () {
                const echo = { message: `invalid token Bearer ${API_KEY} (${'x'.repeat(180)}${API_KEY})` };
                serial.fault({ mode: 'status', status, count: 1, body: echo });
                const outboxDir = path.join(root, `box-${status}`);
                const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: status === 400 ? 'disk' : 'off', outboxDir } });
                const { ok, msg } = await send(f, { payload: Buffer.from('x') });
                assert.equal(ok, false);
                assert.equal(msg.error.code, code);
                assert.match(msg.error.message, /<redacted>/);
                for (const text of [msg.error.message, msg.error.stack ?? '', JSON.stringify(msg)]) assert.equal(text.includes(API_KEY), false);
                if (status === 400) {
                    const error = fs.readFileSync(path.join(msg.deadLetter, 'error.json'), 'utf8');
                    assert.match(error, /<redacted>/);
                    assert.equal(error.includes(API_KEY), false);
                }
            });
        }

        it('is redacted, URL-encoded as well, from what the request node passes on', async function () {
            serial.fault({ mode: 'status', status: 200, count: 1, path: '/datasets', body: { echo: encodeURIComponent(API_KEY), again: API_KEY } });
            const f = await loadRequestFlow({ baseUrl: serial.url, request: { method: 'GET', path: '/datasets' } });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.deepEqual(msg.payload, { echo: '<redacted>', again: '<redacted>' });
        });
    });

    describe('3. an error with an empty body', function () {
        for (const [status, code] of [
            [401, 'UNAUTHORIZED'],
            [403, 'UNAUTHORIZED'],
            [404, 'CLIENT_ERROR'],
            [500, 'SERVER_ERROR'],
        ]) {
            it(`${status} with no body is ${code} on the request node, not a success`, async function () {
                serial.fault({ mode: 'status', status, count: 1, path: '/datasets', body: '' });
                const f = await loadRequestFlow({ baseUrl: serial.url, request: { method: 'GET', path: '/datasets' } });
                const { ok, msg } = await request(f, {});
                assert.equal(ok, false);
                assert.equal(msg.error.code, code);
                assert.equal(msg.statusCode, status);
            });
        }

        it('an empty 503 is retried, then the answer passed on', async function () {
            serial.fault({ mode: 'status', status: 503, count: 1, path: '/datasets', body: '' });
            const f = await loadRequestFlow({ baseUrl: serial.url, request: { method: 'GET', path: '/datasets', attempts: 2 } });
            const { ok, msg } = await request(f, {});
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 2);
            assert.deepEqual(msg.payload, []);
        });

        it('test connection answers ok: false for a key refused with an empty 401', async function () {
            serial.fault({ mode: 'status', status: 401, count: 1, path: '/datasets', body: '' });
            await loadUploadFlow({ baseUrl: serial.url });
            const res = await helper.request().post('/serial-mfg/test-connection').send({ baseUrl: serial.url, apiKey: WRONG_KEY });
            assert.equal(res.body.ok, false);
            assert.equal(res.body.code, 'UNAUTHORIZED');
        });
    });

    describe('4. control characters in header values built from a message', function () {
        for (const contentType of ['text/plain\r\n\r\n;x=1', 'text/plain\n', 'text/plain;\tq="a\rb"', 'text/plain\u0000']) {
            it(`refuses the content type ${JSON.stringify(contentType)} before any request`, async function () {
                const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off' } });
                const { ok, msg } = await send(f, { payload: Buffer.from('bytes'), contentType });
                assert.equal(ok, false);
                assert.equal(msg.error.code, 'INVALID_CONTENT_TYPE');
                assert.equal(serial.requests.length, 0);
            });
        }
        it('refuses CR, LF and other control characters in a file name', async function () {
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off' } });
            for (const filename of ['a\r\nb.txt', 'a\nb.txt', 'a\u001bb.txt']) {
                const { ok, msg } = await send(f, { payload: Buffer.from('bytes'), filename });
                assert.equal(ok, false);
                assert.equal(msg.error.code, 'INVALID_FILENAME');
            }
            assert.equal(serial.requests.length, 0);
        });

        // A key pasted with a line break or an invisible character: Node refuses some as a header, which
        // used to fail each attempt as a retryable CONNECTION_FAILED, for ever with the outbox on.
        const cut = 12;
        const [head, tail] = [API_KEY.slice(0, cut), API_KEY.slice(cut)];
        for (const [what, char] of [
            ['a line break', '\n'],
            ['a zero-width space', '\u200b'],
            ['a no-break space', '\u00a0'],
            ['a space', ' '],
            ['a NUL', '\u0000'],
        ]) {
            it(`refuses a key with ${what} inside as NO_API_KEY, naming its position only, before any request`, async function () {
                const f = await loadUploadFlow({ baseUrl: serial.url, apiKey: head + char + tail });
                const { ok, msg } = await send(f, { payload: Buffer.from('bytes') });
                assert.equal(ok, false);
                assert.equal(msg.error.code, 'NO_API_KEY');
                assert.match(msg.error.message, new RegExp(`character ${cut + 1} is a space, a line break`));
                for (const part of [head, tail]) assert.equal(JSON.stringify(msg).includes(part), false);
                assert.equal(serial.requests.length, 0);
                const res = await helper
                    .request()
                    .post('/serial-mfg/test-connection')
                    .send({ baseUrl: serial.url, apiKey: head + char + tail });
                assert.equal(res.body.ok, false);
                assert.equal(res.body.code, 'NO_API_KEY');
                assert.equal(JSON.stringify(res.body).includes(tail), false);
                assert.equal(serial.requests.length, 0);
            });
        }
        it('still takes a key with the spaces and line break of a paste around it', async function () {
            const f = await loadUploadFlow({ baseUrl: serial.url, apiKey: `  ${API_KEY}\r\n` });
            const { ok, msg } = await send(f, { payload: Buffer.from('bytes') });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(uploads(serial).length, 1);
        });
    });

    describe('5. test connection and stored secrets', function () {
        /** @type {any} */ let elsewhere;
        before(async function () {
            elsewhere = await startStandIn({ apiKey: 'some-other-key-entirely' });
        });
        after(async function () {
            await elsewhere.close();
        });

        /** A node type of another package that also stores an `apiKey` credential. */
        function otherPackage(/** @type {any} */ RED) {
            RED.nodes.registerType(
                'other-vendor-config',
                /** @this {any} */ function (/** @type {any} */ def) {
                    RED.nodes.createNode(this, def);
                },
                { credentials: { apiKey: { type: 'password' } } },
            );
        }

        async function load() {
            const flow = [
                { id: 'cfg', type: 'serial-mfg-config', baseUrl: serial.url },
                { id: 'other', type: 'other-vendor-config' },
            ];
            await helper.load([configNode, otherPackage], flow, { cfg: { apiKey: API_KEY }, other: { apiKey: API_KEY } });
        }

        it('never reads the credential of a node of another type', async function () {
            await load();
            const res = await helper.request().post('/serial-mfg/test-connection').send({ id: 'other', baseUrl: elsewhere.url });
            assert.equal(res.body.ok, false);
            assert.equal(elsewhere.requests.length, 0);
            assert.equal(serial.requests.length, 0);
        });

        it('sends a stored key only to its deployed base URL', async function () {
            await load();
            const moved = await helper.request().post('/serial-mfg/test-connection').send({ id: 'cfg', baseUrl: elsewhere.url });
            assert.equal(moved.body.ok, false);
            assert.match(moved.body.message, /deployed/);
            assert.equal(elsewhere.requests.length, 0);
            const same = await helper
                .request()
                .post('/serial-mfg/test-connection')
                .send({ id: 'cfg', baseUrl: `${serial.url}/` });
            assert.equal(same.body.ok, true, same.body.message);
            assert.equal(serial.requests.filter((/** @type {any} */ r) => r.authorized).length, 1);
        });

        it('takes JSON only, and keeps the http rule for a typed key', async function () {
            await load();
            const form = await helper.request().post('/serial-mfg/test-connection').type('form').send({ id: 'cfg', baseUrl: elsewhere.url });
            assert.equal(form.status, 415);
            const insecure = await helper.request().post('/serial-mfg/test-connection').send({ baseUrl: 'http://example.invalid', apiKey: API_KEY });
            assert.equal(insecure.body.code, 'INSECURE_URL');
            assert.equal(JSON.stringify(insecure.body).includes(API_KEY), false);
            assert.equal(elsewhere.requests.length + serial.requests.length, 0);
        });
    });

    describe('6. job files are never trusted as paths', function () {
        it('takes a job id from its file name only, and touches nothing outside the outbox', async function () {
            const outboxDir = path.join(root, 'crafted');
            const jobs = path.join(outboxDir, 'up', 'jobs');
            fs.mkdirSync(jobs, { recursive: true });
            const secret = path.join(outboxDir, 'secret');
            fs.writeFileSync(secret, 'not for Serial');
            // A 0.1.0 job whose metadata names another id, one climbing out of the folder.
            const id = '00000000000001-000001-abcdef';
            fs.writeFileSync(path.join(jobs, `${id}.bin`), 'the real job');
            fs.writeFileSync(
                path.join(jobs, `${id}.json`),
                JSON.stringify({
                    id: '../../secret',
                    filename: 'real.txt',
                    contentType: 'text/plain',
                    size: 12,
                    sha256: '',
                    createdAt: '',
                    msg: {},
                }),
            );
            fs.writeFileSync(path.join(jobs, '..%2f..%2fsecret.job'), 'not a job name');
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outboxDir } });
            await until(() => serial.uploads.length === 1, 10000, 'the job delivered');
            await sleep(200);
            assert.equal(serial.uploads.length, 1);
            assert.equal(serial.uploads[0].sha256, sha256(Buffer.from('the real job')));
            assert.equal(fs.readFileSync(secret, 'utf8'), 'not for Serial');
            assert.ok(fs.existsSync(path.join(jobs, '..%2f..%2fsecret.job')), 'a file of another name is left alone');
            void f;
        });
    });

    describe('7. an outbox that cannot be opened at start', function () {
        it('is tried again until it opens, with the cause on the status, and then resumes its jobs', async function () {
            const base = path.join(root, 'late-mount');
            fs.writeFileSync(base, 'not mounted yet');
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outboxDir: base } });
            await until(() => f.statuses.some((s) => s.text === 'outbox: OUTBOX_UNWRITABLE'), 5000, 'the status saying so');
            const refused = await send(f, { payload: Buffer.from('meanwhile') });
            assert.equal(refused.msg.error.code, 'OUTBOX_UNWRITABLE');
            // The share arrives, holding a job from before.
            fs.rmSync(base);
            writeJob(path.join(base, 'up', 'jobs'), '00000000000002-000001-abcdef', [{ filename: 'queued.txt', bytes: Buffer.from('from before') }], {
                topic: 'kept',
            });
            const msg = await new Promise((resolve) => f.out.once('input', resolve));
            assert.equal(/** @type {any} */ (msg).topic, 'kept');
            assert.equal(serial.uploads[0].sha256, sha256(Buffer.from('from before')));
            const later = await send(f, { payload: Buffer.from('after') });
            assert.equal(later.ok, true);
        });
    });

    describe('8. paths a person cannot see', function () {
        it('a NUL in a folder name is FILE_NOT_FOUND, naming the character', async function () {
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off' } });
            const { ok, msg } = await send(f, { payload: `${root}/a\u0000b/report.csv` });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'FILE_NOT_FOUND');
            assert.match(msg.error.message, /U\+0000/);
        });

        it('a 10 MB path is echoed in 200 characters at the most', async function () {
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off' } });
            const { msg } = await send(f, { payload: `/nonexistent/${'a'.repeat(10_000_000)}/report.csv` });
            assert.equal(msg.error.code, 'FILE_NOT_FOUND');
            assert.ok(msg.error.message.length < 400, `${msg.error.message.length} characters`);
        });
    });

    describe('risks', function () {
        it('bounds the whole answer: a trickling server gets RESPONSE_TIMEOUT on both nodes', async function () {
            serial.fault({ mode: 'trickle', count: 1, intervalMs: 300 });
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off', responseTimeout: 1, stallTimeout: 60 } });
            const t0 = Date.now();
            const { msg } = await send(f, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'RESPONSE_TIMEOUT');
            assert.ok(Date.now() - t0 < 5000);
            await unload();
            serial.fault({ mode: 'trickle', count: 1, intervalMs: 300, path: '/datasets' });
            const r = await loadRequestFlow({ baseUrl: serial.url, request: { method: 'GET', path: '/datasets', responseTimeout: 1 } });
            const answer = await request(r, {});
            assert.equal(answer.msg.error.code, 'RESPONSE_TIMEOUT');
        });

        it('keeps at most 1 MiB of a message in a job and names what it left out', async function () {
            const outboxDir = path.join(root, 'big-msg');
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outboxDir } });
            /** @type {string[]} */ const warnings = [];
            const warn = f.up.warn.bind(f.up);
            f.up.warn = (/** @type {any} */ w) => {
                warnings.push(String(w));
                return warn(w);
            };
            await serial.setDown(true);
            const huge = Buffer.alloc(64 * 1024 * 1024, 1);
            const result = send(f, { payload: Buffer.from('small'), image: huge, topic: 't' });
            const jobs = path.join(outboxDir, 'up', 'jobs');
            await until(() => committedJobs(jobs).length === 1, 5000, 'the job');
            const size = fs.statSync(path.join(jobs, committedJobs(jobs)[0])).size;
            assert.ok(size < 1.1 * 1024 * 1024, `job file of ${size} bytes`);
            // The job is in the folder before its batch's folder sync ends; the warning comes once it is accepted.
            await until(() => warnings.some((w) => /msg\.image/.test(w)), 5000, 'a warning naming msg.image');
            await serial.setDown(false);
            const { ok, msg } = await result;
            assert.equal(ok, true);
            assert.equal(msg.image.length, huge.length, 'the live message keeps it');
        });

        it('lets one owner use an outbox folder: a second process is refused, a killed one is taken over', async function () {
            const dir = path.join(root, 'locked');
            const child = spawn(
                process.execPath,
                [
                    '-e',
                    `
                const { Outbox } = require(${JSON.stringify(require.resolve('../nodes/lib/outbox/outbox'))});
                Outbox.open(${JSON.stringify(dir)}, { maxFiles: 10, maxBytes: 1e9 }).then(() => console.log('open'), (e) => console.log(e.code));
                setInterval(() => {}, 1000);
            `,
                ],
                { stdio: ['ignore', 'pipe', 'inherit'] },
            );
            await new Promise((resolve) => child.stdout.once('data', resolve));
            await assert.rejects(
                Outbox.open(dir, { maxFiles: 10, maxBytes: 1e9 }),
                (/** @type {any} */ e) => e.code === 'OUTBOX_LOCKED' && e.message.includes(String(child.pid)),
            );
            child.kill('SIGKILL');
            await new Promise((resolve) => child.once('exit', resolve));
            const box = await Outbox.open(dir, { maxFiles: 10, maxBytes: 1e9 });
            await assert.rejects(Outbox.open(dir, { maxFiles: 10, maxBytes: 1e9 }), (/** @type {any} */ e) => e.code === 'OUTBOX_LOCKED');
            await box.close();
            const again = await Outbox.open(dir, { maxFiles: 10, maxBytes: 1e9 });
            await again.close();
        });

        it('delivers 0.1.0 jobs left on disk by the released version', async function () {
            const outboxDir = path.join(root, 'legacy');
            const jobs = path.join(outboxDir, 'up', 'jobs');
            fs.mkdirSync(jobs, { recursive: true });
            const id = '00000000000003-000001-abcdef';
            const bytes = crypto.randomBytes(5000);
            fs.writeFileSync(path.join(jobs, `${id}.bin`), bytes);
            fs.writeFileSync(
                path.join(jobs, `${id}.json`),
                JSON.stringify({
                    id,
                    filename: 'old.csv',
                    contentType: 'text/csv',
                    size: bytes.length,
                    sha256: sha256(bytes),
                    createdAt: '',
                    msg: { topic: 'old' },
                }),
            );
            const f = await loadUploadFlow({ baseUrl: serial.url, upload: { outboxDir } });
            const msg = /** @type {any} */ (await new Promise((resolve) => f.out.once('input', resolve)));
            assert.equal(msg.topic, 'old');
            assert.equal(serial.uploads[0].sha256, sha256(bytes));
            assert.equal(serial.uploads[0].filename, 'old.csv');
            await until(() => fs.readdirSync(jobs).length === 0, 5000, 'the job removed');
            assert.equal(uploads(serial).length, 1);
        });
    });
});
