// @ts-check
'use strict';
/**
 * A real proxy for the tests: Debian's tinyproxy on a free loopback port, with basic auth when asked,
 * CONNECT allowed to any port, its log kept so a test can see what went through it.
 */
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { freePort } = require('./nodered');

function tinyproxyAvailable() {
    return spawnSync('tinyproxy', ['-v'], { stdio: 'ignore' }).status === 0;
}

/**
 * @param {{user?: string, password?: string}} [auth]
 * @returns {Promise<{url: string, port: number, log: () => string, connects: () => string[], close: () => Promise<void>}>}
 */
async function startTinyproxy(auth = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-tinyproxy-'));
    const port = await freePort();
    const logFile = path.join(dir, 'tinyproxy.log');
    const conf = [
        `Port ${port}`,
        'Listen 127.0.0.1',
        'Timeout 60',
        `LogFile "${logFile}"`,
        'LogLevel Info',
        'MaxClients 64',
        'Allow 127.0.0.1',
        'DisableViaHeader Yes',
        ...(auth.user ? [`BasicAuth ${auth.user} ${auth.password}`] : []),
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'tinyproxy.conf'), `${conf}\n`);
    const child = spawn('tinyproxy', ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 10000;
    for (;;) {
        const up = await new Promise((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => s.end(() => resolve(true)));
            s.once('error', () => resolve(false));
        });
        if (up) break;
        if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(`tinyproxy did not start: ${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
    return {
        url: `http://127.0.0.1:${port}`,
        port,
        log,
        /** The CONNECT requests it served ("host:port" each): one per tunnel opened. */
        connects: () => [...log().matchAll(/Request \(file descriptor \d+\): CONNECT (\S+)/g)].map((m) => m[1]),
        close: async () => {
            child.kill('SIGTERM');
            await exited;
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

module.exports = { startTinyproxy, tinyproxyAvailable };
