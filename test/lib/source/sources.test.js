// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathSource, bufferSource } = require('../../../nodes/lib/source/sources');
const { cleanFilename } = require('../../../nodes/lib/source/names');

/** Reads a source's stream to the end; resolves with the bytes or rejects with its error. */
async function drain(/** @type {import('stream').Readable} */ stream) {
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return Buffer.concat(chunks);
}

describe('lib/source/sources: what gets uploaded', function () {
    /** @type {string} */ let dir;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-source-test-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('streams a path in chunks, never the whole file at once', async function () {
        const file = path.join(dir, 'big.bin');
        const bytes = crypto.randomBytes(3 * 1024 * 1024);
        fs.writeFileSync(file, bytes);
        const src = await pathSource(file);
        let largest = 0;
        const chunks = [];
        for await (const c of src.open()) {
            largest = Math.max(largest, c.length);
            chunks.push(c);
        }
        assert.ok(largest <= 256 * 1024, `largest chunk ${largest}`);
        assert.ok(Buffer.concat(chunks).equals(bytes));
    });

    it('serves views of a Buffer, not copies', async function () {
        const bytes = crypto.randomBytes(600 * 1024);
        const chunks = [];
        for await (const c of bufferSource(bytes).open()) chunks.push(c);
        assert.ok(chunks.length > 1);
        assert.equal(chunks[0].buffer, bytes.buffer, 'same memory as the payload');
    });

    it('raises no error once destroyed while it opens, whatever the file turns out to be, and keeps no descriptor', async function () {
        // An upload aborted (a redeploy) between its turn and its request destroys a body still opening.
        const fds = () => fs.readdirSync('/proc/self/fd').length;
        /** @type {unknown[]} */ const uncaught = [];
        const onUncaught = (/** @type {unknown} */ e) => uncaught.push(e);
        process.prependListener('uncaughtException', onUncaught);
        const before = fds();
        try {
            for (const [what, size, after] of /** @type {const} */ ([
                ['gone', 10, 'unlink'],
                ['unreadable', 10, 'chmod'],
                ['small', 10, null],
                ['three chunks', 600 * 1024, null],
                ['shrunk', 600 * 1024, 'truncate'],
            ])) {
                const file = path.join(dir, `destroyed-${what.replace(' ', '-')}.bin`);
                fs.writeFileSync(file, crypto.randomBytes(size));
                const src = await pathSource(file);
                if (after === 'unlink') fs.unlinkSync(file);
                if (after === 'chmod' && process.getuid?.() !== 0) fs.chmodSync(file, 0);
                if (after === 'truncate') fs.truncateSync(file, 5);
                for (let i = 0; i < 10; i++) {
                    const stream = src.open();
                    stream.destroy();
                    await new Promise((r) => stream.once('close', r));
                    assert.equal(stream.errored, null, what);
                }
            }
            await new Promise((r) => setTimeout(r, 50));
        } finally {
            process.removeListener('uncaughtException', onUncaught);
        }
        assert.deepEqual(uncaught, []);
        assert.equal(fds(), before);
    });

    it('fails with FILE_CHANGED when the file shrinks before it is read', async function () {
        const file = path.join(dir, 'shrinks.log');
        fs.writeFileSync(file, crypto.randomBytes(1024 * 1024));
        const src = await pathSource(file);
        fs.truncateSync(file, 1000);
        await assert.rejects(drain(src.open()), (/** @type {any} */ e) => e.code === 'FILE_CHANGED');
    });

    it('fails with FILE_CHANGED when the file grows while it is read', async function () {
        const file = path.join(dir, 'grows.log');
        fs.writeFileSync(file, crypto.randomBytes(2 * 1024 * 1024));
        const src = await pathSource(file);
        const stream = src.open();
        let appended = false;
        const read = (async () => {
            for await (const _chunk of stream) {
                if (!appended) {
                    appended = true;
                    fs.appendFileSync(file, 'one more line\n');
                }
            }
        })();
        await assert.rejects(read, (/** @type {any} */ e) => e.code === 'FILE_CHANGED');
    });

    it('fails with FILE_CHANGED when the file is rewritten to the same size', async function () {
        const file = path.join(dir, 'rewritten.log');
        fs.writeFileSync(file, 'a'.repeat(1000));
        const src = await pathSource(file);
        const later = new Date(Date.now() + 5000);
        fs.writeFileSync(file, 'b'.repeat(1000));
        fs.utimesSync(file, later, later);
        await assert.rejects(drain(src.open()), (/** @type {any} */ e) => e.code === 'FILE_CHANGED');
    });

    it('fails with FILE_CHANGED when another file was renamed into its place, even with the same size and time', async function () {
        const file = path.join(dir, 'replaced.csv');
        fs.writeFileSync(file, 'a'.repeat(1000));
        const { mtime } = fs.statSync(file);
        const src = await pathSource(file);
        const other = path.join(dir, 'replaced.csv.tmp');
        fs.writeFileSync(other, 'b'.repeat(1000));
        fs.utimesSync(other, mtime, mtime);
        fs.renameSync(other, file);
        await assert.rejects(drain(src.open()), (/** @type {any} */ e) => e.code === 'FILE_CHANGED');
    });

    it("does not hang when a FIFO was put in the file's place", async function () {
        const file = path.join(dir, 'became-a-fifo');
        fs.writeFileSync(file, 'x'.repeat(100));
        const src = await pathSource(file);
        fs.rmSync(file);
        execFileSync('mkfifo', [file]);
        // A blocking open of a FIFO without a writer would hold a thread-pool thread forever.
        await assert.rejects(drain(src.open()), (/** @type {any} */ e) => e.code === 'FILE_CHANGED');
    });

    it('refuses a FIFO or a directory as NOT_A_FILE before reading', async function () {
        const fifo = path.join(dir, 'a-fifo');
        execFileSync('mkfifo', [fifo]);
        await assert.rejects(pathSource(fifo), (/** @type {any} */ e) => e.code === 'NOT_A_FILE');
        await assert.rejects(pathSource(dir), (/** @type {any} */ e) => e.code === 'NOT_A_FILE');
    });

    it('fails with FILE_UNREADABLE for a file the process may not read', async function () {
        const file = path.join(dir, 'secret.csv');
        fs.writeFileSync(file, 'x');
        fs.chmodSync(file, 0o000);
        // Found at once; refused when it is opened to be read.
        const script = `const { pathSource } = require(${JSON.stringify(require.resolve('../../../nodes/lib/source/sources'))});
            pathSource(${JSON.stringify(file)}).then(async (src) => { for await (const _ of src.open()); console.log('READABLE'); })
            .catch((e) => console.log(e.code))`;
        let out;
        if (process.getuid && process.getuid() === 0) {
            // root reads anything: check as an unprivileged user, as on a gateway.
            fs.chmodSync(dir, 0o755);
            out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script]).toString().trim();
        } else {
            out = execFileSync(process.execPath, ['-e', script]).toString().trim();
        }
        assert.equal(out, 'FILE_UNREADABLE');
    });

    it('keeps only the last path segment of a name and refuses control characters', function () {
        assert.equal(cleanFilename('..\\..\\windows\\system.ini'), 'system.ini');
        assert.equal(cleanFilename('a/b/../c.txt'), 'c.txt');
        assert.throws(
            () => cleanFilename('..'),
            (/** @type {any} */ e) => e.code === 'INVALID_FILENAME' && /empty/.test(e.message),
        );
        assert.throws(
            () => cleanFilename('tab\there'),
            (/** @type {any} */ e) => e.code === 'INVALID_FILENAME' && /control character/.test(e.message),
        );
        assert.throws(
            () => cleanFilename('line\r\nbreak'),
            (/** @type {any} */ e) => e.code === 'INVALID_FILENAME',
        );
        assert.throws(
            () => cleanFilename('x'.repeat(300)),
            (/** @type {any} */ e) => e.code === 'INVALID_FILENAME' && /255 bytes/.test(e.message),
        );
    });
});
