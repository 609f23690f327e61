// @ts-check
'use strict';
/**
 * The shipped example "Record a station result with its files", run as it is in a real Node-RED
 * runtime against the Serial stand-in: only the config node's URL, the key and the record node's
 * process id are set, as the example's comment asks a user to.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { helper, loadFlow, coreNodes, configNode } = require('./support/request-flow');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { readExample, inTab } = require('./support/examples');

const recordNode = require('../nodes/serial-mfg-record.js');
const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const CORE = coreNodes('common/20-inject.js', 'common/21-debug.js', 'common/25-catch.js', 'common/90-comment.js', 'function/10-function.js');
const PROCESS = 'process-final-test';

describe('example: Record a station result with its files', function () {
    /** @type {any} */ let serial;
    /** @type {string} */ let dir;
    const example = readExample('Record a station result with its files');
    const byName = (/** @type {string} */ name) => {
        const node = example.find((n) => n.name === name);
        assert.ok(node, `the example has a node named "${name}"`);
        return node;
    };
    const config = example.find((n) => n.type === 'serial-mfg-config');
    const inject = example.find((n) => n.type === 'inject');
    const record = example.find((n) => n.type === 'serial-mfg-record');

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-record-example-'));
    });
    after(async function () {
        await serial.close();
        scan('record example outboxes', { path: dir });
        fs.rmSync(dir, { recursive: true, force: true });
    });
    afterEach(async function () {
        await helper.unload();
        serial.reset();
    });

    /** Deploys the example into a tab as importing it does, with the URL, key and process id set. */
    function deploy() {
        const flow = inTab(example, {
            'serial-mfg-config': { baseUrl: serial.url },
            'serial-mfg-record': { process: PROCESS, outboxDir: dir, backoff: 0.05 },
        });
        return loadFlow([configNode, recordNode, ...CORE], flow, { [config.id]: { apiKey: API_KEY } });
    }

    /** Presses the inject with this report path; resolves with what reaches "Entry recorded" or "Failure". */
    function run(/** @type {any} */ f, /** @type {string} */ report, timeoutMs = 20000) {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('the flow neither recorded the entry nor failed')), timeoutMs);
            const finish = (/** @type {boolean} */ ok) => (/** @type {any} */ msg) => {
                clearTimeout(timer);
                scan('example message', msg);
                resolve({ ok, msg });
            };
            f.node(byName('Entry recorded').id).on('input', finish(true));
            f.node(byName('Failure').id).on('input', finish(false));
            // What the editor's button sends: the inject's own values, with this report path.
            const own = { payload: { v: inject.payload, vt: inject.payloadType }, report: { v: report, vt: 'str' } };
            const props = inject.props.map((/** @type {any} */ p) => ({ p: p.p, ...own[/** @type {'payload'|'report'} */ (p.p)] }));
            f.node(inject.id).receive({ __user_inject_props__: props });
        });
    }

    it('is shipped ready to import: the shared config node without credentials, the outbox on, a catch, comments', function () {
        assert.deepEqual(
            [config.id, config.name, config.baseUrl, 'credentials' in config],
            ['serial-mfg-example-server', 'Serial', 'https://api.serial.io', false],
        );
        assert.equal(record.server, config.id);
        assert.equal(record.outbox, 'disk');
        assert.deepEqual(byName('Record failed').scope, [record.id]);
        assert.match(example.find((n) => n.type === 'comment').info, /Process/);
    });

    it('makes one complete entry with every value and the report, through the outbox', async function () {
        const unit = serial.addUnit({ identifier: 'SN-000123' });
        const csv = Buffer.concat([Buffer.from('step,result\n'), crypto.randomBytes(30000)]);
        const report = path.join(dir, 'SN-000123.csv');
        fs.writeFileSync(report, csv);
        const f = await deploy();
        const { ok, msg } = await run(f, report);
        assert.equal(ok, true, JSON.stringify(msg.error));
        assert.equal(serial.entries.size, 1);
        const [entry] = [...serial.entries.values()];
        assert.deepEqual([entry.component_instance_id, entry.process_id, entry.is_complete, entry.is_pass], [unit.id, PROCESS, true, true]);
        const byDataset = new Map(
            entry.data.map((/** @type {any} */ d) => [serial.datasets.find((/** @type {any} */ x) => x.id === d.dataset_id).name, d]),
        );
        assert.deepEqual([...byDataset.keys()].sort(), ['Firmware version', 'Leak test passed', 'Supply voltage', 'Test report']);
        assert.equal(byDataset.get('Supply voltage').value, 3.31);
        assert.equal(byDataset.get('Firmware version').value, '1.4.2');
        const upload = serial.uploads.find((/** @type {any} */ u) => u.name === byDataset.get('Test report').file_id);
        assert.equal(upload.sha256, sha256(csv));
        assert.equal(msg.payload.id, entry.id);
    });

    it('reports a unit Serial does not know to the catch node, and makes no entry', async function () {
        const report = path.join(dir, 'SN-000123.csv');
        fs.writeFileSync(report, 'step,result\n');
        const f = await deploy();
        const { ok, msg } = await run(f, report);
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'UNIT_NOT_FOUND');
        assert.match(msg.error.message, /SN-000123/);
        assert.equal(serial.entries.size, 0);
    });
});
