// @ts-check
'use strict';
/**
 * "Does it work the way a user gets it?": pack this project with npm, install the tarball into a
 * fresh Node-RED user directory as the palette manager does, start a Node-RED runtime, check that
 * every node type of the package loaded, deploy the example flow "Upload a file from a path"
 * through the admin API against a Serial stand-in, press its inject button and verify what the
 * stand-in received. Shared by the smoke test (test/smoke.test.js) and the compatibility run
 * (scripts/compat.js).
 */
const { execFile } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startNodeRed, PROJECT } = require('./nodered');

const PKG = JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8'));
const EXAMPLE = 'Upload a file from a path';
/** The arguments Node-RED's palette manager passes to `npm install` (@node-red/registry installer.js). */
const PALETTE_NPM_ARGS = ['--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict'];

/**
 * Runs a command; rejects with its output when it fails.
 * @param {string} cmd @param {string[]} args @param {import('child_process').ExecFileOptions} [opts]
 * @returns {Promise<string>} stdout
 */
function run(cmd, args, opts = {}) {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${String(stdout)}\n${String(stderr)}`));
            else resolve(String(stdout));
        });
    });
}

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * `npm pack` of the project into dest (the `prepare` script builds nodes/ first).
 * @param {string} dest @returns {Promise<string>} the tarball's path
 */
async function packProject(dest) {
    fs.mkdirSync(dest, { recursive: true });
    const before = new Set(fs.readdirSync(dest));
    await run('npm', ['pack', '--pack-destination', dest], { cwd: PROJECT });
    const made = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
    if (made.length !== 1) throw new Error(`npm pack made ${made.length} tarballs in ${dest}`);
    return path.join(dest, made[0]);
}

/**
 * Installs a tarball into a Node-RED user directory as the palette manager does: npm install
 * in the user directory, without dev dependencies, engines enforced.
 * @param {string} tgz @param {string} userDir
 */
async function installPackage(tgz, userDir) {
    fs.mkdirSync(userDir, { recursive: true });
    const pkgJson = path.join(userDir, 'package.json');
    // The package.json Node-RED itself creates in a new user directory.
    if (!fs.existsSync(pkgJson)) {
        fs.writeFileSync(
            pkgJson,
            JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 4),
        );
    }
    await run('npm', ['install', ...PALETTE_NPM_ARGS, '--prefix', userDir, '--', tgz], { cwd: userDir });
    const installed = path.join(userDir, 'node_modules', PKG.name);
    if (fs.lstatSync(installed).isSymbolicLink()) throw new Error(`${installed} is a symlink, not an installed copy`);
    return installed;
}

/** The example flow as shipped (an array of nodes without a tab). @param {string} [name] */
function readExample(name = EXAMPLE) {
    return JSON.parse(fs.readFileSync(path.join(PROJECT, 'examples', `${name}.json`), 'utf8'));
}

/**
 * The example as the editor deploys it after a user imported it into a tab, pointed the config
 * node at `baseUrl`, typed the API key, and (here) made the inject send `filePath`.
 * @param {any[]} example @param {{baseUrl: string, apiKey: string, filePath: string}} opts
 */
function deployableExample(example, { baseUrl, apiKey, filePath }) {
    const tab = { id: 'c0ffee00c0ffee01', type: 'tab', label: 'Example', disabled: false, info: '' };
    const nodes = structuredClone(example).map((/** @type {any} */ n) => {
        if (n.type === 'serial-mfg-config') return { ...n, baseUrl, credentials: { apiKey } };
        const placed = { ...n, z: tab.id };
        if (n.type === 'inject') Object.assign(placed, { payload: filePath, payloadType: 'str' });
        return placed;
    });
    const count = (/** @type {string} */ type) => nodes.filter((/** @type {any} */ n) => n.type === type).length;
    if (count('inject') !== 1 || count('serial-mfg-config') !== 1 || count('serial-mfg-upload') !== 1) {
        throw new Error('the example should have one inject, one upload and one config node');
    }
    return { flows: [tab, ...nodes], injectId: nodes.find((/** @type {any} */ n) => n.type === 'inject').id };
}

/**
 * Every node type the package declares, as GET /nodes reports it: its node set loaded from the
 * installed module at this version, enabled, without error, and registering the type.
 * @param {any[]} nodeSets @returns {{ok: boolean, problems: string[]}}
 */
function checkNodeTypes(nodeSets) {
    const problems = [];
    // package.json "node-red.nodes" keys name the node sets; here each set registers the type of the same name.
    for (const type of Object.keys(PKG['node-red'].nodes)) {
        const set = nodeSets.find((s) => s.id === `${PKG.name}/${type}`);
        if (!set) problems.push(`${type}: no node set ${PKG.name}/${type}`);
        else if (set.err) problems.push(`${type}: ${set.err}`);
        else if (set.version !== PKG.version) problems.push(`${type}: version ${set.version}, expected ${PKG.version}`);
        else if (!set.enabled) problems.push(`${type}: disabled`);
        else if (!Array.isArray(set.types) || !set.types.includes(type))
            problems.push(`${type}: not registered (types ${JSON.stringify(set.types)})`);
    }
    return { ok: problems.length === 0, problems };
}

/**
 * @typedef {object} CheckResult
 * @property {string} nodeRedVersion   as the running runtime reports it
 * @property {string} nodeVersion      of the Node.js binary that ran it
 * @property {{ok: boolean, problems: string[]}} load
 * @property {{ok: boolean, problems: string[], received?: any}} upload
 * @property {number} seconds          install + start + upload
 * @property {string} userDir
 * @property {string[]} log            everything Node-RED printed
 * @property {any} exported            GET /flows after the upload (null when it never got there)
 */

/**
 * Installs the packed tarball into a fresh user directory, starts Node-RED, checks the node types,
 * deploys the example against the stand-in and uploads a file through it. Never throws for a
 * failed check: the result says what failed. The runtime is stopped before returning.
 * @param {object} opts
 * @param {string} opts.tgz              the packed tarball
 * @param {{url: string, uploads: any[]}} opts.standIn a running Serial stand-in that accepts apiKey
 * @param {string} opts.apiKey
 * @param {string} [opts.userDir]        default: a new temp folder
 * @param {string} [opts.redJs]          default: this project's node-red dependency
 * @param {string} [opts.nodeBin]        default: this Node.js
 * @param {number} [opts.uploadTimeoutMs]
 * @returns {Promise<CheckResult>}
 */
async function installCheck(opts) {
    const started = Date.now();
    const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-install-'));
    const nodeBin = opts.nodeBin ?? process.execPath;
    /** @type {CheckResult} */
    const result = {
        nodeRedVersion: '?',
        nodeVersion: (await run(nodeBin, ['--version'])).trim(),
        load: { ok: false, problems: ['not checked'] },
        upload: { ok: false, problems: ['not tried'] },
        seconds: 0,
        userDir,
        log: [],
        exported: null,
    };

    // The file the example's inject sends: fresh bytes, so an earlier upload cannot pass for this one.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-mfg-demo-'));
    const filePath = path.join(dataDir, 'report.csv');
    const bytes = Buffer.from(`serial,step,value,result\r\nSN-${crypto.randomBytes(6).toString('hex')},supply voltage,5.02,PASS\r\n`);
    fs.writeFileSync(filePath, bytes);

    /** @type {Awaited<ReturnType<typeof startNodeRed>> | undefined} */
    let rt;
    try {
        await installPackage(opts.tgz, userDir);
        rt = await startNodeRed({ userDir, linkPackage: false, redJs: opts.redJs, nodeBin });
        result.log = rt.log;
        await rt.ready();
        result.nodeRedVersion = (await (await fetch(`${rt.url}/settings`)).json()).version ?? '?';

        result.load = checkNodeTypes(await rt.nodeTypes());
        if (!result.load.ok) return result;

        const { flows, injectId } = deployableExample(readExample(), { baseUrl: opts.standIn.url, apiKey: opts.apiKey, filePath });
        await rt.deploy(flows);
        const before = opts.standIn.uploads.length;
        // The deploy answers once the flows are set; give the inject node a moment to be there.
        for (let i = 0; ; i++) {
            try {
                await rt.inject(injectId);
                break;
            } catch (err) {
                if (i >= 20) throw err;
                await sleep(100);
            }
        }
        const until = Date.now() + (opts.uploadTimeoutMs ?? 20000);
        while (opts.standIn.uploads.length === before && Date.now() < until) await sleep(50);
        const received = opts.standIn.uploads.slice(before);
        const problems = [];
        if (received.length !== 1) {
            problems.push(`the stand-in received ${received.length} uploads, expected 1`);
        } else {
            const got = received[0];
            if (got.sha256 !== sha256(bytes)) problems.push(`sha256 ${got.sha256}, expected ${sha256(bytes)}`);
            if (got.filename !== 'report.csv') problems.push(`filename ${JSON.stringify(got.filename)}, expected "report.csv"`);
            if (got.mimetype !== 'text/csv') problems.push(`mimetype ${JSON.stringify(got.mimetype)}, expected "text/csv"`);
        }
        result.upload = { ok: problems.length === 0, problems, received: received[0] };
        result.exported = await rt.exportFlows();
        return result;
    } catch (err) {
        const problem = String(/** @type {Error} */ (err)?.message ?? err);
        if (!result.load.ok && result.load.problems[0] === 'not checked') result.load = { ok: false, problems: [problem] };
        else result.upload = { ok: false, problems: [problem] };
        return result;
    } finally {
        if (rt) await rt.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
        result.seconds = (Date.now() - started) / 1000;
    }
}

module.exports = { packProject, installPackage, readExample, deployableExample, checkNodeTypes, installCheck, run, PKG, EXAMPLE };
