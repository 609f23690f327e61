import fs from 'fs';
import path from 'path';
import { identityOf } from '../source/chunks';
import { fileRangeSource } from '../source/sources';
import { JOB_ID, JobHeader, readHeader, unlink } from './files';
import { embeddedSource, Job, namesOf } from './job';

type Quarantine = (id: string, reason: Record<string, unknown>) => Promise<unknown>;

const stat = (p: string) => fs.promises.stat(p).catch(() => undefined);

/** A job's header as written, checked for what reading it relies on. */
function checkHeader(header: JobHeader, bodyBytes: number): void {
    if (header.v !== 1 || typeof header.kind !== 'string' || !Array.isArray(header.files)) throw new Error('not a job header');
    let embedded = 0;
    for (const f of header.files) {
        if (typeof f.filename !== 'string' || typeof f.contentType !== 'string' || !Number.isSafeInteger(f.size) || f.size < 0)
            throw new Error('bad file entry');
        if (f.at !== undefined) {
            if (f.at !== embedded) throw new Error('bad file offset');
            embedded += f.size;
        } else if (!f.source || typeof f.source.path !== 'string' || !path.isAbsolute(f.source.path)) throw new Error('bad file source');
    }
    if (embedded !== bodyBytes) throw new Error(`size mismatch: ${bodyBytes} bytes for ${embedded}`);
}

async function loadJob(dir: string, id: string): Promise<Job> {
    const file = path.join(dir, `${id}.job`);
    const { header, bytes, size } = await readHeader(file);
    checkHeader(header, size - bytes);
    const identity = identityOf(await fs.promises.stat(file));
    let total = size;
    const sources = await Promise.all(
        header.files.map(async (f, n) => {
            if (f.at !== undefined) return embeddedSource(file, identity, bytes, f);
            const copy = path.join(dir, `${id}.${n}.bin`);
            const copied = await stat(copy);
            if (copied && copied.size === f.size) {
                total += copied.size;
                return fileRangeSource(copy, identityOf(copied), namesOf(f));
            }
            if (copied) await unlink(copy); // an incomplete copy cannot be: it is renamed in only when done
            // The user's file, still required to be the one the message named.
            return fileRangeSource(f.source!.path, f.source!.identity, namesOf(f));
        }),
    );
    let state: Record<string, unknown> = {};
    const stateFile = path.join(dir, `${id}.state`);
    if (await stat(stateFile)) state = JSON.parse(await fs.promises.readFile(stateFile, 'utf8'));
    return { id, header, sources, bytes: total, fileBytes: size, state, memory: 0, removed: false };
}

/** A job that 0.1.0 left: <id>.json (what to upload it as) beside <id>.bin (its bytes). */
async function loadLegacyJob(dir: string, id: string): Promise<Job> {
    const meta = JSON.parse(await fs.promises.readFile(path.join(dir, `${id}.json`), 'utf8'));
    const bin = await fs.promises.stat(path.join(dir, `${id}.bin`));
    if (bin.size !== meta.size || typeof meta.filename !== 'string' || typeof meta.contentType !== 'string') throw new Error('size mismatch');
    const files = [{ filename: meta.filename, contentType: meta.contentType, size: meta.size }];
    const header: JobHeader = { v: 0, kind: 'upload', createdAt: String(meta.createdAt ?? ''), spec: {}, msg: meta.msg ?? {}, files };
    const sources = [fileRangeSource(path.join(dir, `${id}.bin`), identityOf(bin), namesOf(files[0]))];
    return { id, header, sources, bytes: bin.size, state: {}, memory: 0, removed: false };
}

/**
 * The jobs in a jobs/ folder (or only `only`), oldest first. Ids come from the file names, never from
 * what a file says, and only names of the outbox's own form count: nothing can point outside the folder.
 * A job that cannot be read goes to dead-letter with the reason; leftovers of a crash (a copy or a
 * state without its job) go.
 */
export async function loadJobs(dir: string, quarantine: Quarantine, only?: string): Promise<Job[]> {
    const names = new Set(await fs.promises.readdir(dir));
    const ids = new Set<string>();
    for (const name of names) {
        const m = /^(.+?)\.(job|json)$/.exec(name);
        if (m && JOB_ID.test(m[1]) && (!only || m[1] === only)) ids.add(m[1]);
    }
    const jobs: Job[] = [];
    for (const id of [...ids].sort()) {
        const legacy = !names.has(`${id}.job`);
        if (legacy && !names.has(`${id}.bin`)) continue; // crashed between the renames of 0.1.0: never accepted
        try {
            jobs.push(legacy ? await loadLegacyJob(dir, id) : await loadJob(dir, id));
        } catch (err) {
            // Unreadable or inconsistent: kept for a person to look at, out of the queue.
            await quarantine(id, { code: 'INVALID_JOB', message: String((err as Error).message) }).catch(() => undefined);
        }
    }
    if (!only) {
        for (const name of names) {
            const m = /^(.+?)\.(?:\d+\.bin|state|bin)$/.exec(name);
            if (m && JOB_ID.test(m[1]) && !ids.has(m[1])) await unlink(path.join(dir, name)).catch(() => undefined);
        }
    }
    return jobs;
}
