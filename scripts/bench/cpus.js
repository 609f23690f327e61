// @ts-check
'use strict';
/**
 * Splits the machine's CPUs between the two sides of the bench, as a plant has them: the server side
 * (this process, the Serial stand-in, the uplink relay) on CPU 0, the gateway side (every Node-RED
 * row and curl) on the others. A real Serial never runs on the gateway; on a 2-core machine an
 * unpinned stand-in takes about as much CPU per upload as the row it serves, so the rows would
 * measure how the scheduler shares two cores between the stand-in and the row rather than the row.
 * Every row gets the same CPUs, so the ratios compare like with like. Opt-in (--pin): on this 2-core
 * machine it did not move the ratios beyond the noise, and the default keeps runs comparable.
 *
 * Uses taskset(1) (util-linux); with fewer than 2 CPUs, or without taskset, nothing is pinned.
 */
const { execFileSync } = require('child_process');
const os = require('os');

/**
 * @param {boolean} wanted
 * @returns {{server: string, gateway: string} | null}
 */
function cpuSplit(wanted) {
    const n = os.availableParallelism();
    if (!wanted || n < 2) return null;
    try {
        execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    } catch {
        return null;
    }
    return { server: '0', gateway: n === 2 ? '1' : `1-${n - 1}` };
}

/** Pins every thread of `pid` to `cpus` (a taskset list); processes it starts later inherit it. */
function pin(/** @type {number} */ pid, /** @type {string} */ cpus) {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * The command and arguments that run `command args` on `cpus` (taskset execs it: same pid), or
 * the command unchanged when nothing is pinned.
 * @param {string | null} cpus
 * @param {string} command
 * @param {string[]} args
 * @returns {[string, string[]]}
 */
function onCpus(cpus, command, args) {
    return cpus ? ['taskset', ['-c', cpus, command, ...args]] : [command, args];
}

module.exports = { cpuSplit, pin, onCpus };
