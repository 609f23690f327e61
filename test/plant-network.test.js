// @ts-check
'use strict';
/**
 * Plant networks, with real parts: the stand-in serving HTTPS with a CA made at test time, Node-RED's
 * own tls-config and http proxy config nodes, and a real proxy (Debian's tinyproxy, basic auth,
 * CONNECT). The main upload, request and outbox cases run over http and https alike.
 */
const assert = require('node:assert/strict');
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const { startStandIn } = require('../harness/serial-stand-in');
const { makeCertificates } = require('../harness/certs');
const { startTinyproxy, tinyproxyAvailable } = require('../harness/tinyproxy');
const { send, unload, configNode, uploadNode } = require('./support/flow');
const { loadFlow, coreNodes, requestNode, request } = require('./support/request-flow');
const { API_KEY, PROXY_PASSWORD } = require('./support/secrets');
const { scan } = require('./support/leak-guard');
const { until } = require('./support/wait');

const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const NETWORK = coreNodes('network/05-tls.js', 'network/06-httpproxy.js');

describe('plant networks: HTTPS, the plant CA, proxies', function () {
    this.timeout(60000);
    /** @type {ReturnType<typeof makeCertificates>} */ let certs;
    /** @type {string} */ let dir;
    /** @type {string} */ let caFile;

    before(function () {
        certs = makeCertificates();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-plant-'));
        caFile = path.join(certs.dir, 'ca.crt');
    });
    afterEach(async function () {
        await unload();
    });
    after(function () {
        certs.remove();
        scan('plant network outboxes', { path: dir });
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /**
     * An upload and a request node on one config node, with optional tls-config and http proxy nodes.
     * @param {object} o
     * @param {string} o.baseUrl
     * @param {Record<string, unknown>} [o.tls] tls-config properties
     * @param {Record<string, unknown>} [o.proxy] http proxy properties
     * @param {Record<string, unknown>} [o.proxyCreds]
     * @param {Record<string, unknown>} [o.upload]
     * @param {Record<string, unknown>} [o.config]
     */
    async function network(o) {
        const flow = [
            { id: 'tab', type: 'tab', label: 'plant' },
            { id: 'cfg', type: 'serial-mfg-config', baseUrl: o.baseUrl, tls: o.tls ? 'tls' : '', proxy: o.proxy ? 'px' : '', ...o.config },
            ...(o.tls ? [{ id: 'tls', type: 'tls-config', verifyservercert: true, cert: '', key: '', ca: '', ...o.tls }] : []),
            ...(o.proxy ? [{ id: 'px', type: 'http proxy', noproxy: [], ...o.proxy }] : []),
            {
                id: 'up',
                z: 'tab',
                type: 'serial-mfg-upload',
                server: 'cfg',
                outbox: 'off',
                attempts: 3,
                backoff: 0.01,
                ...o.upload,
                wires: [['out']],
            },
            {
                id: 'req',
                z: 'tab',
                type: 'serial-mfg-request',
                server: 'cfg',
                method: 'GET',
                path: '/datasets',
                attempts: 3,
                backoff: 0.01,
                wires: [['out']],
            },
            { id: 'out', z: 'tab', type: 'helper' },
            { id: 'catcher', z: 'tab', type: 'catch', scope: ['up', 'req'], uncaught: false, wires: [['err']] },
            { id: 'err', z: 'tab', type: 'helper' },
        ];
        const creds = { cfg: { apiKey: API_KEY }, ...(o.proxy ? { px: o.proxyCreds ?? {} } : {}) };
        const f = await loadFlow([configNode, uploadNode, requestNode, ...NETWORK], flow, creds);
        const parts = { out: f.node('out'), err: f.node('err') };
        return {
            upload: { up: f.node('up'), ...parts, statuses: f.statuses.up },
            request: { req: f.node('req'), ...parts, statuses: f.statuses.req },
        };
    }

    for (const scheme of ['http', 'https']) {
        describe(`the main cases over ${scheme}`, function () {
            /** @type {any} */ let serial;
            before(async function () {
                serial = await startStandIn({
                    apiKey: API_KEY,
                    ...(scheme === 'https' ? { tls: { key: certs.server.key, cert: certs.server.cert } } : {}),
                });
            });
            afterEach(() => serial.reset());
            after(() => serial.close());
            const open = (/** @type {any} */ more = {}) =>
                network({ baseUrl: serial.url, ...(scheme === 'https' ? { tls: { ca: caFile } } : {}), ...more });

            it('uploads a Buffer and a file intact, on one kept-alive connection', async function () {
                const { upload } = await open({ config: { concurrency: 1 } });
                const before = serial.connections;
                const bytes = crypto.randomBytes(300 * 1024);
                const file = path.join(dir, `${scheme}-report.csv`);
                fs.writeFileSync(file, bytes);
                for (const payload of [bytes, file, bytes, file]) {
                    const { ok, msg } = await send(upload, { payload });
                    assert.equal(ok, true, JSON.stringify(msg.error));
                }
                assert.deepEqual(
                    serial.uploads.map((/** @type {any} */ u) => u.sha256),
                    Array(4).fill(sha256(bytes)),
                );
                assert.equal(serial.connections - before, 1, 'one connection, reused');
                assert.equal(serial.requests[0].tls !== null, scheme === 'https');
            });

            it('calls another endpoint with the request node', async function () {
                const { request: r } = await open();
                const { ok, msg } = await request(r, {});
                assert.equal(ok, true, JSON.stringify(msg.error));
                assert.deepEqual(msg.payload, []);
            });

            it('delivers through the outbox once Serial is back', async function () {
                await serial.setDown(true);
                const { upload } = await open({ upload: { outbox: 'disk', outboxDir: path.join(dir, `box-${scheme}`) } });
                const bytes = crypto.randomBytes(5000);
                const result = send(upload, { payload: bytes });
                await until(() => upload.statuses.some((/** @type {any} */ s) => /^offline/.test(s.text ?? '')), 10000, 'offline');
                await serial.setDown(false);
                const { ok } = await result;
                assert.equal(ok, true);
                assert.equal(serial.uploads[0].sha256, sha256(bytes));
            });
        });
    }

    describe('certificates', function () {
        const cases = [
            {
                name: 'untrusted (signed by a CA this gateway does not know)',
                server: () => certs.server,
                tls: undefined,
                reason: /not signed by a trusted authority.*NODE_EXTRA_CA_CERTS/,
            },
            { name: 'self-signed', server: () => certs.selfSigned, tls: undefined, reason: /self-signed/ },
            { name: 'for another host name', server: () => certs.wrongHost, tls: () => ({ ca: caFile }), reason: /another host name/ },
            { name: 'expired', server: () => certs.expired, tls: () => ({ ca: caFile }), reason: /expired/ },
        ];
        for (const c of cases) {
            it(`${c.name}: TLS_ERROR after one attempt, naming the cause and the fix`, async function () {
                const serial = await startStandIn({ apiKey: API_KEY, tls: { key: c.server().key, cert: c.server().cert } });
                try {
                    const { upload } = await network({ baseUrl: serial.url, tls: c.tls?.() });
                    const { ok, msg } = await send(upload, { payload: Buffer.from('x') });
                    assert.equal(ok, false);
                    assert.equal(msg.error.code, 'TLS_ERROR');
                    assert.equal(msg.attempts, 1, 'not retried');
                    assert.match(msg.error.message, c.reason);
                    assert.equal(serial.uploads.length, 0);
                } finally {
                    await serial.close();
                }
            });
        }

        it('https:// to a port that speaks plain http: TLS_ERROR "does not speak TLS"', async function () {
            const serial = await startStandIn({ apiKey: API_KEY });
            try {
                const { upload } = await network({ baseUrl: serial.url.replace('http:', 'https:') });
                const { msg } = await send(upload, { payload: Buffer.from('x') });
                assert.equal(msg.error.code, 'TLS_ERROR');
                assert.match(msg.error.message, /does not speak TLS/);
                assert.equal(msg.attempts, 1);
            } finally {
                await serial.close();
            }
        });

        it('with the outbox on, a TLS error holds the queue: nothing is dead-lettered', async function () {
            const serial = await startStandIn({ apiKey: API_KEY, tls: { key: certs.server.key, cert: certs.server.cert } });
            const outboxDir = path.join(dir, 'held');
            try {
                const { upload } = await network({ baseUrl: serial.url, upload: { outbox: 'disk', outboxDir } });
                upload.up.receive({ payload: Buffer.from('good file') });
                await until(() => upload.statuses.some((/** @type {any} */ s) => s.text === 'held: TLS_ERROR, 1 queued'), 10000, 'held status');
                assert.deepEqual(fs.readdirSync(path.join(outboxDir, 'up', 'dead-letter')), []);
                assert.equal(fs.readdirSync(path.join(outboxDir, 'up', 'jobs')).filter((n) => n.endsWith('.job')).length, 1);
            } finally {
                await serial.close();
            }
        });

        it('sends the client certificate of the tls-config node where Serial asks for one', async function () {
            const tls = { key: certs.server.key, cert: certs.server.cert, ca: certs.ca, requestCert: true, rejectUnauthorized: true };
            const serial = await startStandIn({ apiKey: API_KEY, tls });
            try {
                const withCert = await network({
                    baseUrl: serial.url,
                    tls: { ca: caFile, cert: path.join(certs.dir, 'client.crt'), key: path.join(certs.dir, 'client.key') },
                });
                const ok = await send(withCert.upload, { payload: Buffer.from('x') });
                assert.equal(ok.ok, true, JSON.stringify(ok.msg.error));
                assert.equal(serial.requests[0].tls.clientName, 'station-gateway');
                await unload();
                const without = await network({ baseUrl: serial.url, tls: { ca: caFile } });
                const refused = await send(without.upload, { payload: Buffer.from('x') });
                assert.equal(refused.msg.error.code, 'TLS_ERROR');
                assert.match(refused.msg.error.message, /client certificate/);
            } finally {
                await serial.close();
            }
        });

        it('trusts the CAs of NODE_EXTRA_CA_CERTS without a tls-config node', async function () {
            const serial = await startStandIn({ apiKey: API_KEY, tls: { key: certs.server.key, cert: certs.server.cert } });
            try {
                const script = `
                    const { clientFor } = require(${JSON.stringify(path.resolve(__dirname, '../nodes/lib/serial/settings'))});
                    const { bufferSource } = require(${JSON.stringify(path.resolve(__dirname, '../nodes/lib/source/sources'))});
                    const client = clientFor({ baseUrl: ${JSON.stringify(serial.url)} }, process.env.KEY, { env: {} });
                    client.upload(bufferSource(Buffer.from('extra ca')), { attempts: 1, backoffMs: 0, connectMs: 5000, stallMs: 5000, responseMs: 5000 })
                        .then((r) => console.log(r.statusCode), (e) => console.log(e.code)).finally(() => client.close());`;
                const run = (/** @type {Record<string, string>} */ env) =>
                    new Promise((resolve) => {
                        const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, KEY: API_KEY, ...env } });
                        let out = '';
                        child.stdout.on('data', (d) => (out += d));
                        child.on('exit', () => resolve(out.trim()));
                    });
                assert.equal(await run({}), 'TLS_ERROR');
                assert.equal(await run({ NODE_EXTRA_CA_CERTS: caFile }), '200');
            } finally {
                await serial.close();
            }
        });
    });

    describe('proxies (tinyproxy)', function () {
        /** @type {any} */ let serial;
        /** @type {any} */ let proxy;
        before(async function () {
            if (!tinyproxyAvailable()) {
                if (process.env.CI) throw new Error('tinyproxy is required in CI (.ci/run installs it)');
                this.skip();
            }
            serial = await startStandIn({ apiKey: API_KEY, tls: { key: certs.server.key, cert: certs.server.cert } });
            proxy = await startTinyproxy({ user: 'gateway', password: PROXY_PASSWORD });
        });
        afterEach(() => serial?.reset());
        after(async function () {
            if (proxy) scan('tinyproxy log', proxy.log());
            await proxy?.close();
            await serial?.close();
        });
        const target = () => serial.url.replace(/^https:\/\//, '');
        const viaProxy = (/** @type {any} */ more = {}) =>
            network({
                baseUrl: serial.url,
                tls: { ca: caFile },
                proxy: { url: proxy.url },
                proxyCreds: { username: 'gateway', password: PROXY_PASSWORD },
                ...more,
            });

        it("goes through the http proxy node's proxy by CONNECT, one tunnel kept alive for many uploads", async function () {
            const { upload } = await viaProxy({ config: { concurrency: 1 } });
            const before = proxy.connects().length;
            for (let i = 0; i < 3; i++) {
                const { ok, msg } = await send(upload, { payload: crypto.randomBytes(100000) });
                assert.equal(ok, true, JSON.stringify(msg.error));
            }
            const tunnels = proxy.connects().slice(before);
            assert.deepEqual(tunnels, [target()], 'one CONNECT to Serial for three uploads');
            assert.equal(serial.requests.length, 3);
        });

        it("lets the proxy node's no-proxy list go direct", async function () {
            const { upload } = await viaProxy({ proxy: { url: proxy.url, noproxy: ['127.0.0.1'] } });
            const before = proxy.connects().length;
            const { ok } = await send(upload, { payload: Buffer.from('direct') });
            assert.equal(ok, true);
            assert.equal(proxy.connects().length, before);
        });

        it('honours https_proxy and NO_PROXY from the environment, either case', async function () {
            const saved = { ...process.env };
            try {
                process.env.HTTPS_PROXY = `http://gateway:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
                let f = await network({ baseUrl: serial.url, tls: { ca: caFile } });
                const before = proxy.connects().length;
                assert.equal((await send(f.upload, { payload: Buffer.from('env') })).ok, true);
                assert.equal(proxy.connects().length, before + 1);
                await unload();
                process.env.no_proxy = 'localhost,127.0.0.1';
                f = await network({ baseUrl: serial.url, tls: { ca: caFile } });
                assert.equal((await send(f.upload, { payload: Buffer.from('env direct') })).ok, true);
                assert.equal(proxy.connects().length, before + 1, 'no_proxy bypassed it');
            } finally {
                for (const k of ['HTTPS_PROXY', 'no_proxy']) delete process.env[k];
                Object.assign(process.env, saved);
            }
        });

        it('reports wrong proxy credentials as PROXY_ERROR, never as UNAUTHORIZED, and never the password', async function () {
            const { upload } = await viaProxy({ proxyCreds: { username: 'gateway', password: 'wrong-password' } });
            const { ok, msg } = await send(upload, { payload: Buffer.from('x') });
            assert.equal(ok, false);
            assert.equal(msg.error.code, 'PROXY_ERROR');
            assert.equal(msg.attempts, 1);
            assert.match(msg.error.message, /credentials/);
            assert.equal(serial.requests.length, 0);
        });

        it('reports a proxy that cannot be reached as PROXY_ERROR', async function () {
            const { upload } = await network({ baseUrl: serial.url, tls: { ca: caFile }, proxy: { url: 'http://127.0.0.1:9' } });
            const { msg } = await send(upload, { payload: Buffer.from('x') });
            assert.equal(msg.error.code, 'PROXY_ERROR');
            assert.match(msg.error.message, /127\.0\.0\.1:9 cannot be reached/);
        });

        it('tests the connection the way uploads go: same proxy, same TLS, and says why not', async function () {
            await viaProxy();
            const before = proxy.connects().length;
            const ok = await helper.request().post('/serial-mfg/test-connection').send({ id: 'cfg', baseUrl: serial.url, tls: 'tls', proxy: 'px' });
            assert.equal(ok.body.ok, true, ok.body.message);
            assert.equal(proxy.connects().length, before + 1);
            const typed = await helper.request().post('/serial-mfg/test-connection').send({ baseUrl: serial.url, apiKey: API_KEY, proxy: 'px' });
            assert.equal(typed.body.code, 'TLS_ERROR', 'without the tls-config node the plant CA is unknown');
        });

        it('streams a large file through the tunnel at constant memory', async function () {
            this.timeout(120000);
            const file = path.join(dir, 'large.bin');
            const fd = fs.openSync(file, 'w');
            const chunk = crypto.randomBytes(1024 * 1024);
            for (let i = 0; i < 256; i++) fs.writeSync(fd, chunk);
            fs.closeSync(fd);
            const script = `
                const fs = require('fs');
                const { clientFor } = require(${JSON.stringify(path.resolve(__dirname, '../nodes/lib/serial/settings'))});
                const { pathSource } = require(${JSON.stringify(path.resolve(__dirname, '../nodes/lib/source/sources'))});
                const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
                const proxy = { url: process.env.PROXY, noProxy: [], username: 'gateway', password: process.env.PROXY_PW };
                const client = clientFor({ baseUrl: process.env.URL }, process.env.KEY, { tls: { ca: fs.readFileSync(process.env.CA) }, proxy });
                (async () => {
                    const source = await pathSource(process.env.FILE);
                    const idle = hwm();
                    const r = await client.upload(source, { attempts: 1, backoffMs: 0, connectMs: 5000, stallMs: 30000, responseMs: 60000 });
                    console.log(JSON.stringify({ status: r.statusCode, growth: hwm() - idle }));
                    client.close();
                })().catch((e) => console.log(JSON.stringify({ code: e.code })));`;
            const env = {
                PATH: process.env.PATH ?? '',
                KEY: API_KEY,
                PROXY_PW: PROXY_PASSWORD,
                PROXY: proxy.url,
                URL: serial.url,
                CA: caFile,
                FILE: file,
            };
            const out = await new Promise((resolve) => {
                const child = spawn(process.execPath, ['-e', script], { env });
                let text = '';
                child.stdout.on('data', (d) => (text += d));
                child.on('exit', () => resolve(text.trim()));
            });
            const result = JSON.parse(/** @type {string} */ (out));
            assert.equal(result.status, 200, out);
            assert.ok(result.growth < 64 * 1024 * 1024, `peak RSS grew by ${Math.round(result.growth / 1048576)} MiB for 256 MiB`);
            const hash = crypto.createHash('sha256');
            for (let i = 0; i < 256; i++) hash.update(chunk);
            assert.equal(serial.uploads.at(-1).sha256, hash.digest('hex'));
            fs.rmSync(file);
        });
    });
});
