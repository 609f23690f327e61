// @ts-check
'use strict';
/** `npm start`, as a new user runs it: once against the built-in stand-in, once against a "real" Serial URL. */
const assert = require('node:assert/strict');
const { execFile, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { promisify } = require('util');
const { startStandIn } = require('../harness/serial-stand-in');
const { freePort } = require('../harness/nodered');
const { API_KEY, SECRETS } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { unavailable, openBrowser } = require('./support/browser');
const { DEMO_KEY, DEFAULT_STAND_IN_PORT, demoDir } = require('../scripts/demo');
const { demoFlow, mergeDemo, DEMO_TAB_ID, DEMO_SERVER_ID } = require('../scripts/demo-flows');

const DEMO = path.join(__dirname, '..', 'scripts', 'demo.js');
const run = promisify(execFile);
const V2 = { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2' };

/** A demo folder and stand-in port of this run's own: tests never use the user's demo folder or port 8087. */
async function demoEnv() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-demo-test-'));
    const port = await freePort();
    return { dir, port, env: { ...process.env, SERIAL_DEMO_DIR: dir, SERIAL_DEMO_STAND_IN_PORT: String(port) } };
}

/**
 * Starts the demo without --once and resolves when it waits for an editor.
 * @param {NodeJS.ProcessEnv} env
 * @param {string[]} [args]
 */
function startDemo(env, args = /** @type {string[]} */ ([])) {
    const child = spawn(process.execPath, [DEMO, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters = /** @type {Array<{re: RegExp, resolve: (m: RegExpMatchArray) => void}>} */ ([]);
    const onData = (/** @type {Buffer} */ chunk) => {
        out += chunk.toString();
        for (const w of waiters.splice(0)) {
            const m = out.match(w.re);
            if (m) w.resolve(m);
            else waiters.push(w);
        }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    return {
        child,
        exited,
        output: () => out,
        /** @param {RegExp} re */
        waitFor(re, timeoutMs = 60000) {
            const m = out.match(re);
            if (m) return Promise.resolve(m);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`demo never printed ${re}:\n${out}`)), timeoutMs);
                waiters.push({
                    re,
                    resolve: (found) => {
                        clearTimeout(timer);
                        resolve(found);
                    },
                });
            });
        },
    };
}

describe('the demo (npm start)', function () {
    this.timeout(120000);
    /** @type {string[]} */
    const dirs = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it('uploads the example file to the built-in Serial stand-in, prints its URL and key, says how to use the real one', async function () {
        const { dir, port, env } = await demoEnv();
        dirs.push(dir);
        const { stdout } = await run(process.execPath, [DEMO, '--once', '--port', String(await freePort())], { env });
        scan('demo output', stdout);
        assert.ok(stdout.includes(`Serial stand-in: http://127.0.0.1:${port}  API key: ${DEMO_KEY}`), stdout);
        assert.match(stdout, /Node-RED editor: http:\/\/127\.0\.0\.1:\d+\//);
        assert.match(stdout, /Deployed the "Serial demo" tab\./);
        assert.match(stdout, /Upload node: uploaded/);
        assert.match(stdout, /Serial stand-in received report\.csv \(\d+ bytes, text\/csv/);
        assert.match(stdout, /SERIAL_URL=https:\/\/api\.serial\.io SERIAL_API_KEY=<your key> npm start/);
        assert.ok(stdout.includes(`Demo folder: ${dir}`));
        // The sample file and Node-RED's flows are in this run's folder, not in a fixed one.
        assert.ok(fs.existsSync(path.join(dir, 'samples', 'report.csv')));
        assert.ok(fs.existsSync(path.join(dir, 'node-red', 'flows.json')));
    });

    it("prints Node-RED's warnings", async function () {
        const { dir, env } = await demoEnv();
        dirs.push(dir);
        // A first start has no credentials file yet: Node-RED warns about it.
        const { stdout } = await run(process.execPath, [DEMO, '--once', '--port', String(await freePort())], { env });
        assert.match(stdout, /^Node-RED: .*\[warn\] Encrypted credentials not found/m);
        assert.doesNotMatch(stdout, /\[info\]/);
    });

    it('uploads to the Serial given by SERIAL_URL and SERIAL_API_KEY, without printing the key', async function () {
        const serial = await startStandIn({ apiKey: API_KEY });
        const { dir, env } = await demoEnv();
        dirs.push(dir);
        try {
            const { stdout, stderr } = await run(process.execPath, [DEMO, '--once', '--port', String(await freePort())], {
                env: { ...env, SERIAL_URL: serial.url, SERIAL_API_KEY: API_KEY },
            });
            scan('demo output', stdout + stderr);
            assert.match(stdout, new RegExp(`uploading to Serial at ${serial.url.replace(/[.]/g, '\\.')}`));
            assert.doesNotMatch(stdout, /Serial stand-in:/);
            assert.match(stdout, /Upload node: uploaded/);
            assert.equal(serial.uploads.length, 1);
            assert.equal(serial.uploads[0].filename, 'report.csv');
        } finally {
            await serial.close();
        }
    });

    it("keeps a user's tab across a restart, does not deploy its own tab twice, keeps the stand-in's port, and presses the inject again when an editor opens", async function () {
        const { dir, port, env } = await demoEnv();
        dirs.push(dir);
        const editorPort = await freePort();
        const first = startDemo(env, ['--port', String(editorPort)]);
        let stopped = false;
        try {
            const [, url] = await first.waitFor(/Node-RED editor: (http:\/\/127\.0\.0\.1:\d+)\//);
            await first.waitFor(/Press Ctrl-C to stop\./);
            // The user builds a tab of their own in the demo's Node-RED and deploys it.
            const current = await (await fetch(`${url}/flows`, { headers: V2 })).json();
            const mine = [
                { id: 'user-tab-1', type: 'tab', label: 'My station', disabled: false, info: '' },
                { id: 'user-inject-1', z: 'user-tab-1', type: 'inject', name: 'mine', x: 100, y: 100, wires: [[]] },
            ];
            const res = await fetch(`${url}/flows`, {
                method: 'POST',
                headers: { ...V2, 'Node-RED-Deployment-Type': 'full' },
                body: JSON.stringify({ rev: current.rev, flows: [...current.flows, ...mine] }),
            });
            assert.equal(res.status, 200, await res.text());
            // An editor opens (a browser loads the flows): the demo uploads once more for its debug sidebar.
            const editor = await fetch(`${url}/flows`, { headers: { ...V2, 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140' } });
            assert.equal(editor.status, 200);
            await first.waitFor(/An editor opened: pressed the inject node again\. Upload node: uploaded/);
            first.child.kill('SIGINT');
            await first.exited;
            stopped = true;
        } finally {
            if (!stopped) first.child.kill('SIGKILL');
        }
        scan('demo output', first.output());

        const { stdout } = await run(process.execPath, [DEMO, '--once', '--port', String(editorPort)], { env });
        scan('demo output', stdout);
        assert.ok(stdout.includes(`Serial stand-in: http://127.0.0.1:${port}  API key: ${DEMO_KEY}`), stdout);
        assert.ok(first.output().includes(`Serial stand-in: http://127.0.0.1:${port}  API key: ${DEMO_KEY}`));
        assert.match(stdout, /The "Serial demo" tab is already there: left as it is\./);
        assert.match(stdout, /Upload node: uploaded/);
        const flows = JSON.parse(fs.readFileSync(path.join(dir, 'node-red', 'flows.json'), 'utf8'));
        const ids = flows.map((/** @type {any} */ n) => n.id);
        assert.equal(new Set(ids).size, ids.length, 'no node twice');
        assert.equal(flows.filter((/** @type {any} */ n) => n.type === 'tab' && n.label === 'Serial demo').length, 1);
        assert.ok(ids.includes('user-tab-1') && ids.includes('user-inject-1'), "the user's tab and node are still there");
        assert.equal(flows.find((/** @type {any} */ n) => n.id === 'user-inject-1').name, 'mine');
        assert.equal(flows.find((/** @type {any} */ n) => n.id === DEMO_SERVER_ID).baseUrl, `http://127.0.0.1:${port}`);
    });

    it('shows the upload in the debug sidebar of an editor opened after the start (chromium)', async function () {
        const reason = unavailable();
        if (reason) {
            if (process.env.CI) throw new Error(`browser test cannot run under CI: ${reason}`);
            this.skip();
        }
        const { dir, env } = await demoEnv();
        dirs.push(dir);
        const demo = startDemo(env, ['--port', String(await freePort())]);
        /** @type {Awaited<ReturnType<typeof openBrowser>> | undefined} */
        let b;
        try {
            const [, url] = await demo.waitFor(/Node-RED editor: (http:\/\/127\.0\.0\.1:\d+)\//);
            await demo.waitFor(/Press Ctrl-C to stop\./);
            b = await openBrowser({ locale: 'en-US' });
            await b.page.goto(url);
            await b.page.click('#red-ui-tab-debug-link-button');
            // The first upload happened before the page existed: what shows is the one its opening caused.
            await b.page.locator('.red-ui-debug-msg', { hasText: 'File-storage object' }).first().waitFor({ timeout: 30000 });
            await demo.waitFor(/An editor opened: pressed the inject node again\. Upload node: uploaded/);
        } finally {
            await b?.browser.close();
            demo.child.kill('SIGINT');
            await demo.exited;
        }
        scan('demo output', demo.output());
    });

    it('says which variable to set when the stand-in port is taken', async function () {
        const { dir, port, env } = await demoEnv();
        dirs.push(dir);
        const blocker = net.createServer();
        await new Promise((r) => blocker.listen(port, '127.0.0.1', () => r(undefined)));
        try {
            await assert.rejects(run(process.execPath, [DEMO, '--once', '--port', String(await freePort())], { env }), (err) => {
                const e = /** @type {any} */ (err);
                assert.equal(e.code, 1);
                assert.match(e.stderr, new RegExp(`port ${port} for the Serial stand-in is in use.*SERIAL_DEMO_STAND_IN_PORT`));
                return true;
            });
        } finally {
            blocker.close();
        }
    });

    describe('its defaults and flows', function () {
        it('listens on the fixed port 8087 unless told otherwise, in a folder of this user under the temp folder', function () {
            assert.equal(DEFAULT_STAND_IN_PORT, 8087);
            const saved = process.env.SERIAL_DEMO_DIR;
            delete process.env.SERIAL_DEMO_DIR;
            try {
                const dir = demoDir();
                assert.equal(path.dirname(dir), os.tmpdir());
                const who = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
                assert.equal(path.basename(dir), `serial-mfg-demo-${who}`);
            } finally {
                if (saved !== undefined) process.env.SERIAL_DEMO_DIR = saved;
            }
            const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
            for (const documented of ['8087', 'SERIAL_DEMO_STAND_IN_PORT', 'SERIAL_DEMO_DIR', DEMO_KEY])
                assert.ok(readme.includes(documented), documented);
        });

        it("prints a demo key that is none of the leak guard's secrets", function () {
            assert.ok(!SECRETS.includes(DEMO_KEY));
            for (const secret of SECRETS) assert.ok(!DEMO_KEY.includes(secret) && !secret.includes(DEMO_KEY));
        });

        it('adds its tab to the flows there are and changes nothing else', function () {
            const demo = demoFlow({ baseUrl: 'http://127.0.0.1:8087', samplePath: '/x/report.csv' });
            const users = [
                { id: 'u1', type: 'tab', label: 'Mine' },
                { id: 'u2', z: 'u1', type: 'inject', wires: [[]] },
            ];
            const added = mergeDemo(users, demo, { apiKey: DEMO_KEY });
            assert.equal(added.change, 'added');
            assert.deepEqual(added.flows.slice(0, 2), users);
            assert.equal(added.flows.length, users.length + demo.length);
            assert.equal(added.flows.find((n) => n.id === DEMO_SERVER_ID)?.credentials.apiKey, DEMO_KEY);

            const again = mergeDemo(added.flows, demo, { apiKey: DEMO_KEY });
            assert.equal(again.change, null);
            assert.equal(again.flows, added.flows);

            // The user rearranged the demo tab; a stand-in on another port only re-points the demo's server.
            const edited = added.flows.map((n) => (n.z === DEMO_TAB_ID ? { ...n, x: (n.x ?? 0) + 40 } : n));
            const moved = demoFlow({ baseUrl: 'http://127.0.0.1:9999', samplePath: '/x/report.csv' });
            const repointed = mergeDemo(edited, moved, { apiKey: DEMO_KEY });
            assert.equal(repointed.change, 'server');
            for (const [i, n] of repointed.flows.entries()) {
                if (n.id === DEMO_SERVER_ID) assert.equal(n.baseUrl, 'http://127.0.0.1:9999');
                else assert.equal(n, edited[i]);
            }
        });

        it('wires its nodes to each other under ids of its own', function () {
            const demo = demoFlow({ baseUrl: 'http://127.0.0.1:8087', samplePath: '/x/report.csv' });
            const ids = new Set(demo.map((n) => n.id));
            for (const n of demo) {
                for (const target of (n.wires ?? []).flat()) assert.ok(ids.has(target), `${n.id} → ${target}`);
                if (n.server) assert.equal(n.server, DEMO_SERVER_ID);
                for (const scoped of n.scope ?? []) assert.ok(ids.has(scoped));
                if (n.type !== 'tab' && n.type !== 'serial-mfg-config') assert.equal(n.z, DEMO_TAB_ID);
            }
            assert.equal(demo.find((n) => n.type === 'inject')?.payload, '/x/report.csv');
        });
    });
});
