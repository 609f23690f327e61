// @ts-check
'use strict';
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { Readable } = require('stream');
const { SerialClient } = require('../../../nodes/lib/serial/client');
const { SerialError } = require('../../../nodes/lib/errors/serial-error');
const { bufferSource, pathSource } = require('../../../nodes/lib/source/sources');
const { startStandIn } = require('../../../harness/serial-stand-in');
const { API_KEY } = require('../../support/secrets');

const options = { attempts: 3, backoffMs: 10, stallMs: 5000, connectMs: 2000, responseMs: 10000 };

/**
 * A source whose bytes fail part-way with FILE_CHANGED, as a file rewritten during its upload does.
 * @param {number} size @param {number} failAfter
 */
function changingSource(size, failAfter) {
    let opened = 0;
    return {
        size,
        filename: 'changing.bin',
        contentType: 'application/octet-stream',
        get opened() {
            return opened;
        },
        open(/** @type {any} */ o = {}) {
            opened++;
            let sent = 0;
            const stream = Object.assign(
                new Readable({
                    read() {
                        if (sent === 0 && o.frame) this.push(o.frame.head);
                        if (sent >= failAfter)
                            return void this.destroy(new SerialError('FILE_CHANGED', { params: { path: 'x' }, reason: { key: 'changed.identity' } }));
                        const chunk = crypto.randomBytes(Math.min(64 * 1024, failAfter - sent));
                        sent += chunk.length;
                        this.push(chunk);
                    },
                }),
                { release() {} },
            );
            return stream;
        },
    };
}

describe('lib/serial/client: one upload pipeline, its failures told by their cause', function () {
    /** @type {any} */ let serial;
    /** @type {any} */ let client;
    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
    });
    beforeEach(function () {
        client = new SerialClient({ baseUrl: serial.url, apiKey: API_KEY, concurrency: 2 });
    });
    afterEach(function () {
        client.close();
        serial.reset();
    });
    after(async function () {
        await serial.close();
    });

    it('reports FILE_CHANGED, not a broken connection, when the bytes fail mid-upload; not retried', async function () {
        const source = changingSource(4 * 1024 * 1024, 1024 * 1024);
        await assert.rejects(client.upload(source, options), (/** @type {any} */ e) => e.code === 'FILE_CHANGED' && e.attempts === 1);
        assert.equal(source.opened, 1);
        assert.equal(serial.uploads.length, 0, 'Serial stored nothing');
    });

    it("reports ABORTED when the caller's signal ends the upload, and frees its slot", async function () {
        const closing = new AbortController();
        serial.fault({ mode: 'stall', count: 1, afterBytes: 1024 });
        const upload = client.upload(bufferSource(crypto.randomBytes(2 * 1024 * 1024)), { ...options, signal: closing.signal });
        setTimeout(() => closing.abort(), 200);
        await assert.rejects(upload, (/** @type {any} */ e) => e.code === 'ABORTED');
        assert.equal(client.limiter.queued, 0);
        const bytes = crypto.randomBytes(1000);
        const next = await client.upload(bufferSource(bytes), options);
        assert.equal(next.statusCode, 200);
        assert.equal(serial.uploads.at(-1).sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
    });

    it("sends a small file's request, headers, part header, bytes and tail, in one write on the connection", async function () {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-one-write-'));
        const port = Number(new URL(serial.url).port);
        /** @type {number[]} */ const writes = [];
        /** @type {any} */ const proto = net.Socket.prototype;
        const { _write, _writev } = proto;
        const count = (/** @type {any} */ socket) => socket.remotePort === port && writes.push(1);
        // Every write a client socket to the stand-in makes, whole requests or pieces of one.
        proto._write = function (/** @type {any[]} */ ...args) {
            count(this);
            return _write.apply(this, args);
        };
        proto._writev = function (/** @type {any[]} */ ...args) {
            count(this);
            return _writev.apply(this, args);
        };
        try {
            for (const [name, bytes] of [
                ['report.csv', crypto.randomBytes(64 * 1024)],
                ['tiny.txt', Buffer.from('ok')],
            ]) {
                const file = path.join(dir, String(name));
                fs.writeFileSync(file, bytes);
                for (const source of [await pathSource(file), bufferSource(/** @type {Buffer} */ (bytes))]) {
                    writes.length = 0;
                    const { statusCode } = await client.upload(source, options);
                    assert.equal(statusCode, 200);
                    assert.equal(serial.uploads.at(-1).sha256, crypto.createHash('sha256').update(bytes).digest('hex'));
                    assert.equal(writes.length, 1, `${name} from ${source.path ? 'a path' : 'a Buffer'}: ${writes.length} writes`);
                }
            }
        } finally {
            proto._write = _write;
            proto._writev = _writev;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
