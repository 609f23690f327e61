// @ts-check
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startStandIn } = require('../harness/serial-stand-in');

const KEY = 'secret-test-key-6b1f';
const AUTH = `Bearer ${KEY}`;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sha256 = (/** @type {Buffer} */ b) => crypto.createHash('sha256').update(b).digest('hex');
const md5 = (/** @type {Buffer} */ b) => crypto.createHash('md5').update(b).digest('hex');
const isIsoDate = (/** @type {unknown} */ v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)) && v.includes('T');

/**
 * @typedef {{ name: string, filename?: string, contentType?: string | null, data: Buffer | string }} Part
 * @param {Part[]} parts @param {string} [boundary]
 */
function multipart(parts, boundary = `----standin${crypto.randomBytes(8).toString('hex')}`) {
  /** @type {Buffer[]} */
  const chunks = [];
  for (const p of parts) {
    let h = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) h += `; filename="${p.filename}"`;
    h += '\r\n';
    if (p.contentType) h += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(`${h}\r\n`, 'utf8'), Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * Plain http.request; resolves with status/headers/text/json.
 * @param {string} base
 * @param {{ method?: string, path?: string, headers?: Record<string,string|number>, body?: Buffer | string,
 *           chunked?: boolean, agent?: http.Agent | false }} o
 * @returns {Promise<{ status: number, headers: http.IncomingHttpHeaders, text: string, json: any, reusedSocket: boolean }>}
 */
function request(base, o) {
  return new Promise((resolve, reject) => {
    const u = new URL(o.path || '/files', base);
    const headers = { ...(o.headers || {}) };
    const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
    if (body && !o.chunked && headers['Content-Length'] === undefined) headers['Content-Length'] = body.length;
    const req = http.request(u, { method: o.method || 'POST', headers, agent: o.agent ?? false }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode || 0, headers: res.headers, text, json, reusedSocket: req.reusedSocket });
      });
    });
    req.on('error', reject);
    if (body && o.chunked) {
      // two writes without Content-Length → Transfer-Encoding: chunked
      req.write(body.subarray(0, Math.floor(body.length / 2)));
      req.end(body.subarray(Math.floor(body.length / 2)));
    } else {
      req.end(body);
    }
  });
}

/** @param {string} base @param {string} p @param {string} method @param {any} [json] */
function api(base, p, method, json) {
  return request(base, {
    path: p,
    method,
    headers: json === undefined ? { Authorization: AUTH } : { Authorization: AUTH, 'Content-Type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
}

/** Upload `data` with fetch/FormData, as a client would. @param {string} base */
async function fetchUpload(base, data = Buffer.from('a,b\n1,2\n'), filename = 'report.csv', type = 'text/csv') {
  const fd = new FormData();
  fd.append('file', new Blob([data], { type }), filename);
  const res = await fetch(`${base}/files`, {
    method: 'POST',
    body: fd,
    headers: { Authorization: AUTH, Accept: 'application/json' },
  });
  return { res, body: await res.json() };
}

describe('serial stand-in server', function () {
  this.timeout(5000);
  /** @type {Awaited<ReturnType<typeof startStandIn>>} */
  let s;

  beforeEach(async () => {
    s = await startStandIn({ apiKey: KEY, port: 0 });
  });
  afterEach(async () => {
    await s.close();
  });

  describe('POST /files', () => {
    it('accepts a multipart upload and answers a complete File-storage object', async () => {
      const data = crypto.randomBytes(200 * 1024);
      const name = 'Prüfbericht-温度.csv';
      /** @type {any[]} */
      const seen = [];
      s.onUpload = (u) => seen.push(u);
      const { res, body } = await fetchUpload(s.url, data, name, 'text/csv');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') || '', /^application\/json/);

      for (const k of ['name', 'id', 'updated_at', 'created_at', 'bucket_id', 'last_accessed_at', 'metadata']) {
        assert.ok(k in body, `missing ${k}`);
      }
      assert.match(body.id, UUID_RE);
      assert.equal(body.bucket_id, 'files');
      assert.match(body.name, /^files\/[0-9a-f-]{36}\//);
      assert.ok(body.name.endsWith(`/${name}`));
      for (const k of ['updated_at', 'created_at', 'last_accessed_at']) assert.ok(isIsoDate(body[k]), k);
      assert.deepEqual(body.metadata, {
        eTag: `"${md5(data)}"`,
        size: data.length,
        mimetype: 'text/csv',
        cacheControl: 'max-age=3600',
        lastModified: body.metadata.lastModified,
        contentLength: String(data.length),
        httpStatusCode: 200,
      });
      assert.ok(isIsoDate(body.metadata.lastModified));

      assert.equal(s.uploads.length, 1);
      const u = s.uploads[0];
      assert.equal(u.filename, name);
      assert.equal(u.mimetype, 'text/csv');
      assert.equal(u.partContentType, 'text/csv');
      assert.equal(u.size, data.length);
      assert.equal(u.sha256, sha256(data));
      assert.equal(u.authorized, true);
      assert.deepEqual(u.fileStorage, body);
      assert.ok(isIsoDate(u.receivedAt));
      assert.equal(u.headers.authorization, '<redacted>');
      assert.equal(u.accept, 'application/json');
      assert.deepEqual(seen, [u]);
      assert.equal(s.requests.length, 1);
      assert.equal(s.requests[0].status, 200);
      assert.equal(s.requests[0].path, '/files');
      assert.ok(!JSON.stringify([s.uploads, s.requests]).includes(KEY), 'API key must not be recorded');
    });

    it('keeps connections alive between uploads', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'hello' }]);
        const opts = { headers: { Authorization: AUTH, 'Content-Type': mp.contentType }, body: mp.body, agent };
        const r1 = await request(s.url, opts);
        const r2 = await request(s.url, opts);
        assert.equal(r1.status, 200);
        assert.equal(r2.status, 200);
        assert.notEqual(r1.headers.connection, 'close');
        assert.equal(r2.reusedSocket, true);
      } finally {
        agent.destroy();
      }
    });

    it('records a file part without Content-Type (and rejects it with requirePartContentType)', async () => {
      const mp = multipart([{ name: 'file', filename: 'x.bin', data: 'abc' }]);
      const r = await request(s.url, { headers: { Authorization: AUTH, 'Content-Type': mp.contentType }, body: mp.body });
      assert.equal(r.status, 200);
      assert.equal(s.uploads[0].partContentType, null);
      assert.equal(s.uploads[0].mimetype, 'text/plain'); // busboy's default, as Supabase storage would store it

      const strict = await startStandIn({ apiKey: KEY, requirePartContentType: true });
      try {
        const r2 = await request(strict.url, { headers: { Authorization: AUTH, 'Content-Type': mp.contentType }, body: mp.body });
        assert.equal(r2.status, 400);
        assert.match(r2.json.error, /Content-Type/);
        assert.equal(strict.uploads.length, 0);
      } finally {
        await strict.close();
      }
    });

    it('answers the XML variant only when the client asks for XML alone', async () => {
      const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' }]);
      const r = await request(s.url, {
        headers: { Authorization: AUTH, 'Content-Type': mp.contentType, Accept: 'application/xml' },
        body: mp.body,
      });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/xml/);
      assert.equal(r.text, `<file_id>${s.uploads[0].id}</file_id>`);
      assert.equal(s.uploads[0].responseType, 'xml');
    });

    it('rejects a wrong or missing API key with 401 and records nothing as uploaded', async () => {
      const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' }]);
      for (const auth of ['Bearer wrong', KEY, `bearer ${KEY}`, undefined]) {
        /** @type {Record<string,string>} */
        const headers = { 'Content-Type': mp.contentType };
        if (auth) headers.Authorization = auth;
        const r = await request(s.url, { headers, body: mp.body });
        assert.equal(r.status, 401, String(auth));
        assert.deepEqual(r.json, { error: 'Unauthorized' });
      }
      // a large body gets its 401 while it is still being sent
      const big = multipart([{ name: 'file', filename: 'big.bin', contentType: 'application/octet-stream', data: Buffer.alloc(3 << 20) }]);
      const r = await request(s.url, { headers: { Authorization: 'Bearer nope', 'Content-Type': big.contentType }, body: big.body });
      assert.equal(r.status, 401);
      assert.equal(s.uploads.length, 0);
      assert.ok(s.requests.every((q) => q.status === 401 && q.authorized === false));
    });

    it('answers 401 to Expect: 100-continue without asking for the body, and 100 when authorized', async () => {
      const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' }]);
      /** @param {string} auth */
      const send = (auth) =>
        new Promise((resolve, reject) => {
          let continued = false;
          const req = http.request(
            `${s.url}/files`,
            {
              method: 'POST',
              agent: false,
              headers: { Authorization: auth, 'Content-Type': mp.contentType, 'Content-Length': mp.body.length, Expect: '100-continue' },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode, continued }));
            },
          );
          req.on('continue', () => {
            continued = true;
            req.end(mp.body);
          });
          req.on('error', reject);
          req.flushHeaders();
        });
      assert.deepEqual(await send('Bearer wrong'), { status: 401, continued: false });
      assert.deepEqual(await send(AUTH), { status: 200, continued: true });
    });

    it('requires Content-Length (411 for chunked uploads) and a multipart Content-Type (400)', async () => {
      const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x'.repeat(5000) }]);
      const chunked = await request(s.url, { headers: { Authorization: AUTH, 'Content-Type': mp.contentType }, body: mp.body, chunked: true });
      assert.equal(chunked.status, 411);
      assert.equal(s.requests[0].headers['transfer-encoding'], 'chunked');

      const noBoundary = await request(s.url, { headers: { Authorization: AUTH, 'Content-Type': 'multipart/form-data' }, body: mp.body });
      assert.equal(noBoundary.status, 400);
      const octets = await request(s.url, { headers: { Authorization: AUTH, 'Content-Type': 'application/octet-stream' }, body: 'raw' });
      assert.equal(octets.status, 400);
      assert.equal(typeof octets.json.error, 'string');
      assert.equal(s.uploads.length, 0);
    });

    it('rejects extra parts, a second file, a wrongly named part, an empty filename and a missing file', async () => {
      /** @type {[string, Part[]][]} */
      const cases = [
        [
          'extra field',
          [
            { name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' },
            { name: 'note', data: 'hi' },
          ],
        ],
        [
          'field first',
          [
            { name: 'note', data: 'hi' },
            { name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' },
          ],
        ],
        [
          'two files',
          [
            { name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' },
            { name: 'file', filename: 'b.txt', contentType: 'text/plain', data: 'y' },
          ],
        ],
        ['wrong name', [{ name: 'upload', filename: 'a.txt', contentType: 'text/plain', data: 'x' }]],
        ['empty filename', [{ name: 'file', filename: '', contentType: 'text/plain', data: 'x' }]],
        ['no filename', [{ name: 'file', data: 'x' }]],
        ['no parts', []],
      ];
      for (const [label, parts] of cases) {
        const mp = multipart(parts);
        const r = await request(s.url, { headers: { Authorization: AUTH, 'Content-Type': mp.contentType }, body: mp.body });
        assert.equal(r.status, 400, label);
        assert.equal(typeof r.json.error, 'string', label);
      }
      const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x' }]);
      const truncated = await request(s.url, {
        headers: { Authorization: AUTH, 'Content-Type': mp.contentType },
        body: mp.body.subarray(0, mp.body.length - 10),
      });
      assert.equal(truncated.status, 400);
      assert.equal(s.uploads.length, 0);
    });

    it('writes files to storeDir when given', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stand-in-'));
      const st = await startStandIn({ apiKey: KEY, storeDir: dir });
      try {
        const data = crypto.randomBytes(100 * 1024);
        const { res } = await fetchUpload(st.url, data, 'Prüf bericht.csv');
        assert.equal(res.status, 200);
        const u = st.uploads[0];
        assert.equal(path.dirname(u.storedPath), dir);
        assert.ok(path.basename(u.storedPath).startsWith(`${u.id}-`));
        assert.deepEqual(fs.readFileSync(u.storedPath), data);
        assert.equal(st.bodies.get(u.id), u.storedPath);
      } finally {
        await st.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('hashes large uploads in a worker thread and survives clients that abort mid-body', async () => {
      const st = await startStandIn({ apiKey: KEY, hashWorkerThreshold: 0 });
      try {
        const data = crypto.randomBytes(3 * 1024 * 1024 + 7);
        const { res, body } = await fetchUpload(st.url, data, 'big.bin', 'application/octet-stream');
        assert.equal(res.status, 200);
        assert.equal(st.uploads[0].sha256, sha256(data));
        assert.equal(body.metadata.eTag, `"${md5(data)}"`);
        assert.equal(body.metadata.size, data.length);

        // announce 4 MiB, send 1 MiB, then go away
        const mp = multipart([{ name: 'file', filename: 'a.bin', contentType: 'application/octet-stream', data: Buffer.alloc(4 << 20) }]);
        await new Promise((resolve) => {
          const req = http.request(`${st.url}/files`, {
            method: 'POST',
            agent: false,
            headers: { Authorization: AUTH, 'Content-Type': mp.contentType, 'Content-Length': mp.body.length },
          });
          req.on('error', () => resolve(undefined));
          req.write(mp.body.subarray(0, 1 << 20), () =>
            setTimeout(() => {
              req.destroy();
              resolve(undefined);
            }, 50),
          );
        });
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(st.uploads.length, 1);
        assert.equal(st.requests[1].status, null);
        const again = await fetchUpload(st.url, data, 'again.bin', 'application/octet-stream');
        assert.equal(again.res.status, 200);
        assert.equal(st.uploads[1].sha256, sha256(data));
      } finally {
        await st.close();
      }
    });

    it('404s unknown paths and 405s wrong methods', async () => {
      assert.equal((await api(s.url, '/nope', 'GET')).status, 404);
      assert.equal((await api(s.url, '/files/', 'POST')).status, 404);
      const r = await api(s.url, '/files', 'GET');
      assert.equal(r.status, 405);
      assert.equal(r.headers.allow, 'POST');
    });
  });

  describe('faults', () => {
    const mp = multipart([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'x'.repeat(8192) }]);
    const up = () => request(s.url, { headers: { Authorization: AUTH, 'Content-Type': mp.contentType }, body: mp.body });

    it('status: answers the given status count times, then works again', async () => {
      s.fault({ mode: 'status', status: 503, count: 2, headers: { 'X-Test': '1' } });
      const a = await up();
      const b = await up();
      const c = await up();
      assert.deepEqual([a.status, b.status, c.status], [503, 503, 200]);
      assert.equal(a.headers['x-test'], '1');
      assert.equal(s.requests[0].fault, 'status');
      assert.equal(s.requests[0].bodyBytes, mp.body.length);
      assert.equal(s.uploads.length, 1);
      s.fault({ mode: 'status', status: 500, body: { message: 'boom' } });
      assert.deepEqual((await up()).json, { message: 'boom' });
    });

    it('retryAfter: 429 with a Retry-After header', async () => {
      s.fault({ mode: 'retryAfter', retryAfter: '2' });
      const r = await up();
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '2');
      s.fault({ mode: 'retryAfter', status: 503, retryAfter: 7 });
      const r2 = await up();
      assert.equal(r2.status, 503);
      assert.equal(r2.headers['retry-after'], '7');
    });

    it('badJson and notJson: 200 with a body that is not a File-storage object', async () => {
      s.fault({ mode: 'badJson' });
      s.fault({ mode: 'notJson' });
      const a = await up();
      assert.equal(a.status, 200);
      assert.deepEqual(a.json, { ok: true });
      const b = await up();
      assert.equal(b.status, 200);
      assert.match(String(b.headers['content-type']), /^text\/html/);
      assert.equal(b.json, undefined);
      assert.equal(s.uploads.length, 0);
    });

    it('drop: destroys the connection after afterBytes', async () => {
      const big = multipart([{ name: 'file', filename: 'a.bin', contentType: 'application/octet-stream', data: Buffer.alloc(256 * 1024) }]);
      s.fault({ mode: 'drop', afterBytes: 1024 });
      await assert.rejects(
        request(s.url, { headers: { Authorization: AUTH, 'Content-Type': big.contentType }, body: big.body }),
        (/** @type {any} */ err) => ['ECONNRESET', 'EPIPE'].includes(err.code) || /socket hang up/.test(err.message),
      );
      assert.equal(s.requests[0].fault, 'drop');
      assert.equal(s.requests[0].status, null);
      assert.ok(s.requests[0].bodyBytes >= 1024);
      s.fault({ mode: 'drop' }); // afterBytes 0: right after the headers
      await assert.rejects(up());
      assert.equal((await up()).status, 200);
    });

    it('stall: stops reading and never answers until close()', async () => {
      const st = await startStandIn({ apiKey: KEY });
      st.fault({ mode: 'stall', afterBytes: 1024 });
      const big = multipart([{ name: 'file', filename: 'a.bin', contentType: 'application/octet-stream', data: Buffer.alloc(4 << 20) }]);
      let settled = false;
      const pending = request(st.url, { headers: { Authorization: AUTH, 'Content-Type': big.contentType }, body: big.body }).finally(() => {
        settled = true;
      });
      pending.catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(settled, false);
      assert.equal(st.requests[0].fault, 'stall');
      assert.equal(st.requests[0].status, null);
      assert.ok(st.requests[0].bodyBytes >= 1024 && st.requests[0].bodyBytes < big.body.length);
      await st.close();
      await assert.rejects(pending);
    });

    it('applies a fault with path/method to that route only', async () => {
      s.fault({ mode: 'status', status: 502, path: '/processes/entries', method: 'POST' });
      const ok = await up();
      assert.equal(ok.status, 200);
      const body = { process_id: 'p1', component_instance_id: 'c1' };
      assert.equal((await api(s.url, '/processes/entries', 'POST', body)).status, 502);
      assert.equal((await api(s.url, '/processes/entries', 'POST', body)).status, 200);
      assert.deepEqual(s.faults, []);
      assert.throws(() => s.fault(/** @type {any} */ ({ mode: 'explode' })), TypeError);
    });
  });

  describe('setDown', () => {
    it('refuses connections while down and comes back on the same port', async () => {
      const port = s.port;
      await s.setDown(true);
      assert.equal(s.down, true);
      await assert.rejects(fetch(`${s.url}/files`, { method: 'POST' }), (/** @type {any} */ err) => err.cause && err.cause.code === 'ECONNREFUSED');
      await s.setDown(false);
      assert.equal(s.port, port);
      const { res } = await fetchUpload(s.url);
      assert.equal(res.status, 200);
    });
  });

  describe('processes and datasets', () => {
    it('runs the SDK flow: dataset, entry, attach uploaded file by name, submit', async () => {
      const { body: file } = await fetchUpload(s.url);

      assert.deepEqual((await api(s.url, '/datasets?name=Report&type=FILE&process_id=p1', 'GET')).json, []);
      const ds = await api(s.url, '/datasets', 'PUT', { name: 'Report', type: 'FILE', process_id: 'p1' });
      assert.equal(ds.status, 200);
      assert.match(ds.json.id, UUID_RE);
      const again = await api(s.url, '/datasets', 'PUT', { name: 'Report', type: 'FILE', process_id: 'p1' });
      assert.deepEqual(again.json, ds.json);
      const found = await api(s.url, '/datasets?name=Report&type=FILE&process_id=p1', 'GET');
      assert.deepEqual(found.json, [ds.json]);
      assert.equal((await api(s.url, '/datasets', 'PUT', { name: 'Report', type: 'FILE' })).status, 400);

      const created = await api(s.url, '/processes/entries', 'POST', { process_id: 'p1', component_instance_id: 'ci-1', station_id: 'st-1' });
      assert.equal(created.status, 200);
      const entry = created.json;
      assert.match(entry.id, UUID_RE);
      assert.deepEqual(
        { ...entry, id: 0, timestamp: 0 },
        {
          id: 0,
          timestamp: 0,
          process_id: 'p1',
          component_instance_id: 'ci-1',
          station_id: 'st-1',
          operator_id: null,
          is_complete: false,
          is_pass: null,
          cycle_time: null,
          data: [],
        },
      );

      const datumPath = `/processes/entries/${entry.id}`;
      const byId = await api(s.url, datumPath, 'PUT', { type: 'FILE', dataset_id: ds.json.id, file_id: file.id, file_name: 'report.csv' });
      assert.equal(byId.status, 400);
      assert.match(byId.json.error, /name/);
      const unknown = await api(s.url, datumPath, 'PUT', { type: 'FILE', dataset_id: ds.json.id, file_id: 'files/x/y.csv' });
      assert.equal(unknown.status, 400);
      assert.equal((await api(s.url, datumPath, 'PUT', { type: 'FILE', dataset_id: ds.json.id })).status, 400);
      assert.equal((await api(s.url, datumPath, 'PUT', { type: 'FILE', dataset_id: 'nope', file_id: file.name })).status, 400);
      assert.equal((await api(s.url, datumPath, 'PUT', { type: 'IMAGE', dataset_id: ds.json.id, file_id: file.name })).status, 400);

      const put = await api(s.url, datumPath, 'PUT', { type: 'FILE', dataset_id: ds.json.id, file_id: file.name, file_name: 'report.csv' });
      assert.equal(put.status, 200);
      assert.equal(put.json.data.length, 1);
      assert.deepEqual(
        { ...put.json.data[0], id: 0, created_at: 0 },
        { id: 0, created_at: 0, type: 'FILE', dataset_id: ds.json.id, file_id: file.name, file_name: 'report.csv' },
      );

      const done = await api(s.url, datumPath, 'PATCH', { is_complete: true, is_pass: true, cycle_time: 12.5 });
      assert.equal(done.status, 200);
      assert.equal(done.json.is_complete, true);
      assert.equal(done.json.cycle_time, 12.5);
      assert.equal((await api(s.url, datumPath, 'PATCH', { is_complete: true })).status, 200); // idempotent retry
      assert.equal((await api(s.url, datumPath, 'PATCH', { is_pass: false })).status, 400);
      assert.equal((await api(s.url, datumPath, 'PUT', { type: 'FILE', dataset_id: ds.json.id, file_id: file.name })).status, 400);

      const got = await api(s.url, datumPath, 'GET');
      assert.deepEqual(got.json, done.json);
      assert.equal(s.entries.get(entry.id).data.length, 1);
      assert.equal(s.datasets.length, 1);
    });

    it('validates entry bodies and ids', async () => {
      const bad = [
        {},
        { process_id: 'p1' },
        { component_instance_id: 'c1' },
        { process_id: 1, component_instance_id: 'c1' },
        { process_id: 'p1', component_instance_id: 'c1', timestamp: 'yesterday' },
        { process_id: 'p1', component_instance_id: 'c1', extra: true },
      ];
      for (const b of bad) assert.equal((await api(s.url, '/processes/entries', 'POST', b)).status, 400, JSON.stringify(b));
      const notJson = await request(s.url, {
        path: '/processes/entries',
        headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
        body: '{nope',
      });
      assert.equal(notJson.status, 400);
      const wrongType = await request(s.url, {
        path: '/processes/entries',
        headers: { Authorization: AUTH, 'Content-Type': 'text/plain' },
        body: '{}',
      });
      assert.equal(wrongType.status, 415);
      const unauth = await request(s.url, {
        path: '/processes/entries',
        headers: { 'Content-Type': 'application/json' },
        body: '{"process_id":"p","component_instance_id":"c"}',
      });
      assert.equal(unauth.status, 401);
      assert.equal((await api(s.url, '/processes/entries/unknown', 'GET')).status, 404);
      assert.equal((await api(s.url, '/processes/entries/unknown', 'PATCH', { is_complete: true })).status, 404);
      assert.equal((await api(s.url, '/processes/entries/unknown', 'PUT', { type: 'FILE', dataset_id: 'd', file_id: 'f' })).status, 404);
      const e = (await api(s.url, '/processes/entries', 'POST', { process_id: 'p1', component_instance_id: 'c1' })).json;
      assert.equal((await api(s.url, `/processes/entries/${e.id}`, 'PATCH', { is_complete: 'yes' })).status, 400);
      assert.equal((await api(s.url, `/processes/entries/${e.id}`, 'PATCH', { cycle_time: -1 })).status, 400);
    });

    it('reset() clears everything, including the files that file_id may refer to', async () => {
      const { body: file } = await fetchUpload(s.url);
      const ds = s.addDataset({ name: 'Report', type: 'FILE', process_id: 'p1' });
      s.fault({ mode: 'status', status: 500 });
      s.reset();
      assert.deepEqual([s.uploads.length, s.requests.length, s.faults.length, s.datasets.length, s.entries.size], [0, 0, 0, 0, 0]);
      s.addDataset(ds);
      const e = (await api(s.url, '/processes/entries', 'POST', { process_id: 'p1', component_instance_id: 'c1' })).json;
      const r = await api(s.url, `/processes/entries/${e.id}`, 'PUT', { type: 'FILE', dataset_id: s.datasets[0].id, file_id: file.name });
      assert.equal(r.status, 400);
    });
  });

  describe('CLI', () => {
    it('prints the URL (never the key) and stops on SIGTERM', async () => {
      const secret = 'cli-secret-9f3a';
      const child = spawn(
        process.execPath,
        [path.join(__dirname, '..', 'harness', 'serial-stand-in.js'), '--port', '0', '--host', '127.0.0.1', '--api-key', secret],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stderr.on('data', (c) => {
        out += c;
      });
      const url = await new Promise((resolve, reject) => {
        child.stdout.on('data', (c) => {
          out += c;
          const m = /^Serial stand-in listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const res = await fetch(`${url}/datasets`, { headers: { Authorization: `Bearer ${secret}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), []);
      const code = await new Promise((resolve) => {
        child.on('exit', (c) => resolve(c));
        child.kill('SIGTERM');
      });
      assert.equal(code, 0);
      assert.ok(!out.includes(secret));
    });
  });
});
