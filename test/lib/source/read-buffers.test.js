// @ts-check
'use strict';
/**
 * The read buffers file streams share (lib/source/buffers.ts, read through lib/source/chunks.ts):
 * handed back ones are read into again, across streams, and never one a consumer still holds. Uploads read through them in parallel over
 * HTTP and HTTPS arrive intact.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathSource } = require('../../../nodes/lib/source/sources');
const { readAll } = require('../../../nodes/lib/outbox/job');
const { borrow, heldBy, retainedBytes } = require('../../../nodes/lib/source/buffers');
const { SerialClient } = require('../../../nodes/lib/serial/client');
const { startStandIn } = require('../../../harness/serial-stand-in');
const { makeCertificates } = require('../../../harness/certs');
const { startLink } = require('../../../scripts/bench/link');
const { API_KEY } = require('../../support/secrets');
const { seeded } = require('../../support/seeded');

const CHUNK = 256 * 1024;

const sha = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

describe('lib/source/chunks: shared read buffers', function () {
    /** @type {string} */ let dir;
    let n = 0;
    /** A new file of `size` random bytes; its path and bytes. */
    const file = (/** @type {number} */ size, /** @type {() => number} */ random = Math.random) => {
        const words = new Uint32Array(Math.ceil(size / 4));
        for (let i = 0; i < words.length; i++) words[i] = Math.floor(random() * 2 ** 32);
        const bytes = Buffer.from(words.buffer, 0, size);
        const p = path.join(dir, `f${n++}.bin`);
        fs.writeFileSync(p, bytes);
        return { path: p, bytes };
    };
    /** The stream's chunks, each handed back right after it is read (as the upload does once written) unless `keep`. */
    const read = async (/** @type {string} */ p, keep = false) => {
        const stream = (await pathSource(p)).open();
        const chunks = [];
        for await (const c of stream) {
            chunks.push(keep ? c : Buffer.from(c));
            if (!keep) stream.release(c);
        }
        return { stream, chunks };
    };

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-read-buffers-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads the next file into the buffer the last one handed back', async function () {
        const a = file(64 * 1024);
        const first = (await read(a.path, true)).chunks[0];
        const s = (await pathSource(a.path)).open();
        // Handed back by a stream other than the one that reads next.
        for await (const c of s) assert.ok(c.equals(a.bytes));
        s.release(first);
        // Same size class (33–64 KiB), another size.
        const b = file(40 * 1024);
        const next = (await read(b.path, true)).chunks[0];
        assert.equal(next.buffer, first.buffer, 'the same memory, read into again');
        assert.ok(next.equals(b.bytes));
    });

    it('never reads into a chunk still held, nor into one handed back twice more than once', async function () {
        const a = file(100 * 1024);
        const held = (await read(a.path, true)).chunks[0];
        for (let i = 0; i < 20; i++) await read(file(1 + i * 5000).path);
        assert.ok(held.equals(a.bytes), 'the held chunk kept its bytes while 20 other files were read');

        const s = (await pathSource(a.path)).open();
        const twice = [];
        for await (const c of s) twice.push(c);
        s.release(twice[0]);
        s.release(twice[0]);
        // Two streams open at once, each holding its chunk: they must not share memory.
        const [x, y] = [file(30 * 1024), file(40 * 1024)];
        const [cx, cy] = await Promise.all([read(x.path, true), read(y.path, true)]);
        assert.notEqual(cx.chunks[0].buffer, cy.chunks[0].buffer);
        assert.ok(cx.chunks[0].equals(x.bytes) && cy.chunks[0].equals(y.bytes));
    });

    it('gives a read-ahead chunk back when its stream is closed unread', async function () {
        const a = file(20 * 1024);
        const stream = /** @type {any} */ ((await pathSource(a.path)).open());
        stream.on('error', () => undefined);
        // The first chunk is read as soon as the file is open (the read-ahead of a queued upload).
        for (let i = 0; i < 200 && !stream.first; i++) await new Promise((r) => setTimeout(r, 5));
        const ahead = stream.first;
        assert.ok(ahead, 'first chunk read ahead');
        stream.destroy();
        const next = (await read(file(30 * 1024).path, true)).chunks[0];
        assert.equal(next.buffer, ahead.buffer);
    });

    it("keeps an outbox job's bytes in memory of their size class, untouched by later reads", async function () {
        const a = file(64 * 1024);
        const whole = await readAll(await pathSource(a.path));
        assert.ok(whole.equals(a.bytes));
        assert.equal(heldBy(whole), 64 * 1024, 'its own size class: the chunk it was read into, not a copy');
        for (let i = 0; i < 20; i++) await read(file(64 * 1024).path);
        assert.ok(whole.equals(a.bytes));
        const big = file(CHUNK * 2 + 17);
        assert.ok((await readAll(await pathSource(big.path))).equals(big.bytes), 'several chunks, in order');
        // The edges: an empty file, and the largest a job embeds (1 MiB, the largest class: still shared).
        assert.equal((await readAll(await pathSource(file(0).path))).length, 0);
        const largest = file(1024 * 1024);
        const held = await readAll(await pathSource(largest.path));
        assert.ok(held.equals(largest.bytes));
        assert.equal(heldBy(held), 1024 * 1024);
    });

    it('copies a job of several chunks as they come, never holding all of its chunks at once', async function () {
        // Empty the chunk class (256 KiB) and the copy's (1 MiB), so that each chunk buffer the read needs shows
        // as one given back after, and the copy takes none from what is kept.
        for (const size of [CHUNK, 1024 * 1024]) {
            for (let before = -1; before !== retainedBytes();) {
                before = retainedBytes();
                borrow(size);
            }
        }
        const start = retainedBytes();
        const largest = file(1024 * 1024); // four chunks
        const held = await readAll(await pathSource(largest.path));
        assert.ok(held.equals(largest.bytes));
        // A chunk being copied, the one read ahead, and the first one kept until the second shows it is not the whole:
        // never all four at once.
        const chunkBuffers = (retainedBytes() - start) / CHUNK;
        assert.ok(chunkBuffers >= 1 && chunkBuffers <= 3, `${chunkBuffers} chunk buffers for a four-chunk file`);
    });

    it('reads 300 files of seeded sizes through 16 parallel streams, chunks handed back at seeded times, every byte right', async function () {
        this.timeout(60000);
        const random = seeded(1703);
        const files = Array.from({ length: 300 }, () => {
            const r = random();
            const size = r < 0.1 ? Math.floor(random() * 3) : r < 0.8 ? Math.floor(random() * 128 * 1024) : Math.floor(random() * 3 * CHUNK);
            return file(size, random);
        });
        let next = 0;
        const worker = async () => {
            while (next < files.length) {
                const f = files[next++];
                const stream = (await pathSource(f.path)).open();
                const got = [];
                const later = [];
                for await (const c of stream) {
                    got.push(Buffer.from(c));
                    // Handed back at once, after a turn, or after a timer: the socket's write callbacks come in any of these.
                    const r = random();
                    if (r < 0.4) stream.release(c);
                    else later.push(new Promise((done) => (r < 0.7 ? setImmediate : setTimeout)(() => done(stream.release(c)))));
                }
                await Promise.all(later);
                assert.equal(sha(Buffer.concat(got)), sha(f.bytes), `${f.path} (${f.bytes.length} bytes)`);
            }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
    });

    for (const scheme of ['http', 'https']) {
        // Through a slow link with a shallow queue, so writes wait in the socket: a buffer handed back
        // before its write left would be read into while still queued, and the bytes would differ.
        it(`uploads 120 files of seeded sizes 8 at a time over ${scheme} through a slow link, each intact at Serial`, async function () {
            this.timeout(90000);
            const certs = scheme === 'https' ? makeCertificates() : null;
            const serial = await startStandIn({ apiKey: API_KEY, ...(certs ? { tls: { key: certs.server.key, cert: certs.server.cert } } : {}) });
            const link = await startLink({ targetPort: Number(new URL(serial.url).port), rttMs: 2, mbit: 200, queueBytes: 64 * 1024 });
            const url = new URL(serial.url);
            url.port = String(link.port);
            const baseUrl = url.toString().replace(/\/$/, '');
            const client = new SerialClient({ baseUrl, apiKey: API_KEY, concurrency: 8, ...(certs ? { tls: { ca: certs.ca } } : {}) });
            try {
                const random = seeded(scheme === 'http' ? 11 : 12);
                // Mostly small; a few large enough to fill the socket's buffers, so their writes queue in the process.
                const files = Array.from({ length: 120 }, (_, i) =>
                    file(i % 20 === 0 ? 8 * 1024 * 1024 + i : Math.floor(random() * (random() < 0.8 ? 96 * 1024 : 2 * CHUNK)), random),
                );
                const options = { attempts: 1, backoffMs: 10, stallMs: 10000, connectMs: 5000, responseMs: 20000 };
                await Promise.all(files.map(async (f) => client.upload(await pathSource(f.path), options)));
                const byName = new Map(serial.uploads.map((/** @type {any} */ u) => [u.filename, u]));
                for (const f of files) assert.equal(byName.get(path.basename(f.path))?.sha256, sha(f.bytes), path.basename(f.path));
            } finally {
                client.close();
                await link.close();
                await serial.close();
                certs?.remove();
            }
        });
    }
});
