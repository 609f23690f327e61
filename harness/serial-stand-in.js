// @ts-check
'use strict';

/**
 * Test-only stand-in for Serial's API (https://api.serial.io).
 *
 * Implements POST /files (multipart upload answered with a Supabase-style File-storage object) and the
 * process-entry / dataset endpoints that Serial's Python SDK uses to attach an uploaded file to a process
 * entry. It validates requests strictly, so the package's tests catch client bugs, and it can inject
 * faults (status codes, Retry-After, stalls, dropped connections, bad bodies, refused connections).
 *
 * Library:  const { startStandIn } = require('./serial-stand-in');
 * CLI:      node harness/serial-stand-in.js --port 8087 --host 127.0.0.1 --api-key demo-key [--store DIR] [--log]
 *
 * Dependencies: Node built-ins and busboy only. Uploads are streamed (hashed, optionally written to disk),
 * never buffered, so multi-GiB bodies use constant memory.
 */

const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { finished, Writable } = require('node:stream');
const { Worker } = require('node:worker_threads');
// @ts-ignore -- busboy ships no type declarations
const busboy = /** @type {any} */ (require('busboy'));

/** Bodies up to this size are read completely before an early rejection (401/411/400) is answered. */
const DRAIN_BEFORE_ANSWER_LIMIT = 1024 * 1024;
/** How much of the start of an upload is kept to read the first part's raw headers. */
const HEAD_CAPTURE_BYTES = 64 * 1024;
/** JSON request bodies larger than this get 413. */
const JSON_BODY_LIMIT = 1024 * 1024;
const FAULT_MODES = new Set(['status', 'retryAfter', 'stall', 'drop', 'badJson', 'notJson', 'trickle', 'lostAnswer']);
const DATUM_TYPE_RE = /^[A-Z][A-Z_]*$/;
/** Dataset types Serial's docs list. */
const DATASET_TYPES = new Set([
  'TEXT',
  'NUMERICAL',
  'BOOLEAN',
  'FILE',
  'IMAGE',
  'LINK',
  'PARAMETRIC_QUANTITATIVE',
  'PARAMETRIC_QUALITATIVE',
  'CHECKBOX',
  'UID',
]);

/**
 * @typedef {object} StandInOptions
 * @property {string} apiKey                 the only accepted key (`Authorization: Bearer <apiKey>`)
 * @property {string} [host='127.0.0.1']
 * @property {number} [port=0]               0 = pick a free port
 * @property {string} [storeDir]             write uploaded files to <storeDir>/<id>-<sanitised name>
 * @property {boolean | ((line: string) => void)} [log=false]
 * @property {boolean} [requirePartContentType=false] answer 400 when the file part has no Content-Type header
 * @property {number} [lingerMs=2000]        after an early rejection of a large/unknown-length body, keep
 *                                           discarding the rest this long before destroying the socket
 * @property {number} [hashWorkerThreshold] uploads with at least this Content-Length are hashed in a
 *                                           worker thread (default 16 MiB; Infinity: always in the main thread)
 * @property {(upload: any) => void} [onUpload]
 * @property {import('node:tls').TlsOptions} [tls] serve HTTPS with these (key, cert, ca, requestCert…)
 */

/**
 * @typedef {object} FaultSpec
 * @property {'status'|'retryAfter'|'stall'|'drop'|'badJson'|'notJson'|'trickle'|'lostAnswer'} mode
 *   lostAnswer: the request is served as usual (an upload is stored), then the connection is cut instead of answering
 * @property {number} [count=1]       how many matching requests get this fault (Infinity allowed)
 * @property {number} [status]        for 'status' (default 500) and 'retryAfter' (default 429)
 * @property {any} [body]             for 'status'/'retryAfter': response body (object → JSON, string → text)
 * @property {Record<string,string>} [headers] extra response headers for 'status'/'retryAfter'
 * @property {string|number} [retryAfter='1'] Retry-After header value for 'retryAfter'
 * @property {number} [afterBytes=0]  for 'stall'/'drop': body bytes to read first
 * @property {number} [intervalMs=2000] for 'trickle': the answer's bytes come one per interval
 * @property {string} [path]          path prefix to match (default '/files')
 * @property {string} [method]        method to match (default 'POST' when path is not given, any method otherwise)
 */

/** @param {http.IncomingHttpHeaders} headers */
function redactHeaders(headers) {
  /** @type {Record<string, any>} */
  const out = { ...headers };
  if ('authorization' in out) out.authorization = '<redacted>';
  if ('proxy-authorization' in out) out['proxy-authorization'] = '<redacted>';
  return out;
}

/** @param {import('node:tls').TLSSocket & {encrypted?: boolean}} socket */
function tlsInfo(socket) {
  if (!socket.encrypted) return null;
  const peer = socket.getPeerCertificate();
  return { protocol: socket.getProtocol(), clientAuthorized: socket.authorized, clientName: peer && peer.subject ? peer.subject.CN : null };
}

/** @param {string} name */
function sanitiseFilename(name) {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '_');
  return (cleaned || 'file').slice(0, 120);
}

/** @param {string} contentType */
function parseBoundary(contentType) {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? m[1] || m[2] : null;
}

/**
 * Raw headers of the first multipart part (busboy does not expose them, e.g. whether Content-Type was sent).
 * @param {Buffer} head @param {string} boundary
 * @returns {Record<string,string> | null}
 */
function firstPartHeaders(head, boundary) {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  let at;
  for (let from = 0; ;) {
    const i = head.indexOf(delim, from);
    if (i < 0) return null;
    if (i === 0 || (i >= 2 && head[i - 2] === 13 && head[i - 1] === 10)) {
      at = i;
      break;
    }
    from = i + 1;
  }
  let start = at + delim.length;
  while (head[start] === 32 || head[start] === 9) start++; // transport padding
  if (head[start] !== 13 || head[start + 1] !== 10) return null; // close delimiter or malformed
  start += 2;
  const end = head.indexOf('\r\n\r\n', start, 'latin1');
  if (end < 0) return start === head.indexOf('\r\n', start, 'latin1') ? {} : null;
  /** @type {Record<string,string>} */
  const out = {};
  for (const line of head.subarray(start, end).toString('utf8').split('\r\n')) {
    const c = line.indexOf(':');
    if (c > 0) out[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  return out;
}

/** true when the Accept header asks for XML and not for JSON. @param {string | undefined} accept */
function prefersXml(accept) {
  if (!accept) return false;
  const types = accept
    .split(',')
    .map((item) => {
      const [type, ...params] = item.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('q='));
      return { type: type.trim().toLowerCase(), q: qParam ? Number(qParam.slice(2)) : 1 };
    })
    .filter((t) => t.q > 0);
  const json = types.some((t) => t.type === 'application/json' || t.type === 'application/*' || t.type === '*/*' || t.type.endsWith('+json'));
  const xml = types.some((t) => t.type === 'application/xml' || t.type === 'text/xml');
  return xml && !json;
}

/** @param {unknown} v */
const isNonEmptyString = (v) => typeof v === 'string' && v.length > 0;
/** @param {unknown} v */
const isPlainObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** @param {Record<string, unknown>} body @param {string[]} allowed */
function unknownFields(body, allowed) {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  return extra.length ? `unknown field(s): ${extra.join(', ')}` : null;
}

// ------------------------------------------------------------------ hashing (sha256 + md5)

/** Worker-thread side: hashes batches for several concurrent uploads, acknowledges each batch. */
const HASH_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const jobs = new Map();
const job = (id) => {
  let j = jobs.get(id);
  if (!j) { j = { s: crypto.createHash('sha256'), m: crypto.createHash('md5') }; jobs.set(id, j); }
  return j;
};
parentPort.on('message', (msg) => {
  if (msg.t === 'd') {
    const j = job(msg.id);
    const b = Buffer.from(msg.buf);
    j.s.update(b); j.m.update(b);
    parentPort.postMessage({ t: 'a', id: msg.id, n: b.length });
  } else if (msg.t === 'e') {
    const j = job(msg.id);
    jobs.delete(msg.id);
    parentPort.postMessage({ t: 'r', id: msg.id, sha256: j.s.digest('hex'), md5: j.m.digest('hex') });
  } else if (msg.t === 'x') {
    jobs.delete(msg.id);
  }
});
`;
const WORKER_BATCH_BYTES = 1024 * 1024;
const WORKER_MAX_IN_FLIGHT = 16 * 1024 * 1024;

/** One lazily started worker thread shared by the large uploads of a stand-in. */
class HashWorker {
  constructor() {
    /** @type {Worker | null} */ this.worker = null;
    /** @type {Map<number, { ack: (n: number) => void, done: (r: {sha256: string, md5: string}) => void, fail: (e: Error) => void }>} */
    this.jobs = new Map();
    this.nextId = 1;
  }

  /** @returns {Worker} */
  get() {
    if (this.worker) return this.worker;
    const w = new Worker(HASH_WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (/** @type {any} */ m) => {
      const j = this.jobs.get(m.id);
      if (!j) return;
      if (m.t === 'a') j.ack(m.n);
      else if (m.t === 'r') {
        this.jobs.delete(m.id);
        j.done(m);
      }
    });
    const failAll = (/** @type {Error} */ err) => {
      if (this.worker === w) this.worker = null;
      for (const j of this.jobs.values()) j.fail(err);
      this.jobs.clear();
    };
    w.on('error', failAll);
    w.on('exit', () => failAll(new Error('hash worker exited')));
    this.worker = w;
    return w;
  }

  terminate() {
    const w = this.worker;
    this.worker = null;
    this.jobs.clear();
    if (w) w.terminate().catch(() => {});
  }
}

/**
 * Writable that computes sha256 and md5 of what is written, in this thread or (for large bodies) in a
 * worker thread with bounded in-flight bytes, so hashing a 2 GiB upload runs beside the HTTP parsing.
 */
class HashSink extends Writable {
  /** @param {HashWorker | null} pool */
  constructor(pool) {
    super({ highWaterMark: WORKER_BATCH_BYTES });
    this.pool = pool;
    this.size = 0;
    /** @type {{ sha256: string, md5: string } | null} */ this.result = null;
    /** @type {crypto.Hash | null} */ this.sha = pool ? null : crypto.createHash('sha256');
    /** @type {crypto.Hash | null} */ this.md5 = pool ? null : crypto.createHash('md5');
    this.id = pool ? pool.nextId++ : 0;
    this.inFlight = 0;
    /** @type {Buffer | null} */ this.batch = null;
    this.batchLen = 0;
    /** @type {((err?: Error | null) => void) | null} */ this.waiting = null;
    /** @type {((err?: Error | null) => void) | null} */ this.finalCb = null;
    /** @type {Worker | null} */ this.worker = pool ? pool.get() : null;
    if (!pool) return;
    pool.jobs.set(this.id, {
      ack: (n) => {
        this.inFlight -= n;
        if (this.waiting && this.inFlight <= WORKER_MAX_IN_FLIGHT / 2) {
          const cb = this.waiting;
          this.waiting = null;
          cb();
        }
      },
      done: (r) => {
        this.result = r;
        const cb = this.finalCb;
        this.finalCb = null;
        if (cb) cb();
      },
      fail: (err) => {
        const cb = this.waiting || this.finalCb;
        this.waiting = null;
        this.finalCb = null;
        if (cb) cb(err);
        else this.destroy(err);
      },
    });
  }

  flushBatch() {
    const batch = this.batch;
    if (!batch || !this.worker || this.batchLen === 0) return;
    // allocUnsafeSlow: the batch owns its whole ArrayBuffer, so it can be transferred without a copy
    const buf = /** @type {ArrayBuffer} */ (batch.buffer);
    const len = this.batchLen;
    this.batch = null;
    this.batchLen = 0;
    this.inFlight += len;
    this.worker.postMessage({ t: 'd', id: this.id, buf: len === buf.byteLength ? buf : buf.slice(0, len) }, len === buf.byteLength ? [buf] : []);
  }

  /** @param {Buffer} chunk @param {BufferEncoding} _enc @param {(err?: Error | null) => void} cb */
  _write(chunk, _enc, cb) {
    this.size += chunk.length;
    if (this.sha && this.md5) {
      this.sha.update(chunk);
      this.md5.update(chunk);
      cb();
      return;
    }
    let off = 0;
    while (off < chunk.length) {
      if (!this.batch) {
        this.batch = Buffer.allocUnsafeSlow(WORKER_BATCH_BYTES);
        this.batchLen = 0;
      }
      const n = chunk.copy(this.batch, this.batchLen, off);
      this.batchLen += n;
      off += n;
      if (this.batchLen === WORKER_BATCH_BYTES) this.flushBatch();
    }
    if (this.inFlight > WORKER_MAX_IN_FLIGHT) this.waiting = cb;
    else cb();
  }

  /** @param {(err?: Error | null) => void} cb */
  _final(cb) {
    if (this.sha && this.md5) {
      this.result = { sha256: this.sha.digest('hex'), md5: this.md5.digest('hex') };
      cb();
      return;
    }
    if (!this.worker) {
      cb(new Error('hash worker unavailable'));
      return;
    }
    this.flushBatch();
    this.finalCb = cb;
    this.worker.postMessage({ t: 'e', id: this.id });
  }

  /** @param {Error | null} err @param {(err?: Error | null) => void} cb */
  _destroy(err, cb) {
    if (this.pool && !this.result) {
      this.pool.jobs.delete(this.id);
      if (this.worker && this.pool.worker === this.worker) this.worker.postMessage({ t: 'x', id: this.id });
    }
    cb(err);
  }
}

/**
 * @param {StandInOptions} options
 */
async function startStandIn(options) {
  const opts = options || /** @type {StandInOptions} */ ({});
  const apiKey = opts.apiKey;
  if (!isNonEmptyString(apiKey)) throw new TypeError('startStandIn: apiKey (non-empty string) is required');
  const expectedAuth = `Bearer ${apiKey}`;
  const host = opts.host || '127.0.0.1';
  const storeDir = opts.storeDir ? path.resolve(opts.storeDir) : undefined;
  const lingerMs = opts.lingerMs ?? 2000;
  const requirePartContentType = !!opts.requirePartContentType;
  const hashWorkerThreshold = opts.hashWorkerThreshold ?? 16 * 1024 * 1024;
  const hashWorker = new HashWorker();
  if (storeDir) await fs.promises.mkdir(storeDir, { recursive: true });

  /** @param {string} line */
  const log = (line) => {
    if (typeof opts.log === 'function') opts.log(line);
    else if (opts.log) console.log(`[serial-stand-in] ${line}`);
  };

  /** @type {any[]} */ const uploads = [];
  /** @type {any[]} */ const requests = [];
  /** @type {Map<string, any>} */ const entries = new Map();
  /** Units (component instances) by id; with any present, an entry needs a known unit. @type {Map<string, any>} */ const units = new Map();
  /** @type {any[]} */ const componentLinks = [];
  /** @type {any[]} */ const instanceLinks = [];
  /** @type {any[]} */ const datasets = [];
  /** @type {Map<string, string>} upload id → stored path */ const bodies = new Map();
  /** @type {any[]} */ const faults = [];
  /** @type {Map<string, any>} */ const uploadsByName = new Map();
  /** @type {Map<string, any>} */ const uploadsById = new Map();
  /** @type {Set<import('node:net').Socket>} */ const sockets = new Set();
  /** @type {Set<NodeJS.Timeout>} */ const timers = new Set();

  let down = false;
  let datasetPuts = 0;
  let closed = false;
  let boundPort = opts.port || 0;

  const server = opts.tls ? https.createServer(opts.tls) : http.createServer();
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 20000;
  server.requestTimeout = 0; // multi-GiB uploads
  server.timeout = 0;
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => handle(req, res, false));
  server.on('checkContinue', (req, res) => handle(req, res, true));

  /** @param {number} port */
  function listen(port) {
    return new Promise((resolve, reject) => {
      const onError = (/** @type {Error} */ err) => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const addr = server.address();
        if (addr && typeof addr === 'object') boundPort = addr.port;
        resolve(undefined);
      });
    });
  }

  function destroySockets() {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const s of sockets) s.destroy();
    sockets.clear();
  }

  function stopListening() {
    return new Promise((resolve) => {
      if (!server.listening) {
        destroySockets();
        resolve(undefined);
        return;
      }
      server.close(() => resolve(undefined));
      destroySockets();
    });
  }

  // ------------------------------------------------------------------ helpers per request

  /**
   * @typedef {object} Ctx
   * @property {http.IncomingMessage} req
   * @property {http.ServerResponse} res
   * @property {any} rec
   * @property {URL} url
   * @property {boolean} expectContinue
   * @property {boolean} continued
   * @property {boolean} [loseAnswer] served, but the answer is never sent (fault lostAnswer)
   */

  /** Allow the client to send its body (answers `Expect: 100-continue`). @param {Ctx} ctx */
  function beginBody(ctx) {
    if (ctx.expectContinue && !ctx.continued && !ctx.res.headersSent) {
      ctx.continued = true;
      ctx.res.writeContinue();
    }
  }

  /**
   * @param {Ctx} ctx @param {number} status @param {any} [body]
   * @param {Record<string, string|number>} [headers]
   */
  function send(ctx, status, body, headers = {}) {
    const { res, rec } = ctx;
    if (res.headersSent || res.destroyed || res.writableEnded) return;
    if (ctx.loseAnswer) {
      rec.fault = 'lostAnswer';
      rec.status = null;
      log(`${rec.method} ${rec.path} -> ${status}, answer lost (fault)`);
      res.socket?.destroy();
      return;
    }
    rec.status = status;
    if (body === undefined) body = { error: http.STATUS_CODES[status] || `HTTP ${status}` };
    let payload;
    /** @type {Record<string, string|number>} */
    const h = {};
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      payload = body;
      h['Content-Type'] = 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(body);
      h['Content-Type'] = 'application/json; charset=utf-8';
    }
    for (const [k, v] of Object.entries(headers)) {
      for (const existing of Object.keys(h)) if (existing.toLowerCase() === k.toLowerCase()) delete h[existing];
      h[k] = v;
    }
    h['Content-Length'] = Buffer.byteLength(payload);
    res.writeHead(status, h);
    res.end(payload);
    log(`${rec.method} ${rec.path} -> ${status}${rec.fault ? ` (fault ${rec.fault})` : ''}`);
  }

  /** Resolve when the request body has been read (and discarded). @param {Ctx} ctx */
  function drain(ctx) {
    beginBody(ctx);
    return new Promise((resolve, reject) => {
      finished(ctx.req, (err) => (err ? reject(err) : resolve(undefined)));
      ctx.req.resume();
    });
  }

  /** Keep discarding the body for a while after an early answer, then cut the connection. @param {Ctx} ctx */
  function linger(ctx) {
    const { req } = ctx;
    if (req.readableEnded) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!req.readableEnded) req.socket.destroy();
    }, lingerMs);
    timers.add(timer);
    finished(req, () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
    req.resume();
  }

  /** Content-Length as a number, or null. @param {http.IncomingMessage} req */
  function contentLengthOf(req) {
    const v = req.headers['content-length'];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
  }

  /**
   * Answer an error before (or instead of) reading the body. Small bodies are drained first so the
   * connection stays usable; large or unknown-length bodies are answered at once and the rest is
   * discarded for `lingerMs`.
   * @param {Ctx} ctx @param {number} status @param {any} body @param {Record<string,string>} [headers]
   */
  function reject(ctx, status, body, headers = {}) {
    const { req } = ctx;
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const length = chunked ? Infinity : (contentLengthOf(req) ?? 0);
    if (ctx.expectContinue && !ctx.continued) {
      // The client is waiting for 100 Continue: answer now, it will not send the body.
      send(ctx, status, body, { ...headers, Connection: 'close' });
      linger(ctx);
      return;
    }
    if (req.readableEnded || length <= DRAIN_BEFORE_ANSWER_LIMIT) {
      drain(ctx).then(
        () => send(ctx, status, body, headers),
        () => {
          /* client went away */
        },
      );
      return;
    }
    send(ctx, status, body, headers);
    linger(ctx);
  }

  /** @param {string} method @param {string} pathname */
  function takeFault(method, pathname) {
    const idx = faults.findIndex((f) => {
      if (f.method && f.method !== method) return false;
      return pathname === f.path || pathname.startsWith(f.path.endsWith('/') ? f.path : `${f.path}/`);
    });
    if (idx < 0) return null;
    const f = faults[idx];
    f.remaining -= 1;
    if (f.remaining <= 0) faults.splice(idx, 1);
    return f;
  }

  /** @param {Ctx} ctx @param {any} f */
  function applyFault(ctx, f) {
    const { req, rec } = ctx;
    rec.fault = f.mode;
    rec.bodyBytes = 0;
    switch (f.mode) {
      case 'status':
      case 'retryAfter': {
        const status = f.status ?? (f.mode === 'retryAfter' ? 429 : 500);
        /** @type {Record<string,string>} */
        const headers = { ...(f.headers || {}) };
        if (f.mode === 'retryAfter') headers['Retry-After'] = String(f.retryAfter ?? '1');
        req.on('data', (c) => {
          rec.bodyBytes += c.length;
        });
        drain(ctx).then(
          () => send(ctx, status, f.body, headers),
          () => {},
        );
        return;
      }
      case 'badJson':
      case 'notJson':
        req.on('data', (c) => {
          rec.bodyBytes += c.length;
        });
        drain(ctx).then(
          () => {
            if (f.mode === 'badJson') send(ctx, 200, { ok: true });
            else send(ctx, 200, '<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>', { 'Content-Type': 'text/html; charset=utf-8' });
          },
          () => {},
        );
        return;
      case 'trickle': {
        // Reads the whole request, then answers a byte at a time: never still for long, never done.
        drain(ctx).then(
          () => {
            const body = Buffer.from(JSON.stringify({ error: 'slowly' }));
            ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
            let at = 0;
            const tick = () => {
              if (ctx.res.destroyed || at >= body.length) return;
              ctx.res.write(body.subarray(at, ++at));
              const t = setTimeout(() => {
                timers.delete(t);
                tick();
              }, f.intervalMs ?? 2000);
              timers.add(t);
            };
            tick();
          },
          () => {},
        );
        return;
      }
      case 'stall': {
        const after = f.afterBytes ?? 0;
        log(`${rec.method} ${rec.path} stalled (fault)`);
        if (after <= 0) {
          req.pause();
          return;
        }
        beginBody(ctx);
        const onData = (/** @type {Buffer} */ c) => {
          rec.bodyBytes += c.length;
          if (rec.bodyBytes >= after) {
            req.pause();
            req.off('data', onData);
          }
        };
        req.on('data', onData);
        return;
      }
      case 'drop': {
        const after = f.afterBytes ?? 0;
        log(`${rec.method} ${rec.path} dropped (fault)`);
        if (after <= 0) {
          req.socket.destroy();
          return;
        }
        beginBody(ctx);
        req.on('data', (c) => {
          rec.bodyBytes += c.length;
          if (rec.bodyBytes >= after) req.socket.destroy();
        });
        req.on('end', () => req.socket.destroy());
        return;
      }
      default:
        send(ctx, 500, { error: `unknown fault mode ${f.mode}` });
    }
  }

  // ------------------------------------------------------------------ dispatch

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {boolean} expectContinue */
  function handle(req, res, expectContinue) {
    let url;
    try {
      url = new URL(req.url || '/', 'http://stand-in.invalid');
    } catch {
      url = new URL('http://stand-in.invalid/');
    }
    const authorized = req.headers.authorization === expectedAuth;
    const rec = {
      method: req.method,
      path: url.pathname,
      url: req.url,
      status: /** @type {number|null} */ (null),
      headers: redactHeaders(req.headers),
      authorized,
      receivedAt: new Date().toISOString(),
      /** Over TLS: whether the client sent a certificate the server trusts, and its name. */
      tls: tlsInfo(/** @type {any} */ (req.socket)),
    };
    requests.push(rec);
    /** @type {Ctx} */
    const ctx = /** @type {Ctx} */ ({ req, res, rec, url, expectContinue, continued: false });
    req.on('error', () => {
      /* client aborted; handled where the body is read */
    });

    const fault = takeFault(req.method || '', url.pathname) ?? chaosFault(req.method || '', url.pathname);
    if (fault && fault.mode === 'lostAnswer') ctx.loseAnswer = true;
    else if (fault) return applyFault(ctx, fault);

    if (!authorized) return reject(ctx, 401, { error: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer' });

    const p = url.pathname;
    const m = req.method;
    /** @type {(() => Promise<void> | void) | null} */
    let route = null;
    /** @type {string[] | null} */
    let allowed = null;
    const entryMatch = /^\/processes\/entries\/([^/]+)$/.exec(p);
    if (p === '/files') {
      allowed = ['POST'];
      if (m === 'POST') route = () => handleUpload(ctx);
    } else if (p === '/processes/entries') {
      allowed = ['GET', 'POST'];
      if (m === 'POST') route = () => createEntry(ctx);
      else if (m === 'GET') route = () => findEntries(ctx);
    } else if (entryMatch) {
      allowed = ['GET', 'PUT', 'PATCH'];
      let id;
      try {
        id = decodeURIComponent(entryMatch[1]);
      } catch {
        id = entryMatch[1];
      }
      if (m === 'GET') route = () => getEntry(ctx, id);
      else if (m === 'PUT') route = () => addDatum(ctx, id);
      else if (m === 'PATCH') route = () => patchEntry(ctx, id);
    } else if (p === '/datasets') {
      allowed = ['GET', 'PUT'];
      if (m === 'GET') route = () => listDatasets(ctx);
      else if (m === 'PUT') route = () => putDataset(ctx);
    } else if (p === '/components/instances') {
      allowed = ['GET', 'PUT'];
      if (m === 'GET') route = () => listUnits(ctx);
      else if (m === 'PUT') route = () => putUnit(ctx);
    } else if (p === '/components/links') {
      allowed = ['PUT'];
      if (m === 'PUT') route = () => putComponentLink(ctx);
    } else if (p === '/components/instances/links') {
      allowed = ['PUT'];
      if (m === 'PUT') route = () => putInstanceLink(ctx);
    }
    if (!allowed) return reject(ctx, 404, { error: `Not Found: ${m} ${p}` });
    if (!route) return reject(ctx, 405, { error: `Method ${m} not allowed on ${p}` }, { Allow: allowed.join(', ') });
    Promise.resolve()
      .then(route)
      .catch((err) => {
        log(`internal error: ${err && err.stack ? err.stack : err}`);
        if (!res.headersSent) send(ctx, 500, { error: 'Internal Server Error' }, { Connection: 'close' });
        else res.destroy();
      });
  }

  // ------------------------------------------------------------------ POST /files

  /** @param {Ctx} ctx */
  async function handleUpload(ctx) {
    const { req, rec } = ctx;
    const started = Date.now();
    if (req.headers['transfer-encoding'] !== undefined) {
      return reject(ctx, 411, { error: 'Length Required: Transfer-Encoding uploads are not accepted, send Content-Length' });
    }
    const contentLength = contentLengthOf(req);
    if (contentLength === null) return reject(ctx, 411, { error: 'Length Required: Content-Length header missing' });
    const contentType = req.headers['content-type'] || '';
    const boundary = parseBoundary(contentType);
    if (!/^multipart\/form-data\s*(;|$)/i.test(contentType) || !boundary) {
      return reject(ctx, 400, { error: 'Content-Type must be multipart/form-data with a boundary' });
    }
    /** @type {import('node:stream').Writable} */
    let bb;
    try {
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8' });
    } catch (err) {
      return reject(ctx, 400, { error: `Invalid multipart request: ${/** @type {Error} */ (err).message}` });
    }

    const id = crypto.randomUUID();
    const folder = crypto.randomUUID();
    /** @type {string | null} */ let failure = null;
    const fail = (/** @type {string} */ msg) => {
      if (!failure) failure = msg;
    };
    /** @type {{ filename: string, mimeType: string, encoding: string } | null} */ let fileInfo = null;
    /** @type {HashSink | null} */ let sink = null;
    /** @type {string | undefined} */ let storedPath;
    /** @type {fs.WriteStream | null} */ let ws = null;
    /** @type {Promise<void>} */ let fileDone = Promise.resolve();
    let received = 0;
    /** @type {Buffer[]} */ const head = [];
    let headLen = 0;

    beginBody(ctx);
    req.on('data', (/** @type {Buffer} */ chunk) => {
      received += chunk.length;
      if (headLen < HEAD_CAPTURE_BYTES) {
        const part = chunk.subarray(0, HEAD_CAPTURE_BYTES - headLen);
        head.push(part);
        headLen += part.length;
      }
    });

    bb.on(
      'file',
      (
        /** @type {string} */ name,
        /** @type {import('node:stream').Readable} */ stream,
        /** @type {{ filename: string, mimeType: string, encoding: string }} */ info,
      ) => {
        if (fileInfo) {
          fail('more than one file part: exactly one part named "file" is allowed');
          stream.resume();
          return;
        }
        if (name !== 'file') {
          fail(`unexpected file part "${name}": the file part must be named "file"`);
          stream.resume();
          return;
        }
        if (!info.filename) {
          fail('the file part has an empty filename');
          stream.resume();
          return;
        }
        fileInfo = info;
        if (storeDir) {
          storedPath = path.join(storeDir, `${id}-${sanitiseFilename(info.filename)}`);
          ws = fs.createWriteStream(storedPath);
        }
        const hashSink = new HashSink(contentLength >= hashWorkerThreshold ? hashWorker : null);
        sink = hashSink;
        /** @param {import('node:stream').Readable | import('node:stream').Writable} st */
        const done = (st) => new Promise((resolve, rejectFile) => finished(st, (err) => (err ? rejectFile(err) : resolve(undefined))));
        const waits = [done(stream), done(hashSink)];
        stream.pipe(hashSink);
        if (ws) {
          waits.push(done(ws));
          stream.pipe(ws);
        }
        fileDone = Promise.all(waits).then(
          () => {},
          (err) => {
            hashSink.destroy();
            throw err;
          },
        );
        fileDone.catch(() => {}); // awaited below
      },
    );
    bb.on('field', (/** @type {string} */ name) => {
      if (name === 'file') fail('the part named "file" has no filename (send it as a file part with filename and Content-Type)');
      else fail(`unexpected form field "${name}": only one part named "file" is allowed`);
    });

    const bbDone = new Promise((resolve) => {
      bb.on('error', (/** @type {Error} */ err) => {
        fail(`malformed multipart body: ${err.message}`);
        req.unpipe(bb);
        req.resume();
        resolve(undefined);
      });
      bb.on('close', () => resolve(undefined));
    });
    const reqDone = new Promise((resolve, rejectReq) => finished(req, (err) => (err ? rejectReq(err) : resolve(undefined))));
    req.pipe(bb);

    const cleanup = () => {
      const hs = /** @type {HashSink | null} */ (sink);
      if (hs && !hs.destroyed) hs.destroy();
      const w = /** @type {fs.WriteStream | null} */ (ws);
      if (w && !w.destroyed) w.destroy();
      if (storedPath) fs.promises.unlink(storedPath).catch(() => {});
    };

    try {
      await reqDone;
    } catch {
      // Client aborted or the connection was cut: nothing to answer.
      bb.destroy();
      cleanup();
      rec.bodyBytes = received;
      log(`${rec.method} ${rec.path} aborted by client after ${received} bytes`);
      return;
    }
    await bbDone;
    try {
      await fileDone;
    } catch (err) {
      fail(`file part could not be read: ${/** @type {Error} */ (err).message}`);
    }
    rec.bodyBytes = received;

    if (received !== contentLength) fail(`received ${received} body bytes but Content-Length is ${contentLength}`);
    if (!fileInfo && !failure) fail('missing the file part: send one multipart part named "file" with a filename');
    const partHeaders = firstPartHeaders(Buffer.concat(head), boundary);
    const partContentType = partHeaders && partHeaders['content-type'] !== undefined ? partHeaders['content-type'] : null;
    if (!failure && requirePartContentType && !partContentType) fail('the file part has no Content-Type header');

    if (failure || !fileInfo) {
      cleanup();
      send(ctx, 400, { error: failure });
      return;
    }
    const info = /** @type {{ filename: string, mimeType: string, encoding: string }} */ (fileInfo);
    const hashed = /** @type {HashSink} */ (/** @type {unknown} */ (sink));
    const { size } = hashed;
    const digests = /** @type {{ sha256: string, md5: string }} */ (hashed.result);

    const now = new Date().toISOString();
    const fileStorage = {
      name: `files/${folder}/${info.filename}`,
      id,
      updated_at: now,
      created_at: now,
      last_accessed_at: now,
      bucket_id: 'files',
      metadata: {
        eTag: `"${digests.md5}"`,
        size,
        mimetype: info.mimeType,
        cacheControl: 'max-age=3600',
        lastModified: now,
        contentLength: String(size),
        httpStatusCode: 200,
      },
    };
    const accept = req.headers.accept;
    const xml = prefersXml(accept);
    const upload = {
      id,
      name: fileStorage.name,
      filename: info.filename,
      mimetype: info.mimeType,
      partContentType,
      partHeaders,
      size,
      sha256: digests.sha256,
      contentLength,
      accept: accept ?? null,
      responseType: xml ? 'xml' : 'json',
      headers: rec.headers,
      authorized: true,
      fileStorage,
      storedPath,
      receivedAt: now,
      durationMs: Date.now() - started,
    };
    uploads.push(upload);
    uploadsByName.set(upload.name, upload);
    uploadsById.set(upload.id, upload);
    if (storedPath) bodies.set(id, storedPath);
    if (typeof standIn.onUpload === 'function') {
      try {
        standIn.onUpload(upload);
      } catch (err) {
        log(`onUpload hook threw: ${err}`);
      }
    }
    if (xml) send(ctx, 200, `<file_id>${id}</file_id>`, { 'Content-Type': 'application/xml; charset=utf-8' });
    else send(ctx, 200, fileStorage);
  }

  // ------------------------------------------------------------------ JSON endpoints

  /**
   * Read a JSON object body. Answers the error itself and returns undefined on failure.
   * @param {Ctx} ctx @returns {Promise<Record<string, any> | undefined>}
   */
  async function readJson(ctx) {
    const { req } = ctx;
    const ct = req.headers['content-type'] || '';
    if (!/^application\/json\s*(;|$)/i.test(ct)) {
      reject(ctx, 415, { error: 'Content-Type must be application/json' });
      return undefined;
    }
    const cl = contentLengthOf(req);
    if (cl !== null && cl > JSON_BODY_LIMIT) {
      reject(ctx, 413, { error: 'request body too large' });
      return undefined;
    }
    beginBody(ctx);
    /** @type {Buffer[]} */ const chunks = [];
    let total = 0;
    let tooLarge = false;
    try {
      await new Promise((resolve, rejectBody) => {
        req.on('data', (/** @type {Buffer} */ c) => {
          total += c.length;
          if (total > JSON_BODY_LIMIT) {
            if (!tooLarge) {
              tooLarge = true;
              chunks.length = 0;
              send(ctx, 413, { error: 'request body too large' });
              linger(ctx);
              resolve(undefined);
            }
            return;
          }
          chunks.push(c);
        });
        finished(req, (err) => (err ? rejectBody(err) : resolve(undefined)));
      });
    } catch {
      return undefined; // client went away
    }
    if (tooLarge) return undefined;
    ctx.rec.bodyBytes = total;
    let value;
    try {
      value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      send(ctx, 400, { error: 'request body is not valid JSON' });
      return undefined;
    }
    if (!isPlainObject(value)) {
      send(ctx, 400, { error: 'request body must be a JSON object' });
      return undefined;
    }
    ctx.rec.body = value;
    return value;
  }

  /** @param {any} entry */
  const entryView = (entry) => structuredClone(entry);

  /** @param {Ctx} ctx */
  async function createEntry(ctx) {
    const body = await readJson(ctx);
    if (!body) return;
    const err =
      unknownFields(body, ['process_id', 'component_instance_id', 'station_id', 'operator_id', 'timestamp']) ||
      (!isNonEmptyString(body.process_id) && 'process_id (string) is required') ||
      (!isNonEmptyString(body.component_instance_id) && 'component_instance_id (string) is required') ||
      (body.station_id != null && !isNonEmptyString(body.station_id) && 'station_id must be a string') ||
      (body.operator_id != null && !isNonEmptyString(body.operator_id) && 'operator_id must be a string') ||
      (body.timestamp != null &&
        (typeof body.timestamp !== 'string' || Number.isNaN(Date.parse(body.timestamp))) &&
        'timestamp must be an ISO 8601 date-time string');
    if (err) return send(ctx, 400, { error: err });
    if (units.size && !units.has(body.component_instance_id)) {
      return send(ctx, 400, {
        error: `component_instance_id ${body.component_instance_id} is not a unit (look it up with GET /components/instances)`,
      });
    }
    const entry = {
      id: crypto.randomUUID(),
      process_id: body.process_id,
      component_instance_id: body.component_instance_id,
      station_id: body.station_id ?? null,
      operator_id: body.operator_id ?? null,
      timestamp: body.timestamp ?? new Date().toISOString(),
      is_complete: false,
      is_pass: null,
      cycle_time: null,
      data: [],
    };
    entries.set(entry.id, entry);
    send(ctx, 200, entryView(entry));
  }

  /** @param {Ctx} ctx @param {string} id */
  async function getEntry(ctx, id) {
    await drain(ctx).catch(() => {});
    const entry = entries.get(id);
    if (!entry) return send(ctx, 404, { error: `process entry ${id} not found` });
    send(ctx, 200, entryView(entry));
  }

  /** @param {Ctx} ctx @param {string} id */
  async function addDatum(ctx, id) {
    const body = await readJson(ctx);
    if (!body) return;
    const entry = entries.get(id);
    if (!entry) return send(ctx, 404, { error: `process entry ${id} not found` });
    if (entry.is_complete) return send(ctx, 400, { error: `process entry ${id} is already complete: no more data` });
    const isFile = body.type === 'FILE' || body.type === 'IMAGE';
    let err =
      unknownFields(body, ['type', 'dataset_id', 'file_id', 'file_name', 'value', 'expected_value', 'usl', 'lsl']) ||
      valueProblem(body) ||
      (!(typeof body.type === 'string' && DATUM_TYPE_RE.test(body.type)) && 'type is required (e.g. "FILE" or "IMAGE")') ||
      (!isNonEmptyString(body.dataset_id) && 'dataset_id (string) is required') ||
      (isFile && !isNonEmptyString(body.file_id) && `file_id (string) is required for type ${body.type}`) ||
      (body.file_name != null && !isNonEmptyString(body.file_name) && 'file_name must be a non-empty string');
    let upload;
    if (!err) {
      const dataset = datasets.find((d) => d.id === body.dataset_id);
      if (!dataset) err = `dataset_id ${body.dataset_id} does not exist (look it up with GET /datasets or create it with PUT /datasets)`;
      else if (dataset.process_id !== entry.process_id)
        err = `dataset ${dataset.id} belongs to process ${dataset.process_id}, not ${entry.process_id}`;
      else if (dataset.type !== body.type) err = `dataset ${dataset.id} has type ${dataset.type}, datum has type ${body.type}`;
    }
    if (!err && isFile) {
      upload = uploadsByName.get(body.file_id);
      if (!upload) {
        err = uploadsById.has(body.file_id)
          ? `file_id must be the "name" of the File-storage object returned by POST /files, not its "id"`
          : `file_id ${body.file_id} does not match any uploaded file`;
      }
    }
    if (err) return send(ctx, 400, { error: err });
    /** @type {Record<string, any>} */
    const datum = { id: crypto.randomUUID(), type: body.type, dataset_id: body.dataset_id };
    if (isFile) {
      datum.file_id = body.file_id;
      datum.file_name = body.file_name ?? null;
    }
    for (const k of ['value', 'expected_value', 'usl', 'lsl']) if (k in body) datum[k] = body[k];
    datum.created_at = new Date().toISOString();
    entry.data.push(datum);
    send(ctx, 200, entryView(entry));
  }

  /** @param {Ctx} ctx @param {string} id */
  async function patchEntry(ctx, id) {
    const body = await readJson(ctx);
    if (!body) return;
    const entry = entries.get(id);
    if (!entry) return send(ctx, 404, { error: `process entry ${id} not found` });
    const err =
      unknownFields(body, ['is_complete', 'is_pass', 'cycle_time']) ||
      ('is_complete' in body && typeof body.is_complete !== 'boolean' && 'is_complete must be a boolean') ||
      ('is_pass' in body && body.is_pass !== null && typeof body.is_pass !== 'boolean' && 'is_pass must be a boolean') ||
      ('cycle_time' in body &&
        body.cycle_time !== null &&
        !(typeof body.cycle_time === 'number' && Number.isFinite(body.cycle_time) && body.cycle_time >= 0) &&
        'cycle_time must be a non-negative number');
    if (err) return send(ctx, 400, { error: err });
    const changes = Object.keys(body).filter((k) => entry[k] !== body[k]);
    if (entry.is_complete && changes.length) {
      return send(ctx, 400, { error: `process entry ${id} is already complete` });
    }
    for (const k of changes) entry[k] = body[k];
    send(ctx, 200, entryView(entry));
  }

  /** @param {Ctx} ctx */
  async function listDatasets(ctx) {
    await drain(ctx).catch(() => {});
    const q = ctx.url.searchParams;
    const result = datasets.filter((d) =>
      ['name', 'type', 'process_id'].every((k) => {
        const v = q.get(k);
        return v === null || v === '' || d[k] === v;
      }),
    );
    send(
      ctx,
      200,
      result.map((d) => ({ ...d })),
    );
  }

  /** @param {Ctx} ctx */
  async function putDataset(ctx) {
    const body = await readJson(ctx);
    if (!body) return;
    const err =
      unknownFields(body, ['name', 'type', 'process_id', 'unit', 'usl', 'lsl']) ||
      (!isNonEmptyString(body.name) && 'name (string) is required') ||
      (!DATASET_TYPES.has(body.type) && `type must be one of ${[...DATASET_TYPES].join(', ')}`) ||
      (!isNonEmptyString(body.process_id) && 'process_id (string) is required') ||
      (body.unit != null && typeof body.unit !== 'string' && 'unit must be a string') ||
      (['usl', 'lsl'].find((k) => body[k] != null && !(typeof body[k] === 'number' && Number.isFinite(body[k]))) && 'usl and lsl must be numbers');
    if (err) return send(ctx, 400, { error: err });
    const existing = datasets.find((x) => x.name === body.name && x.process_id === body.process_id);
    if (existing && existing.type !== body.type) {
      return send(ctx, 400, { error: `dataset ${body.name} of process ${body.process_id} already exists with type ${existing.type}` });
    }
    datasetPuts++;
    send(ctx, 200, {
      ...addDataset({ name: body.name, type: body.type, process_id: body.process_id, unit: body.unit, usl: body.usl, lsl: body.lsl }),
    });
  }

  /** Create (or find) a dataset directly, e.g. to seed tests. @param {{name: string, type: string, process_id: string, unit?: string, usl?: number, lsl?: number}} d */
  function addDataset(d) {
    let dataset = datasets.find((x) => x.name === d.name && x.type === d.type && x.process_id === d.process_id);
    if (!dataset) {
      dataset = { id: crypto.randomUUID(), name: d.name, type: d.type, process_id: d.process_id };
      for (const k of /** @type {const} */ (['unit', 'usl', 'lsl'])) if (d[k] != null) dataset[k] = d[k];
      datasets.push(dataset);
    }
    return dataset;
  }

  /** The value fields of a datum, by its type: what Serial accepts for each. @param {Record<string, any>} body */
  function valueProblem(body) {
    const has = (/** @type {string} */ k) => k in body && body[k] !== null;
    switch (body.type) {
      case 'NUMERICAL':
        if (!(typeof body.value === 'number' && Number.isFinite(body.value))) return 'a NUMERICAL value must be a number';
        if (['usl', 'lsl'].some((k) => has(k) && typeof body[k] !== 'number')) return 'usl and lsl must be numbers';
        return has('expected_value') && 'NUMERICAL data have no expected_value';
      case 'TEXT':
        if (typeof body.value !== 'string') return 'a TEXT value must be a string';
        return has('expected_value') && typeof body.expected_value !== 'string' && 'expected_value must be a string';
      case 'BOOLEAN':
        if (typeof body.value !== 'boolean') return 'a BOOLEAN value must be true or false';
        return has('expected_value') && typeof body.expected_value !== 'boolean' && 'expected_value must be a boolean';
      case 'FILE':
      case 'IMAGE':
        return ['value', 'expected_value', 'usl', 'lsl'].some(has) && `${body.type} data carry a file_id, not a value`;
      default:
        return DATASET_TYPES.has(body.type) ? false : `unknown datum type ${body.type}`;
    }
  }

  /** @param {Ctx} ctx */
  async function findEntries(ctx) {
    await drain(ctx).catch(() => {});
    const id = ctx.url.searchParams.get('id');
    send(ctx, 200, [...entries.values()].filter((e) => !id || e.id === id).map(entryView));
  }

  /** @param {Ctx} ctx */
  async function listUnits(ctx) {
    await drain(ctx).catch(() => {});
    const identifier = ctx.url.searchParams.get('identifier');
    send(
      ctx,
      200,
      [...units.values()].filter((u) => !identifier || u.identifier === identifier).map((u) => ({ ...u })),
    );
  }

  /** @param {Ctx} ctx */
  async function putUnit(ctx) {
    const body = await readJson(ctx);
    if (!body) return;
    const err =
      unknownFields(body, ['component_id', 'identifier', 'part_number_id']) ||
      (!isNonEmptyString(body.component_id) && 'component_id (string) is required') ||
      (!isNonEmptyString(body.identifier) && 'identifier (string) is required');
    if (err) return send(ctx, 400, { error: err });
    send(ctx, 200, addUnit({ identifier: body.identifier, component_id: body.component_id }));
  }

  /** Creates a unit directly, e.g. to seed tests. @param {{identifier: string, component_id?: string}} u */
  function addUnit(u) {
    const unit = { id: crypto.randomUUID(), identifier: u.identifier, component_id: u.component_id ?? 'component-1' };
    units.set(unit.id, unit);
    return { ...unit };
  }

  /** @param {Ctx} ctx */
  async function putComponentLink(ctx) {
    const body = await readJson(ctx);
    if (!body) return;
    const err =
      unknownFields(body, ['parent_component_id', 'child_component_id', 'dataset_id', 'process_id']) ||
      (['parent_component_id', 'child_component_id', 'dataset_id', 'process_id'].find((k) => !isNonEmptyString(body[k])) &&
        'all four ids are required') ||
      (datasets.find((d) => d.id === body.dataset_id)?.type !== 'LINK' && 'dataset_id must be a LINK dataset');
    if (err) return send(ctx, 400, { error: err });
    componentLinks.push({ ...body });
    send(ctx, 200, { ...body });
  }

  /** @param {Ctx} ctx */
  async function putInstanceLink(ctx) {
    const body = await readJson(ctx);
    if (!body) return;
    const keys = ['parent_component_instance_id', 'child_component_instance_id', 'dataset_id', 'process_entry_id'];
    const err =
      unknownFields(body, [...keys, 'break_prior_links']) ||
      (keys.find((k) => !isNonEmptyString(body[k])) && `${keys.join(', ')} are required`) ||
      (typeof body.break_prior_links !== 'boolean' && 'break_prior_links must be a boolean') ||
      (![body.parent_component_instance_id, body.child_component_instance_id].every((id) => units.has(id)) && 'both units must exist') ||
      (!entries.has(body.process_entry_id) && `process entry ${body.process_entry_id} not found`) ||
      (datasets.find((d) => d.id === body.dataset_id)?.type !== 'LINK' && 'dataset_id must be a LINK dataset');
    if (err) return send(ctx, 400, { error: err });
    const entry = entries.get(body.process_entry_id);
    if (entry.is_complete) return send(ctx, 400, { error: `process entry ${entry.id} is already complete` });
    const link = { id: crypto.randomUUID(), ...body };
    instanceLinks.push(link);
    send(ctx, 200, { ...link });
  }

  // ------------------------------------------------------------------ control API

  /** A fault chosen per request by `standIn.chaos`, if set: faults spread over a long run. @param {string} method @param {string} pathname */
  function chaosFault(method, pathname) {
    const spec = typeof standIn.chaos === 'function' ? standIn.chaos(method, pathname) : null;
    if (!spec) return null;
    if (!FAULT_MODES.has(spec.mode)) throw new TypeError(`chaos: unknown mode ${spec.mode}`);
    return { ...spec, remaining: 1 };
  }

  /** @param {FaultSpec} spec */
  function fault(spec) {
    if (!spec || !FAULT_MODES.has(spec.mode)) {
      throw new TypeError(`fault: mode must be one of ${[...FAULT_MODES].join(', ')}`);
    }
    const count = spec.count ?? 1;
    if (!(count > 0)) throw new TypeError('fault: count must be > 0');
    const f = {
      ...spec,
      path: spec.path ?? '/files',
      method: spec.method ? spec.method.toUpperCase() : spec.path ? undefined : 'POST',
      count,
      remaining: count,
    };
    faults.push(f);
    return standIn;
  }

  /** @param {boolean} value */
  async function setDown(value) {
    if (closed) throw new Error('stand-in is closed');
    if (value && !down) {
      down = true;
      await stopListening();
      log('down: refusing connections');
    } else if (!value && down) {
      await listen(boundPort);
      down = false;
      log(`up again on port ${boundPort}`);
    }
  }

  function reset() {
    uploads.length = 0;
    requests.length = 0;
    faults.length = 0;
    standIn.chaos = null;
    datasets.length = 0;
    entries.clear();
    units.clear();
    componentLinks.length = 0;
    instanceLinks.length = 0;
    datasetPuts = 0;
    bodies.clear();
    uploadsByName.clear();
    uploadsById.clear();
  }

  async function close() {
    if (closed) return;
    closed = true;
    await stopListening();
    hashWorker.terminate();
  }

  await listen(boundPort);

  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const standIn = {
    url: `${opts.tls ? 'https' : 'http'}://${urlHost}:${boundPort}`,
    port: boundPort,
    host,
    storeDir,
    uploads,
    requests,
    entries,
    datasets,
    bodies,
    faults,
    /** @type {((upload: any) => void) | null} */
    onUpload: opts.onUpload || null,
    /** @type {((method: string, path: string) => FaultSpec | null) | null} a fault for this request, or none */
    chaos: null,
    fault,
    setDown,
    reset,
    close,
    addDataset,
    addUnit,
    units,
    componentLinks,
    instanceLinks,
    /** PUT /datasets calls that reached validation since the start or the last reset. */
    get datasetPuts() {
      return datasetPuts;
    },
    get down() {
      return down;
    },
    get closed() {
      return closed;
    },
    /** Connections accepted since the start: with keep-alive, far fewer than requests. */
    get connections() {
      return connections;
    },
    server,
  };
  return standIn;
}

// ------------------------------------------------------------------ CLI

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string | boolean>} */
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
      continue;
    }
    const key = a.slice(2);
    if (key === 'log' || key === 'help') {
      out[key] = true;
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`--${key} needs a value`);
    out[key] = v;
    i++;
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`serial-stand-in: ${/** @type {Error} */ (err).message}`);
    process.exit(2);
  }
  if (args.help) {
    console.log('usage: node harness/serial-stand-in.js --api-key KEY [--port 8087] [--host 127.0.0.1] [--store DIR] [--log]');
    return;
  }
  const apiKey = typeof args['api-key'] === 'string' ? args['api-key'] : process.env.SERIAL_STAND_IN_API_KEY;
  if (!apiKey) {
    console.error('serial-stand-in: --api-key is required (or set SERIAL_STAND_IN_API_KEY)');
    process.exit(2);
  }
  const port = args.port === undefined ? 8087 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error('serial-stand-in: --port must be an integer 0-65535');
    process.exit(2);
  }
  const s = await startStandIn({
    apiKey,
    port,
    host: typeof args.host === 'string' ? args.host : '127.0.0.1',
    storeDir: typeof args.store === 'string' ? args.store : undefined,
    log: !!args.log,
  });
  console.log(`Serial stand-in listening on ${s.url}`);
  const stop = () => {
    s.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`serial-stand-in: ${err && err.message ? err.message : err}`);
    process.exit(1);
  });
}

module.exports = { startStandIn };
