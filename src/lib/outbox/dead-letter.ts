import fs from 'fs';
import path from 'path';
import { JOB_ID, ofJob, readHeader, rename } from './files';

/** A job refused for good, as the outbox panel lists it. */
export interface DeadLetter {
    job: string;
    filename: string;
    size: number;
    createdAt: string | null;
    error: { code: string; message: string; at?: string };
}

/** What a folder of jobs holds: count, bytes, the oldest job's time. */
export interface Backlog {
    files: number;
    bytes: number;
    oldest: string | null;
}

const errorOf = async (dir: string): Promise<DeadLetter['error']> => {
    try {
        const e = JSON.parse(await fs.promises.readFile(path.join(dir, 'error.json'), 'utf8'));
        return { code: String(e.code ?? 'UNKNOWN'), message: String(e.message ?? ''), at: e.at };
    } catch {
        return { code: 'UNKNOWN', message: 'error.json is missing or unreadable' };
    }
};

/** The dead-letter/ folder of an outbox, oldest job first. */
export async function listDeadLetters(deadDir: string): Promise<DeadLetter[]> {
    const names = await fs.promises.readdir(deadDir).catch(() => [] as string[]);
    const out: DeadLetter[] = [];
    for (const id of names.filter((n) => JOB_ID.test(n)).sort()) {
        const dir = path.join(deadDir, id);
        const read = await fs.promises.readdir(dir).catch(() => undefined);
        // Read whole and only the reason in it: the job never moved here (see quarantine). One that
        // could not be read is listed all the same: nothing decides on a dead letter it did not see.
        if (read && !read.some(ofJob(id))) continue;
        const files = read ?? [];
        const entry: DeadLetter = { job: id, filename: '', size: 0, createdAt: null, error: await errorOf(dir) };
        for (const name of files) entry.size += (await fs.promises.stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
        try {
            if (files.includes(`${id}.job`)) {
                const { header } = await readHeader(path.join(dir, `${id}.job`));
                entry.filename = header.files.map((f) => f.filename).join(', ');
                entry.createdAt = header.createdAt;
            } else if (files.includes(`${id}.json`)) {
                const meta = JSON.parse(await fs.promises.readFile(path.join(dir, `${id}.json`), 'utf8'));
                entry.filename = String(meta.filename ?? '');
                entry.createdAt = meta.createdAt ?? null;
            }
        } catch {
            /* a job that could not be read: listed with what is known */
        }
        out.push(entry);
    }
    return out;
}

/** The jobs of a folder nobody owns (an orphaned outbox), read without taking it. */
export async function backlogOf(jobsDir: string): Promise<Backlog> {
    const names = await fs.promises.readdir(jobsDir).catch(() => [] as string[]);
    const backlog: Backlog = { files: 0, bytes: 0, oldest: null };
    for (const name of names) {
        const m = /^(.+?)\.(job|json|bin|state)$|^(.+?)\.\d+\.bin$/.exec(name);
        const id = m?.[1] ?? m?.[3];
        if (!id || !JOB_ID.test(id)) continue;
        backlog.bytes += (await fs.promises.stat(path.join(jobsDir, name)).catch(() => ({ size: 0 }))).size;
        if (m?.[2] !== 'job' && !(m?.[2] === 'json' && names.includes(`${id}.bin`))) continue;
        backlog.files++;
        const created = new Date(Number(id.slice(0, 14))).toISOString();
        if (!backlog.oldest || created < backlog.oldest) backlog.oldest = created;
    }
    return backlog;
}

export async function deadLetterBacklog(deadDir: string): Promise<{ files: number; bytes: number }> {
    const list = await listDeadLetters(deadDir);
    return { files: list.length, bytes: list.reduce((n, d) => n + d.size, 0) };
}

/** Where quarantine makes a dead letter's folder before it appears under the job's id. */
const buildingName = (id: string) => `.${id}.new`;
const BUILDING = /^\.(.+)\.new$/;

/**
 * Moves a job's files (all of `<id>.*` in `from`) into `dir/<id>/` with error.json beside them.
 * The folder appears with its error.json already whole (made under a hidden name, then renamed), so
 * whoever lists dead letters never sees one without its reason; the job's files follow one by one.
 * Killed before the first moved, the job is still queued and runs again (the folder with only its
 * reason is not a dead letter, see listDeadLetters); killed between two moves, the outbox finishes
 * the move when it opens (sweepDeadLetters).
 */
export async function quarantine(from: string, deadDir: string, id: string, reason: Record<string, unknown>, names?: string[]): Promise<string> {
    if (!JOB_ID.test(id)) throw new Error(`not a job id: ${id}`);
    const target = path.join(deadDir, id);
    const error = JSON.stringify({ ...reason, at: new Date().toISOString() }, null, 2);
    const building = path.join(deadDir, buildingName(id));
    await fs.promises.rm(building, { recursive: true, force: true });
    await fs.promises.mkdir(building, { recursive: true });
    await fs.promises.writeFile(path.join(building, 'error.json'), error);
    await rename(building, target).catch(async () => {
        // Already there (refused before, its folder kept): the reason is replaced whole.
        await rename(path.join(building, 'error.json'), path.join(target, 'error.json'));
        await fs.promises.rm(building, { recursive: true, force: true });
    });
    const present = names ?? (await fs.promises.readdir(from)).filter(ofJob(id));
    for (const name of present) await rename(path.join(from, name), path.join(target, name)).catch(() => undefined);
    return target;
}

/**
 * What a kill -9 inside a move to or from dead-letter/ leaves behind, put right when the outbox opens
 * (before its jobs load, which would delete a job's copy or state found without its `.job`):
 * - a folder still being made (`.<id>.new`): removed;
 * - a reason whose job never moved (none of the job's files in it): removed; the job is still queued
 *   and runs again;
 * - a job split between `jobs/` and its dead-letter folder (killed while quarantine or a retry moved
 *   its files one by one): the files left in `jobs/` join the rest, so the dead letter is whole again
 *   and a person can retry it.
 * Best effort: a folder it cannot read or change stays as it is, and the outbox opens.
 */
export async function sweepDeadLetters(deadDir: string, jobsDir: string): Promise<void> {
    const queued = await fs.promises.readdir(jobsDir).catch(() => [] as string[]);
    for (const name of await fs.promises.readdir(deadDir).catch(() => [] as string[])) {
        const dir = path.join(deadDir, name);
        const built = BUILDING.exec(name);
        if (built) {
            if (JOB_ID.test(built[1])) await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
            continue;
        }
        if (!JOB_ID.test(name)) continue;
        // Only a folder read whole: never one that could not be read.
        const files = await fs.promises.readdir(dir).catch(() => undefined);
        if (!files) continue;
        const mine = ofJob(name);
        if (!files.some(mine)) {
            await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
            continue;
        }
        for (const rest of queued.filter(mine)) await rename(path.join(jobsDir, rest), path.join(dir, rest)).catch(() => undefined);
    }
}

/** Discards a dead-lettered job for good. False when there is none by that id. */
export async function discardDeadLetter(deadDir: string, id: string): Promise<boolean> {
    if (!JOB_ID.test(id)) return false;
    const dir = path.join(deadDir, id);
    if (!(await fs.promises.stat(dir).catch(() => undefined))) return false;
    await fs.promises.rm(dir, { recursive: true, force: true });
    return true;
}
