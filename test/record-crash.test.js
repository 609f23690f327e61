// @ts-check
'use strict';
/**
 * Station records through power cuts: a real runtime killed with SIGKILL while records wait in its
 * outbox (Serial down), or half done (entries made, data refused for now), then started again.
 * Every unit must end with exactly one complete entry, each datum exactly once, the capture
 * timestamps kept and the files intact.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { startNodeRed } = require('../harness/nodered');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { committedJobs } = require('./support/outbox');
const { sleep, until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const PROCESS = 'process-crash';
const REC = 'crashrec00000001';

/** @param {string} baseUrl */
function recordFlow(baseUrl) {
    return [
        { id: 'crashrtab0000001', type: 'tab', label: 'records' },
        { id: 'crashrcfg0000001', type: 'serial-mfg-config', baseUrl, concurrency: 4, credentials: { apiKey: API_KEY } },
        { id: 'crashrin00000001', z: 'crashrtab0000001', type: 'http in', url: '/records', method: 'post', wires: [['crashrfan0000001']] },
        {
            id: 'crashrfan0000001',
            z: 'crashrtab0000001',
            type: 'function',
            outputs: 2,
            wires: [[REC], ['crashrres0000001']],
            func: [
                'for (const r of msg.payload.records) {',
                '    const data = { ...r.data, Photo: { file: Buffer.from(r.photo, "base64"), filename: r.identifier + ".png" } };',
                '    node.send([{ payload: { ...r, photo: undefined, data }, topic: r.identifier }, null]);',
                '}',
                'msg.payload = "ok";',
                'return [null, msg];',
            ].join('\n'),
        },
        { id: 'crashrres0000001', z: 'crashrtab0000001', type: 'http response', wires: [] },
        {
            id: REC,
            z: 'crashrtab0000001',
            type: 'serial-mfg-record',
            server: 'crashrcfg0000001',
            process: PROCESS,
            outbox: 'disk',
            attempts: 2,
            backoff: 0.05,
            wires: [],
        },
    ];
}

describe('records through a kill -9', function () {
    this.timeout(180000);
    /** @type {any} */ let serial;
    /** @type {string} */ let work;
    /** @type {any[]} */ const runtimes = [];

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        work = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-record-crash-'));
    });
    afterEach(async function () {
        for (const rt of runtimes.splice(0)) {
            await rt.stop('SIGKILL');
            scan('record crash log', rt.log.join('\n'));
        }
        serial.chaos = null;
        await serial.setDown(false);
        serial.reset();
    });
    after(async function () {
        await serial.close();
        scan('record crash user dirs', { path: work });
        fs.rmSync(work, { recursive: true, force: true });
    });

    async function start(/** @type {string} */ userDir) {
        const rt = await startNodeRed({ userDir, settings: { credentialSecret: 'record-crash' } });
        runtimes.push(rt);
        await rt.ready();
        return rt;
    }

    /** Eight units' records: numbers, a text, a report file on disk, a photo Buffer; the capture time of each. */
    function eight(/** @type {string} */ tag) {
        const records = [];
        /** @type {Map<string, {timestamp: string, report: string, photo: string}>} */ const expected = new Map();
        for (let i = 0; i < 8; i++) {
            const identifier = `${tag}-${i}`;
            serial.addUnit({ identifier });
            const report = crypto.randomBytes(20000 + i * 1000);
            const file = path.join(work, `${identifier}.csv`);
            fs.writeFileSync(file, report);
            const photo = crypto.randomBytes(5000);
            const timestamp = new Date(Date.UTC(2026, 11, 2, 8, 0, i)).toISOString();
            expected.set(identifier, { timestamp, report: sha256(report), photo: sha256(photo) });
            records.push({
                identifier,
                timestamp,
                pass: i % 3 !== 0,
                cycleTime: 10 + i,
                data: { Voltage: 3 + i / 10, Current: { value: 0.5, usl: 1, lsl: 0 }, Operator: `op-${i}`, Report: { file } },
                photo: photo.toString('base64'),
            });
        }
        return { records, expected };
    }

    /** Exactly one complete entry per unit, each datum once, the times kept, the files intact. */
    function check(/** @type {Map<string, any>} */ expected) {
        const entries = [...serial.entries.values()];
        const unitOf = new Map([...serial.units.values()].map((u) => [u.id, u.identifier]));
        assert.equal(entries.length, expected.size, 'one entry per unit, no second one');
        const uploads = new Map(serial.uploads.map((/** @type {any} */ u) => [u.name, u]));
        for (const entry of entries) {
            const identifier = unitOf.get(entry.component_instance_id);
            const want = expected.get(identifier);
            assert.ok(want, `an entry for ${identifier}`);
            assert.equal(entry.is_complete, true, identifier);
            assert.equal(entry.timestamp, want.timestamp, `${identifier} keeps its capture time`);
            const names = entry.data.map((/** @type {any} */ d) => serial.datasets.find((/** @type {any} */ x) => x.id === d.dataset_id).name).sort();
            assert.deepEqual(names, ['Current', 'Operator', 'Photo', 'Report', 'Voltage'], `${identifier}: each datum exactly once`);
            const file = (/** @type {string} */ name) =>
                uploads.get(
                    entry.data.find((/** @type {any} */ d) => serial.datasets.find((/** @type {any} */ x) => x.id === d.dataset_id).name === name)
                        .file_id,
                );
            assert.equal(file('Report').sha256, want.report);
            assert.equal(file('Photo').sha256, want.photo);
        }
    }

    it('Serial down, 8 records with files accepted, kill -9, restart, Serial back: 8 complete entries', async function () {
        const userDir = path.join(work, 'down');
        const { records, expected } = eight('DOWN');
        await serial.setDown(true);
        let rt = await start(userDir);
        await rt.deploy(recordFlow(serial.url));
        const res = await fetch(`${rt.url}/records`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ records }),
        });
        assert.equal(res.status, 200);
        const jobs = path.join(userDir, 'serial-mfg-outbox', REC, 'jobs');
        await until(() => committedJobs(jobs).length === 8, 20000, '8 records in the outbox').catch((e) => {
            console.log(rt.log.join('\n').slice(-3000));
            throw e;
        });
        // The source reports go away: the records carry their own copies.
        for (const r of records) fs.rmSync(r.data.Report.file);
        await rt.stop('SIGKILL');
        await serial.setDown(false);
        rt = await start(userDir);
        await until(() => [...serial.entries.values()].filter((e) => e.is_complete).length === 8, 60000, '8 complete entries');
        // Nothing of a delivered record stays behind: no copy, no journal. A delivered job's files go one
        // after the other, its .job first, so the folder is watched until it empties, not read once.
        await until(() => fs.readdirSync(jobs).length === 0, 10000, 'an empty outbox').catch(() => undefined);
        assert.deepEqual(fs.readdirSync(jobs), []);
        check(expected);
    });

    it('killed with entries made and data refused for now: resumed, on the same entries', async function () {
        const userDir = path.join(work, 'half');
        const { records, expected } = eight('HALF');
        // Serial takes the entries but, for now, answers every datum with 503 (surely not stored).
        let refuse = true;
        serial.chaos = (/** @type {string} */ method, /** @type {string} */ p) =>
            refuse && method === 'PUT' && p.startsWith('/processes/entries/') ? { mode: 'status', status: 503 } : null;
        const rt = await start(userDir);
        await rt.deploy(recordFlow(serial.url));
        await fetch(`${rt.url}/records`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ records }) });
        await until(() => serial.entries.size >= 4, 30000, 'entries made');
        await sleep(500);
        await rt.stop('SIGKILL');
        const before = serial.entries.size;
        assert.ok([...serial.entries.values()].every((e) => !e.is_complete && e.data.length === 0));
        refuse = false;
        await start(userDir);
        await until(() => [...serial.entries.values()].filter((e) => e.is_complete).length === 8, 90000, '8 complete entries');
        assert.ok(before >= 4);
        check(expected);
    });
});
