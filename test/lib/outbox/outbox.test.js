// @ts-check
'use strict';
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Outbox } = require('../../../nodes/lib/outbox/outbox');
const { OutboxWorker } = require('../../../nodes/lib/outbox/worker');
const { SerialError } = require('../../../nodes/lib/errors/serial-error');
const { bufferSource, pathSource } = require('../../../nodes/lib/source/sources');

const MEMORY_BUDGET = 32 * 1024 * 1024;

describe('lib/outbox/outbox: a burst of jobs, held to the budget, handed on in order', function () {
    /** @type {string} */ let dir;
    /** @type {any} */ let box;
    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-outbox-lib-'));
    });
    afterEach(async function () {
        await box?.close();
        box = undefined;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('keeps at most its memory budget of queued jobs in memory, however many are written at once', async function () {
        box = await Outbox.open(path.join(dir, 'box'), { maxFiles: 1000, maxBytes: 4e9 });
        const added = await Promise.all(
            Array.from({ length: 200 }, (_, i) =>
                box.add({ kind: 'upload', spec: {}, files: [bufferSource(Buffer.alloc(1000 * 1000, i))] }, { n: i }),
            ),
        );
        const kept = added.reduce((n, a) => n + a.job.memory, 0);
        assert.ok(kept <= MEMORY_BUDGET, `${(kept / 1048576).toFixed(1)} MiB kept in memory`);
        assert.ok(kept > MEMORY_BUDGET / 2, 'and the budget is used');
        assert.deepEqual(
            box.jobs().map((/** @type {any} */ j) => j.header.msg.n),
            added.map((_, i) => i),
        );
        // Those over the budget are read back from their job file, byte-exact.
        const spilled = added.find((a) => a.job.memory === 0).job;
        const chunks = [];
        for await (const c of spilled.sources[0].open()) chunks.push(c);
        assert.ok(Buffer.concat(chunks).equals(Buffer.alloc(1000 * 1000, spilled.header.msg.n)));
    });

    it("holds a kept job's bytes out of reuse until it leaves the queue, and counts the memory they hold", async function () {
        box = await Outbox.open(path.join(dir, 'box'), { maxFiles: 100, maxBytes: 4e9 });
        const bytes = Buffer.alloc(40 * 1024, 3);
        const p = path.join(dir, 'report.bin');
        fs.writeFileSync(p, bytes);
        const { job } = await box.add({ kind: 'upload', spec: {}, files: [await pathSource(p)] }, { n: 1 });
        assert.equal(job.memory, 64 * 1024, 'the 64 KiB class a 40 KiB file is read into');
        const held = job.sources[0].buffer;
        // Other files read meanwhile, each read buffer handed back at once, as an upload does.
        for (let i = 0; i < 20; i++) {
            const other = path.join(dir, `other${i}.bin`);
            fs.writeFileSync(other, Buffer.alloc(50 * 1024, 100 + i));
            const stream = (await pathSource(other)).open();
            stream.on('data', (/** @type {Buffer} */ c) => stream.release(c));
            await new Promise((resolve) => stream.once('end', resolve));
        }
        assert.ok(held.equals(bytes), 'untouched while queued');
        await new Promise((resolve) => {
            const worker = new OutboxWorker(box, () => 1, 1000, {
                run: async (/** @type {any} */ j) => {
                    // An upload attempt: each chunk released once "written".
                    const stream = j.sources[0].open();
                    const got = [];
                    stream.on('data', (/** @type {Buffer} */ c) => got.push(Buffer.from(c)) && stream.release(c));
                    await new Promise((r) => stream.once('end', r));
                    assert.ok(Buffer.concat(got).equals(bytes));
                    return 'ok';
                },
                delivered: resolve,
                deadLettered: resolve,
                state: () => undefined,
            });
            worker.kick();
        });
        const next = (await pathSource(p)).open();
        const [chunk] = await new Promise((resolve) => next.once('data', (c) => resolve([c])));
        assert.equal(chunk.buffer, held.buffer, 'delivered: its memory is read into again');
        next.destroy();
    });

    it('with one job at a time, outputs leave in arrival order, however long an earlier job takes to leave the disk', async function () {
        /** @type {Error[]} */
        const warnings = [];
        const onWarning = (/** @type {Error} */ w) => warnings.push(w);
        process.on('warning', onWarning);
        try {
            // Job 1 holds 12 copied files (slow to delete); job 2 is refused for good (quick to move).
            const files = [];
            for (let i = 0; i < 12; i++) {
                const p = path.join(dir, `f${i}.bin`);
                fs.writeFileSync(p, Buffer.alloc(1100 * 1024, i));
                files.push(await pathSource(p));
            }
            box = await Outbox.open(path.join(dir, 'box'), { maxFiles: 100, maxBytes: 4e9 });
            const first = await box.add({ kind: 'upload', spec: {}, files }, { n: 1 });
            await first.job.copying;
            await box.add({ kind: 'upload', spec: {}, files: [bufferSource(Buffer.from('x'))] }, { n: 2 });
            /** @type {string[]} */
            const out = [];
            await new Promise((resolve) => {
                const note = (/** @type {string} */ what) => out.push(what) === 2 && resolve(undefined);
                const worker = new OutboxWorker(box, () => 1, 1000, {
                    run: async (/** @type {any} */ job) => {
                        if (job.header.msg.n === 2) throw new SerialError('CLIENT_ERROR', { statusCode: 400, params: { status: 400, detail: '' } });
                        return 'ok';
                    },
                    delivered: (/** @type {any} */ job) => note(`delivered ${job.header.msg.n}`),
                    deadLettered: (/** @type {any} */ job) => note(`dead-lettered ${job.header.msg.n}`),
                    state: () => undefined,
                });
                worker.kick();
            });
            assert.deepEqual(out, ['delivered 1', 'dead-lettered 2']);
            await new Promise((resolve) => setImmediate(resolve));
            assert.deepEqual(
                warnings.map((w) => w.name),
                [],
                'a job with many files copies them without a listener warning',
            );
        } finally {
            process.off('warning', onWarning);
        }
    });
});
