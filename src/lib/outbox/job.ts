import fs from 'fs';
import path from 'path';
import type { Readable } from 'stream';
import { borrow, lend, Loan } from '../source/buffers';
import { BufferChunks, FileIdentity, identityOf } from '../source/chunks';
import { FileSource, fileRangeSource } from '../source/sources';
import { close, fsync, headerLine, open, JobHeader, rename, StoredFile, unlink } from './files';

/** What a node hands to a delivery: what to do (`kind`, `spec`: JSON) with which bytes. */
export interface Work {
    kind: string;
    spec: unknown;
    files: FileSource[];
    /**
     * Copy every file before the job is committed, however large (a record: the station may write the
     * next unit's report to the same path at once). Otherwise a file above EMBED_LIMIT is referenced
     * and copied right after, without holding the queue.
     */
    copyFirst?: boolean;
}

/** Files up to this size travel inside the job file: one write, one sync, one rename, one delete. */
export const EMBED_LIMIT = 1024 * 1024;

/** A job of an outbox, as its worker runs it. */
export interface Job {
    readonly id: string;
    readonly header: JobHeader;
    /** How to read each file now: from memory, from the job file, from its copy, or from the user's file. */
    sources: FileSource[];
    /** Bytes on disk. */
    bytes: number;
    /** Bytes of its .job file (a job of 0.1.0 has none). */
    fileBytes?: number;
    /** Each finished step's result (a multi-step job's journal). */
    state: Record<string, unknown>;
    /** Memory held for its sources, counted against the outbox's budget. */
    memory: number;
    /** The shared memory its sources read from, handed back once it leaves the queue. */
    loans?: Loan[];
    removed: boolean;
    /** Copies of referenced files under way. */
    copying?: Promise<void>;
    copies?: AbortController;
}

/** The durable progress of one job: a step's result is on disk before the next step starts. */
export interface Journal {
    readonly steps: Readonly<Record<string, unknown>>;
    record(step: string, value: unknown): Promise<void>;
}

/** A source of bytes already in memory, named as checked before; with the loan its memory came on, if any. */
export function memorySource(buffer: Buffer, names: { filename: string; contentType: string }, loan?: Loan): FileSource {
    return { size: buffer.length, ...names, buffer, open: (options) => new BufferChunks(buffer, options, loan) };
}

export const namesOf = (f: StoredFile) => ({ filename: f.filename, contentType: f.contentType });

/** File `n` of a job, read from the job file (`bytes` = where its embedded files start). */
export function embeddedSource(jobFile: string, identity: FileIdentity, headerBytes: number, file: StoredFile): FileSource {
    return fileRangeSource(jobFile, identity, namesOf(file), { start: headerBytes + file.at!, size: file.size });
}

/**
 * Reads a whole (small) source into memory through its own checked stream, in shared memory (see
 * source/buffers: hand it back with giveBack once done with it for good). A file read in one chunk
 * is that chunk, never copied; a larger one is copied into a buffer of its class as its chunks come,
 * each handed back once copied (it holds at most one chunk beside the copy).
 */
export async function readAll(source: FileSource): Promise<Buffer> {
    if (source.buffer) return source.buffer;
    const stream = source.open();
    let first: Buffer | undefined;
    let whole: Buffer | undefined;
    let at = 0;
    const copy = (chunk: Buffer) => {
        at += chunk.copy(whole!, at);
        stream.release(chunk);
    };
    for await (const chunk of stream as Readable) {
        if (!first) {
            first = chunk as Buffer;
            continue;
        }
        if (!whole) {
            whole = borrow(source.size);
            copy(first);
        }
        copy(chunk as Buffer);
    }
    if (!whole) return first ?? Buffer.alloc(0);
    return lend(whole, at);
}

/**
 * Copies a source into a new file, through the same checked stream an upload reads (a file that
 * changes while it is copied fails with FILE_CHANGED), syncs it, and returns the copy's identity.
 */
export async function copyInto(source: FileSource, target: string, signal: AbortSignal): Promise<FileIdentity> {
    const fd = await open(target, 'wx');
    try {
        const stream = source.open();
        const abort = () => stream.destroy();
        signal.addEventListener('abort', abort, { once: true });
        try {
            for await (const chunk of stream as Readable) {
                const buf = chunk as Buffer;
                for (let done = 0; done < buf.length;) {
                    done += await new Promise<number>((resolve, reject) =>
                        fs.write(fd, buf, done, buf.length - done, null, (err, n) => (err ? reject(err) : resolve(n))),
                    );
                }
                stream.release(buf);
            }
        } finally {
            signal.removeEventListener('abort', abort);
        }
        if (signal.aborted) throw new Error('aborted');
        await fsync(fd);
        return identityOf(await new Promise<fs.Stats>((resolve, reject) => fs.fstat(fd, (err, s) => (err ? reject(err) : resolve(s)))));
    } finally {
        await close(fd);
    }
}

/** How much one outbox may hold. */
export interface OutboxLimits {
    maxFiles: number;
    maxBytes: number;
}

/** A job just added, and what of its message it could not keep. */
export interface Added {
    job: Job;
    /** Message properties left out of the job (too large, or not serialisable). */
    omitted: string[];
}

/** Where an outbox writes (tmp/) and keeps (jobs/) its files. */
export interface OutboxDirs {
    tmpDir: string;
    jobsDir: string;
}

/**
 * File `n` of job `id` copied beside it in jobs/ (through tmp/, synced), as a source of its own;
 * undefined when `wanted` says no once the copy is made. A failed copy leaves nothing behind.
 */
export async function copyBeside(
    id: string,
    n: number,
    source: FileSource,
    dirs: OutboxDirs,
    signal: AbortSignal,
    wanted = () => true,
): Promise<FileSource | undefined> {
    const name = `${id}.${n}.bin`;
    const tmp = path.join(dirs.tmpDir, name);
    try {
        const identity = await copyInto(source, tmp, signal);
        if (!wanted()) return void (await unlink(tmp));
        await rename(tmp, path.join(dirs.jobsDir, name));
        return fileRangeSource(path.join(dirs.jobsDir, name), identity, { filename: source.filename, contentType: source.contentType });
    } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
    }
}

/**
 * The referenced files of a job copied into jobs/ before the job is committed, side by side (see
 * Work.copyFirst); a crash before the commit leaves strays there, which loading removes.
 */
export function copyBeforeCommit(id: string, sources: FileSource[], files: StoredFile[], dirs: OutboxDirs, signal: AbortSignal) {
    return Promise.all(files.map((f, n) => (f.source ? copyBeside(id, n, sources[n], dirs, signal) : undefined)));
}

/**
 * What a job file holds: the header line (what to do, the message, each file's place), then the
 * bytes of every file small enough to travel inside it (read now); larger ones are referenced.
 */
export async function jobContent(work: Work, snapshot: { msg: Record<string, unknown>; omitted: string[] }, createdAt: string) {
    const embedded = await Promise.all(work.files.map((f) => (f.buffer || (f.path && f.size <= EMBED_LIMIT) ? readAll(f) : undefined)));
    let at = 0;
    const files: StoredFile[] = work.files.map((f, n) => {
        const stored: StoredFile = { filename: f.filename, contentType: f.contentType, size: f.size };
        if (embedded[n]) {
            stored.at = at;
            at += f.size;
        } else stored.source = { path: f.path!, identity: f.identity! };
        return stored;
    });
    const header: JobHeader = {
        v: 1,
        kind: work.kind,
        createdAt,
        spec: work.spec,
        msg: snapshot.msg,
        files,
        ...(snapshot.omitted.length ? { omitted: snapshot.omitted } : {}),
    };
    return { embedded, files, header, line: headerLine(header) };
}
