// @ts-check
'use strict';
/**
 * The parts of `npm run bench` its figures rest on, each run for real: the stand-in in its own process
 * (what it reports, in which order, what a reset forgets, which connections closeIdle closes) and the split of the CPUs between the
 * server side and the gateway side, and the CPU counters read beside each timed run.
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const { fork, execFileSync, spawn } = require('node:child_process');
const path = require('node:path');
const { cpuSplit, pin, onCpus } = require('../scripts/bench/cpus');
const { cpuMs, machineBusyMs } = require('../scripts/bench/measure');

const STAND_IN = path.join(__dirname, '..', 'scripts', 'bench', 'stand-in.js');
const KEY = 'bench-parts-key-0c41';

/** The stand-in forked as the bench forks it, with every message it sends in `messages`. */
async function forkStandIn() {
    // Batches held back for 30 s: whatever arrives before that was sent because an answer waited for it.
    const env = { ...process.env, BENCH_API_KEY: KEY, BENCH_REPORT_MS: '30000' };
    const child = fork(STAND_IN, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    /** @type {any[]} */
    const messages = [];
    /** @type {Array<() => void>} */
    let waiters = [];
    child.on('message', (m) => {
        messages.push(m);
        const now = waiters;
        waiters = [];
        for (const w of now) w();
    });
    const next = (/** @type {(m: any) => boolean} */ match, ms = 5000) =>
        new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no such message within ${ms} ms: ${JSON.stringify(messages)}`)), ms);
            const look = () => {
                const found = messages.find(match);
                if (found) {
                    clearTimeout(timer);
                    resolve(found);
                } else waiters.push(look);
            };
            look();
        });
    const { url } = /** @type {{url: string}} */ (await next((m) => m.t === 'ready', 20000));
    return { child, messages, next, url };
}

async function upload(/** @type {string} */ url, /** @type {string} */ filename, /** @type {Buffer} */ data) {
    const boundary = `----parts${crypto.randomBytes(6).toString('hex')}`;
    const body = Buffer.concat([
        Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        data,
        Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${url}/files`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body,
    });
    assert.equal(res.status, 200, await res.text());
    await res.arrayBuffer().catch(() => undefined);
}

describe('bench: the stand-in process', function () {
    /** @type {Awaited<ReturnType<typeof forkStandIn>>} */
    let s;
    beforeEach(async () => {
        s = await forkStandIn();
    });
    afterEach(async () => {
        if (s.child.exitCode === null) {
            const exited = new Promise((r) => s.child.once('exit', r));
            s.child.send({ cmd: 'stop' });
            await exited;
        }
    });

    it('reports every accepted upload, stamped when accepted, before it answers a later question', async () => {
        const data = crypto.randomBytes(70000);
        const before = Date.now();
        await Promise.all([upload(s.url, 'a.bin', data), upload(s.url, 'b.bin', Buffer.alloc(0))]);
        // Asked well inside the batching delay: the uploads must come first.
        s.child.send({ cmd: 'stats' });
        await s.next((m) => m.t === 'stats');
        const order = s.messages.map((m) => m.t);
        const stats = s.messages.find((m) => m.t === 'stats');
        assert.ok(order.indexOf('uploads') >= 0 && order.indexOf('uploads') < order.indexOf('stats'), order.join(','));
        const list = s.messages.filter((m) => m.t === 'uploads').flatMap((m) => m.list);
        assert.deepEqual(list.map((u) => [u.filename, u.size, u.sha256]).sort(), [
            ['a.bin', data.length, crypto.createHash('sha256').update(data).digest('hex')],
            ['b.bin', 0, crypto.createHash('sha256').update(Buffer.alloc(0)).digest('hex')],
        ]);
        for (const u of list) assert.ok(u.at >= before && u.at <= Date.now(), `stamped ${u.at}`);
        assert.ok(stats.connections >= 1, `connections: ${stats.connections}`);
    });

    it('forgets on reset what it had not reported yet, and counts connections afresh', async () => {
        await upload(s.url, 'dropped.bin', crypto.randomBytes(1000));
        s.child.send({ cmd: 'reset' });
        await s.next((m) => m.t === 'reset');
        // A question after the reset sends every batch still held: there must be none.
        s.child.send({ cmd: 'stats' });
        const stats = await s.next((m) => m.t === 'stats');
        assert.deepEqual(
            s.messages.filter((m) => m.t === 'uploads'),
            [],
        );
        assert.equal(stats.connections, 0);
        // And what comes after the reset is reported as before.
        await upload(s.url, 'kept.bin', Buffer.from('kept'));
        s.child.send({ cmd: 'stats' });
        await s.next((m) => m.t === 'stats' && m !== stats);
        assert.deepEqual(
            s.messages.filter((m) => m.t === 'uploads').flatMap((m) => m.list.map((/** @type {any} */ u) => u.filename)),
            ['kept.bin'],
        );
    });

    it('closes on closeIdle every kept-alive connection without a request, and none with one in flight', async () => {
        const http = require('node:http');
        const agent = new http.Agent({ keepAlive: true });
        try {
            const boundary = 'parts-idle';
            const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\n`);
            const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
            const data = crypto.randomBytes(1000);
            const post = () => {
                const req = http.request(`${s.url}/files`, {
                    method: 'POST',
                    agent,
                    headers: {
                        Authorization: `Bearer ${KEY}`,
                        'Content-Type': `multipart/form-data; boundary=${boundary}`,
                        'Content-Length': String(head.length + data.length + tail.length),
                    },
                });
                const answered = new Promise((resolve, reject) => {
                    req.on('response', (res) => {
                        res.resume();
                        res.on('end', () => resolve(res.statusCode));
                    });
                    req.on('error', reject);
                });
                req.write(head);
                return { req, answered, finish: () => req.end(Buffer.concat([data, tail])) };
            };
            // One request left half sent, on its own connection; another done, its connection idle in the pool.
            const held = post();
            await new Promise((r) => held.req.once('socket', r));
            const done = post();
            done.finish();
            assert.equal(await done.answered, 200);
            const idleSocket = /** @type {import('net').Socket} */ (done.req.socket);
            assert.notEqual(idleSocket, held.req.socket);
            const idleClosed = new Promise((r) => idleSocket.once('close', r));
            s.child.send({ cmd: 'closeIdle' });
            await s.next((m) => m.t === 'closedIdle');
            await Promise.race([
                idleClosed,
                new Promise((_, reject) => setTimeout(() => reject(new Error('the idle connection stayed open')), 5000)),
            ]);
            assert.equal(held.req.socket?.destroyed, false, 'the connection with a request in flight stays');
            held.finish();
            assert.equal(await held.answered, 200);
        } finally {
            agent.destroy();
        }
    });

    it('goes away with the parent', async () => {
        const exited = new Promise((r) => s.child.once('exit', r));
        s.child.disconnect();
        assert.equal(await exited, 0);
    });
});

describe('bench: CPUs of the server side and the gateway side', function () {
    const allowed = (/** @type {number} */ pid) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const hasTaskset = (() => {
        try {
            execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
            return true;
        } catch {
            return false;
        }
    })();

    it('does not pin when not asked to', () => {
        assert.equal(cpuSplit(false), null);
        assert.deepEqual(onCpus(null, 'curl', ['-sS']), ['curl', ['-sS']]);
    });

    it('puts the server on CPU 0 and the rows on the others, threads and children included', async function () {
        if (!hasTaskset || os.availableParallelism() < 2) this.skip();
        const split = /** @type {{server: string, gateway: string}} */ (cpuSplit(true));
        assert.equal(split.server, '0');
        assert.equal(split.gateway, os.availableParallelism() === 2 ? '1' : `1-${os.availableParallelism() - 1}`);
        // A row: started through taskset, so it runs on the gateway's CPUs from its first instruction.
        const row = spawn(...onCpus(split.gateway, process.execPath, ['-e', 'setTimeout(() => {}, 20000)']), { stdio: 'ignore' });
        // The server side: pinned while running (every thread), and a process it starts afterwards inherits it.
        const later =
            "setTimeout(() => console.log(require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], {stdio: 'ignore'}).pid), 500); setTimeout(() => {}, 20000)";
        const server = spawn(process.execPath, ['-e', later], { stdio: ['ignore', 'pipe', 'inherit'] });
        /** @type {number[]} */
        const pids = [];
        try {
            await new Promise((r) => setTimeout(r, 200));
            pin(/** @type {number} */ (server.pid), split.server);
            const childPid = Number(await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim()))));
            pids.push(childPid);
            assert.equal(allowed(/** @type {number} */ (row.pid)), split.gateway);
            for (const task of fs.readdirSync(`/proc/${server.pid}/task`)) {
                assert.equal(allowed(Number(task)), split.server, `thread ${task}`);
            }
            assert.equal(allowed(childPid), split.server, 'started after the pin');
        } finally {
            row.kill('SIGKILL');
            server.kill('SIGKILL');
            for (const pid of pids) process.kill(pid, 'SIGKILL');
        }
    });
});

describe('bench: CPU counters beside each timed run', function () {
    this.timeout(20000);
    // Spins until it has used `ms` of its own CPU time (not wall time: a loaded machine only makes it take longer), then waits.
    const spinner = (/** @type {number} */ ms) =>
        spawn(process.execPath, ['-e', `while (process.cpuUsage().user < ${ms * 1000}); console.log('done'); setTimeout(() => {}, 20000)`], {
            stdio: ['ignore', 'pipe', 'inherit'],
        });
    const spun = (/** @type {import('node:child_process').ChildProcess} */ c) => new Promise((r) => c.stdout?.once('data', r));

    it("counts a process's own CPU time, and the machine's busy time across every CPU", async () => {
        const before = machineBusyMs();
        const spinners = [spinner(400), spinner(400)];
        try {
            await Promise.all(spinners.map(spun));
            for (const c of spinners) assert.ok(cpuMs(/** @type {number} */ (c.pid)) >= 380, `${cpuMs(/** @type {number} */ (c.pid))} ms`);
            // Two processes that each used 400 ms: the machine was busy at least that long in all (10 ms ticks).
            assert.ok(machineBusyMs() - before >= 2 * 380, `${machineBusyMs() - before} ms`);
        } finally {
            for (const c of spinners) c.kill('SIGKILL');
        }
        assert.ok(Number.isNaN(cpuMs(2 ** 22 + 1)), 'a process that is gone');
    });
});
