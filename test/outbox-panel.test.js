// @ts-check
'use strict';
/**
 * The outbox people can see and steer: the admin API (list, dead-letter, retry, discard, pause,
 * resume, orphans) against a real runtime, behind Node-RED's permissions, and what the queue does
 * with a refused key, a captive portal, a refused file and a deleted node.
 */
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
// Node-RED's own password hashing (adminAuth), from its editor API's dependencies.
const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('@node-red/editor-api/package.json'))] }));
const { startStandIn } = require('../harness/serial-stand-in');
const { startNodeRed } = require('../harness/nodered');
const { send, unload, configNode, uploadNode } = require('./support/flow');
const { API_KEY, WRONG_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { sleep, until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');

describe('the outbox panel and what the outbox does with trouble', function () {
    this.timeout(60000);
    /** @type {any} */ let serial;
    /** @type {string} */ let root;
    /** @type {string} */ let base;

    before(async function () {
        serial = await startStandIn({ apiKey: API_KEY });
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-panel-'));
    });
    beforeEach(function () {
        base = fs.mkdtempSync(path.join(root, 'base-'));
    });
    afterEach(async function () {
        await unload();
        await serial.setDown(false);
        serial.reset();
        scan('panel outboxes', { path: base });
        fs.rmSync(base, { recursive: true, force: true });
    });
    after(async function () {
        await serial.close();
        fs.rmSync(root, { recursive: true, force: true });
    });

    /**
     * Upload nodes (each with its own outbox under `base`) on one config node, their outputs and a Catch.
     * @param {string[]} ids @param {{ apiKey?: string, upload?: Record<string, unknown> }} [o]
     */
    async function flow(ids, o = {}) {
        const nodes = [
            { id: 'tab', type: 'tab', label: 'panel' },
            { id: 'cfg', type: 'serial-mfg-config', baseUrl: serial.url, concurrency: 2 },
            ...ids.map((id) => ({
                id,
                z: 'tab',
                type: 'serial-mfg-upload',
                name: `station ${id}`,
                server: 'cfg',
                outboxDir: base,
                attempts: 2,
                backoff: 0.01,
                ...o.upload,
                wires: [['out']],
            })),
            { id: 'out', z: 'tab', type: 'helper' },
            { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['err']] },
            { id: 'err', z: 'tab', type: 'helper' },
        ];
        await helper.load([configNode, uploadNode], nodes, { cfg: { apiKey: o.apiKey ?? API_KEY } });
        const node = (/** @type {string} */ id) => helper.getNode(id);
        /** @type {any[]} */ const outputs = [];
        /** @type {any[]} */ const errors = [];
        node('out').on('input', (/** @type {any} */ m) => outputs.push(m));
        node('err').on('input', (/** @type {any} */ m) => errors.push(m));
        return { node, outputs, errors };
    }
    const api = () => helper.request();
    const list = async () => (await api().get('/serial-mfg/outbox').expect(200)).body;
    const entry = async (/** @type {string} */ id) => (await list()).find((/** @type {any} */ e) => e.id === id);

    it('lists each outbox with its state, backlog and latest error, and drains it once Serial is back', async function () {
        await serial.setDown(true);
        const f = await flow(['up1']);
        /** @type {string[]} */ const warnings = [];
        const warn = f.node('up1').warn.bind(f.node('up1'));
        f.node('up1').warn = (/** @type {any} */ w) => (warnings.push(String(w)), warn(w));
        for (let i = 0; i < 3; i++) f.node('up1').receive({ payload: crypto.randomBytes(1000) });
        await until(async () => (await entry('up1'))?.state === 'offline', 15000, 'offline');
        const e = await entry('up1');
        assert.equal(e.name, 'station up1');
        assert.equal(e.type, 'serial-mfg-upload');
        assert.equal(e.queued.files, 3);
        assert.ok(e.queued.bytes >= 3000);
        assert.ok(Date.parse(e.queued.oldest) <= Date.now());
        assert.equal(e.lastError.code, 'CONNECTION_FAILED');
        assert.equal(JSON.stringify(await list()).includes(API_KEY), false);
        const host = new URL(serial.url).host;
        assert.equal(warnings.filter((w) => /offline/i.test(w)).length, 1, warnings.join('\n'));
        assert.ok(warnings[0].includes(host) && warnings[0].includes('CONNECTION_FAILED'), warnings[0]);
        await serial.setDown(false);
        await until(() => f.outputs.length === 3, 20000, 'three deliveries');
        await until(async () => (await entry('up1')).state === 'online' && (await entry('up1')).queued.files === 0, 5000, 'online, empty');
    });

    it('holds on a refused key (nothing dead-lettered) and delivers once the right key is deployed', async function () {
        let f = await flow(['up1'], { apiKey: WRONG_KEY });
        f.node('up1').receive({ payload: Buffer.from('held one') });
        f.node('up1').receive({ payload: Buffer.from('held two') });
        await until(async () => (await entry('up1'))?.state === 'held', 15000, 'held');
        const e = await entry('up1');
        assert.equal(e.lastError.code, 'UNAUTHORIZED');
        assert.equal(e.deadLetter.files, 0);
        assert.equal(f.errors.length, 0, 'nothing reached the Catch node');
        await unload();
        f = await flow(['up1']);
        await until(() => f.outputs.length === 2, 20000, 'both delivered after the redeploy');
        assert.deepEqual(
            serial.uploads.map((/** @type {any} */ u) => u.sha256).sort(),
            [sha256(Buffer.from('held one')), sha256(Buffer.from('held two'))].sort(),
        );
    });

    it('treats a captive portal (an HTML 200, a redirect) as Serial not reached: nothing is dead-lettered', async function () {
        // For three seconds something else answers: a login page, then a redirect to it.
        const start = Date.now();
        serial.chaos = () => {
            const t = Date.now() - start;
            if (t < 1500) return { mode: 'notJson' };
            if (t < 3000) return { mode: 'status', status: 302, headers: { Location: 'http://portal.example/login' } };
            return null;
        };
        const f = await flow(['up1'], { upload: { attempts: 1 } });
        for (let i = 0; i < 5; i++) f.node('up1').receive({ payload: Buffer.from(`portal ${i}`) });
        await until(() => f.outputs.length === 5, 30000, 'all five delivered once the portal is gone');
        const e = await entry('up1');
        assert.equal(e.deadLetter.files, 0);
        assert.equal(f.errors.length, 0);
        assert.ok(['INVALID_RESPONSE'].includes(e.lastError.code));
    });

    it('lists a refused file in dead-letter with its reason; one retried and delivered, another discarded', async function () {
        serial.fault({ mode: 'status', status: 422, count: 2, body: { error: 'Unprocessable' } });
        const f = await flow(['up1']);
        const first = await send(
            { up: f.node('up1'), out: f.node('out'), err: f.node('err'), statuses: [] },
            { payload: Buffer.from('refused one'), filename: 'one.csv' },
        );
        const second = await send(
            { up: f.node('up1'), out: f.node('out'), err: f.node('err'), statuses: [] },
            { payload: Buffer.from('refused two'), filename: 'two.csv' },
        );
        assert.equal(first.msg.error.code, 'CLIENT_ERROR');
        assert.equal(second.msg.error.code, 'CLIENT_ERROR');
        const dead = (await api().get('/serial-mfg/outbox/up1/dead-letter').expect(200)).body;
        assert.deepEqual(
            dead.map((/** @type {any} */ d) => [d.filename, d.error.code]),
            [
                ['one.csv', 'CLIENT_ERROR'],
                ['two.csv', 'CLIENT_ERROR'],
            ],
        );
        assert.match(dead[0].error.message, /422/);
        await api().post(`/serial-mfg/outbox/up1/dead-letter/${dead[0].job}/retry`).expect(200);
        await until(() => serial.uploads.some((/** @type {any} */ u) => u.filename === 'one.csv'), 10000, 'the retried job delivered');
        await api().delete(`/serial-mfg/outbox/up1/dead-letter/${dead[1].job}`).expect(200);
        assert.deepEqual((await api().get('/serial-mfg/outbox/up1/dead-letter').expect(200)).body, []);
        assert.equal((await entry('up1')).deadLetter.files, 0);
        for (const bad of ['../up1', 'x'.repeat(65), 'up1%2F..'])
            await api()
                .get(`/serial-mfg/outbox/${encodeURIComponent(bad)}/dead-letter`)
                .expect(404);
        await api().post('/serial-mfg/outbox/up1/dead-letter/..%2F..%2Fsecret/retry').expect(404);
    });

    it('pauses and resumes, the pause kept across a redeploy', async function () {
        let f = await flow(['up1']);
        await until(async () => !!(await entry('up1')), 5000, 'the outbox open');
        await api().post('/serial-mfg/outbox/up1/pause').expect(200);
        f.node('up1').receive({ payload: Buffer.from('wait for me') });
        await until(async () => (await entry('up1')).queued.files === 1, 5000, 'queued while paused');
        await sleep(300);
        assert.equal(serial.uploads.length, 0);
        assert.equal((await entry('up1')).state, 'paused');
        await unload();
        f = await flow(['up1']);
        await until(async () => (await entry('up1'))?.state === 'paused', 5000, 'still paused after the redeploy');
        await api().post('/serial-mfg/outbox/up1/resume').expect(200);
        await until(() => f.outputs.length === 1, 10000, 'delivered after resume');
    });

    it("keeps a deleted node's jobs as an orphaned outbox: adopted by a node on the same server, or discarded", async function () {
        await serial.setDown(true);
        const f = await flow(['gone1', 'gone2', 'keeper']);
        f.node('gone1').receive({ payload: Buffer.from('orphan job 1') });
        f.node('gone1').receive({ payload: Buffer.from('orphan job 2') });
        f.node('gone2').receive({ payload: Buffer.from('to discard') });
        await until(async () => (await entry('gone1'))?.queued.files === 2 && (await entry('gone2'))?.queued.files === 1, 10000, 'queued');
        await unload();
        await flow(['keeper']); // gone1 and gone2 were deleted from the flow
        fs.mkdirSync(path.join(base, 'emptied', 'jobs'), { recursive: true }); // an orphan with nothing left: not shown
        const orphaned = (await list()).filter((/** @type {any} */ e) => e.state === 'orphaned');
        assert.deepEqual(orphaned.map((/** @type {any} */ e) => [e.id, e.queued.files, e.name]).sort(), [
            ['gone1', 2, 'station gone1'],
            ['gone2', 1, 'station gone2'],
        ]);
        await serial.setDown(false);
        const adopted = (await api().post('/serial-mfg/outbox/gone1/retry-all').expect(200)).body;
        assert.deepEqual([adopted.adoptedBy, adopted.jobs], ['keeper', 2]);
        await until(() => serial.uploads.length === 2, 15000, 'the adopted jobs delivered');
        await api().delete('/serial-mfg/outbox/gone2').expect(200);
        assert.deepEqual(
            (await list()).map((/** @type {any} */ e) => e.id),
            ['keeper'],
        );
        assert.equal(fs.existsSync(path.join(base, 'gone2')), false);
        // A live outbox is never discarded whole.
        await api().delete('/serial-mfg/outbox/keeper').expect(404);
    });

    it('lets a read-only user read the outboxes but not act on them (adminAuth)', async function () {
        const userDir = fs.mkdtempSync(path.join(root, 'auth-'));
        const hash = bcrypt.hashSync('panel-test-password', 8);
        const rt = await startNodeRed({
            userDir,
            settings: {
                credentialSecret: 'panel-test',
                adminAuth: {
                    type: 'credentials',
                    users: [
                        { username: 'admin', password: hash, permissions: '*' },
                        { username: 'viewer', password: hash, permissions: 'read' },
                    ],
                },
            },
        });
        try {
            await rt.ready();
            await rt.login('admin', 'panel-test-password');
            await rt.deploy([
                { id: 'authtab', type: 'tab', label: 'auth' },
                { id: 'authcfg', type: 'serial-mfg-config', baseUrl: serial.url, credentials: { apiKey: API_KEY } },
                { id: 'authup', z: 'authtab', type: 'serial-mfg-upload', server: 'authcfg', wires: [] },
            ]);
            const asAdmin = await rt.login('admin', 'panel-test-password');
            const asViewer = await rt.login('viewer', 'panel-test-password', 'read');
            assert.equal((await fetch(`${rt.url}/serial-mfg/outbox`)).status, 401, 'nothing without a login');
            const seen = await fetch(`${rt.url}/serial-mfg/outbox`, { headers: asViewer });
            assert.equal(seen.status, 200);
            assert.deepEqual(
                (await seen.json()).map((/** @type {any} */ e) => e.id),
                ['authup'],
            );
            // Node-RED answers a lacking permission with 401, as for no login at all.
            const refused = await fetch(`${rt.url}/serial-mfg/outbox/authup/pause`, { method: 'POST', headers: asViewer });
            assert.ok([401, 403].includes(refused.status), `viewer's pause answered ${refused.status}`);
            assert.equal((await (await fetch(`${rt.url}/serial-mfg/outbox`, { headers: asViewer })).json())[0].state, 'online', 'not paused');
            assert.equal((await fetch(`${rt.url}/serial-mfg/outbox/authup/pause`, { method: 'POST', headers: asAdmin })).status, 200);
        } finally {
            await rt.stop();
            scan('panel auth log', rt.log.join('\n'));
        }
    });
});
