// @ts-check
'use strict';
/**
 * A real Node-RED runtime under attack: redeploys and stops while 4 MiB files are mid-upload (over a
 * paced link, so reads are in flight), and a kill -9 loop at seeded moments. Each counts what it
 * delivered, duplicated and lost, and whether the runtime ever crashed. Bounded and seeded.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../../harness/serial-stand-in');
const { startSlowProxy } = require('../../harness/slow-proxy');
const { startNodeRed } = require('../../harness/nodered');
const { API_KEY } = require('../support/secrets');
const { scan } = require('../support/leak-guard');
const { committedJobs, readJobFile } = require('../support/outbox');
const { sleep, until } = require('../support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
// Seeded: the same faults and moments on every run.
const { seeded: random } = require('../support/seeded');

const UP = 'stormup000000001';
/** http in → fan-out → upload (outbox on) → a log line per delivered file. @param {string} baseUrl @param {string} name */
function stormFlow(baseUrl, name) {
    return [
        { id: 'stormtab00000001', type: 'tab', label: 'storm' },
        { id: 'stormcfg00000001', type: 'serial-mfg-config', name: 'stand-in', baseUrl, concurrency: 4, credentials: { apiKey: API_KEY } },
        { id: 'stormin000000001', z: 'stormtab00000001', type: 'http in', url: '/storm', method: 'post', wires: [['stormfan00000001']] },
        {
            id: 'stormfan00000001',
            z: 'stormtab00000001',
            type: 'function',
            outputs: 2,
            wires: [[UP], ['stormres00000001']],
            func: 'for (const i of msg.payload.items) node.send([{ payload: i.path || Buffer.from(i.data, "base64"), filename: i.name, topic: i.name }, null]);\nmsg.payload = "ok";\nreturn [null, msg];',
        },
        { id: 'stormres00000001', z: 'stormtab00000001', type: 'http response', wires: [] },
        {
            id: UP,
            z: 'stormtab00000001',
            type: 'serial-mfg-upload',
            name,
            server: 'stormcfg00000001',
            outbox: 'disk',
            attempts: 3,
            backoff: 0.05,
            stallTimeout: 5,
            wires: [],
        },
    ];
}

describe('attack: redeploy storms and kill -9 loops against a real runtime', function () {
    this.timeout(240000);
    /** @type {any} */ let serial;
    /** @type {any} */ let link;
    /** @type {string} */ let work;
    /** @type {any[]} */ const runtimes = [];

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        // 48 MB/s: a 16 MiB file is on the wire for about a third of a second, so stops land while it is read and copied.
        link = await startSlowProxy(serial.port, 48 * 1024 * 1024);
        work = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-storm-'));
    });
    afterEach(async function () {
        for (const rt of runtimes.splice(0)) {
            await rt.stop('SIGKILL');
            scan('storm Node-RED log', rt.log.join('\n'));
        }
        serial.reset();
    });
    after(async function () {
        await link.close();
        await serial.close();
        scan('storm user dirs', { path: work });
        fs.rmSync(work, { recursive: true, force: true });
    });

    /** Files to send: from disk (read, and the large ones copied into the outbox, chunk by chunk) and small Buffers. */
    function makeItems(/** @type {string} */ tag, /** @type {Map<string, string>} */ expected) {
        const items = [];
        // 16 MiB files and files of two chunks (300-500 KiB), whose second read is the last.
        for (let i = 0; i < 6; i++) {
            const data = crypto.randomBytes(i < 2 ? 16 * 1024 * 1024 : 300 * 1024 + i * 40000);
            const name = `${tag}-file-${i}.bin`;
            const file = path.join(work, name);
            fs.writeFileSync(file, data);
            expected.set(name, sha256(data));
            items.push({ name, path: file });
        }
        for (let i = 0; i < 5; i++) {
            const data = crypto.randomBytes(2000 + i * 3000);
            const name = `${tag}-small-${i}.bin`;
            expected.set(name, sha256(data));
            items.push({ name, data: data.toString('base64') });
        }
        return items;
    }

    async function start(/** @type {string} */ userDir) {
        const rt = await startNodeRed({ userDir, settings: { credentialSecret: 'storm-secret' } });
        runtimes.push(rt);
        await rt.ready();
        return rt;
    }

    /** Names of the jobs committed in the outbox now. */
    function committed(/** @type {string} */ userDir) {
        const jobs = path.join(userDir, 'serial-mfg-outbox', UP, 'jobs');
        return committedJobs(jobs).flatMap((n) => {
            try {
                return [readJobFile(path.join(jobs, n)).header.files[0].filename];
            } catch {
                return []; // removed while read
            }
        });
    }

    function tally(/** @type {Map<string, string>} */ expected, /** @type {Set<string>} */ accepted) {
        const byName = new Map();
        for (const u of serial.uploads) byName.set(u.filename, [...(byName.get(u.filename) ?? []), u.sha256]);
        const corrupted = [...byName].filter(([name, shas]) => shas.some((s) => s !== expected.get(name))).map(([n]) => n);
        const lost = [...accepted].filter((n) => !byName.has(n));
        const duplicated = serial.uploads.length - byName.size;
        return { delivered: byName.size, duplicated, lost, corrupted };
    }

    it('redeploys and stops mid-upload: no crash, every accepted file delivered intact', async function () {
        const userDir = path.join(work, 'storm');
        let rt = await start(userDir);
        await rt.deploy(stormFlow(`http://127.0.0.1:${link.port}`, 'round 0'));
        const rand = random(11);
        /** @type {Map<string, string>} */ const expected = new Map();
        /** @type {Set<string>} */ const accepted = new Set();
        let crashed = 0;
        for (let round = 1; round <= 7; round++) {
            const items = makeItems(`r${round}`, expected);
            const res = await fetch(`${rt.url}/storm`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ items }),
            });
            assert.equal(res.status, 200);
            const names = items.map((i) => i.name);
            // Accepted once committed (or already delivered); then stop it while uploads run.
            await until(
                () => names.every((n) => committed(userDir).includes(n) || serial.uploads.some((/** @type {any} */ u) => u.filename === n)),
                20000,
                `round ${round} accepted`,
            );
            for (const n of names) accepted.add(n);
            await sleep(Math.floor(rand() * 40));
            if (round === 3) {
                const stopped = await rt.stop('SIGINT');
                if (stopped.code !== 0) crashed++;
                rt = await start(userDir);
            } else {
                await rt.deploy(stormFlow(`http://127.0.0.1:${link.port}`, `round ${round}`));
            }
            if (rt.child.exitCode !== null) crashed++;
        }
        await until(() => [...accepted].every((n) => serial.uploads.some((/** @type {any} */ u) => u.filename === n)), 120000, 'every accepted file');
        const t = tally(expected, accepted);
        const uncaught = rt.log.filter((l) => /uncaught|TypeError|Unhandled/i.test(l));
        console.log(
            `      storm: ${accepted.size} accepted, ${t.delivered} delivered, ${t.duplicated} duplicated, ${t.lost.length} lost, ${t.corrupted.length} corrupted, ${crashed} crashed`,
        );
        assert.deepEqual(t.lost, []);
        assert.deepEqual(t.corrupted, []);
        assert.equal(crashed, 0);
        assert.deepEqual(uncaught, []);
    });

    it('kill -9 at seeded moments: every job committed before a kill is delivered intact', async function () {
        const userDir = path.join(work, 'kill');
        let rt = await start(userDir);
        await rt.deploy(stormFlow(`http://127.0.0.1:${link.port}`, 'kill loop'));
        const rand = random(23);
        /** @type {Map<string, string>} */ const expected = new Map();
        /** @type {Set<string>} */ const accepted = new Set();
        for (let round = 1; round <= 6; round++) {
            const items = makeItems(`k${round}`, expected);
            await fetch(`${rt.url}/storm`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ items }) });
            await sleep(30 + Math.floor(rand() * 300));
            const killed = await rt.stop('SIGKILL');
            assert.equal(killed.signal, 'SIGKILL');
            // The process is gone: what is committed now is what it promised to deliver.
            for (const n of committed(userDir)) accepted.add(n);
            for (const u of serial.uploads) if (expected.has(u.filename)) accepted.add(u.filename);
            rt = await start(userDir);
        }
        await until(
            () => [...accepted].every((n) => serial.uploads.some((/** @type {any} */ u) => u.filename === n)),
            120000,
            'every committed file',
        );
        await until(() => committed(userDir).length === 0, 60000, 'an empty outbox');
        const t = tally(expected, accepted);
        console.log(
            `      kill -9 loop: ${expected.size} sent, ${accepted.size} committed before a kill, ${t.delivered} delivered, ${t.duplicated} duplicated, ${t.lost.length} lost, ${t.corrupted.length} corrupted`,
        );
        assert.deepEqual(t.lost, []);
        assert.deepEqual(t.corrupted, []);
        assert.ok(accepted.size >= 6, 'the loop committed files to lose');
    });
});
