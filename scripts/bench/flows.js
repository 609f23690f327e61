// @ts-check
'use strict';
/**
 * The flows the bench deploys. Both start the same way (POST /bench/go {run, paths} → a function
 * that fans out one message per path) and end the same way (a function that counts completions and
 * logs "BENCH_DONE {...}" after the last one; a Catch node counts failures).
 *
 *   core: file in (one Buffer) → function (multipart payload + headers) → core http request
 *   ours: serial-mfg-upload with the path as payload
 */

const START = `
const paths = msg.payload.paths;
flow.set('bench', { run: msg.payload.run, n: paths.length, ok: 0, failed: 0, errors: [], t0: Date.now() });
for (const p of paths) node.send([{ payload: p, filename: p }, null], false);
node.send([null, msg], false);
return null;`;

// Counts every message that comes out of the upload stage (ok when Serial said 200) and every
// error caught from it; after the last one it reports on the log, which the bench reads.
const COUNT = `
const s = flow.get('bench');
if (!s) return null;
const failed = msg.error !== undefined || msg.statusCode !== 200;
if (failed) {
    s.failed++;
    if (s.errors.length < 5) s.errors.push(String(msg.error ? (msg.error.code || msg.error.message) : msg.statusCode));
} else s.ok++;
flow.set('bench', s);
if (s.ok + s.failed === s.n) {
    node.warn('BENCH_DONE ' + JSON.stringify({ run: s.run, n: s.n, ok: s.ok, failed: s.failed, errors: s.errors, ms: Date.now() - s.t0 }));
}
return null;`;

const MULTIPART = `
const name = msg.filename.split('/').pop();
msg.payload = { file: { value: msg.payload, options: { filename: name, contentType: 'application/octet-stream' } } };
msg.headers = { 'Content-Type': 'multipart/form-data', Authorization: 'Bearer ' + env.get('BENCH_API_KEY') };
return msg;`;

/** @param {string} z */
function frame(z) {
    return [
        { id: `${z}`, type: 'tab', label: 'bench' },
        { id: `${z}-in`, z, type: 'http in', url: '/bench/go', method: 'post', upload: false, wires: [[`${z}-start`]] },
        { id: `${z}-start`, z, type: 'function', name: 'fan out', func: START, outputs: 2, wires: [[`${z}-first`], [`${z}-res`]] },
        { id: `${z}-res`, z, type: 'http response', statusCode: '200', wires: [] },
        { id: `${z}-count`, z, type: 'function', name: 'count', func: COUNT, outputs: 1, wires: [[]] },
        { id: `${z}-catch`, z, type: 'catch', scope: null, uncaught: false, wires: [[`${z}-count`]] },
    ];
}

/**
 * read file → function → core http request (multipart), as a user builds it today.
 * @param {{serialUrl: string, keepAlive?: boolean}} o
 */
function coreFlow(o) {
    const z = 'core';
    const nodes = frame(z);
    nodes.find((n) => n.id === `${z}-start`).wires[0] = [`${z}-read`];
    nodes.push(
        // format '': a single Buffer object; errors go to Catch only
        {
            id: `${z}-read`,
            z,
            type: 'file in',
            name: 'read file',
            filename: 'filename',
            filenameType: 'msg',
            format: '',
            chunk: false,
            sendError: false,
            encoding: 'none',
            allProps: false,
            wires: [[`${z}-form`]],
        },
        { id: `${z}-form`, z, type: 'function', name: 'multipart', func: MULTIPART, outputs: 1, wires: [[`${z}-post`]] },
        {
            id: `${z}-post`,
            z,
            type: 'http request',
            name: 'POST /files',
            method: 'POST',
            ret: 'txt',
            paytoqs: 'ignore',
            url: `${o.serialUrl}/files`,
            tls: '',
            persist: !!o.keepAlive,
            proxy: '',
            insecureHTTPParser: false,
            authType: '',
            senderr: true,
            headers: [],
            wires: [[`${z}-count`]],
        },
    );
    return nodes;
}

/**
 * The package's upload node.
 * @param {{serialUrl: string, apiKey: string, concurrency: number, outbox: 'off' | 'disk', outboxDir?: string}} o
 */
function oursFlow(o) {
    const z = 'ours';
    const nodes = frame(z);
    nodes.find((n) => n.id === `${z}-start`).wires[0] = [`${z}-up`];
    nodes.push(
        {
            id: `${z}-cfg`,
            type: 'serial-mfg-config',
            name: 'stand-in',
            baseUrl: o.serialUrl,
            allowHttp: true,
            concurrency: o.concurrency,
            credentials: { apiKey: o.apiKey },
        },
        {
            id: `${z}-up`,
            z,
            type: 'serial-mfg-upload',
            name: 'upload',
            server: `${z}-cfg`,
            filename: 'filename',
            filenameType: 'msg',
            contentType: 'contentType',
            contentTypeType: 'msg',
            attempts: 1,
            backoff: 1,
            stallTimeout: 60,
            connectTimeout: 15,
            outbox: o.outbox,
            outboxDir: o.outboxDir ?? '',
            outboxMaxFiles: 100000,
            outboxMaxSize: 8192,
            wires: [[`${z}-count`]],
        },
    );
    return nodes;
}

module.exports = { coreFlow, oursFlow };
