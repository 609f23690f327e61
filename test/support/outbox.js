// @ts-check
'use strict';
/** Reading an outbox folder as the tests check it: its committed jobs, and what a job file holds. */
const fs = require('fs');
const path = require('path');

/** Committed jobs (their .job files) in an outbox's jobs/ folder, oldest first. @param {string} jobsDir */
function committedJobs(jobsDir) {
    return fs.existsSync(jobsDir)
        ? fs
              .readdirSync(jobsDir)
              .filter((n) => n.endsWith('.job'))
              .sort()
        : [];
}

/**
 * A job file: its header line and the bytes of its embedded files after it.
 * @param {string} file @returns {{header: any, body: Buffer}}
 */
function readJobFile(file) {
    const bytes = fs.readFileSync(file);
    const nl = bytes.indexOf(10);
    return { header: JSON.parse(bytes.subarray(0, nl).toString('utf8')), body: bytes.subarray(nl + 1) };
}

module.exports = { committedJobs, readJobFile };

/**
 * Writes a committed job by hand, as an earlier run would have left it (for resume and attack tests).
 * @param {string} jobsDir @param {string} id
 * @param {{filename: string, contentType?: string, bytes: Buffer}[]} files @param {Record<string, unknown>} [msg]
 */
function writeJob(jobsDir, id, files, msg = {}) {
    fs.mkdirSync(jobsDir, { recursive: true });
    let at = 0;
    const header = {
        v: 1,
        kind: 'upload',
        createdAt: new Date().toISOString(),
        spec: {},
        msg,
        files: files.map((f) => {
            const entry = { filename: f.filename, contentType: f.contentType ?? 'application/octet-stream', size: f.bytes.length, at };
            at += f.bytes.length;
            return entry;
        }),
    };
    fs.writeFileSync(path.join(jobsDir, `${id}.job`), Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...files.map((f) => f.bytes)]));
}

module.exports.writeJob = writeJob;
