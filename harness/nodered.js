// @ts-check
'use strict';
/**
 * Starts a real Node-RED runtime in a child process, as a user runs it: its own user directory,
 * settings file and flows, this package (or a given one) installed in the user directory's
 * node_modules. Used by the demo, the smoke and compatibility tests, the browser test and the bench.
 */
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const PROJECT = path.resolve(__dirname, '..');

/** A free TCP port on loopback. */
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = /** @type {net.AddressInfo} */ (srv.address());
            srv.close(() => resolve(port));
        });
    });
}

/**
 * @param {object} [opts]
 * @param {string} [opts.userDir]      default: a new temp folder
 * @param {string} [opts.redJs]        Node-RED's red.js (default: this project's dependency)
 * @param {string} [opts.nodeBin]      the Node.js binary (default: this one)
 * @param {number} [opts.port]         default: a free port
 * @param {boolean} [opts.linkPackage] symlink this project into userDir/node_modules (default true)
 * @param {unknown[]} [opts.flows]     flows.json to start with
 * @param {Record<string, unknown>} [opts.settings] extra settings.js entries (JSON-able)
 * @param {string} [opts.settingsCode] JavaScript appended to settings.js, for entries that are functions
 * @param {Record<string, string>} [opts.env]
 * @param {(line: string) => void} [opts.onLog]  each line Node-RED prints
 * @param {string[]} [opts.nodeArgs]   extra arguments for Node.js (e.g. --max-old-space-size)
 */
async function startNodeRed(opts = {}) {
    const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-nr-'));
    fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
    const port = opts.port ?? (await freePort());
    const redJs = opts.redJs ?? require.resolve('node-red/red.js');
    if (opts.linkPackage !== false) {
        const link = path.join(userDir, 'node_modules', 'node-red-contrib-serial-mfg');
        if (!fs.existsSync(link)) fs.symlinkSync(PROJECT, link, 'dir');
    }
    if (opts.flows && !fs.existsSync(path.join(userDir, 'flows.json'))) {
        fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows, null, 2));
    }
    const settings = {
        uiHost: '127.0.0.1',
        uiPort: port,
        flowFile: 'flows.json',
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false, projects: { enabled: false } },
        diagnostics: { enabled: false },
        telemetry: { enabled: false },
        ...opts.settings,
    };
    fs.writeFileSync(
        path.join(userDir, 'settings.js'),
        `module.exports = ${JSON.stringify(settings, null, 2)};\n${opts.settingsCode ? `${opts.settingsCode}\n` : ''}`,
    );

    const child = spawn(
        opts.nodeBin ?? process.execPath,
        [...(opts.nodeArgs ?? []), redJs, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')],
        {
            env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', ...opts.env },
            stdio: ['ignore', 'pipe', 'pipe'],
        },
    );
    /** @type {string[]} */
    const log = [];
    let pending = '';
    const onData = (/** @type {Buffer} */ chunk) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
            log.push(line);
            opts.onLog?.(line);
        }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const url = `http://127.0.0.1:${port}`;
    /** With adminAuth: the bearer token every admin call of this runner sends (see `login`). */
    /** @type {Record<string, string>} */
    const auth = {};

    const runtime = {
        url,
        port,
        userDir,
        child,
        log,
        exited,
        /** Waits until the admin API answers and flows have started. */
        async ready(timeoutMs = 60000) {
            const until = Date.now() + timeoutMs;
            let exitedEarly = false;
            exited.then(() => (exitedEarly = true));
            while (Date.now() < until) {
                if (exitedEarly) throw new Error(`Node-RED exited during start:\n${log.slice(-30).join('\n')}`);
                if (log.some((l) => /Started flows|Starting flows/.test(l))) {
                    try {
                        const res = await fetch(`${url}/settings`);
                        // 401: the admin API answers, behind adminAuth.
                        if (res.ok || res.status === 401) return runtime;
                    } catch {
                        /* not listening yet */
                    }
                }
                await new Promise((r) => setTimeout(r, 100));
            }
            throw new Error(`Node-RED did not start within ${timeoutMs} ms:\n${log.slice(-30).join('\n')}`);
        },
        /**
         * Logs in to an adminAuth runtime as the editor does (POST /auth/token); later admin calls of this
         * runner carry the token. Returns the headers, for calls a test makes itself.
         */
        async login(/** @type {string} */ username, /** @type {string} */ password, scope = '*') {
            const res = await fetch(`${url}/auth/token`, {
                method: 'POST',
                headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }),
            });
            if (!res.ok) throw new Error(`login as ${username} failed: ${res.status}`);
            const { access_token: token } = await res.json();
            auth.Authorization = `Bearer ${token}`;
            return { Authorization: `Bearer ${token}` };
        },
        /** Full deploy through the admin API, as the editor's Deploy button does. */
        async deploy(/** @type {unknown[]} */ flows, timeoutMs = 30000) {
            const started = () => log.filter((l) => /\[info\] Started flows/.test(l)).length;
            const before = started();
            const res = await fetch(`${url}/flows`, {
                method: 'POST',
                headers: { ...auth, 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' },
                body: JSON.stringify({ flows }),
            });
            if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
            const answer = await res.json();
            // The admin API answers before the new flows have started.
            const until = Date.now() + timeoutMs;
            while (started() === before) {
                const missing = log.find((l) => /Waiting for missing types/.test(l));
                if (missing) throw new Error(`deploy: ${missing}`);
                if (Date.now() > until) throw new Error(`flows did not start:\n${log.slice(-20).join('\n')}`);
                await new Promise((r) => setTimeout(r, 50));
            }
            return answer;
        },
        /** The flows as the admin API exports them (what a user would share). */
        async exportFlows() {
            const res = await fetch(`${url}/flows`, { headers: { ...auth, 'Node-RED-API-Version': 'v2' } });
            return res.json();
        },
        /** Loaded node types, as the palette sees them. */
        async nodeTypes() {
            const res = await fetch(`${url}/nodes`, { headers: { Accept: 'application/json' } });
            return res.json();
        },
        /**
         * Follows what the editor sees over the admin websocket (/comms): one topic (MQTT-style `#` allowed).
         * @param {string} topic e.g. 'status/#' or 'debug'
         * @param {(topic: string, data: any) => void} onEvent
         * @returns {Promise<() => void>} resolves once subscribed; call the result to stop
         */
        watchComms(topic, onEvent) {
            const editorApi = path.dirname(require.resolve('@node-red/editor-api/package.json'));
            const WebSocket = require(require.resolve('ws', { paths: [editorApi] }));
            const socket = new WebSocket(`ws://127.0.0.1:${port}/comms`);
            socket.on('message', (/** @type {Buffer} */ data) => {
                for (const event of [].concat(JSON.parse(String(data)))) {
                    const { topic: t, data: payload } = /** @type {any} */ (event);
                    if (typeof t === 'string') onEvent(t, payload);
                }
            });
            return new Promise((resolve, reject) => {
                socket.once('error', reject);
                socket.once('open', () => {
                    socket.send(JSON.stringify({ subscribe: topic }));
                    resolve(() => socket.close());
                });
            });
        },
        /**
         * Follows node statuses as the editor does, over the admin websocket (/comms).
         * @param {(id: string, status: {text?: string, fill?: string, shape?: string}) => void} onStatus
         * @returns {Promise<() => void>} resolves once subscribed; call the result to stop
         */
        watchStatus(onStatus) {
            return runtime.watchComms('status/#', (topic, status) => {
                if (topic.startsWith('status/')) onStatus(topic.slice(7), status ?? {});
            });
        },
        /** Presses an inject node's button. */
        async inject(/** @type {string} */ id) {
            const res = await fetch(`${url}/inject/${id}`, { method: 'POST', headers: auth });
            if (!res.ok) throw new Error(`inject ${id} failed: ${res.status}`);
        },
        /** Stops Node-RED: SIGINT lets it close flows; SIGKILL is a power cut. */
        async stop(/** @type {NodeJS.Signals} */ signal = 'SIGINT', timeoutMs = 20000) {
            if (child.exitCode !== null || child.signalCode !== null) return exited;
            child.kill(signal);
            const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
            const result = await exited;
            clearTimeout(timer);
            return result;
        },
    };
    return runtime;
}

module.exports = { startNodeRed, freePort, PROJECT };
