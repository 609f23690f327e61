// @ts-check
'use strict';
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { loadUploadFlow, send, unload } = require('./support/flow');
const { WRONG_KEY } = require('./support/secrets');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const FILE_STORAGE_FIELDS = ['name', 'id', 'updated_at', 'created_at', 'bucket_id', 'last_accessed_at', 'metadata'];

describe('serial-mfg-upload against the Serial stand-in', function () {
    /** @type {any} */ let serial;
    /** @type {string} */ let dir;

    before(async function () {
        serial = await startStandIn({ apiKey: require('./support/secrets').API_KEY });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-upload-test-'));
    });
    after(async function () {
        await serial.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });
    afterEach(async function () {
        await unload();
        serial.reset();
    });

    const flow = (/** @type {any} */ opts = {}) => loadUploadFlow({ baseUrl: serial.url, upload: { outbox: 'off' }, ...opts });

    describe('uploads', function () {
        it('uploads a Buffer as is, with the default name, and keeps every other msg property', async function () {
            const f = await flow();
            const bytes = crypto.randomBytes(300 * 1024 + 7);
            const context = { station: 'EOL-3' };
            const { ok, msg } = await send(f, { payload: bytes, topic: 'unit-42', context, _msgid: 'keep-me' });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(serial.uploads.length, 1);
            const got = serial.uploads[0];
            assert.equal(got.sha256, sha256(bytes));
            assert.equal(got.size, bytes.length);
            assert.equal(got.filename, 'upload.bin');
            assert.equal(got.mimetype, 'application/octet-stream');
            for (const field of FILE_STORAGE_FIELDS) assert.ok(field in msg.payload, `payload.${field}`);
            assert.deepEqual(msg.payload, got.fileStorage);
            assert.equal(msg.topic, 'unit-42');
            assert.deepEqual(msg.context, context);
            assert.equal(msg.statusCode, 200);
            assert.equal(msg.attempts, 1);
        });

        it('names a Buffer from msg.filename and msg.contentType', async function () {
            const f = await flow();
            const bytes = Buffer.from('{"temp": 21.5}');
            const { ok } = await send(f, { payload: bytes, filename: 'reading.json', contentType: 'application/json; charset=utf-8' });
            assert.equal(ok, true);
            assert.equal(serial.uploads[0].filename, 'reading.json');
            assert.equal(serial.uploads[0].mimetype, 'application/json');
        });

        it('derives the Buffer default name from msg.contentType', async function () {
            const f = await flow();
            const { ok } = await send(f, { payload: Buffer.from([0x89, 0x50]), contentType: 'image/png' });
            assert.equal(ok, true);
            assert.equal(serial.uploads[0].filename, 'upload.png');
            assert.equal(serial.uploads[0].mimetype, 'image/png');
        });

        it('streams a file from a path, named by its base name, typed by its extension', async function () {
            const f = await flow();
            const bytes = crypto.randomBytes(5 * 1024 * 1024 + 3);
            const file = path.join(dir, 'torque-log.csv');
            fs.writeFileSync(file, bytes);
            const { ok, msg } = await send(f, { payload: file });
            assert.equal(ok, true, JSON.stringify(msg.error));
            const got = serial.uploads[0];
            assert.equal(got.sha256, sha256(bytes));
            assert.equal(got.filename, 'torque-log.csv');
            assert.equal(got.mimetype, 'text/csv');
            assert.equal(msg.payload.metadata.size, bytes.length);
        });

        it('uploads a 0-byte file', async function () {
            const f = await flow();
            const file = path.join(dir, 'empty.txt');
            fs.writeFileSync(file, '');
            const { ok } = await send(f, { payload: file });
            assert.equal(ok, true);
            assert.equal(serial.uploads[0].size, 0);
            assert.equal(serial.uploads[0].sha256, sha256(Buffer.alloc(0)));
        });

        it('sends the key as a bearer token, asks for JSON and announces the length', async function () {
            const f = await flow();
            await send(f, { payload: Buffer.from('x') });
            const h = serial.uploads[0].headers;
            assert.equal(h.authorization, '<redacted>'); // the stand-in checked it, then redacted it
            assert.equal(h.accept, 'application/json');
            assert.match(h['content-type'], /^multipart\/form-data; boundary=/);
            assert.ok(Number(h['content-length']) > 1);
            assert.equal(h['transfer-encoding'], undefined);
            assert.match(h['user-agent'], /^node-red-contrib-serial-mfg\//);
        });

        it('keeps non-ASCII names intact', async function () {
            const f = await flow();
            const name = 'Prüfbericht-温度-№5.csv';
            const file = path.join(dir, name);
            fs.writeFileSync(file, 'a,b\n1,2\n');
            const { ok } = await send(f, { payload: file });
            assert.equal(ok, true);
            assert.equal(serial.uploads[0].filename, name);
        });

        it('never lets quotes, CR or LF in a name add or break part headers', async function () {
            const f = await flow();
            const hostile = 'a"b\r\nContent-Disposition: form-data; name="other"\r\n\r\nx.txt';
            const refused = await send(f, { payload: Buffer.from('safe'), filename: hostile });
            assert.equal(refused.ok, false);
            assert.equal(refused.msg.error.code, 'INVALID_FILENAME');
            assert.equal(serial.requests.length, 0);
            const { ok } = await send(f, { payload: Buffer.from('safe'), filename: 'a"b.txt' });
            assert.equal(ok, true);
            const got = serial.uploads[0];
            assert.equal(got.mimetype, 'text/plain');
            assert.equal(got.filename, 'a%22b.txt');
            assert.equal(got.sha256, sha256(Buffer.from('safe')));
        });

        it('keeps only the last segment of a name with folders in it', async function () {
            const f = await flow();
            const { ok } = await send(f, { payload: Buffer.from('x'), filename: '../../etc/passwd' });
            assert.equal(ok, true);
            assert.equal(serial.uploads[0].filename, 'passwd');
        });

        it('takes the name and type from the node when set as strings', async function () {
            const f = await flow({
                upload: { outbox: 'off', filename: 'station.log', filenameType: 'str', contentType: 'text/plain', contentTypeType: 'str' },
            });
            const { ok } = await send(f, { payload: Buffer.from('log'), filename: 'ignored.bin' });
            assert.equal(ok, true);
            assert.equal(serial.uploads[0].filename, 'station.log');
            assert.equal(serial.uploads[0].mimetype, 'text/plain');
        });

        it('starts uploads in the order the messages arrived, whatever each took to check', async function () {
            const f = await flow({ config: { concurrency: 1 } });
            // A path needs a stat before it can join the queue, a Buffer does not: the Buffers must still wait their turn.
            const file = path.join(dir, 'first.bin');
            fs.writeFileSync(file, crypto.randomBytes(1024 * 1024));
            const outputs = [];
            f.out.on('input', (m) => outputs.push(m.seq));
            f.up.receive({ payload: file, seq: 0 });
            for (let i = 1; i <= 4; i++) f.up.receive({ payload: Buffer.from(`buffer ${i}`), filename: `b${i}.txt`, seq: i });
            const end = Date.now() + 10000;
            while (outputs.length < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
            assert.deepEqual(
                serial.uploads.map((/** @type {any} */ u) => u.filename),
                ['first.bin', 'b1.txt', 'b2.txt', 'b3.txt', 'b4.txt'],
            );
            assert.deepEqual(outputs, [0, 1, 2, 3, 4]);
        });

        it('shows uploading, then done, on the node status', async function () {
            const f = await flow();
            await send(f, { payload: Buffer.from('x') });
            const texts = f.statuses.map((s) => s.text);
            assert.deepEqual(texts, ['serial-mfg-upload.status.uploading', 'serial-mfg-upload.status.done']);
            assert.equal(f.statuses[0].fill, 'blue');
            assert.equal(f.statuses[1].fill, 'green');
        });

        it('retries a 503 and reports the attempts', async function () {
            const f = await flow({ upload: { outbox: 'off', attempts: 3, backoff: 0.01 } });
            serial.fault({ mode: 'status', status: 503, count: 1 });
            const bytes = crypto.randomBytes(1000);
            const { ok, msg } = await send(f, { payload: bytes });
            assert.equal(ok, true, JSON.stringify(msg.error));
            assert.equal(msg.attempts, 2);
            assert.equal(serial.uploads.length, 1);
            assert.equal(serial.uploads[0].sha256, sha256(bytes));
        });
    });

    describe('errors reach a Catch node with a stable code', function () {
        /** @param {any} opts @param {any} msg */
        async function failure(opts, msg) {
            const f = await flow(opts);
            const res = await send(f, msg);
            assert.equal(res.ok, false, 'expected an error, got output');
            assert.ok(res.msg.error.message.length > 10, 'a readable message');
            const last = f.statuses[f.statuses.length - 1];
            assert.equal(last.fill, 'red');
            assert.equal(last.shape, 'ring');
            return res.msg;
        }

        it('NO_CONFIG without a config node', async function () {
            const msg = await failure({ noConfig: true }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'NO_CONFIG');
            assert.equal(serial.requests.length, 0);
        });

        it('NO_API_KEY without a key', async function () {
            const msg = await failure({ apiKey: null }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'NO_API_KEY');
            assert.equal(serial.requests.length, 0);
        });

        for (const [label, payload] of /** @type {Array<[string, unknown]>} */ ([
            ['a number', 42],
            ['an object', { a: 1 }],
            ['null', null],
            ['undefined', undefined],
        ])) {
            it(`INVALID_PAYLOAD for ${label}`, async function () {
                const msg = await failure({}, { payload });
                assert.equal(msg.error.code, 'INVALID_PAYLOAD');
            });
        }

        it('EMPTY_PATH for an empty string', async function () {
            const msg = await failure({}, { payload: '  ' });
            assert.equal(msg.error.code, 'EMPTY_PATH');
        });

        it('FILE_NOT_FOUND for a missing file', async function () {
            const msg = await failure({}, { payload: path.join(dir, 'nope.csv') });
            assert.equal(msg.error.code, 'FILE_NOT_FOUND');
            assert.match(msg.error.message, /nope\.csv/);
        });

        it('NOT_A_FILE for a directory', async function () {
            const msg = await failure({}, { payload: dir });
            assert.equal(msg.error.code, 'NOT_A_FILE');
        });

        it('INVALID_BASE_URL for a base URL that is not http(s)', async function () {
            for (const baseUrl of ['not a url', 'ftp://files.example.com']) {
                const msg = await failure({ baseUrl }, { payload: Buffer.from('x') });
                assert.equal(msg.error.code, 'INVALID_BASE_URL');
                await unload();
            }
        });

        it('INSECURE_URL for http:// to a host that is not loopback', async function () {
            const msg = await failure({ baseUrl: 'http://serial.example.com' }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'INSECURE_URL');
        });

        it('allows http:// elsewhere only when the config node says so', async function () {
            // The host does not resolve here, so the request fails: but it was attempted.
            const msg = await failure({ baseUrl: 'http://serial.invalid', config: { allowHttp: true } }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'CONNECTION_FAILED');
        });

        it('CONNECTION_FAILED when nothing listens', async function () {
            const msg = await failure({ baseUrl: 'http://127.0.0.1:9' }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'CONNECTION_FAILED');
            assert.equal(msg.attempts, 1);
        });

        it('UNAUTHORIZED with statusCode 401 for a wrong key, not retried', async function () {
            const msg = await failure({ apiKey: WRONG_KEY, upload: { outbox: 'off', attempts: 3 } }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'UNAUTHORIZED');
            assert.equal(msg.statusCode, 401);
            assert.equal(serial.requests.length, 1);
        });

        it('CLIENT_ERROR for another 4xx, not retried', async function () {
            serial.fault({ mode: 'status', status: 413, count: 3, body: { error: 'Payload too large' } });
            const msg = await failure({ upload: { outbox: 'off', attempts: 3 } }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'CLIENT_ERROR');
            assert.equal(msg.statusCode, 413);
            assert.match(msg.error.message, /413/);
            assert.equal(serial.requests.length, 1);
        });

        it('SERVER_ERROR for 5xx once the attempts are used up', async function () {
            serial.fault({ mode: 'status', status: 500, count: 5 });
            const msg = await failure({ upload: { outbox: 'off', attempts: 2, backoff: 0.01 } }, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'SERVER_ERROR');
            assert.equal(msg.statusCode, 500);
            assert.equal(msg.attempts, 2);
            assert.equal(serial.requests.length, 2);
        });

        it('INVALID_RESPONSE for a 200 that is not a File-storage object', async function () {
            serial.fault({ mode: 'badJson', count: 1 });
            let msg = await failure({}, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'INVALID_RESPONSE');
            assert.equal(msg.statusCode, 200);
            await unload();
            serial.fault({ mode: 'notJson', count: 1 });
            msg = await failure({}, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'INVALID_RESPONSE');
        });

        it('INVALID_FILENAME and INVALID_CONTENT_TYPE for unusable names and types', async function () {
            let msg = await failure({}, { payload: Buffer.from('x'), filename: 'nul\u0000byte.txt' });
            assert.equal(msg.error.code, 'INVALID_FILENAME');
            await unload();
            msg = await failure({}, { payload: Buffer.from('x'), contentType: 'text/plain\r\nX-Evil: 1' });
            assert.equal(msg.error.code, 'INVALID_CONTENT_TYPE');
            assert.equal(serial.requests.length, 0);
        });
    });
});
