// @ts-check
'use strict';
/**
 * A fault soak: a few thousand uploads through the outbox while Serial resets connections, answers
 * 5xx and 429, stalls, and loses answers after storing the file, at seeded moments. Every upload
 * must arrive intact and exactly once at the output; Serial may hold a second copy only where an
 * answer was lost. `SOAK=long npm test` runs ten times as many.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../../harness/serial-stand-in');
const { loadUploadFlow, unload } = require('../support/flow');
const { API_KEY } = require('../support/secrets');
const { scan } = require('../support/leak-guard');

const COUNT = process.env.SOAK === 'long' ? 30000 : 3000;
const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const { sleep } = require('../support/wait');

// Seeded: the same faults and moments on every run.
const { seeded: random } = require('../support/seeded');

describe('attack: fault soak through the outbox', function () {
    this.timeout(COUNT * 200);
    /** @type {any} */ let serial;
    /** @type {string} */ let dir;
    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-soak-'));
    });
    after(async function () {
        await unload();
        await serial.close();
        scan('soak outbox', { path: dir });
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it(`delivers ${COUNT} uploads under resets, 5xx, 429, stalls and lost answers: 0 lost, 0 corrupted`, async function () {
        const f = await loadUploadFlow({
            baseUrl: serial.url,
            upload: { outbox: 'disk', outboxDir: dir, outboxMaxFiles: COUNT, attempts: 8, backoff: 0.01, stallTimeout: 0.3, responseTimeout: 2 },
        });
        /** @type {Error[]} */ const uncaught = [];
        const onUncaught = (/** @type {Error} */ e) => uncaught.push(e);
        process.prependListener('uncaughtException', onUncaught);
        const rand = random(4242);
        /** @type {Map<string, string>} */ const sent = new Map();
        /** @type {Map<string, number>} */ const outputs = new Map();
        /** @type {any[]} */ const errors = [];
        f.out.on('input', (/** @type {any} */ m) => outputs.set(m.topic, (outputs.get(m.topic) ?? 0) + 1));
        f.err.on('input', (/** @type {any} */ m) => errors.push(m.error));
        const faults = { drop: 0, status: 0, retryAfter: 0, stall: 0, lostAnswer: 0 };
        // Each request of Serial's meets a fault by a seeded draw: 11 % of them.
        serial.chaos = () => {
            const r = rand();
            /** @type {any} */ let spec = null;
            if (r < 0.03) spec = { mode: 'drop', afterBytes: Math.floor(rand() * 3000) };
            else if (r < 0.06) spec = { mode: 'status', status: [500, 502, 503, 504][Math.floor(rand() * 4)] };
            else if (r < 0.08) spec = { mode: 'retryAfter', status: 429, retryAfter: '0' };
            else if (r < 0.085) spec = { mode: 'stall', afterBytes: Math.floor(rand() * 2000) };
            else if (r < 0.11) spec = { mode: 'lostAnswer' };
            if (spec) faults[/** @type {keyof typeof faults} */ (spec.mode)]++;
            return spec;
        };
        try {
            for (let i = 0; i < COUNT; i++) {
                const bytes = crypto.randomBytes(512 + Math.floor(rand() * 16384));
                const name = `soak-${i}.bin`;
                sent.set(name, sha256(bytes));
                f.up.receive({ payload: bytes, filename: name, topic: name });
                if (i % 50 === 49) await sleep(1); // let the event loop breathe, as a real flow's arrivals do
            }
            const end = Date.now() + COUNT * 100;
            while (outputs.size < COUNT && errors.length === 0 && Date.now() < end) await sleep(100);
        } finally {
            process.removeListener('uncaughtException', onUncaught);
        }
        /** @type {Map<string, string[]>} */ const stored = new Map();
        for (const u of serial.uploads) stored.set(u.filename, [...(stored.get(u.filename) ?? []), u.sha256]);
        const lost = [...sent.keys()].filter((n) => !stored.has(n));
        const corrupted = [...stored].filter(([n, shas]) => shas.some((s) => s !== sent.get(n))).map(([n]) => n);
        const duplicated = serial.uploads.length - stored.size;
        const outputTwice = [...outputs].filter(([, n]) => n > 1).map(([name]) => name);
        console.log(
            `      soak: ${COUNT} sent, ${stored.size} delivered, ${duplicated} duplicated (${faults.lostAnswer} answers lost), ${lost.length} lost, ${corrupted.length} corrupted, ${uncaught.length} uncaught; faults ${JSON.stringify(faults)}`,
        );
        assert.deepEqual(
            errors.map((e) => e.code),
            [],
        );
        assert.deepEqual(
            uncaught.map((e) => e.message),
            [],
        );
        assert.deepEqual(lost, []);
        assert.deepEqual(corrupted, []);
        assert.equal(outputs.size, COUNT, 'every message at the output');
        assert.deepEqual(outputTwice, [], 'each message once at the output');
        assert.ok(duplicated <= faults.lostAnswer, `${duplicated} duplicates for ${faults.lostAnswer} lost answers`);
    });
});
