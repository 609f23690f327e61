// @ts-check
'use strict';
/**
 * A record kept in memory is refused for good (its unit is unknown) while its file upload still waits
 * for a connection. The run ends only once that upload is done: the upload sends the record's own
 * bytes, not those of the next job read into the same memory, and its result moves to dead-letter
 * with the job instead of being journaled into a job that is gone.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Outbox } = require('../../nodes/lib/outbox/outbox');
const { OutboxWorker } = require('../../nodes/lib/outbox/worker');
const { pathSource } = require('../../nodes/lib/source/sources');
const { SerialClient } = require('../../nodes/lib/serial/client');
const { runRecord } = require('../../nodes/lib/record/steps');
const { startStandIn } = require('../../harness/serial-stand-in');
const { API_KEY } = require('../support/secrets');
const { seeded } = require('../support/seeded');

const sha = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

describe('record under attack: refused for good while its upload still waits', function () {
    this.timeout(30000);
    for (const size of [100 * 1024, 700 * 1024]) {
        it(`${size / 1024} KiB: the upload carries its own bytes, and its result goes to dead-letter with the job`, async function () {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-record-inflight-'));
            const random = seeded(size);
            const bytes = (/** @type {number} */ n) => Buffer.from(Uint8Array.from({ length: n }, () => Math.floor(random() * 256)));
            const A = bytes(size);
            const B = bytes(size);
            fs.writeFileSync(path.join(dir, 'a.bin'), A);
            fs.writeFileSync(path.join(dir, 'b.bin'), B);
            const serial = await startStandIn({ apiKey: API_KEY });
            // The first dataset lookup stalls, holding the one connection while the upload waits behind it.
            let stalls = 1;
            serial.chaos = (/** @type {string} */ method, /** @type {string} */ p) =>
                method === 'GET' && p === '/datasets' && stalls-- > 0 ? { mode: 'stall', path: '/datasets', method: 'GET' } : null;
            const client = new SerialClient({ baseUrl: serial.url, apiKey: API_KEY, concurrency: 1 });
            const attempt = { attempts: 1, backoffMs: 10, stallMs: 1000, connectMs: 5000, responseMs: 20000 };
            const box = await Outbox.open(path.join(dir, 'box'), { maxFiles: 100, maxBytes: 1e9 });
            const spec = (/** @type {string} */ id) => ({
                identifier: id,
                process: 'P1',
                timestamp: new Date().toISOString(),
                data: [{ name: 'report', type: 'FILE', items: [{ file: 0 }] }],
            });
            const add = async (/** @type {string} */ n, /** @type {string} */ file) =>
                (await box.add({ kind: 'record', spec: spec(`U-${n}`), files: [await pathSource(path.join(dir, file))], copyFirst: true }, { n }))
                    .job;
            /** @type {any[]} */
            const dead = [];
            /** @type {any} */
            let jobA;
            const worker = new OutboxWorker(box, () => 1, 1000, {
                run: (/** @type {any} */ job, /** @type {AbortSignal} */ signal) =>
                    runRecord(
                        client,
                        { kind: job.header.kind, spec: job.header.spec, files: job.sources, journal: box.journal(job) },
                        { ...attempt, signal },
                    ),
                delivered: () => undefined,
                deadLettered: async (/** @type {any} */ job, /** @type {any} */ err, /** @type {string} */ where) => {
                    dead.push({ n: job.header.msg.n, code: err.code, files: fs.readdirSync(where).sort(), jobs: fs.readdirSync(box.jobsDir) });
                    // The next job, read at once into whatever memory is free.
                    if (job.header.msg.n === 'A') {
                        await add('B', 'b.bin');
                        worker.kick();
                    }
                },
                state: () => undefined,
            });
            try {
                jobA = await add('A', 'a.bin');
                assert.ok(jobA.memory > 0 && jobA.loans.length === 1, 'job A is kept in memory');
                worker.kick();
                for (let t = Date.now(); serial.uploads.length < 2 && Date.now() - t < 20000;) await new Promise((r) => setTimeout(r, 50));
                const byName = new Map(serial.uploads.map((/** @type {any} */ u) => [u.filename, u.sha256]));
                assert.equal(byName.get('a.bin'), sha(A), "a.bin at Serial holds a.bin's bytes");
                assert.equal(byName.get('b.bin'), sha(B));
                assert.equal(dead.length >= 1 && dead[0].code, 'UNIT_NOT_FOUND');
                const id = jobA.id;
                assert.deepEqual(dead[0].files, [`${id}.job`, `${id}.state`, 'error.json'], 'the journaled upload moved with the job');
                assert.deepEqual(
                    dead[0].jobs.filter((/** @type {string} */ f) => f.startsWith(id)),
                    [],
                    'nothing of job A left in jobs/',
                );
            } finally {
                await worker.close();
                await box.close();
                client.close();
                await serial.close();
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }
});
