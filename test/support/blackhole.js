// @ts-check
'use strict';
/**
 * A loopback port that never completes a TCP handshake: a listening socket whose accept queue is
 * full and never drained, so the kernel drops further SYNs and connect() hangs. (Node accepts
 * connections by itself, so this listener is a small Python process.)
 */
const { spawn } = require('child_process');

const SCRIPT = `
import socket, sys, time
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(0)
port = srv.getsockname()[1]
fillers = []
for _ in range(4):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fillers.append(c)
time.sleep(0.2)
print(port, flush=True)
sys.stdin.read()
`;

/** @returns {Promise<{port: number, close: () => void}>} */
function startBlackhole() {
    return new Promise((resolve, reject) => {
        const child = spawn('python3', ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
        child.on('error', reject);
        child.stdout.once('data', (d) => resolve({ port: Number(String(d).trim()), close: () => child.kill() }));
    });
}

module.exports = { startBlackhole };
