import fs from 'fs';
import os from 'os';
import path from 'path';
import { SerialError } from '../errors/serial-error';

/**
 * One owner per outbox folder. Two owners would deliver each other's jobs and then report them
 * missing, so a second owner is refused with OUTBOX_LOCKED: another node of this process (held in
 * memory), or another process (a `lock` file with its pid). A lock left by a process that is gone
 * (killed, or from before a reboot, when pids start over) is taken over.
 */
interface Owner {
    pid: number;
    host: string;
    /** Changes at every boot (Linux); a lock from another boot is stale whatever its pid. */
    boot: string;
    /** The process's start time in clock ticks since boot (Linux): a reused pid has another one. */
    started: string;
}

const heldHere = new Set<string>();

function readProc(file: string): string {
    try {
        return fs.readFileSync(file, 'utf8');
    } catch {
        return '';
    }
}

const BOOT_ID = readProc('/proc/sys/kernel/random/boot_id').trim();

function startTime(pid: number): string {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count after its ')'.
    const stat = readProc(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

const ME: Owner = { pid: process.pid, host: os.hostname(), boot: BOOT_ID, started: startTime(process.pid) };

function alive(owner: Owner): boolean {
    if (owner.host !== ME.host) return true; // a shared folder: nothing here can tell, so it is not taken
    if (owner.boot && BOOT_ID && owner.boot !== BOOT_ID) return false;
    if (owner.pid === process.pid) return false; // this process, and no node here holds it: left by an earlier start
    try {
        process.kill(owner.pid, 0);
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    return !owner.started || startTime(owner.pid) === owner.started;
}

function locked(dir: string, owner: Partial<Owner>): SerialError {
    return new SerialError('OUTBOX_LOCKED', { params: { dir, pid: owner.pid ?? '?', host: owner.host ?? '?' } });
}

export class OutboxLock {
    private released = false;
    private constructor(private readonly dir: string) {}

    /** Takes the folder, or throws OUTBOX_LOCKED naming the owner. */
    static async acquire(dir: string): Promise<OutboxLock> {
        const key = path.resolve(dir);
        if (heldHere.has(key)) throw locked(dir, ME);
        heldHere.add(key);
        try {
            await take(path.join(dir, 'lock'), dir);
            return new OutboxLock(key);
        } catch (err) {
            heldHere.delete(key);
            throw err;
        }
    }

    async release(): Promise<void> {
        if (this.released) return;
        this.released = true;
        heldHere.delete(this.dir);
        await fs.promises.rm(path.join(this.dir, 'lock'), { force: true }).catch(() => undefined);
    }
}

async function take(file: string, dir: string): Promise<void> {
    for (let tries = 0; tries < 3; tries++) {
        try {
            await fs.promises.writeFile(file, JSON.stringify(ME), { flag: 'wx' });
            return;
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        let owner: Partial<Owner> = {};
        try {
            owner = JSON.parse(await fs.promises.readFile(file, 'utf8'));
        } catch {
            /* torn or empty: left by a crash while it was being written */
        }
        if (typeof owner.pid === 'number' && alive(owner as Owner)) throw locked(dir, owner);
        // Stale: moved aside (only one of two processes doing this at once can move it), then try again.
        const aside = `${file}.stale-${process.pid}`;
        try {
            await fs.promises.rename(file, aside);
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        await fs.promises.rm(aside, { force: true });
    }
    throw locked(dir, {});
}
