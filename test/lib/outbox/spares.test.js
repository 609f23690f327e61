// @ts-check
'use strict';
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Outbox } = require('../../../nodes/lib/outbox/outbox');
const { Spares } = require('../../../nodes/lib/outbox/spares');
const { bufferSource } = require('../../../nodes/lib/source/sources');
const { SerialError } = require('../../../nodes/lib/errors/serial-error');
const { seeded } = require('../../support/seeded');

const MiB = 1024 * 1024;

/** A folder sync that settles only when the test says so. */
function heldFolder() {
    /** @type {((synced: boolean) => void)[]} */
    const waiting = [];
    return {
        sync: () => new Promise((resolve) => waiting.push(resolve)),
        release: (synced = true) => waiting.splice(0).forEach((r) => r(synced)),
        get waiting() {
            return waiting.length;
        },
    };
}

/**
 * Spares over `dir`/tmp for jobs in `dir`/jobs, their folder syncs held; `room.bytes` is the room the outbox leaves.
 * @param {string} dir
 */
function sparesIn(dir, room = { bytes: 10 * MiB }) {
    const jobs = path.join(dir, 'jobs');
    const tmp = path.join(dir, 'tmp');
    fs.mkdirSync(jobs);
    fs.mkdirSync(tmp);
    const folder = heldFolder();
    // @ts-ignore: a FolderSync's one method
    return { jobs, tmp, folder, room, spares: new Spares(tmp, folder, () => room.bytes) };
}

/** @param {any} job */
async function bytesOf(job, n = 0) {
    const chunks = [];
    for await (const c of job.sources[n].open()) chunks.push(c);
    return Buffer.concat(chunks);
}

describe('lib/outbox/spares: delivered job files written over by the next jobs', function () {
    /** @type {string} */ let dir;
    /** @type {any} */ let box;
    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-spares-'));
    });
    afterEach(async function () {
        await box?.close();
        box = undefined;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('gives a retired file out only after a sync of jobs/ made its leaving durable', async function () {
        const { jobs, tmp, folder, spares } = sparesIn(dir);
        fs.writeFileSync(path.join(jobs, 'a.job'), Buffer.alloc(1000, 1));
        await spares.retire(path.join(jobs, 'a.job'), 'a', 1000);
        assert.deepEqual(fs.readdirSync(jobs), [], 'the job left jobs/ when retire settled');
        assert.equal(fs.readdirSync(tmp).length, 1);
        assert.equal(folder.waiting, 1, 'a sync of jobs/ was asked for');
        assert.equal(spares.take(), undefined, 'not written over before that sync is done');
        folder.release();
        await new Promise((resolve) => setImmediate(resolve));
        const spare = spares.take();
        assert.ok(spare, 'a spare once synced');
        assert.equal(spare.size, 1000);
        assert.equal(path.dirname(spare.path), tmp);
        assert.equal(spares.take(), undefined, 'each spare is given out once');
    });

    it('deletes instead what passes the room left, the budget or the size a spare may have; trim and close delete spares', async function () {
        const { jobs, tmp, folder, room, spares } = sparesIn(dir);
        const retire = async (/** @type {string} */ name, /** @type {number} */ size, /** @type {number} */ left) => {
            fs.writeFileSync(path.join(jobs, name), Buffer.alloc(size));
            room.bytes = left;
            await spares.retire(path.join(jobs, name), name, size);
            assert.deepEqual(fs.readdirSync(jobs), [], `${name} left jobs/`);
        };
        await retire('big.job', 3 * MiB, 100 * MiB); // larger than a spare may be
        await retire('a.job', 1 * MiB, 1.5 * MiB);
        await retire('b.job', 1 * MiB, 1.5 * MiB); // a and b would pass the room
        for (let i = 0; i < 40; i++) await retire(`c${i}.job`, 1 * MiB, 100 * MiB); // 32 MiB at most in all
        const kept = fs.readdirSync(tmp);
        assert.equal(kept.length, 32, `kept: ${kept.length}`);
        assert.ok(kept.every((n) => fs.statSync(path.join(tmp, n)).size === MiB));
        folder.release();
        await new Promise((resolve) => setImmediate(resolve));
        await spares.trim(10 * MiB);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(fs.readdirSync(tmp).length, 10, 'trimmed to the room given');
        await spares.close();
        assert.deepEqual(fs.readdirSync(tmp), [], 'none left after close');
        assert.equal(spares.take(), undefined);
    });

    it('lets a spare go whose folder sync failed, or that no longer fits the room once synced', async function () {
        const { jobs, tmp, folder, room, spares } = sparesIn(dir);
        const retire = async (/** @type {string} */ name) => {
            fs.writeFileSync(path.join(jobs, name), Buffer.alloc(1000));
            await spares.retire(path.join(jobs, name), name, 1000);
        };
        await retire('a.job');
        folder.release(false); // the sync failed: the rename may not be on the disk
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(spares.take(), undefined);
        assert.deepEqual(fs.readdirSync(tmp), []);
        await retire('b.job');
        await retire('c.job');
        room.bytes = 1500; // jobs came in meanwhile
        folder.release();
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(fs.readdirSync(tmp).length, 1, 'one fits');
        assert.ok(spares.take());
        assert.equal(spares.take(), undefined);
    });

    it('writes a job anew over a spare that is not a plain file of its size with one name, and leaves that file untouched', async function () {
        const boxDir = path.join(dir, 'box');
        const tmp = path.join(boxDir, 'tmp');
        box = await Outbox.open(boxDir, { maxFiles: 100, maxBytes: 4e9 });
        const spareNow = async () => {
            const { job } = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(Buffer.alloc(1000, 1))] }, {});
            await box.remove(job);
            await new Promise((resolve) => setTimeout(resolve, 50));
            const [name] = fs.readdirSync(tmp);
            return path.join(tmp, name);
        };
        const victim = path.join(dir, 'victim.bin');
        const attempts = {
            'a hard link': (/** @type {string} */ spare) => fs.linkSync(spare, victim),
            'a symbolic link': (/** @type {string} */ spare) => {
                fs.writeFileSync(victim, Buffer.alloc(fs.statSync(spare).size, 7));
                fs.rmSync(spare);
                fs.symlinkSync(victim, spare);
            },
            'a file grown since': (/** @type {string} */ spare) => {
                fs.appendFileSync(spare, 'tail');
                fs.copyFileSync(spare, victim);
            },
            // Opened for writing without a reader, a FIFO would hold the add for good.
            'a FIFO': (/** @type {string} */ spare) => {
                fs.rmSync(spare);
                execFileSync('mkfifo', [spare]);
                fs.writeFileSync(victim, 'unrelated');
            },
            'a folder': (/** @type {string} */ spare) => {
                fs.rmSync(spare);
                fs.mkdirSync(spare);
                fs.writeFileSync(victim, 'unrelated');
            },
        };
        for (const [what, tamper] of Object.entries(attempts)) {
            fs.rmSync(victim, { force: true });
            const spare = await spareNow();
            tamper(spare);
            const before = fs.readFileSync(victim);
            const body = crypto.randomBytes(700);
            const { job } = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(body)] }, { what });
            assert.ok((await bytesOf(job)).equals(body), `${what}: the job byte-exact`);
            assert.ok(fs.readFileSync(victim).equals(before), `${what}: the other file untouched`);
            assert.equal(fs.lstatSync(path.join(boxDir, 'jobs', `${job.id}.job`)).isFile(), true, `${what}: the job is a file of its own`);
            assert.equal(fs.statSync(path.join(boxDir, 'jobs', `${job.id}.job`)).nlink, 1);
            await box.remove(job);
            await new Promise((resolve) => setTimeout(resolve, 50));
            for (const n of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, n), { recursive: true });
        }
    });

    it('closes only once a delivered job file on its way to the spares has gone: nothing lands after close', async function () {
        const boxDir = path.join(dir, 'box');
        box = await Outbox.open(boxDir, { maxFiles: 100, maxBytes: 4e9 });
        const { job } = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(Buffer.alloc(1000, 1))] }, {});
        // Renames into tmp/ take a while, as on a slow card.
        const { rename } = fs;
        // @ts-ignore
        fs.rename = (from, to, cb) => {
            if (String(to).startsWith(path.join(boxDir, 'tmp'))) setTimeout(() => rename(from, to, cb), 200);
            else rename(from, to, cb);
        };
        try {
            const removed = box.remove(job);
            await box.close();
            box = undefined;
            const left = () => ['jobs', 'tmp'].flatMap((d) => fs.readdirSync(path.join(boxDir, d)));
            assert.deepEqual(left(), [], 'gone when close settled');
            await removed;
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.deepEqual(left(), [], 'and nothing came after');
        } finally {
            fs.rename = rename;
        }
    });

    it('an add that fails while the one before it is still being written ends its turn: later adds go on', async function () {
        box = await Outbox.open(path.join(dir, 'box'), { maxFiles: 100, maxBytes: 4e9 });
        const { Readable } = require('stream');
        /** A file source whose bytes come after `ms`, or whose read fails at once. @param {number} ms @param {boolean} [fail] */
        const source = (ms, fail = false) => ({
            size: 1000,
            filename: 'r.bin',
            contentType: 'application/octet-stream',
            path: path.join(dir, 'r.bin'),
            open: () => {
                const stream = new Readable({ read() {} });
                Object.assign(stream, { release() {}, pushedAll: false });
                if (fail) process.nextTick(() => stream.destroy(new SerialError('FILE_NOT_FOUND', { params: { path: 'r.bin' } })));
                else setTimeout(() => (stream.push(Buffer.alloc(1000, 5)), stream.push(null)), ms);
                return stream;
            },
        });
        const slow = box.add({ kind: 'upload', spec: {}, files: [source(300)] }, { n: 1 });
        const failing = box.add({ kind: 'upload', spec: {}, files: [source(0, true)] }, { n: 2 });
        await assert.rejects(failing, (/** @type {any} */ e) => e.code === 'FILE_NOT_FOUND', 'its own error, not another');
        const later = box.add({ kind: 'upload', spec: {}, files: [bufferSource(Buffer.from('x'))] }, { n: 3 });
        const done = await Promise.race([Promise.all([slow, later]), new Promise((resolve) => setTimeout(() => resolve('stuck'), 5000))]);
        assert.notEqual(done, 'stuck');
        assert.deepEqual(
            box.jobs().map((/** @type {any} */ j) => j.header.msg.n),
            [1, 3],
        );
    });

    it('writes a job over a larger spare byte-exact, at its own size, and it loads again after a restart', async function () {
        const boxDir = path.join(dir, 'box');
        box = await Outbox.open(boxDir, { maxFiles: 100, maxBytes: 4e9 });
        const first = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(crypto.randomBytes(300 * 1024))] }, { n: 1 });
        const firstIno = fs.statSync(path.join(boxDir, 'jobs', `${first.job.id}.job`)).ino;
        await box.remove(first.job);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the folder sync that frees the spare
        const small = crypto.randomBytes(1000);
        const second = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(small)] }, { n: 2 });
        const file = path.join(boxDir, 'jobs', `${second.job.id}.job`);
        assert.equal(fs.statSync(file).ino, firstIno, 'written over the first job file');
        assert.equal(fs.statSync(file).size, second.job.fileBytes, 'cut to its own size');
        assert.ok((await bytesOf(second.job)).equals(small));
        await box.close();
        box = await Outbox.open(boxDir, { maxFiles: 100, maxBytes: 4e9 });
        assert.deepEqual(
            box.jobs().map((/** @type {any} */ j) => j.header.msg.n),
            [2],
        );
        assert.ok((await bytesOf(box.jobs()[0])).equals(small), 'read back from the disk, byte-exact');
        assert.deepEqual(fs.readdirSync(path.join(boxDir, 'tmp')), [], 'the spares went with the close');
    });

    it('writes a job anew when its spare went or cannot be written, and lets the spares go when the disk is full', async function () {
        const boxDir = path.join(dir, 'box');
        const tmp = path.join(boxDir, 'tmp');
        box = await Outbox.open(boxDir, { maxFiles: 100, maxBytes: 4e9 });
        const cycle = async (/** @type {number} */ n) => {
            const added = await Promise.all(
                Array.from({ length: n }, (_, i) => box.add({ kind: 'upload', spec: {}, files: [bufferSource(Buffer.alloc(1000, i))] }, { i })),
            );
            for (const a of added) await box.remove(a.job);
            await new Promise((resolve) => setTimeout(resolve, 50));
        };
        await cycle(3);
        for (const name of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, name)); // by hand
        const body = crypto.randomBytes(5000);
        const again = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(body)] }, { n: 'after the spares went' });
        assert.ok((await bytesOf(again.job)).equals(body));
        await box.remove(again.job);
        await cycle(3);
        assert.ok(fs.readdirSync(tmp).length >= 2, 'spares to let go');
        // The disk is full: the spare taken and the new file cannot be written, once each.
        const { open } = fs;
        let failures = 2;
        // @ts-ignore
        fs.open = (p, flags, ...rest) => {
            if (path.dirname(String(p)) === tmp && failures > 0 && failures--)
                return process.nextTick(rest[rest.length - 1], Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
            // @ts-ignore
            return open(p, flags, ...rest);
        };
        try {
            const full = await box.add({ kind: 'upload', spec: {}, files: [bufferSource(body)] }, { n: 'on a full disk' });
            assert.ok((await bytesOf(full.job)).equals(body));
        } finally {
            fs.open = open;
        }
        assert.equal(failures, 0);
        assert.deepEqual(fs.readdirSync(tmp), [], 'the spares went to make room');
    });

    it('keeps jobs and spares together within the outbox limit, through bursts of mixed sizes (seeded)', async function () {
        const boxDir = path.join(dir, 'box');
        const maxBytes = 4 * MiB;
        box = await Outbox.open(boxDir, { maxFiles: 1000, maxBytes });
        const rand = seeded(42);
        const onDisk = () =>
            ['jobs', 'tmp'].reduce(
                (n, d) => n + fs.readdirSync(path.join(boxDir, d)).reduce((m, f) => m + fs.statSync(path.join(boxDir, d, f)).size, 0),
                0,
            );
        let worst = 0;
        // Many small spares, then larger jobs: each takes one spare, and the rest must make room.
        const rounds = [Array(60).fill(60 * 1024), Array(12).fill(300 * 1024)];
        for (let round = 0; round < 12; round++)
            rounds.push(Array.from({ length: 5 + Math.floor(rand() * 20) }, () => Math.floor(rand() * rand() * 400 * 1024)));
        for (const [round, sizes] of rounds.entries()) {
            const bodies = sizes.map((n) => crypto.randomBytes(n));
            const added = await Promise.all(
                bodies.map((b, i) => box.add({ kind: 'upload', spec: {}, files: [bufferSource(b)] }, { i }).catch((/** @type {any} */ e) => e)),
            );
            worst = Math.max(worst, onDisk());
            for (const [i, a] of added.entries()) {
                if (a instanceof Error) {
                    assert.equal(/** @type {any} */ (a).code, 'OUTBOX_FULL');
                    continue;
                }
                assert.ok((await bytesOf(a.job)).equals(bodies[i]), `round ${round} job ${i} byte-exact`);
                await box.remove(a.job);
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
            worst = Math.max(worst, onDisk());
        }
        assert.ok(worst <= maxBytes + 64 * 1024, `at most ${maxBytes} bytes on disk (+ headers), saw ${worst}`);
        assert.ok(fs.readdirSync(path.join(boxDir, 'tmp')).length > 0, 'spares are kept');
    });
});
