// @ts-check
'use strict';
/**
 * kill -9 after Serial has acted on a creating step, before its answer was journaled: the restarted
 * job reads the entry back and does not put a datum twice; an entry POST in that window (it cannot be
 * read back) moves the record to dead-letter with REQUEST_UNCERTAIN instead of making a second entry.
 */
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../../harness/serial-stand-in');
const { startNodeRed } = require('../../harness/nodered');
const { API_KEY } = require('../support/secrets');
const { holdAnswers } = require('../support/record-flow');
const { sleep, until } = require('../support/wait');
const { listDeadLetters } = require('../../nodes/lib/outbox/dead-letter');

const REC = 'advk9rec00000001';
function flow(/** @type {string} */ baseUrl) {
    return [
        { id: 'advk9tab00000001', type: 'tab', label: 'records' },
        { id: 'advk9cfg00000001', type: 'serial-mfg-config', baseUrl, concurrency: 4, credentials: { apiKey: API_KEY } },
        { id: 'advk9inj00000001', z: 'advk9tab00000001', type: 'http in', url: '/record', method: 'post', wires: [[REC, 'advk9res00000001']] },
        { id: 'advk9res00000001', z: 'advk9tab00000001', type: 'http response', wires: [] },
        {
            id: REC,
            z: 'advk9tab00000001',
            type: 'serial-mfg-record',
            server: 'advk9cfg00000001',
            process: 'p-k9',
            outbox: 'disk',
            attempts: 2,
            backoff: 0.05,
            wires: [],
        },
    ];
}

describe('record node under attack: kill -9 in the journal window', function () {
    this.timeout(120000);
    /** @type {any} */ let serial;
    /** @type {string} */ let work;
    /** @type {any[]} */ const runtimes = [];
    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        work = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-adv-k9-'));
    });
    afterEach(async function () {
        for (const rt of runtimes.splice(0)) await rt.stop('SIGKILL');
        serial.reset();
    });
    after(async function () {
        await serial.close();
        fs.rmSync(work, { recursive: true, force: true });
    });
    async function start(/** @type {string} */ userDir) {
        const rt = await startNodeRed({ userDir, settings: { credentialSecret: 'adv-k9' } });
        runtimes.push(rt);
        await rt.ready();
        return rt;
    }
    for (const [what, match, acted] of /** @type {const} */ ([
        [
            'a datum PUT',
            (/** @type {any} */ r) => r.method === 'PUT' && r.url.startsWith('/processes/entries/'),
            () => [...serial.entries.values()].some((e) => e.data.length > 0),
        ],
        ['the entry POST', (/** @type {any} */ r) => r.method === 'POST' && r.url.startsWith('/processes/entries'), () => serial.entries.size > 0],
    ])) {
        it(`${what}: Serial acted, answer held back, kill -9, restart: one entry; the datum once, or REQUEST_UNCERTAIN for the entry`, async function () {
            const userDir = path.join(work, what.replace(/\W/g, '_'));
            serial.addUnit({ identifier: 'SN-K9' });
            // Serial acts at once but its answer is held back 5 s: the kill lands before the journal write.
            const undo = holdAnswers(serial, match, 5000);
            const rt = await start(userDir);
            try {
                await rt.deploy(flow(serial.url));
                const res = await fetch(`${rt.url}/record`, {
                    method: 'POST',
                    headers: { 'Content-Type': 'application/json' },
                    body: JSON.stringify({ identifier: 'SN-K9', data: { V: 3.3 } }),
                });
                assert.equal(res.status, 200);
                await until(acted, 20000, 'Serial to act');
                await rt.stop('SIGKILL');
            } finally {
                undo();
            }
            await start(userDir);
            const dead = path.join(userDir, 'serial-mfg-outbox', REC, 'dead-letter');
            // As the outbox panel lists them: a folder still being built (`.<id>.new`, error.json half
            // written) is not a dead letter yet.
            const deadCodes = async () => (await listDeadLetters(dead)).map((d) => d.error.code);
            await until(
                async () => [...serial.entries.values()].some((e) => e.is_complete) || (await deadCodes()).length > 0,
                40000,
                'the resumed record',
            );
            await sleep(500);
            const entries = [...serial.entries.values()];
            const data = entries.flatMap((e) => e.data);
            const summary = `entries: ${entries.length} (complete: ${entries.filter((e) => e.is_complete).length}), data: ${data.length}, dead-letter: ${await deadCodes()}`;
            assert.equal(entries.length, 1, summary);
            if (what === 'the entry POST') {
                assert.deepEqual(await deadCodes(), ['REQUEST_UNCERTAIN'], summary);
                assert.equal(data.length, 0, summary);
            } else {
                assert.equal(entries[0].is_complete, true, summary);
                assert.equal(data.length, 1, summary);
            }
        });
    }
});
