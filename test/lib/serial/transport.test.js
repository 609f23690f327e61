// @ts-check
'use strict';
const assert = require('node:assert/strict');
const http = require('http');
const zlib = require('zlib');
const { SerialClient } = require('../../../nodes/lib/serial/client');
const { API_KEY } = require('../../support/secrets');

const options = { attempts: 2, backoffMs: 10, stallMs: 2000, connectMs: 2000, responseMs: 5000 };

/**
 * A bare HTTP server on loopback that answers each request with `handler`, and keeps what it got.
 * @param {(req: http.IncomingMessage, res: http.ServerResponse, n: number) => void} handler
 */
async function server(handler) {
    /** @type {{ method?: string, url?: string, headers: http.IncomingHttpHeaders, body: string }[]} */
    const got = [];
    const srv = http.createServer((req, res) => {
        const chunks = /** @type {Buffer[]} */ ([]);
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            got.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
            handler(req, res, got.length);
        });
    });
    await new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(undefined)));
    const { port } = /** @type {import('net').AddressInfo} */ (srv.address());
    return {
        url: `http://127.0.0.1:${port}`,
        got,
        close: () => new Promise((resolve) => srv.close(() => resolve(undefined)) && srv.closeAllConnections()),
    };
}

describe('lib/serial/transport: each request on Node http, its answer read as Serial sent it', function () {
    /** @type {any[]} */ const open = [];
    afterEach(async function () {
        for (const o of open.splice(0).reverse()) await o.close();
    });
    /** @param {string} url */
    const clientFor = (url) => {
        const client = new SerialClient({ baseUrl: url, apiKey: API_KEY, concurrency: 2 });
        open.push(client);
        return client;
    };
    /** @param {Parameters<typeof server>[0]} handler */
    const serve = async (handler) => {
        const s = await server(handler);
        open.push(s);
        return s;
    };

    it('sends the query parameters encoded and a JSON body with its length, and reads the JSON back', async function () {
        const s = await serve((req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
        const client = clientFor(s.url);
        const identifier = 'SN 1&2=ü/#?';
        const r = await client.request('put', '/datasets', { ...options, params: { identifier, n: 3, skip: undefined }, body: { a: 'ä' } });
        assert.deepEqual(r.value, { ok: true });
        const [seen] = s.got;
        assert.equal(seen.method, 'PUT');
        const url = new URL(seen.url ?? '', s.url);
        assert.equal(url.pathname, '/datasets');
        assert.equal(url.searchParams.get('identifier'), identifier);
        assert.equal(url.searchParams.get('n'), '3');
        assert.equal(url.searchParams.has('skip'), false);
        assert.equal(seen.headers['content-type'], 'application/json');
        assert.equal(Number(seen.headers['content-length']), Buffer.byteLength(seen.body));
        assert.deepEqual(JSON.parse(seen.body), { a: 'ä' });
        assert.equal(seen.headers.authorization, `Bearer ${API_KEY}`);
    });

    it('reads a compressed answer (gzip, deflate, br) as its text', async function () {
        const body = JSON.stringify({ name: 'x'.repeat(5000) });
        const encodings = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
        const names = /** @type {(keyof typeof encodings)[]} */ (Object.keys(encodings));
        const s = await serve((req, res, n) => {
            const enc = names[(n - 1) % names.length];
            res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': enc }).end(encodings[enc](body));
        });
        const client = clientFor(s.url);
        for (let i = 0; i < names.length; i++) {
            const r = await client.request('get', '/x', options);
            assert.deepEqual(r.value, JSON.parse(body), names[i]);
        }
    });

    it('tells an answer that claims gzip but is not as INVALID_RESPONSE, not a network failure', async function () {
        const s = await serve((req, res) =>
            res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end('{"not":"gzip"}'),
        );
        const client = clientFor(s.url);
        await assert.rejects(client.request('get', '/x', options), (/** @type {any} */ e) => {
            assert.equal(e.code, 'INVALID_RESPONSE');
            assert.match(e.message, /Z_DATA_ERROR/);
            return true;
        });
        assert.equal(s.got.length, 1, 'not repeated');
    });

    it('reads no body where there is none, whatever Content-Encoding says (204, HEAD, an empty 200)', async function () {
        const s = await serve((req, res) => {
            const headers = { 'Content-Encoding': 'gzip' };
            if (req.method === 'DELETE') return void res.writeHead(204, headers).end();
            res.writeHead(200, { ...headers, 'Content-Length': '0' }).end();
        });
        const client = clientFor(s.url);
        for (const method of ['delete', 'head', 'get']) {
            const r = await client.request(method, '/x', options);
            assert.equal(r.value, null, method);
        }
    });

    it('lets go of a connection answered before its upload was sent whole, so the next request gets one', async function () {
        const srv = http.createServer((req, res) => {
            // The upload is refused at once, its body never read; anything else is answered normally.
            if (req.method === 'POST') return void res.writeHead(413, { 'Content-Type': 'application/json' }).end('{"message":"too large"}');
            req.resume();
            req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
        });
        await new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(undefined)));
        open.push({ close: () => new Promise((resolve) => srv.close(() => resolve(undefined)) && srv.closeAllConnections()) });
        const { port } = /** @type {import('net').AddressInfo} */ (srv.address());
        const client = new SerialClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: API_KEY, concurrency: 1 });
        open.push(client);
        const { bufferSource } = require('../../../nodes/lib/source/sources');
        await assert.rejects(client.upload(bufferSource(Buffer.alloc(8 * 1024 * 1024, 1)), { ...options, attempts: 1 }), (/** @type {any} */ e) => {
            assert.equal(e.code, 'CLIENT_ERROR');
            assert.equal(e.statusCode, 413);
            return true;
        });
        const t0 = Date.now();
        const r = await client.request('get', '/x', { ...options, attempts: 1, connectMs: 1500 });
        assert.deepEqual(r.value, { ok: true });
        assert.ok(Date.now() - t0 < 1000, `the next request waited ${Date.now() - t0} ms for a connection`);
    });

    it('refuses an answer over 16 MiB with INVALID_RESPONSE, without keeping it', async function () {
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        const s = await serve((req, res) => {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            let left = 17;
            const more = () => {
                while (left > 0) {
                    left--;
                    if (!res.write(chunk)) return void res.once('drain', more);
                }
                res.end('{}');
            };
            res.on('error', () => undefined);
            more();
        });
        const client = clientFor(s.url);
        await assert.rejects(client.request('get', '/big', options), (/** @type {any} */ e) => {
            assert.equal(e.code, 'INVALID_RESPONSE');
            assert.match(e.message, /16777216 bytes/);
            return true;
        });
        assert.equal(s.got.length, 1, 'not repeated');
    });

    it('tells an answer cut part-way as CONNECTION_FAILED and goes again; the second answer counts', async function () {
        const s = await serve((req, res, n) => {
            if (n > 1) return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"second":true}');
            res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
            res.write('{"first":');
            setTimeout(() => res.socket?.destroy(), 20);
        });
        const client = clientFor(s.url);
        const r = await client.request('get', '/cut', options);
        assert.deepEqual(r.value, { second: true });
        assert.equal(r.attempts, 2);
    });

    it('tells a server that is not HTTP as INVALID_RESPONSE', async function () {
        const net = require('net');
        const srv = net.createServer((socket) => socket.resume().end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
        await new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(undefined)));
        open.push({ close: () => new Promise((resolve) => srv.close(() => resolve(undefined))) });
        const { port } = /** @type {import('net').AddressInfo} */ (srv.address());
        const client = clientFor(`http://127.0.0.1:${port}`);
        await assert.rejects(client.request('get', '/x', { ...options, attempts: 1 }), (/** @type {any} */ e) => {
            assert.equal(e.code, 'INVALID_RESPONSE');
            assert.match(e.message, /HPE_/);
            return true;
        });
    });

    it('refuses a request Node cannot build as INVALID_REQUEST at once, not retried, and leaves no timer behind', async function () {
        // A key past Latin-1 in its header: http.request throws before any connection. Its connect timer
        // used to fire later into a request that never existed (an uncaught ReferenceError).
        const s = await serve((_req, res) => res.end('{}'));
        const key = `${API_KEY.slice(0, 8)}\u0100${API_KEY.slice(8)}`;
        const client = new SerialClient({ baseUrl: s.url, apiKey: key, concurrency: 2 });
        open.push(client);
        /** @type {unknown[]} */ const uncaught = [];
        const onUncaught = (/** @type {unknown} */ e) => uncaught.push(e);
        process.prependListener('uncaughtException', onUncaught);
        try {
            await assert.rejects(client.request('get', '/datasets', { ...options, attempts: 3, connectMs: 100 }), (/** @type {any} */ e) => {
                assert.equal(e.code, 'INVALID_REQUEST');
                assert.equal(e.retryable, false);
                assert.match(e.message, /ERR_INVALID_CHAR/);
                assert.equal(e.message.includes(API_KEY.slice(8)), false);
                return true;
            });
            await new Promise((r) => setTimeout(r, 300));
        } finally {
            process.removeListener('uncaughtException', onUncaught);
        }
        assert.deepEqual(uncaught, []);
        assert.equal(s.got.length, 0);
    });

    it('reports a silent server as STALLED after the stall timeout', async function () {
        const s = await serve(() => undefined);
        const client = clientFor(s.url);
        const t0 = Date.now();
        await assert.rejects(
            client.request('get', '/silent', { ...options, attempts: 1, stallMs: 300 }),
            (/** @type {any} */ e) => e.code === 'STALLED',
        );
        const took = Date.now() - t0;
        assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
    });
});
