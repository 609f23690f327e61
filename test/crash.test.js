// @ts-check
'use strict';
/**
 * Power cut with Serial unreachable: 20 files are accepted into the outbox (10 Buffers, 10 paths
 * whose source files are deleted right after), Node-RED is killed with SIGKILL, Serial comes back,
 * Node-RED starts again, and every file must arrive with the right bytes and name.
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
const { until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

/** @param {string} baseUrl @param {string} deliveredLog */
function crashFlow(baseUrl, deliveredLog) {
    return [
        { id: 'crashtab00000001', type: 'tab', label: 'crash test' },
        { id: 'crashcfg00000001', type: 'serial-mfg-config', name: 'stand-in', baseUrl, concurrency: 2, credentials: { apiKey: API_KEY } },
        { id: 'crashin000000001', z: 'crashtab00000001', type: 'http in', url: '/crash-input', method: 'post', wires: [['crashfan00000001']] },
        {
            id: 'crashfan00000001',
            z: 'crashtab00000001',
            type: 'function',
            outputs: 2,
            wires: [['crashup000000001'], ['crashres00000001']],
            func: [
                'for (const item of msg.payload.items) {',
                '    const payload = item.kind === "buffer" ? Buffer.from(item.data, "base64") : item.path;',
                '    node.send([{ payload, filename: item.name, topic: item.name }, null]);',
                '}',
                'msg.payload = { accepted: msg.payload.items.length };',
                'return [null, msg];',
            ].join('\n'),
        },
        { id: 'crashres00000001', z: 'crashtab00000001', type: 'http response', wires: [] },
        {
            id: 'crashup000000001',
            z: 'crashtab00000001',
            type: 'serial-mfg-upload',
            name: 'upload',
            server: 'crashcfg00000001',
            outbox: 'disk',
            attempts: 2,
            backoff: 0.05,
            wires: [['crashfmt00000001']],
        },
        {
            id: 'crashfmt00000001',
            z: 'crashtab00000001',
            type: 'function',
            func: 'return { payload: msg.topic + " " + msg.payload.name };',
            wires: [['crashlog00000001']],
        },
        {
            id: 'crashlog00000001',
            z: 'crashtab00000001',
            type: 'file',
            filename: deliveredLog,
            filenameType: 'str',
            appendNewline: true,
            createDir: true,
            overwriteFile: 'false',
            wires: [],
        },
    ];
}

describe('crash test: SIGKILL with Serial unreachable, then restart', function () {
    this.timeout(120000);
    /** @type {any} */ let serial;
    /** @type {any[]} */ const runtimes = [];
    /** @type {string} */ let work;

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        work = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-crash-test-'));
    });
    after(async function () {
        for (const rt of runtimes) await rt.stop('SIGKILL');
        await serial.close();
        scan('crash test user dir', { path: work });
        for (const rt of runtimes) scan('crash test Node-RED log', rt.log.join('\n'));
        fs.rmSync(work, { recursive: true, force: true });
    });

    it('delivers all 20 files, intact and named, and empties the outbox', async function () {
        const userDir = path.join(work, 'userdir');
        const sources = path.join(work, 'sources');
        fs.mkdirSync(sources, { recursive: true });
        const deliveredLog = path.join(work, 'delivered.txt');
        const outboxJobs = path.join(userDir, 'serial-mfg-outbox', 'crashup000000001', 'jobs');
        const committedJobs = () => (fs.existsSync(outboxJobs) ? fs.readdirSync(outboxJobs).filter((n) => n.endsWith('.job')) : []);

        /** @type {Map<string, string>} name → sha256 */
        const expected = new Map();
        const items = [];
        for (let i = 0; i < 10; i++) {
            const data = crypto.randomBytes(1000 + i * 5000);
            const name = `buffer-${i}.bin`;
            expected.set(name, sha256(data));
            items.push({ kind: 'buffer', name, data: data.toString('base64') });
        }
        for (let i = 0; i < 10; i++) {
            const data = crypto.randomBytes(2000 + i * 7000);
            const name = `path-${i}.csv`;
            const file = path.join(sources, name);
            fs.writeFileSync(file, data);
            expected.set(name, sha256(data));
            items.push({ kind: 'path', name, path: file });
        }

        await serial.setDown(true);
        const first = await startNodeRed({ userDir, settings: { credentialSecret: 'crash-test-credential-secret' } });
        runtimes.push(first);
        await first.ready();
        await first.deploy(crashFlow(serial.url, deliveredLog));
        const res = await fetch(`${first.url}/crash-input`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ items }),
        });
        assert.equal(res.status, 200, first.log.slice(-20).join('\n'));
        await until(() => committedJobs().length === 20, 20000, '20 jobs in the outbox');
        for (const name of fs.readdirSync(sources)) fs.rmSync(path.join(sources, name));

        const killed = await first.stop('SIGKILL');
        assert.equal(killed.signal, 'SIGKILL');
        assert.equal(serial.uploads.length, 0, 'nothing could have been delivered while Serial was down');
        assert.equal(committedJobs().length, 20);

        await serial.setDown(false);
        const second = await startNodeRed({ userDir, settings: { credentialSecret: 'crash-test-credential-secret' } });
        runtimes.push(second);
        await second.ready();
        await until(() => serial.uploads.length >= 20, 60000, '20 uploads after the restart');
        await until(() => committedJobs().length === 0, 10000, 'an empty outbox');
        await until(
            () => fs.existsSync(deliveredLog) && fs.readFileSync(deliveredLog, 'utf8').trim().split('\n').length === 20,
            10000,
            '20 output messages',
        );

        const got = new Map(serial.uploads.map((/** @type {any} */ u) => [u.filename, u.sha256]));
        assert.equal(serial.uploads.length, 20, 'each file exactly once');
        assert.deepEqual(got, expected);
        const outputs = fs
            .readFileSync(deliveredLog, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.split(' ')[0])
            .sort();
        assert.deepEqual(outputs, [...expected.keys()].sort(), 'the restored messages kept msg.topic');
        await second.stop();
    });
});
