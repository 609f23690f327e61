#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm start`: Node-RED (from this project's own dependencies) on 127.0.0.1 with this package,
 * the example flow "Upload a file from a path" deployed, and one upload done.
 *
 *   npm start                                                  → against the built-in Serial stand-in
 *   SERIAL_URL=https://api.serial.io SERIAL_API_KEY=… npm start → against the real Serial
 *
 * Options: --once (exit after the first upload), --port N (editor port, default 1880 or a free one).
 * The API key is taken from the environment and never printed.
 */
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startNodeRed, freePort, PROJECT } = require('../harness/nodered');
const { startStandIn } = require('../harness/serial-stand-in');

const EXAMPLE = path.join(PROJECT, 'examples', 'Upload a file from a path.json');
const DEMO_DIR = path.join(PROJECT, '.demo');
const SAMPLE_DIR = '/tmp/serial-demo';

const args = process.argv.slice(2);
const once = args.includes('--once');
const portArg = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : undefined;

/** @param {number} port */
function portIsFree(port) {
    return new Promise((resolve) => {
        const srv = net.createServer().once('error', () => resolve(false));
        srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
}

/** The sample file the example's inject node points at: a small end-of-line test report. */
function writeSampleFiles() {
    fs.mkdirSync(SAMPLE_DIR, { recursive: true });
    const rows = ['serial,station,test,value,unit,result'];
    for (let i = 0; i < 20; i++) rows.push(`SN-${1000 + i},EOL-1,leak_rate,${(Math.random() * 0.5).toFixed(3)},sccm,PASS`);
    fs.writeFileSync(path.join(SAMPLE_DIR, 'report.csv'), `${rows.join('\n')}\n`);
}

async function main() {
    const realUrl = process.env.SERIAL_URL;
    const realKey = process.env.SERIAL_API_KEY;
    if (realUrl && !realKey) throw new Error('SERIAL_URL is set but SERIAL_API_KEY is not: set both to use the real Serial.');

    /** @type {any} */
    let standIn;
    let baseUrl = realUrl;
    let apiKey = realKey;
    if (!realUrl) {
        apiKey = 'demo-key-for-the-local-stand-in';
        standIn = await startStandIn({ apiKey, host: '127.0.0.1', port: 0, storeDir: path.join(DEMO_DIR, 'serial-stand-in-files') });
        baseUrl = standIn.url;
    }

    writeSampleFiles();
    const flows = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
    for (const n of flows) {
        if (n.type === 'serial-mfg-config') {
            n.baseUrl = baseUrl;
            n.credentials = { apiKey };
        }
    }
    const tab = { id: 'serialdemo000001', type: 'tab', label: 'Serial demo' };
    const deployed = [tab, ...flows.map((/** @type {any} */ n) => (n.type === 'serial-mfg-config' ? n : { ...n, z: tab.id }))];

    const port = portArg ?? ((await portIsFree(1880)) ? 1880 : await freePort());
    fs.mkdirSync(DEMO_DIR, { recursive: true });
    const userDir = path.join(DEMO_DIR, 'node-red');
    const nodeRed = await startNodeRed({ userDir, port, settings: { credentialSecret: 'serial-mfg-demo' } });
    const stop = async () => {
        await nodeRed.stop();
        await standIn?.close();
    };
    process.once('SIGINT', () => stop().then(() => process.exit(0)));
    process.once('SIGTERM', () => stop().then(() => process.exit(0)));
    await nodeRed.ready();
    await nodeRed.deploy(deployed);

    const target = standIn ? `the local Serial stand-in at ${baseUrl}` : `Serial at ${baseUrl}`;
    console.log(`\nNode-RED editor: ${nodeRed.url}/  (flow "Serial demo", uploading to ${target})`);

    const inject = flows.find((/** @type {any} */ n) => n.type === 'inject');
    const upload = flows.find((/** @type {any} */ n) => n.type === 'serial-mfg-upload');
    /** @type {(value: string) => void} */
    let settle = () => undefined;
    const outcome = new Promise((resolve) => {
        settle = resolve;
    });
    const unwatch = await nodeRed.watchStatus((id, status) => {
        if (id !== upload.id || !status.text) return;
        if (status.fill === 'green') settle('uploaded');
        if (status.fill === 'red') settle(status.text);
    });
    await nodeRed.inject(inject.id);
    console.log(`Pressed the inject node: uploading ${path.join(SAMPLE_DIR, 'report.csv')} ...`);
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const result = await Promise.race([
        outcome,
        new Promise((r) => {
            timer = setTimeout(() => r('no answer within 60 s'), 60000);
        }),
    ]);
    clearTimeout(timer);
    unwatch();
    console.log(`Upload node: ${result}`);
    if (standIn) {
        const received = standIn.uploads[standIn.uploads.length - 1];
        if (!received) throw new Error(`no upload arrived:\n${nodeRed.log.slice(-20).join('\n')}`);
        console.log(
            `Serial stand-in received ${received.filename} (${received.size} bytes, ${received.mimetype}, sha256 ${received.sha256.slice(0, 16)}…)`,
        );
        console.log(`It answered with the File-storage object named "${received.fileStorage.name}": see the debug sidebar.`);
        console.log('\nTo use the real Serial: stop this (Ctrl-C) and run');
        console.log('  SERIAL_URL=https://api.serial.io SERIAL_API_KEY=<your key> npm start');
        console.log('or open the "Serial" config node in the editor and set its base URL and API key.');
    } else {
        console.log("Serial's answer (the File-storage object) is in the debug sidebar of the editor.");
    }
    if (once) {
        await stop();
        return;
    }
    console.log('\nPress Ctrl-C to stop.');
}

main().catch((err) => {
    console.error(`demo failed: ${err.message}`);
    process.exit(1);
});
