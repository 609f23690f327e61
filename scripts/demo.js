#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm start`: Node-RED (from this project's own dependencies) on 127.0.0.1 with this package,
 * the flow "Serial demo" (the example "Upload a file from a path") and one upload done.
 *
 *   npm start                                                  → against the built-in Serial stand-in
 *   SERIAL_URL=https://api.serial.io SERIAL_API_KEY=… npm start → against the real Serial
 *
 * The demo keeps a user's work: Node-RED's flows live in a folder of this user's own
 * (os.tmpdir()/serial-mfg-demo-<user>, or SERIAL_DEMO_DIR), the "Serial demo" tab is deployed only
 * when it is not there yet, and other tabs are never touched. The stand-in listens on one fixed port
 * (8087, or SERIAL_DEMO_STAND_IN_PORT), so a config node pointed at it keeps working; its URL and its
 * own demo key are printed. Node-RED's warnings and errors are shown. When an editor opens, the demo
 * presses the inject node once more, so the debug sidebar shows Serial's answer.
 *
 * Options: --once (exit after the first upload), --port N (editor port, default 1880 or a free one).
 * The API key of a real Serial is taken from the environment and never printed.
 */
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { demoFlow, mergeDemo, DEMO_TAB_ID, DEMO_ID_PREFIX } = require('./demo-flows');

/** The stand-in's own key: it opens nothing but the local stand-in, so the demo prints it. */
const DEMO_KEY = 'demo-key-for-the-local-stand-in';
const DEFAULT_STAND_IN_PORT = 8087;
/** Printed by Node-RED (settings.js below) when a browser loads the flows: an editor has opened. */
const EDITOR_MARK = '[serial-mfg-demo] editor loaded the flows';
/** Node-RED's log lines shown in the terminal: warnings and worse. */
const SHOWN_LEVELS = /\[(warn|error|fatal)\]/;
/** ...except the one the demo's own settings cause on every start. */
const NOT_SHOWN = /\[warn\] Projects disabled/;

/** This user's demo folder: the same on every run (so flows persist), never shared with another user. */
function demoDir() {
    if (process.env.SERIAL_DEMO_DIR) return path.resolve(process.env.SERIAL_DEMO_DIR);
    const who = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username.replace(/[^\w.-]/g, '_');
    return path.join(os.tmpdir(), `serial-mfg-demo-${who}`);
}

/** A folder only this user can enter; one planted by someone else (or a symlink) is refused. */
function ownFolder(/** @type {string} */ dir) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
    if (!st.isDirectory() || !mine) throw new Error(`${dir} is not a folder of this user's own: set SERIAL_DEMO_DIR to another folder.`);
    return dir;
}

/** @param {number} port */
function portIsFree(port) {
    return new Promise((resolve) => {
        const srv = net.createServer().once('error', () => resolve(false));
        srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
}

function standInPort() {
    const raw = process.env.SERIAL_DEMO_STAND_IN_PORT;
    if (raw === undefined || raw === '') return DEFAULT_STAND_IN_PORT;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`SERIAL_DEMO_STAND_IN_PORT must be a port number, not "${raw}".`);
    return port;
}

/** The sample file the demo's inject node points at: a small end-of-line test report. */
function writeSample(/** @type {string} */ dir) {
    fs.mkdirSync(dir, { recursive: true });
    const rows = ['serial,station,test,value,unit,result'];
    for (let i = 0; i < 20; i++) rows.push(`SN-${1000 + i},EOL-1,leak_rate,${(Math.random() * 0.5).toFixed(3)},sccm,PASS`);
    const file = path.join(dir, 'report.csv');
    fs.writeFileSync(file, `${rows.join('\n')}\n`);
    return file;
}

/**
 * Adds the demo to the running Node-RED's flows through the admin API (GET /flows, POST /flows of the
 * merged set as a "modified nodes" deploy: nothing else restarts). Returns what changed.
 * @param {any} nodeRed @param {any[]} demo @param {{ apiKey: string, setKey: boolean }} opts
 */
async function deployDemo(nodeRed, demo, opts) {
    const headers = { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2' };
    const current = await (await fetch(`${nodeRed.url}/flows`, { headers })).json();
    const { flows, change } = mergeDemo(current.flows, demo, opts);
    if (!change) return change;
    const started = () => nodeRed.log.filter((/** @type {string} */ l) => /\[info\] Started (modified nodes|flows)/.test(l)).length;
    const before = started();
    const res = await fetch(`${nodeRed.url}/flows`, {
        method: 'POST',
        headers: { ...headers, 'Node-RED-Deployment-Type': 'nodes' },
        body: JSON.stringify({ rev: current.rev, flows }),
    });
    if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
    const until = Date.now() + 30000;
    while (started() === before) {
        if (Date.now() > until) throw new Error(`the demo flow did not start:\n${nodeRed.log.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    return change;
}

/**
 * Presses the demo's inject node and waits for one of its debug nodes: the File-storage object, or
 * the catch node's error (debug messages are not retained, so each press gives exactly one).
 * @param {any} nodeRed @param {any[]} demo
 */
async function uploadOnce(nodeRed, demo) {
    const inject = demo.find((n) => n.type === 'inject');
    const ok = demo.find((n) => n.type === 'debug' && /File-storage/.test(n.name));
    const failed = demo.find((n) => n.type === 'debug' && n !== ok);
    /** @type {(value: string) => void} */
    let settle = () => undefined;
    const outcome = new Promise((resolve) => (settle = resolve));
    const unwatch = await nodeRed.watchComms('debug', (/** @type {string} */ topic, /** @type {any} */ data) => {
        if (topic !== 'debug' || !data) return;
        if (data.id === ok.id) settle('uploaded');
        if (data.id === failed.id) {
            let message = 'failed';
            try {
                message = `failed: ${JSON.parse(data.msg).error.message}`;
            } catch {
                /* not the whole message: the short form is enough */
            }
            settle(message);
        }
    });
    await nodeRed.inject(inject.id);
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const timeout = new Promise((r) => (timer = setTimeout(() => r('no answer within 60 s'), 60000)));
    const result = await Promise.race([outcome, timeout]);
    clearTimeout(timer);
    unwatch();
    return result;
}

/** Node-RED's settings.js addition: a line on stdout when a browser (an editor) loads the flows. */
const EDITOR_WATCH = `module.exports.httpAdminMiddleware = function (req, res, next) {
    if (req.method === 'GET' && req.path === '/flows' && /Mozilla/.test(req.get('user-agent') || '')) console.log(${JSON.stringify(EDITOR_MARK)});
    next();
};`;

/** Stops what the demo started; set once they run (a failure must not leave Node-RED orphaned). */
/** @type {() => Promise<unknown>} */
let stopAll = async () => undefined;

async function main() {
    const { startNodeRed, freePort } = require('../harness/nodered');
    const { startStandIn } = require('../harness/serial-stand-in');
    const args = process.argv.slice(2);
    const once = args.includes('--once');
    const portArg = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : undefined;
    const realUrl = process.env.SERIAL_URL;
    const realKey = process.env.SERIAL_API_KEY;
    if (realUrl && !realKey) throw new Error('SERIAL_URL is set but SERIAL_API_KEY is not: set both to use the real Serial.');

    const dir = ownFolder(demoDir());
    /** @type {any} */
    let standIn;
    let baseUrl = realUrl ?? '';
    let apiKey = realKey ?? DEMO_KEY;
    if (!realUrl) {
        const port = standInPort();
        if (!(await portIsFree(port))) {
            throw new Error(
                `port ${port} for the Serial stand-in is in use (another demo?): stop it, or set SERIAL_DEMO_STAND_IN_PORT to another port.`,
            );
        }
        apiKey = DEMO_KEY;
        standIn = await startStandIn({ apiKey, host: '127.0.0.1', port, storeDir: path.join(dir, 'serial-stand-in-files') });
        stopAll = () => standIn.close();
        baseUrl = standIn.url;
        console.log(`Serial stand-in: ${baseUrl}  API key: ${DEMO_KEY}`);
        console.log("  (the stand-in's own demo key; point any config node at this URL with this key)");
    }
    const samplePath = writeSample(path.join(dir, 'samples'));
    const demo = demoFlow({ baseUrl, samplePath });

    /** @type {() => void} */
    let editorOpened = () => undefined;
    const editor = new Promise((resolve) => (editorOpened = () => resolve(undefined)));
    const port = portArg ?? ((await portIsFree(1880)) ? 1880 : await freePort());
    const nodeRed = await startNodeRed({
        userDir: path.join(dir, 'node-red'),
        port,
        settings: { credentialSecret: 'serial-mfg-demo' },
        settingsCode: EDITOR_WATCH,
        onLog: (line) => {
            if (line.includes(EDITOR_MARK)) editorOpened();
            else if (SHOWN_LEVELS.test(line) && !NOT_SHOWN.test(line)) console.log(`Node-RED: ${line}`);
        },
    });
    const stop = async () => {
        await nodeRed.stop();
        await standIn?.close();
    };
    stopAll = stop;
    process.once('SIGINT', () => stop().then(() => process.exit(0)));
    process.once('SIGTERM', () => stop().then(() => process.exit(0)));
    await nodeRed.ready();
    const change = await deployDemo(nodeRed, demo, { apiKey, setKey: Boolean(realKey) });

    const target = standIn ? `the local Serial stand-in at ${baseUrl}` : `Serial at ${baseUrl}`;
    console.log(`\nNode-RED editor: ${nodeRed.url}/  (flow "Serial demo", uploading to ${target})`);
    console.log(`Demo folder: ${dir}  (Node-RED's flows: your tabs stay across restarts; SERIAL_DEMO_DIR to use another)`);
    if (change === 'added') console.log('Deployed the "Serial demo" tab.');
    else console.log(`The "Serial demo" tab is already there: left as it is${change === 'server' ? ', its server pointed at this Serial' : ''}.`);

    console.log(`Pressing the inject node: uploading ${samplePath} ...`);
    console.log(`Upload node: ${await uploadOnce(nodeRed, demo)}`);
    if (standIn) {
        const received = standIn.uploads[standIn.uploads.length - 1];
        if (!received) throw new Error(`no upload arrived:\n${nodeRed.log.slice(-20).join('\n')}`);
        console.log(
            `Serial stand-in received ${received.filename} (${received.size} bytes, ${received.mimetype}, sha256 ${received.sha256.slice(0, 16)}…)`,
        );
        console.log(`It answered with the File-storage object named "${received.fileStorage.name}".`);
        console.log('\nTo use the real Serial: stop this (Ctrl-C) and run');
        console.log('  SERIAL_URL=https://api.serial.io SERIAL_API_KEY=<your key> npm start');
        console.log('or open the "Serial demo" config node in the editor and set its base URL and API key.');
    }
    if (once) {
        await stop();
        return;
    }
    console.log(`\nOpen ${nodeRed.url}/ : once the editor has loaded, the demo presses the inject node again,`);
    console.log('so the debug sidebar shows the answer. Press Ctrl-C to stop.');
    await editor;
    // The editor subscribes to debug messages while it loads; give it a moment after the flows.
    await new Promise((r) => setTimeout(r, 1500));
    console.log(`An editor opened: pressed the inject node again. Upload node: ${await uploadOnce(nodeRed, demo)} (see the debug sidebar)`);
}

if (require.main === module) {
    main().catch(async (err) => {
        console.error(`demo failed: ${err.message}`);
        await stopAll().catch(() => undefined);
        process.exit(1);
    });
}

module.exports = { DEMO_KEY, DEFAULT_STAND_IN_PORT, DEMO_TAB_ID, DEMO_ID_PREFIX, demoDir };
