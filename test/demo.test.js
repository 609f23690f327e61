// @ts-check
'use strict';
/** `npm start`, as a new user runs it: once against the built-in stand-in, once against a "real" Serial URL. */
const assert = require('node:assert/strict');
const { execFile } = require('child_process');
const path = require('path');
const { promisify } = require('util');
const { startStandIn } = require('../harness/serial-stand-in');
const { freePort } = require('../harness/nodered');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');

const DEMO = path.join(__dirname, '..', 'scripts', 'demo.js');
const run = promisify(execFile);

describe('the demo (npm start)', function () {
    this.timeout(90000);

    it('uploads the example file to the built-in Serial stand-in and says how to use the real one', async function () {
        const { stdout } = await run(process.execPath, [DEMO, '--once', '--port', String(await freePort())]);
        scan('demo output', stdout);
        assert.match(stdout, /Node-RED editor: http:\/\/127\.0\.0\.1:\d+\//);
        assert.match(stdout, /Upload node: uploaded/);
        assert.match(stdout, /Serial stand-in received report\.csv \(\d+ bytes, text\/csv/);
        assert.match(stdout, /SERIAL_URL=https:\/\/api\.serial\.io SERIAL_API_KEY=<your key> npm start/);
    });

    it('uploads to the Serial given by SERIAL_URL and SERIAL_API_KEY, without printing the key', async function () {
        const serial = await startStandIn({ apiKey: API_KEY });
        try {
            const { stdout, stderr } = await run(process.execPath, [DEMO, '--once', '--port', String(await freePort())], {
                env: { ...process.env, SERIAL_URL: serial.url, SERIAL_API_KEY: API_KEY },
            });
            scan('demo output', stdout + stderr);
            assert.match(stdout, new RegExp(`uploading to Serial at ${serial.url.replace(/[.]/g, '\\.')}`));
            assert.match(stdout, /Upload node: uploaded/);
            assert.equal(serial.uploads.length, 1);
            assert.equal(serial.uploads[0].filename, 'report.csv');
        } finally {
            await serial.close();
        }
    });
});
