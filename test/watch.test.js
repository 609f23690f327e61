// @ts-check
'use strict';
/**
 * serial-mfg-watch in a real Node-RED runtime on real folders: complete files only, once per
 * version across redeploys and restarts, bursts, large folders, a folder that comes and goes,
 * polling, and watch → upload end to end against the Serial stand-in.
 */
const assert = require('node:assert/strict');
const async_hooks = require('async_hooks');
const { monitorEventLoopDelay } = require('perf_hooks');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { helper, configNode, uploadNode, USER_DIR } = require('./support/flow');
const { loadFlow, coreNodes } = require('./support/request-flow');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const watchNode = require('../nodes/serial-mfg-watch.js');
const recordNode = require('../nodes/serial-mfg-record.js');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const { sleep } = require('./support/wait');
const { readExample, inTab } = require('./support/examples');
const SETTLE = 0.4;
/** Long enough for a file to settle and be sent, with room for a slow machine. */
const QUIET_MS = SETTLE * 1000 * 3 + 500;

/** A unique node id per test, so no test sees another's seen store. */
const newId = () => crypto.randomBytes(8).toString('hex');

/** @param {() => boolean} cond @param {string} what */
async function waitFor(cond, what, timeoutMs = 15000) {
    const end = Date.now() + timeoutMs;
    while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
    }
}

/**
 * Deploys a watch node wired to a helper, with a Catch node scoped to it, and collects what arrives.
 * @param {Record<string, unknown>} props watch node properties
 * @param {{id?: string, extra?: any[], modules?: any[], creds?: any, wire?: string}} [opts]
 */
async function deploy(props, opts = {}) {
    const id = opts.id ?? newId();
    const flow = [
        { id: 'tab', type: 'tab', label: 'watch' },
        { id, z: 'tab', type: 'serial-mfg-watch', name: 'hot folder', settle: SETTLE, ...props, wires: [[opts.wire ?? 'out']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'catcher', z: 'tab', type: 'catch', scope: [id], uncaught: false, wires: [['err']] },
        { id: 'err', z: 'tab', type: 'helper' },
        ...(opts.extra ?? []),
    ];
    await helper.load([watchNode, ...(opts.modules ?? [])], flow, opts.creds ?? {});
    return collect(id);
}

/** @param {string} id */
function collect(id) {
    const node = helper.getNode(id);
    /** @type {any[]} */ const msgs = [];
    /** @type {any[]} */ const errors = [];
    /** @type {any[]} */ const statuses = [];
    const original = node.status.bind(node);
    node.status = (/** @type {any} */ s) => {
        statuses.push(s);
        return original(s);
    };
    helper.getNode('out').on('input', (/** @type {any} */ m) => msgs.push(m));
    helper.getNode('err').on('input', (/** @type {any} */ m) => errors.push(m));
    const names = () => msgs.map((m) => m.topic);
    const lastStatus = () => statuses[statuses.length - 1]?.text;
    return { id, node, msgs, errors, statuses, names, lastStatus };
}

describe('serial-mfg-watch', function () {
    /** @type {string} */ let root;
    /** @type {string} */ let dir;

    before(function () {
        root = fs.mkdtempSync(path.join(os.tmpdir(), `serial-watch-test-${process.pid}-`));
    });
    after(function () {
        fs.rmSync(root, { recursive: true, force: true });
    });
    beforeEach(function () {
        dir = fs.mkdtempSync(path.join(root, 'case-'));
    });
    afterEach(async function () {
        await helper.unload();
    });

    it('sends a file written in pieces over 3 s once, at its final size', async function () {
        // A piece every 100 ms, settled after 500 ms: room for a busy machine's late timers.
        const w = await deploy({ folder: dir, settle: 0.5 });
        await waitFor(() => w.lastStatus() === 'watching 0 files', 'watching');
        const file = path.join(dir, 'report.csv');
        const fd = fs.openSync(file, 'a');
        const started = Date.now();
        let lines = 0;
        while (Date.now() - started < 3000) {
            fs.writeSync(fd, Array.from({ length: 20 }, () => `${lines++},${Math.random()}\n`).join(''));
            await sleep(100);
        }
        fs.closeSync(fd);
        const bytes = fs.readFileSync(file);
        assert.equal(w.msgs.length, 0, `sent while still being written: ${w.msgs.map((m) => m.size)}`);
        await waitFor(() => w.msgs.length === 1, 'the message');
        await sleep(QUIET_MS);
        assert.equal(w.msgs.length, 1, `sizes sent: ${w.msgs.map((m) => m.size)}`);
        const [msg] = w.msgs;
        const st = fs.statSync(file);
        assert.equal(msg.payload, file);
        assert.equal(msg.filename, 'report.csv');
        assert.equal(msg.topic, 'report.csv');
        assert.equal(msg.size, bytes.length);
        assert.ok(bytes.length > 5000, `${bytes.length} bytes written`);
        assert.equal(msg.mtime, st.mtime.toISOString());
        assert.equal(w.lastStatus(), 'sent: report.csv');
        assert.deepEqual(w.errors, []);
    });

    it('sends 40 files moved in at once, each once, oldest mtime first', async function () {
        const staging = fs.mkdtempSync(path.join(root, 'staging-'));
        const w = await deploy({ folder: dir });
        await waitFor(() => w.lastStatus() === 'watching 0 files', 'watching');
        const base = Date.now() / 1000 - 3600;
        const names = Array.from({ length: 40 }, (_, i) => `unit-${String(i).padStart(2, '0')}.json`);
        // mtimes in an order that is neither the names' nor the moves': 7 steps around a ring of 40.
        names.forEach((name, i) => {
            const p = path.join(staging, name);
            fs.writeFileSync(p, JSON.stringify({ unit: i, pad: 'x'.repeat(i * 10) }));
            fs.utimesSync(p, base + ((i * 7) % 40), base + ((i * 7) % 40));
        });
        for (const name of [...names].reverse()) fs.renameSync(path.join(staging, name), path.join(dir, name));
        await waitFor(() => w.msgs.length >= 40, '40 messages');
        await sleep(QUIET_MS);
        assert.equal(w.msgs.length, 40);
        assert.deepEqual([...w.names()].sort(), names);
        const mtimes = w.msgs.map((m) => Date.parse(m.mtime));
        assert.deepEqual(
            mtimes,
            [...mtimes].sort((a, b) => a - b),
            'oldest first',
        );
        for (const m of w.msgs) assert.equal(m.size, fs.statSync(m.payload).size);
        await waitFor(() => w.lastStatus() === `sent: ${w.msgs[39].filename}`, 'the status: the last file sent');
    });

    it('sends only regular files matching the pattern: no folders, deletions, temp names or dot files', async function () {
        fs.mkdirSync(path.join(dir, 'sub'));
        const w = await deploy({ folder: dir, pattern: '*.csv' });
        await waitFor(() => w.lastStatus() === 'watching 0 files', 'watching');
        fs.writeFileSync(path.join(dir, 'a.csv'), 'a');
        fs.writeFileSync(path.join(dir, 'b.txt'), 'b');
        fs.writeFileSync(path.join(dir, '.hidden.csv'), 'h');
        fs.writeFileSync(path.join(dir, 'sub', 'c.csv'), 'c');
        fs.mkdirSync(path.join(dir, 'folder.csv'));
        // A writer's temp name, renamed to its final name when done.
        fs.writeFileSync(path.join(dir, 'report.csv.part'), 'report');
        fs.renameSync(path.join(dir, 'report.csv.part'), path.join(dir, 'report.csv'));
        await waitFor(() => w.msgs.length >= 2, 'two messages');
        fs.unlinkSync(path.join(dir, 'a.csv'));
        await sleep(QUIET_MS);
        assert.deepEqual(w.names().sort(), ['a.csv', 'report.csv']);
        await helper.unload();

        // Recursive: files in subfolders too, named by their path below the folder; still no folders.
        const r = await deploy({ folder: dir, pattern: '*.csv', recursive: true });
        fs.mkdirSync(path.join(dir, 'sub', 'deeper'));
        fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'd.csv'), 'd');
        await waitFor(() => r.msgs.length >= 3, 'three messages');
        await sleep(QUIET_MS);
        assert.deepEqual(r.names().sort(), ['report.csv', 'sub/c.csv', 'sub/deeper/d.csv']);
        assert.equal(r.msgs.find((m) => m.topic === 'sub/deeper/d.csv').payload, path.join(dir, 'sub', 'deeper', 'd.csv'));
        assert.equal(r.msgs.find((m) => m.topic === 'sub/deeper/d.csv').filename, 'd.csv');
    });

    it('sends nothing twice across a redeploy and a restart, and picks up files written while stopped', async function () {
        const id = newId();
        const props = { folder: dir, pattern: '*.txt' };
        fs.writeFileSync(path.join(dir, 'one.txt'), '1');
        let w = await deploy(props, { id });
        await waitFor(() => w.msgs.length === 1, 'one.txt');
        assert.deepEqual(w.names(), ['one.txt']);

        // A full redeploy: the node is closed and created again.
        await helper.setFlows(
            [
                { id: 'tab', type: 'tab', label: 'watch' },
                { id, z: 'tab', type: 'serial-mfg-watch', settle: SETTLE, ...props, name: 'renamed', wires: [['out']] },
                { id: 'out', z: 'tab', type: 'helper' },
                { id: 'catcher', z: 'tab', type: 'catch', scope: [id], uncaught: false, wires: [['err']] },
                { id: 'err', z: 'tab', type: 'helper' },
            ],
            'full',
        );
        w = collect(id);
        fs.writeFileSync(path.join(dir, 'two.txt'), '2');
        await waitFor(() => w.msgs.length === 1, 'two.txt');
        await sleep(QUIET_MS);
        assert.deepEqual(w.names(), ['two.txt']);

        // Node-RED stopped: files arrive meanwhile, one file is rewritten.
        await helper.unload();
        fs.writeFileSync(path.join(dir, 'three.txt'), '3');
        fs.writeFileSync(path.join(dir, 'one.txt'), 'one, rewritten');
        w = await deploy(props, { id });
        await waitFor(() => w.msgs.length === 2, 'the files written while stopped');
        await sleep(QUIET_MS);
        assert.deepEqual(w.names().sort(), ['one.txt', 'three.txt']);
        assert.equal(w.msgs.find((m) => m.topic === 'one.txt').size, 'one, rewritten'.length);

        // The store lives in the user directory, one file per node, and lists what is there.
        const store = JSON.parse(fs.readFileSync(path.join(USER_DIR, 'serial-mfg-watch', `${id}.json`), 'utf8'));
        assert.deepEqual(Object.keys(store.files).sort(), ['one.txt', 'three.txt', 'two.txt']);
        assert.equal(store.folder, dir);

        // Once a file is deleted, it is forgotten.
        fs.unlinkSync(path.join(dir, 'two.txt'));
        await sleep(QUIET_MS);
        await helper.unload();
        const pruned = JSON.parse(fs.readFileSync(path.join(USER_DIR, 'serial-mfg-watch', `${id}.json`), 'utf8'));
        assert.deepEqual(Object.keys(pruned.files).sort(), ['one.txt', 'three.txt']);
        assert.deepEqual(
            fs.readdirSync(path.join(USER_DIR, 'serial-mfg-watch')).filter((f) => f.endsWith('.tmp')),
            [],
        );
    });

    it('sends a rewritten file again, as a new version', async function () {
        const w = await deploy({ folder: dir });
        const file = path.join(dir, 'label.zpl');
        fs.writeFileSync(file, '^XA^FO50,50^FDunit 1^FS^XZ');
        await waitFor(() => w.msgs.length === 1, 'the first version');
        await sleep(SETTLE * 1000);
        fs.writeFileSync(file, '^XA^FO50,50^FDunit 1, reprinted^FS^XZ');
        await waitFor(() => w.msgs.length === 2, 'the second version');
        // Same content, a new mtime: a new version too.
        const later = new Date(Date.now() + 5000);
        fs.utimesSync(file, later, later);
        await waitFor(() => w.msgs.length === 3, 'the touched version');
        await sleep(QUIET_MS);
        assert.equal(w.msgs.length, 3);
        assert.deepEqual(
            w.msgs.map((m) => m.size),
            [26, 37, 37],
        );
        assert.equal(w.msgs[2].mtime, later.toISOString());
    });

    it('waits for a folder created after deploy, and for one that goes away and comes back', async function () {
        const folder = path.join(dir, 'share', 'reports');
        const w = await deploy({ folder });
        await waitFor(() => w.lastStatus() === 'serial-mfg-watch.status.missing', 'folder missing');
        assert.equal(w.statuses.at(-1).fill, 'yellow');
        fs.mkdirSync(folder, { recursive: true });
        await waitFor(() => w.lastStatus() === 'watching 0 files', 'watching');
        fs.writeFileSync(path.join(folder, 'r1.xml'), '<r/>');
        await waitFor(() => w.msgs.length === 1, 'r1.xml');

        // Unmounted: the folder goes away; the node says so and keeps trying.
        fs.rmSync(path.join(dir, 'share'), { recursive: true });
        await waitFor(() => w.lastStatus() === 'serial-mfg-watch.status.missing', 'folder missing again');
        fs.mkdirSync(folder, { recursive: true });
        fs.writeFileSync(path.join(folder, 'r2.xml'), '<r>2</r>');
        await waitFor(() => w.msgs.length === 2, 'r2.xml');
        await sleep(QUIET_MS);
        assert.deepEqual(w.names(), ['r1.xml', 'r2.xml']);
        assert.deepEqual(w.errors, []);
    });

    it('polls a folder when told to', async function () {
        fs.writeFileSync(path.join(dir, 'old.log'), 'already there');
        const w = await deploy({ folder: dir, poll: true, pollInterval: 0.2, existing: 'skip' });
        await waitFor(() => w.lastStatus() === 'watching 1 files', 'watching');
        const file = path.join(dir, 'scan.log');
        fs.writeFileSync(file, 'part 1\n');
        await sleep(100);
        fs.appendFileSync(file, 'part 2\n');
        await waitFor(() => w.msgs.length === 1, 'scan.log');
        await sleep(QUIET_MS);
        assert.deepEqual(w.names(), ['scan.log']);
        assert.equal(w.msgs[0].size, 14);
        // Polling indeed: chokidar watches with stat pollers (fs.watchFile), not fs.watch.
        assert.ok(process.getActiveResourcesInfo().includes('StatWatcher'), process.getActiveResourcesInfo().join(', '));
    });

    it('starts on 10,000 existing files with existing: skip within seconds, sending none of them', async function () {
        this.timeout(60000);
        const payload = 'x'.repeat(64);
        for (let i = 0; i < 10000; i++) fs.writeFileSync(path.join(dir, `f${i}.csv`), payload);
        const heapBefore = process.memoryUsage().heapUsed;
        // The event loop stays free while chokidar scans: no turn blocked for long.
        const loop = monitorEventLoopDelay({ resolution: 10 });
        loop.enable();
        const started = Date.now();
        const w = await deploy({ folder: dir, existing: 'skip' });
        await waitFor(() => w.lastStatus() === 'watching 10000 files', 'watching 10000 files', 20000);
        const startMs = Date.now() - started;
        loop.disable();
        const maxDelayMs = Math.round(loop.max / 1e6);
        fs.writeFileSync(path.join(dir, 'new.csv'), 'new');
        await waitFor(() => w.msgs.length === 1, 'the new file');
        await sleep(QUIET_MS);
        assert.deepEqual(w.names(), ['new.csv']);
        assert.ok(startMs < 8000, `start took ${startMs} ms`);
        assert.ok(maxDelayMs < 1000, `the event loop was blocked for ${maxDelayMs} ms`);
        console.log(
            `      10,000 files: watching after ${startMs} ms, longest event-loop delay ${maxDelayMs} ms, heap +${Math.round((process.memoryUsage().heapUsed - heapBefore) / 1e6)} MB`,
        );
    });

    it('closes cleanly: no timers left behind, the store flushed', async function () {
        // Every timer created from this package's code or its watcher library while the test runs.
        /** @type {Map<number, string>} */ const live = new Map();
        const hook = async_hooks
            .createHook({
                init(asyncId, type) {
                    if (type !== 'Timeout') return;
                    const stack = new Error().stack ?? '';
                    if (/[/\\]nodes[/\\]|chokidar|readdirp/.test(stack)) live.set(asyncId, stack);
                },
                destroy(asyncId) {
                    live.delete(asyncId);
                },
            })
            .enable();
        try {
            const id = newId();
            const w = await deploy({ folder: path.join(dir, 'missing') }, { id });
            await waitFor(() => w.lastStatus() === 'serial-mfg-watch.status.missing', 'folder missing');
            await helper.unload();
            const w2 = await deploy({ folder: dir }, { id });
            fs.writeFileSync(path.join(dir, 'x.bin'), crypto.randomBytes(10));
            await waitFor(() => w2.msgs.length === 1, 'x.bin');
            // Closed while a file is still settling and the status repaint is due.
            fs.writeFileSync(path.join(dir, 'y.bin'), crypto.randomBytes(10));
            await sleep(50);
            assert.ok(live.size > 0, 'the hook sees the timers');
            await helper.unload();
            await sleep(50);
            assert.deepEqual([...live.values()], []);
            const store = JSON.parse(fs.readFileSync(path.join(USER_DIR, 'serial-mfg-watch', `${id}.json`), 'utf8'));
            assert.deepEqual(Object.keys(store.files), ['x.bin']);
        } finally {
            hook.disable();
        }
    });

    it('reports a folder it may not read once, to a Catch node', async function () {
        if (process.getuid?.() === 0) this.skip(); // root reads everything
        const locked = path.join(dir, 'locked');
        fs.mkdirSync(locked, { mode: 0o000 });
        try {
            const w = await deploy({ folder: locked });
            await waitFor(() => w.errors.length === 1, 'the error');
            await sleep(2500);
            assert.equal(w.errors.length, 1);
            assert.equal(w.errors[0].error.code, 'PERMISSION_DENIED');
            assert.equal(w.errors[0].payload, locked);
            assert.equal(w.lastStatus(), 'serial-mfg-watch.status.denied');
        } finally {
            fs.chmodSync(locked, 0o755);
        }
    });

    it('reports an unreadable file and subfolder once, and sends the file once it can be read', async function () {
        if (process.getuid?.() === 0) this.skip(); // root reads everything
        const sub = path.join(dir, 'sub');
        fs.mkdirSync(sub);
        fs.writeFileSync(path.join(sub, 'inner.csv'), 'inner');
        fs.chmodSync(sub, 0o000);
        try {
            const w = await deploy({ folder: dir, recursive: true });
            await waitFor(() => w.lastStatus() === 'watching 0 files', 'watching');
            const file = path.join(dir, 'secret.csv');
            fs.writeFileSync(file, 'secret', { mode: 0o000 });
            await waitFor(() => w.errors.some((e) => e.payload === file), 'the file error');
            await sleep(QUIET_MS);
            assert.equal(w.msgs.length, 0, 'not sent while unreadable');
            assert.deepEqual(
                w.errors.map((e) => [e.error.code, e.payload]),
                [
                    ['PERMISSION_DENIED', sub],
                    ['PERMISSION_DENIED', file],
                ],
            );
            assert.match(w.errors[1].error.message, /permission denied/);
            fs.chmodSync(file, 0o644);
            await waitFor(() => w.msgs.length === 1, 'the file, now readable');
            assert.equal(w.msgs[0].payload, file);
            assert.equal(w.errors.length, 2);
        } finally {
            fs.chmodSync(sub, 0o755);
        }
    });

    describe('watch → upload end to end', function () {
        /** @type {any} */ let serial;
        before(async function () {
            serial = await startStandIn({ apiKey: API_KEY });
        });
        after(async function () {
            await serial.close();
        });
        afterEach(function () {
            serial.reset();
        });

        it('uploads each complete file once, bytes intact', async function () {
            const extra = [
                { id: 'cfg', type: 'serial-mfg-config', name: 'stand-in', baseUrl: serial.url },
                { id: 'up', z: 'tab', type: 'serial-mfg-upload', server: 'cfg', outbox: 'off', attempts: 1, wires: [['out']] },
            ];
            const w = await deploy(
                { folder: dir, pattern: '*.{csv,png}' },
                { extra, wire: 'up', modules: [configNode, uploadNode], creds: { cfg: { apiKey: API_KEY } } },
            );
            /** @type {Record<string, Buffer>} */
            const files = {};
            const staging = fs.mkdtempSync(path.join(root, 'staging-'));
            for (let i = 0; i < 6; i++) {
                const name = i % 2 ? `photo-${i}.png` : `result-${i}.csv`;
                files[name] = crypto.randomBytes(1000 + i * 50_000);
                fs.writeFileSync(path.join(staging, name), files[name]);
                fs.renameSync(path.join(staging, name), path.join(dir, name));
            }
            // One written slowly, in place.
            const slow = path.join(dir, 'slow.csv');
            files['slow.csv'] = crypto.randomBytes(300_000);
            for (let off = 0; off < files['slow.csv'].length; off += 50_000) {
                fs.appendFileSync(slow, files['slow.csv'].subarray(off, off + 50_000));
                await sleep(100);
            }
            await waitFor(() => w.msgs.length === 7, 'seven uploads', 20000);
            await sleep(QUIET_MS);
            scan('watch upload messages', w.msgs);
            assert.equal(serial.uploads.length, 7);
            const got = Object.fromEntries(serial.uploads.map((/** @type {any} */ u) => [u.filename, u]));
            assert.deepEqual(Object.keys(got).sort(), Object.keys(files).sort());
            for (const [name, bytes] of Object.entries(files)) {
                assert.equal(got[name].sha256, sha256(bytes), name);
                assert.equal(got[name].size, bytes.length, name);
            }
            assert.deepEqual(w.errors, []);
        });

        it('runs the shipped example "Send every report a station writes": each report uploaded through the outbox', async function () {
            const example = readExample('Send every report a station writes');
            const flow = inTab(example, {
                'serial-mfg-config': { baseUrl: serial.url },
                'serial-mfg-watch': { folder: dir, settle: SETTLE },
                'serial-mfg-upload': { outboxDir: path.join(dir, '..', `outbox-${newId()}`) },
            });
            const f = await loadFlow([watchNode, configNode, uploadNode, ...coreNodes('common/21-debug.js', 'common/90-comment.js')], flow, {
                'serial-mfg-example-server': { apiKey: API_KEY },
            });
            const debug = example.find((/** @type {any} */ n) => n.name === 'File-storage object');
            /** @type {any[]} */ const uploaded = [];
            f.node(debug.id).on('input', (/** @type {any} */ m) => uploaded.push(m));
            const reports = { 'a.csv': crypto.randomBytes(20_000), 'b.csv': crypto.randomBytes(70_000) };
            for (const [name, bytes] of Object.entries(reports)) fs.writeFileSync(path.join(dir, name), bytes);
            fs.writeFileSync(path.join(dir, 'ignored.tmp'), 'not a report');
            await waitFor(() => uploaded.length === 2, 'two uploads', 20000);
            await sleep(QUIET_MS);
            scan('example messages', uploaded);
            const got = Object.fromEntries(serial.uploads.map((/** @type {any} */ u) => [u.filename, u.sha256]));
            assert.deepEqual(got, { 'a.csv': sha256(reports['a.csv']), 'b.csv': sha256(reports['b.csv']) });
            assert.deepEqual(uploaded.map((m) => m.topic).sort(), ['a.csv', 'b.csv']);
        });

        it('runs the shipped example "Record each report a station writes": one submitted entry per report, the file attached', async function () {
            const example = readExample('Record each report a station writes');
            const flow = inTab(example, {
                'serial-mfg-config': { baseUrl: serial.url },
                'serial-mfg-watch': { folder: dir, settle: SETTLE },
                'serial-mfg-record': { outboxDir: path.join(dir, '..', `outbox-${newId()}`) },
            });
            serial.addUnit({ identifier: 'SN-0042', component_id: 'c-main' });
            serial.addUnit({ identifier: 'SN-0043', component_id: 'c-main' });
            const modules = [
                watchNode,
                configNode,
                recordNode,
                ...coreNodes('common/21-debug.js', 'common/90-comment.js', 'function/10-function.js'),
            ];
            const f = await loadFlow(modules, flow, { 'serial-mfg-example-server': { apiKey: API_KEY } });
            /** @type {any[]} */ const recorded = [];
            /** @type {any[]} */ const failed = [];
            f.node(example.find((/** @type {any} */ n) => n.name === 'Entry recorded').id).on('input', (/** @type {any} */ m) => recorded.push(m));
            f.node(example.find((/** @type {any} */ n) => n.name === 'Failure').id).on('input', (/** @type {any} */ m) => failed.push(m));
            const reports = { 'SN-0042.csv': Buffer.from('step,volts\n1,3.31\n'), 'SN-0043.csv': crypto.randomBytes(40_000) };
            for (const [name, bytes] of Object.entries(reports)) fs.writeFileSync(path.join(dir, name), bytes);
            await waitFor(() => recorded.length + failed.length >= 2, 'two records', 20000);
            await sleep(QUIET_MS);
            scan('record example messages', [...recorded, ...failed]);
            assert.deepEqual(
                failed.map((m) => m.error),
                [],
            );
            assert.equal(recorded.length, 2);
            const entries = [...serial.entries.values()];
            assert.equal(entries.length, 2);
            for (const entry of entries) {
                assert.equal(entry.is_complete, true);
                assert.equal(entry.process_id, 'your-process-id');
                assert.equal(entry.data.length, 1);
            }
            const got = Object.fromEntries(serial.uploads.map((/** @type {any} */ u) => [u.filename, u.sha256]));
            assert.deepEqual(got, { 'SN-0042.csv': sha256(reports['SN-0042.csv']), 'SN-0043.csv': sha256(reports['SN-0043.csv']) });
        });
    });
});
