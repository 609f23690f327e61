// @ts-check
'use strict';
/** Small measuring tools for the bench: /proc memory readings, test files with known sha256, stats. */
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const MiB = 1024 * 1024;

/** VmRSS and VmHWM (the kernel's own peak) of a process, in bytes; null once it is gone. */
function memoryOf(/** @type {number} */ pid) {
    let text;
    try {
        text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
        return null;
    }
    const kb = (/** @type {string} */ key) => Number((new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text) ?? [])[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux clear_refs "5"); false when not allowed. */
function resetPeak(/** @type {number} */ pid) {
    try {
        fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
        return true;
    } catch {
        return false;
    }
}

/** Samples a process's RSS every `everyMs` until stopped; the peak is the larger of the samples and VmHWM. */
function sampler(/** @type {number} */ pid, everyMs = 10) {
    let maxRss = 0;
    let samples = 0;
    const take = () => {
        const m = memoryOf(pid);
        if (!m) return;
        samples++;
        if (m.rss > maxRss) maxRss = m.rss;
    };
    take();
    const timer = setInterval(take, everyMs);
    return {
        stop() {
            clearInterval(timer);
            take();
            const m = memoryOf(pid);
            return { maxRss, hwm: m ? m.hwm : NaN, peak: Math.max(maxRss, m ? m.hwm : 0), samples };
        },
    };
}

/** CPU time (user + system, all threads) a process used so far, in ms; NaN once it is gone. */
function cpuMs(/** @type {number} */ pid) {
    try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(fields[11]) + Number(fields[12])) * (1000 / 100); // USER_HZ is 100 on Linux
    } catch {
        return NaN;
    }
}

/** CPU time the whole machine spent busy so far (every CPU, every process and the kernel), in ms. */
function machineBusyMs() {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number); // idle and iowait left out
    return (user + nice + system + irq + softirq + steal) * (1000 / 100);
}

/**
 * Waits until none of these processes uses CPU any more (at most 20 ms of CPU each per 250 ms), so a
 * run never starts while the one before is still freeing memory or collecting garbage. Bounded.
 */
async function settle(/** @type {number[]} */ pids, maxMs = 10000) {
    const until = Date.now() + maxMs;
    let before = pids.map(cpuMs);
    while (Date.now() < until) {
        await sleep(250);
        const now = pids.map(cpuMs);
        if (now.every((t, i) => !(t - before[i] > 20))) return true;
        before = now;
    }
    return false;
}

/**
 * The process's resting RSS: once four readings 500 ms apart stay within 2 MiB (the runtime has
 * collected the warm-up's garbage), their median; after 20 s, the median of the last four.
 */
async function idleRss(/** @type {number} */ pid, maxMs = 20000) {
    const until = Date.now() + maxMs;
    /** @type {number[]} */
    const values = [];
    for (;;) {
        const m = memoryOf(pid);
        if (m) values.push(m.rss);
        const last = values.slice(-4);
        if (last.length === 4 && (Math.max(...last) - Math.min(...last) <= 2 * MiB || Date.now() > until)) return median(last);
        if (!m && values.length === 0) return NaN;
        await sleep(500);
    }
}

/**
 * A file of `size` bytes made of one random block repeated (fast to create), with its sha256 computed
 * while writing. The block is 1 MiB + 4099 bytes, so the repeats never line up with an uploader's
 * chunks: bytes sent out of order or from a reused buffer too early change the sha256. Written
 * through to disk before it is used, so no write-back runs during a measurement.
 */
function makeBigFile(/** @type {string} */ file, /** @type {number} */ size) {
    const block = crypto.randomBytes(MiB + 4099);
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(file, 'w');
    try {
        for (let written = 0; written < size;) {
            const n = Math.min(block.length, size - written);
            const chunk = n === block.length ? block : block.subarray(0, n);
            fs.writeSync(fd, chunk);
            hash.update(chunk);
            written += n;
        }
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    return { path: file, name: path.basename(file), size, sha256: hash.digest('hex') };
}

function makeSmallFile(/** @type {string} */ file, /** @type {number} */ size) {
    const bytes = crypto.randomBytes(size);
    fs.writeFileSync(file, bytes);
    return { path: file, name: path.basename(file), size, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}

function median(/** @type {number[]} */ xs) {
    if (xs.length === 0) return NaN;
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function sleep(/** @type {number} */ ms) {
    return new Promise((r) => setTimeout(r, ms));
}

module.exports = { MiB, cpuMs, machineBusyMs, settle, memoryOf, resetPeak, sampler, idleRss, makeBigFile, makeSmallFile, median, sleep };
