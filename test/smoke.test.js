// @ts-check
'use strict';
/**
 * The package the way a user gets it: npm pack, installed into a fresh Node-RED user directory as
 * the palette manager does, loaded by a real Node-RED runtime (this project's node-red dependency),
 * the shipped example flow deployed through the admin API with a key typed into the config node,
 * its inject pressed, and the file checked on the Serial stand-in. What a user could share or leave
 * behind afterwards (exported flows, flows files, log) must not hold the key.
 */
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startStandIn } = require('../harness/serial-stand-in');
const { API_KEY } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { packProject, installCheck, PKG } = require('../harness/install-check');

describe('smoke: packed, installed and run as a user would', function () {
    this.timeout(90000);
    this.slow(30000);

    /** @type {string} */ let tmp;
    /** @type {any} */ let serial;

    before(async function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-smoke-'));
        serial = await startStandIn({ apiKey: API_KEY });
    });
    after(async function () {
        await serial?.close();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('installs from the tarball, loads every node type, uploads through the example flow, and keeps the key out of what it leaves', async function () {
        const tgz = await packProject(path.join(tmp, 'pack'));
        const userDir = path.join(tmp, 'user');
        const r = await installCheck({ tgz, standIn: serial, apiKey: API_KEY, userDir });

        // A real copy from the tarball, not a link to the working tree, and only the packed files.
        const installed = path.join(userDir, 'node_modules', PKG.name);
        assert.equal(fs.lstatSync(installed).isSymbolicLink(), false);
        assert.ok(fs.existsSync(path.join(installed, 'nodes', 'serial-mfg-upload.js')), 'compiled node in the install');
        assert.equal(fs.existsSync(path.join(installed, 'src')), false, 'src/ must not be installed');
        assert.equal(fs.existsSync(path.join(installed, 'node_modules', 'mocha')), false, 'no dev dependencies');

        assert.deepEqual(r.load.problems, [], `node types did not load:\n${r.log.slice(-30).join('\n')}`);
        assert.equal(r.load.ok, true);
        assert.deepEqual(r.upload.problems, [], `upload failed:\n${r.log.slice(-30).join('\n')}`);
        assert.equal(r.upload.ok, true);
        assert.equal(serial.uploads.length, 1);
        // Node-RED appends "-git" to its version when it sits inside a git checkout, as this project's copy does.
        assert.equal(r.nodeRedVersion.replace(/-git$/, ''), require('node-red/package.json').version);

        // What a user could share or leave behind, handed to the leak guard.
        const out = path.join(tmp, 'artifacts');
        fs.mkdirSync(out);
        assert.ok(r.exported && Array.isArray(r.exported.flows), 'GET /flows answered');
        fs.writeFileSync(path.join(out, 'exported-flows.json'), JSON.stringify(r.exported, null, 2));
        for (const file of ['flows.json', 'flows_cred.json']) fs.copyFileSync(path.join(userDir, file), path.join(out, file));
        fs.writeFileSync(path.join(out, 'node-red.log'), r.log.join('\n'));
        scan('smoke', { path: out });

        // The key went in with the deploy (the upload authenticated): Node-RED stored it encrypted, and exports without it.
        const cred = JSON.parse(fs.readFileSync(path.join(out, 'flows_cred.json'), 'utf8'));
        assert.deepEqual(Object.keys(cred), ['$'], 'flows_cred.json is encrypted');
        const cfg = r.exported.flows.find((/** @type {any} */ n) => n.type === 'serial-mfg-config');
        assert.equal(cfg.baseUrl, serial.url);
        assert.equal('credentials' in cfg, false);
        for (const file of fs.readdirSync(out)) {
            assert.equal(fs.readFileSync(path.join(out, file), 'latin1').includes(API_KEY), false, `${file} holds the API key`);
        }
    });
});
