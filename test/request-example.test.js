// @ts-check
'use strict';
/**
 * The shipped example "Build a process entry step by step", run as it is in a real Node-RED
 * runtime against the Serial stand-in: only the config node's base URL is pointed at the stand-in and
 * the key supplied, as a user would in the editor.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { helper, loadFlow, coreNodes, configNode, uploadNode, requestNode } = require('./support/request-flow');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { readExample, inTab } = require('./support/examples');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

const CORE = coreNodes(
    'common/20-inject.js',
    'common/21-debug.js',
    'common/25-catch.js',
    'common/90-comment.js',
    'function/10-function.js',
    'function/15-change.js',
    'sequence/17-split.js',
);

describe('example: Build a process entry step by step', function () {
    /** @type {any} */ let serial;
    /** @type {string} */ let dir;
    const example = readExample('Build a process entry step by step');
    const byName = (/** @type {string} */ name) => {
        const node = example.find((n) => n.name === name);
        assert.ok(node, `the example has a node named "${name}"`);
        return node;
    };
    const config = example.find((n) => n.type === 'serial-mfg-config');
    const inject = example.find((n) => n.type === 'inject');
    const settings = byName('Station settings');
    const processId = settings.rules.find((/** @type {any} */ r) => r.p === 'processId').to;
    const datasetIds = JSON.parse(settings.rules.find((/** @type {any} */ r) => r.p === 'datasetIds').to);

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-station-'));
    });
    after(async function () {
        await serial.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(function () {
        // The user's Serial account already has the process's datasets, with the ids in "Station settings".
        serial.datasets.push({ id: datasetIds.IMAGE, name: 'Unit photo', type: 'IMAGE', process_id: processId });
        serial.datasets.push({ id: datasetIds.FILE, name: 'Test files', type: 'FILE', process_id: processId });
    });
    afterEach(async function () {
        await helper.unload();
        serial.reset();
    });

    /** Deploys the example into a tab, as importing it does. */
    async function deploy() {
        const flow = inTab(example, { 'serial-mfg-config': { baseUrl: serial.url } });
        return loadFlow([configNode, uploadNode, requestNode, ...CORE], flow, { [config.id]: { apiKey: API_KEY } });
    }

    /**
     * Presses the inject button with the given files (the editor's "inject with these properties") and
     * resolves with the message that reaches the "Entry recorded" or the "Failure" debug node.
     * @param {Awaited<ReturnType<typeof deploy>>} f @param {string[]} files
     * @returns {Promise<{ok: boolean, msg: any}>}
     */
    function run(f, files, timeoutMs = 20000) {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('the flow neither recorded the entry nor failed')), timeoutMs);
            const finish = (/** @type {boolean} */ ok) => (/** @type {any} */ msg) => {
                clearTimeout(timer);
                scan('example message', msg);
                scan('example statuses', f.statuses);
                resolve({ ok, msg });
            };
            f.node(byName('Entry recorded').id).on('input', finish(true));
            f.node(byName('Failure').id).on('input', finish(false));
            const props = inject.props.map((/** @type {any} */ p) => (p.p === 'files' ? { ...p, v: JSON.stringify(files) } : p));
            f.node(inject.id).receive({ __user_inject_props__: props });
        });
    }

    it('is shipped ready to import: config without credentials, every Serial node on it, comments', function () {
        assert.equal(config.baseUrl, 'https://api.serial.io');
        assert.equal('credentials' in config, false);
        for (const n of example.filter((x) => /^serial-mfg-(request|upload)$/.test(x.type))) assert.equal(n.server, config.id, n.name);
        assert.equal(byName('Create entry').retryPost, false, 'the POST that creates the entry is never retried blindly');
        assert.ok(example.filter((n) => n.type === 'comment').length >= 3);
        assert.match(byName('Build a process entry step by step').info, /`name`\*\* as `file_id`/);
        assert.deepEqual(
            JSON.parse(inject.props.find((/** @type {any} */ p) => p.p === 'files').v).map((/** @type {string} */ p) => path.extname(p)),
            ['.png', '.csv'],
        );
    });

    it('creates one entry, uploads and attaches each file, and submits the entry', async function () {
        const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(40 * 1024)]);
        const csv = Buffer.from('t_ms,torque_nm\n0,0.0\n10,1.2\n20,2.5\n');
        const photo = path.join(dir, 'unit-photo.png');
        const curve = path.join(dir, 'torque-curve.csv');
        fs.writeFileSync(photo, png);
        fs.writeFileSync(curve, csv);

        const f = await deploy();
        const { ok, msg } = await run(f, [photo, curve]);
        assert.equal(ok, true, JSON.stringify(msg.error));

        // One entry, for the unit and process in the flow.
        assert.equal(serial.entries.size, 1);
        const [entry] = [...serial.entries.values()];
        assert.equal(entry.component_instance_id, 'SN-000123');
        assert.equal(entry.process_id, processId);

        // Each file uploaded byte for byte, under its own name and type.
        assert.equal(serial.uploads.length, 2);
        const upload = (/** @type {string} */ name) => serial.uploads.find((/** @type {any} */ u) => u.filename === name);
        assert.equal(upload('unit-photo.png').sha256, sha256(png));
        assert.equal(upload('unit-photo.png').mimetype, 'image/png');
        assert.equal(upload('torque-curve.csv').sha256, sha256(csv));
        assert.equal(upload('torque-curve.csv').mimetype, 'text/csv');

        // Each attached with file_id = the File-storage name, IMAGE for the photo, FILE for the CSV.
        const datum = (/** @type {string} */ name) => entry.data.find((/** @type {any} */ d) => d.file_name === name);
        assert.equal(entry.data.length, 2);
        assert.deepEqual(
            { type: datum('unit-photo.png').type, dataset_id: datum('unit-photo.png').dataset_id, file_id: datum('unit-photo.png').file_id },
            { type: 'IMAGE', dataset_id: datasetIds.IMAGE, file_id: upload('unit-photo.png').name },
        );
        assert.deepEqual(
            { type: datum('torque-curve.csv').type, dataset_id: datum('torque-curve.csv').dataset_id, file_id: datum('torque-curve.csv').file_id },
            { type: 'FILE', dataset_id: datasetIds.FILE, file_id: upload('torque-curve.csv').name },
        );

        // Submitted once, after both attachments.
        assert.equal(entry.is_complete, true);
        assert.equal(entry.is_pass, true);
        const calls = serial.requests.map((/** @type {any} */ r) => `${r.method} ${r.path.replace(entry.id, '{id}')} ${r.status}`);
        assert.deepEqual(
            calls.filter((c) => !c.startsWith('POST /files')),
            [
                'POST /processes/entries 200',
                'PUT /processes/entries/{id} 200',
                'PUT /processes/entries/{id} 200',
                'PATCH /processes/entries/{id} 200',
            ],
        );
        assert.equal(calls.filter((c) => c === 'POST /files 200').length, 2);
        assert.ok(
            serial.requests.every((/** @type {any} */ r) => r.authorized),
            'every call carried the key',
        );

        assert.equal(msg.payload.id, entry.id);
        assert.equal(msg.payload.is_complete, true);
        assert.equal(msg.statusCode, 200);
    });

    it('reports a missing file to the Catch node and leaves the entry unsubmitted', async function () {
        const photo = path.join(dir, 'unit-photo.png');
        fs.writeFileSync(photo, Buffer.from('89504e470d0a1a0a', 'hex'));
        const f = await deploy();
        const { ok, msg } = await run(f, [photo, path.join(dir, 'missing.csv')]);
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'FILE_NOT_FOUND');
        assert.equal(msg.error.source.name, 'Upload file');
        await new Promise((r) => setTimeout(r, 300)); // the photo's attachment may still be on its way
        const [entry] = [...serial.entries.values()];
        assert.equal(entry.is_complete, false);
        assert.ok(!serial.requests.some((/** @type {any} */ r) => r.method === 'PATCH'), 'never submitted');
    });

    it('reports a dataset id Serial does not know to the Catch node, with the status code', async function () {
        serial.datasets.length = 0; // the ids in "Station settings" were never set up
        const csv = path.join(dir, 'torque-curve.csv');
        fs.writeFileSync(csv, 'a,b\n');
        const f = await deploy();
        const { ok, msg } = await run(f, [csv]);
        assert.equal(ok, false);
        assert.equal(msg.error.code, 'CLIENT_ERROR');
        assert.equal(msg.statusCode, 400);
        assert.match(msg.error.message, /dataset_id/);
        assert.equal(msg.error.source.name, 'Attach file');
        assert.equal([...serial.entries.values()][0].is_complete, false);
    });
});
