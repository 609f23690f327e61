// @ts-check
'use strict';
/** Reading an outbox folder as the tests check it: its committed jobs, and what a job file holds. */
const fs = require('fs');
const path = require('path');

/** Committed jobs (their .job files) in an outbox's jobs/ folder, oldest first. @param {string} jobsDir */
function committedJobs(jobsDir) {
    return fs.existsSync(jobsDir) ? fs.readdirSync(jobsDir).filter((n) => n.endsWith('.job')).sort() : [];
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
