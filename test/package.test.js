// @ts-check
'use strict';
/**
 * The package as the Node-RED flow library's scorecard (node-red-dev validate) and a user see it:
 * the files `npm pack` puts in the tarball, the package.json fields the scorecard checks, and the
 * example flows (every non-config node used, importable, no credentials).
 */
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const semver = require('semver');
const { run } = require('../harness/install-check');
const { SECRETS } = require('./support/secrets');

const ROOT = path.resolve(__dirname, '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const NODE_TYPES = Object.keys(PKG['node-red'].nodes);
const EXAMPLES = path.join(ROOT, 'examples');

/**
 * The types an editor HTML file registers with a literal registerType('type', {...}) (the form the
 * scorecard parses), each with whether its definition's category is 'config'.
 * @param {string} html
 */
function registeredTypes(html) {
    /** @type {Map<string, boolean>} */
    const types = new Map();
    const calls = [...html.matchAll(/RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]\s*,\s*\{/g)];
    calls.forEach((m, i) => {
        const body = html.slice(/** @type {number} */ (m.index), calls[i + 1]?.index ?? html.length);
        const category = /\bcategory\s*:\s*['"]([^'"]*)['"]/.exec(body);
        types.set(m[1], category?.[1] === 'config');
    });
    return types;
}

/** @returns {Array<{file: string, nodes: any[]}>} */
function examples() {
    return fs
        .readdirSync(EXAMPLES)
        .filter((f) => f.endsWith('.json'))
        .map((file) => ({ file, nodes: JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) }));
}

describe('package as published', function () {
    describe('tarball contents (npm pack --dry-run)', function () {
        this.timeout(60000);
        /** @type {string[]} */ let files;

        before(async function () {
            // --ignore-scripts: the suite has just built nodes/; the list is what matters here.
            const out = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
            files = JSON.parse(out)[0].files.map((/** @type {{path: string}} */ f) => f.path);
        });

        it('holds no tests, sources, scripts, tooling or secrets', function () {
            const unwanted = files.filter(
                (f) =>
                    /^(test|src|scripts|\.ci|\.compat|node_modules|docs)\//.test(f) ||
                    /\.(ts|tgz)$/.test(f) ||
                    (/\.map$/.test(f) && !/^nodes\/.*\.js\.map$/.test(f)) ||
                    /^(tsconfig\.json|\.mocharc\.js|\.gitignore|package-lock\.json)$/.test(f),
            );
            assert.deepEqual(unwanted, []);
            for (const f of files) {
                const text = fs.readFileSync(path.join(ROOT, f), 'latin1');
                for (const secret of SECRETS) assert.equal(text.includes(secret), false, `${f} holds a test API key`);
            }
        });

        it("holds what Node-RED loads: each node's .js and .html, its locales, the icon, the examples and the docs", function () {
            for (const type of NODE_TYPES) {
                const js = PKG['node-red'].nodes[type];
                assert.ok(files.includes(js), js);
                assert.ok(files.includes(js.replace(/\.js$/, '.html')), `${type}.html`);
                assert.ok(files.includes(`nodes/locales/en-US/${type}.json`), `en-US catalog of ${type}`);
            }
            assert.ok(files.includes('nodes/serial-mfg-upload.js'));
            assert.ok(files.includes('nodes/serial-mfg-upload.html'));
            assert.ok(files.includes('nodes/icons/serial-mfg.svg'));
            assert.ok(files.includes('nodes/icons/serial-mfg-request.svg'));
            // The editor's shared script and the rules generated from the runtime's definitions.
            assert.ok(files.includes('resources/serial-mfg-editor.js'));
            assert.ok(files.includes('resources/serial-mfg-rules.js'));
            for (const { file } of examples()) assert.ok(files.includes(`examples/${file}`), file);
            for (const doc of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']) assert.ok(files.includes(doc), doc);
        });

        it('ships a source map with its sources beside each compiled file, so stack traces point at src/', function () {
            const compiled = files.filter((f) => /^nodes\/.*\.js$/.test(f));
            assert.ok(compiled.length > 10);
            for (const js of compiled) {
                assert.ok(files.includes(`${js}.map`), `${js}.map`);
                const map = JSON.parse(fs.readFileSync(path.join(ROOT, `${js}.map`), 'utf8'));
                assert.ok(
                    map.sources.every((/** @type {string} */ s) => /src\//.test(s) && s.endsWith('.ts')),
                    `${js}: ${map.sources}`,
                );
                assert.equal(map.sourcesContent?.length, map.sources.length, `${js}: sources inlined`);
            }
        });

        it('holds every module the compiled nodes require', function () {
            const missing = [];
            for (const f of files.filter((p) => p.startsWith('nodes/') && p.endsWith('.js'))) {
                const code = fs.readFileSync(path.join(ROOT, f), 'utf8');
                for (const m of code.matchAll(/require\(["'](\.{1,2}\/[^"']+)["']\)/g)) {
                    const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[1]));
                    if (![target, `${target}.js`, `${target}/index.js`].some((t) => files.includes(t))) missing.push(`${f} → ${m[1]}`);
                }
                for (const m of code.matchAll(/require\(["']([^."'/][^"']*)["']\)/g)) {
                    const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
                    const builtin = require('module').builtinModules.includes(name.replace(/^node:/, ''));
                    if (!builtin && !(name in (PKG.dependencies ?? {}))) missing.push(`${f} → ${m[1]} (not a dependency)`);
                }
            }
            assert.deepEqual(missing, []);
        });
    });

    describe('package.json as the flow-library scorecard checks it', function () {
        it('has an MIT license with a LICENSE file, a repository and a bugs URL', function () {
            assert.equal(PKG.license, 'MIT');
            const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
            assert.match(license, /^MIT License/);
            assert.match(license, /Copyright \(c\) \d{4} node-red-contrib-serial-mfg contributors/);
            assert.match(PKG.repository?.url ?? '', /^git\+https:\/\/github\.com\/[^/]+\/node-red-contrib-serial-mfg\.git$/);
            assert.match(PKG.bugs?.url ?? '', /^https:\/\/github\.com\/[^/]+\/node-red-contrib-serial-mfg\/issues$/);
        });

        it('has the node-red keyword and a node-red section whose files exist', function () {
            assert.ok(PKG.keywords.includes('node-red'));
            assert.ok(NODE_TYPES.length >= 2);
            for (const type of NODE_TYPES) {
                const js = PKG['node-red'].nodes[type];
                assert.match(js, /^nodes\/[^/]+\.js$/);
                assert.ok(fs.existsSync(path.join(ROOT, 'src', path.basename(js).replace(/\.js$/, '.ts'))), `src of ${js}`);
                const html = fs.readFileSync(path.join(ROOT, js.replace(/\.js$/, '.html')), 'utf8');
                assert.ok(registeredTypes(html).has(type), `${js.replace(/\.js$/, '.html')} registers ${type}`);
            }
        });

        it('claims exactly the tested versions: Node-RED >=3.1.0, Node.js >=20', function () {
            // scripts/compat.js runs Node-RED 3.1 and 4.1 on Node.js 20 and 5.0 on Node.js 22.
            assert.equal(PKG['node-red'].version, '>=3.1.0');
            assert.equal(PKG.engines.node, '>=20');
            const compat = fs.readFileSync(path.join(ROOT, 'scripts', 'compat.js'), 'utf8');
            assert.match(compat, /nodeRed: '3\.1'/);
            assert.match(PKG.scripts['test:compat'] ?? '', /scripts\/compat\.js/);
        });

        it('has a package-lock.json that npm install leaves as it is: same name, version and engines', function () {
            const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
            const root = lock.packages[''];
            assert.equal(lock.name, PKG.name);
            assert.equal(lock.version, PKG.version);
            assert.equal(root.version, PKG.version);
            assert.deepEqual(root.engines, PKG.engines);
            assert.deepEqual(root.dependencies, PKG.dependencies);
            assert.deepEqual(root.devDependencies, PKG.devDependencies);
        });

        it('has at most six runtime dependencies, each at its current major version', async function () {
            this.timeout(60000);
            const deps = Object.entries(PKG.dependencies ?? {});
            assert.ok(deps.length <= 6, `${deps.length} dependencies`);
            for (const [name, range] of deps) {
                const m = /^[\^~]?(\d+)\.\d+\.\d+$/.exec(String(range));
                assert.ok(m, `${name}: ${range} is not a plain ^x.y.z range`);
                const latest = (await run('npm', ['view', name, 'version'], { cwd: ROOT })).trim();
                if (m[1] === latest.split('.')[0]) continue;
                // Held back only where every newer release drops a Node.js version this package supports
                // (chokidar 5+ needs Node.js 20.19, 6+ 22.22; engines says >=20).
                const floor = semver.minVersion(PKG.engines.node)?.version ?? '20.0.0';
                const newer = [].concat(
                    JSON.parse(await run('npm', ['view', `${name}@>=${Number(m[1]) + 1}`, 'version', 'engines', '--json'], { cwd: ROOT })),
                );
                const usable = newer.filter((/** @type {any} */ v) => !v.engines?.node || semver.satisfies(floor, v.engines.node));
                assert.deepEqual(
                    usable.map((/** @type {any} */ v) => v.version),
                    [],
                    `${name} ${range}: the current major is ${latest}, and these run on Node.js ${floor}`,
                );
            }
        });

        it('has a Keep a Changelog CHANGELOG with this version or Unreleased', function () {
            const changelog = fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
            assert.match(changelog, /keepachangelog\.com/);
            assert.match(changelog, new RegExp(`^## \\[(Unreleased|${PKG.version.replace(/\./g, '\\.')})\\]`, 'm'));
        });
    });

    describe('examples', function () {
        it('use every non-config node type of the package', function () {
            const used = new Set(examples().flatMap(({ nodes }) => nodes.map((n) => n.type)));
            /** @type {string[]} */
            const unused = [];
            for (const type of NODE_TYPES) {
                const html = fs.readFileSync(path.join(ROOT, PKG['node-red'].nodes[type].replace(/\.js$/, '.html')), 'utf8');
                const isConfig = registeredTypes(html).get(type);
                assert.notEqual(isConfig, undefined, `${type} found in its HTML`);
                if (!isConfig && !used.has(type)) unused.push(type);
            }
            assert.deepEqual(unused, [], 'node types without an example');
        });

        it('are importable: arrays of nodes without a tab, unique ids, every wire and config reference resolved, no credentials', function () {
            const list = examples();
            const names = list.map((e) => e.file);
            for (const name of ['Upload a buffer.json', 'Upload a file from a path.json', 'Send every report a station writes.json'])
                assert.ok(names.includes(name), name);
            for (const { file, nodes } of list) {
                assert.ok(Array.isArray(nodes), file);
                const ids = new Set(nodes.map((n) => n.id));
                assert.equal(ids.size, nodes.length, `${file}: duplicate ids`);
                for (const n of nodes) {
                    // The one config node all examples share keeps one name, so importing several leaves one server.
                    if (n.type === 'serial-mfg-config') assert.equal(n.id, 'serial-mfg-example-server', `${file}: config id ${n.id}`);
                    else assert.match(n.id, /^[0-9a-f]{16}$/, `${file}: id ${n.id}`);
                    assert.notEqual(n.type, 'tab', `${file}: has a tab`);
                    assert.equal('z' in n, false, `${file}: ${n.id} has z`);
                    assert.equal('credentials' in n, false, `${file}: ${n.id} carries credentials`);
                    for (const out of n.wires ?? []) for (const target of out) assert.ok(ids.has(target), `${file}: wire to ${target}`);
                    if ('server' in n) assert.equal(nodes.find((c) => c.id === n.server)?.type, 'serial-mfg-config', `${file}: server of ${n.id}`);
                    if (n.type === 'catch' && Array.isArray(n.scope)) for (const s of n.scope) assert.ok(ids.has(s), `${file}: catch scope ${s}`);
                }
                const cfg = nodes.filter((n) => n.type === 'serial-mfg-config');
                assert.equal(cfg.length, 1, `${file}: one config node`);
                assert.equal(cfg[0].baseUrl, 'https://api.serial.io');
                assert.ok(
                    nodes.some((n) => n.type === 'comment' && n.info.length > 200),
                    `${file}: an explaining comment`,
                );
                assert.ok(
                    nodes.some((n) => n.type === 'catch'),
                    `${file}: a catch node`,
                );
            }
        });

        it('"Send every report a station writes" wires a watch node into an upload node with the disk outbox', function () {
            const nodes = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'Send every report a station writes.json'), 'utf8'));
            const watch = nodes.find((/** @type {any} */ n) => n.type === 'serial-mfg-watch');
            const upload = nodes.find((/** @type {any} */ n) => n.type === 'serial-mfg-upload');
            const catcher = nodes.find((/** @type {any} */ n) => n.type === 'catch');
            assert.match(watch.folder, /^\/.+/);
            assert.equal(watch.existing, 'send');
            assert.deepEqual(watch.wires, [[upload.id]]);
            assert.equal(upload.outbox, 'disk');
            assert.equal(nodes.find((/** @type {any} */ n) => n.id === upload.wires[0][0]).type, 'debug');
            assert.deepEqual([...catcher.scope].sort(), [watch.id, upload.id].sort());
        });

        it('give each node type an icon of its own, in nodes/icons', function () {
            /** @type {Map<string, string>} */
            const icons = new Map();
            for (const type of NODE_TYPES) {
                const html = fs.readFileSync(path.join(ROOT, PKG['node-red'].nodes[type].replace(/\.js$/, '.html')), 'utf8');
                if (registeredTypes(html).get(type)) continue;
                const icon = /\bicon\s*:\s*['"]([^'"]+)['"]/.exec(html)?.[1];
                assert.ok(icon, `${type}: an icon`);
                assert.ok(fs.existsSync(path.join(ROOT, 'nodes', 'icons', icon)), `${type}: nodes/icons/${icon}`);
                icons.set(type, fs.readFileSync(path.join(ROOT, 'nodes', 'icons', icon), 'utf8'));
            }
            assert.equal(new Set(icons.values()).size, icons.size, 'no two node types look the same');
            assert.ok(icons.has('serial-mfg-request'));
        });

        it('share one config node, id "serial-mfg-example-server" named "Serial": importing several leaves one server to configure', function () {
            const configs = examples().map(({ file, nodes }) => ({ file, cfg: nodes.filter((n) => n.type === 'serial-mfg-config') }));
            for (const { file, cfg } of configs) {
                assert.equal(cfg.length, 1, file);
                assert.equal(cfg[0].id, 'serial-mfg-example-server', file);
                assert.equal(cfg[0].name, 'Serial', file);
            }
            // The same node in every file: whichever is imported first is the one the others find.
            for (const { file, cfg } of configs) assert.deepEqual(cfg[0], configs[0].cfg[0], file);
        });

        it("share no node id with the demo's flow, so importing one into the demo adds nodes instead of a conflict", function () {
            const { demoFlow } = require('../scripts/demo-flows');
            const demoIds = new Set(demoFlow({ baseUrl: 'http://127.0.0.1:8087', samplePath: '/x/report.csv' }).map((n) => n.id));
            assert.ok(demoIds.size > 3);
            for (const { file, nodes } of examples()) {
                for (const n of nodes) assert.ok(!demoIds.has(n.id), `${file}: ${n.id} (${n.type}) is also a demo node id`);
            }
        });

        it('"Upload a file from a path" injects a path string into an upload node with the disk outbox', function () {
            const nodes = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'Upload a file from a path.json'), 'utf8'));
            const inject = nodes.find((/** @type {any} */ n) => n.type === 'inject');
            const upload = nodes.find((/** @type {any} */ n) => n.type === 'serial-mfg-upload');
            assert.equal(inject.payloadType, 'str');
            assert.match(inject.payload, /^\/.+\.csv$/);
            assert.deepEqual(inject.wires, [[upload.id]]);
            assert.equal(upload.outbox, 'disk');
            assert.equal(nodes.find((/** @type {any} */ n) => n.id === upload.wires[0][0]).type, 'debug');
        });
    });
});
