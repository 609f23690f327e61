import fs from 'fs';
import { Readable } from 'stream';
import { SerialError } from '../errors/serial-error';
import { borrow, giveBack, lend, Loan } from './buffers';

/** Bytes sent before and after a source's own: the multipart part around a file. */
export interface Frame {
    head: Buffer;
    tail: Buffer;
}

export interface OpenOptions {
    /** Bytes of the source handed on so far, called per chunk. */
    onBytes?: (n: number) => void;
    /**
     * Bytes sent before and after the source's own (the multipart part around the file): part of the
     * same stream, so a small file's whole body is pushed at once and leaves in one write.
     */
    frame?: Frame;
}

export interface SourceStream extends Readable {
    /**
     * The consumer is done with this chunk for good (e.g. the socket has written it): its memory may
     * be reused (source/buffers), by any stream. Optional to call; a chunk never handed back is simply never reused.
     */
    release(chunk: Buffer): void;
    /** Every byte, the frame's tail included, is pushed: pausing the stream would hold back no read. */
    readonly pushedAll: boolean;
}

export const CHUNK = 256 * 1024;

/**
 * The one stream every upload body comes from: `size` bytes in chunks of at most CHUNK, counted as
 * they are handed on, inside the frame when one is given. A plain Readable with its own reads, not a
 * pipe through a Transform: for small files the per-request work (objects, listeners, thread-pool
 * round trips) is what costs, not bytes.
 *
 * Once destroyed (a close, an answer before the body was read), nothing a read still in flight
 * brings back is looked at: the descriptor is gone by then.
 */
abstract class Chunks extends Readable implements SourceStream {
    protected sent = 0;
    pushedAll = false;
    private headSent = false;
    private completing = false;
    constructor(
        protected readonly size: number,
        private readonly options: OpenOptions = {},
    ) {
        super({ highWaterMark: CHUNK });
    }

    /** The next chunk at `this.sent` (never empty while bytes are left), or an error. */
    protected abstract next(want: number, cb: (err: Error | null, chunk?: Buffer) => void): void;

    release(_chunk: Buffer): void {
        /* nothing to reuse by default */
    }

    /** Called once all bytes were handed on; may refuse them after all. Synchronous when it can be. */
    protected finish(cb: (err?: Error | null) => void): void {
        cb();
    }

    override _read(): void {
        if (this.sent >= this.size) return this.complete();
        this.next(Math.min(CHUNK, this.size - this.sent), (err, chunk) => {
            if (this.destroyed) return;
            if (err) return void this.destroy(err);
            this.sent += chunk!.length;
            this.options.onBytes?.(chunk!.length);
            this.pushHead();
            this.push(chunk);
            // When the source can tell at once that it is complete, the tail goes out with this chunk.
            if (this.sent === this.size) this.complete();
        });
    }

    /** All bytes handed on: once `finish` accepts them, the tail and the end. Runs once. */
    private complete(): void {
        if (this.completing || this.destroyed) return;
        this.completing = true;
        this.finish((err) => {
            if (this.destroyed) return;
            if (err) return void this.destroy(err);
            this.pushHead(); // an empty source still gets its part header
            if (this.options.frame) this.push(this.options.frame.tail);
            this.pushedAll = true;
            this.push(null);
        });
    }

    private pushHead(): void {
        if (this.headSent) return;
        this.headSent = true;
        if (this.options.frame) this.push(this.options.frame.head);
    }
}

/**
 * Views into the Buffer, never copies of it. With a loan, the stream is one of its readers from the
 * moment it is opened until it is closed and every chunk it handed on has been released: a stream
 * still to read, or between two chunks, keeps the buffer from reuse as much as a chunk being written.
 */
export class BufferChunks extends Chunks {
    /** Chunks handed on and not yet released. */
    private readonly out = new Set<Buffer>();
    /** Still counted as a reader of the loan. */
    private reading: boolean;
    constructor(
        private readonly buffer: Buffer,
        options?: OpenOptions,
        private readonly loan?: Loan,
    ) {
        super(buffer.length, options);
        this.reading = !!loan;
        loan?.taken();
    }
    protected next(want: number, cb: (err: Error | null, chunk?: Buffer) => void): void {
        const chunk = this.buffer.subarray(this.sent, this.sent + want);
        if (this.loan) this.out.add(chunk);
        cb(null, chunk);
    }
    override release(chunk: Buffer): void {
        if (this.out.delete(chunk)) this.done();
    }
    override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
        cb(err);
        this.done();
    }
    /** No longer a reader of the loan once closed (destroyed, also at its end) with no chunk still out. */
    private done(): void {
        if (!this.reading || !this.destroyed || this.out.size > 0) return;
        this.reading = false;
        this.loan!.released();
    }
}

/** What a file was when the message came in: a file read later must still be this one. */
export interface FileIdentity {
    size: number;
    mtimeMs: number;
    ino: number;
    dev: number;
}

export const identityOf = (s: fs.Stats): FileIdentity => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, dev: s.dev });
export const sameFile = (a: FileIdentity, b: FileIdentity) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;

export function fileChanged(path: string, reason: string): SerialError {
    return new SerialError('FILE_CHANGED', { params: { path }, reason: { key: `changed.${reason}` } });
}

export function statError(err: NodeJS.ErrnoException, file: string): SerialError {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ENAMETOOLONG')
        return new SerialError('FILE_NOT_FOUND', { params: { path: file } });
    return new SerialError('FILE_UNREADABLE', { params: { path: file, reason: err.code ?? 'error' } });
}

/** A read that fails: on a directory or a FIFO put in the file's place, it is not a file any more. */
function readError(err: NodeJS.ErrnoException, file: string): SerialError {
    if (err.code === 'EISDIR' || err.code === 'ESPIPE' || err.code === 'EAGAIN') return fileChanged(file, 'notRegular');
    return statError(err, file);
}

/**
 * Exactly `size` bytes of a file from `start` through one descriptor, then a check on that
 * descriptor that the file is still the one measured when the message came in: same size,
 * modification time and inode (callback fs: a fraction of the cost of fs.promises and of a
 * ReadStream piped through a Transform).
 *
 * The first chunk is read as soon as the file is open, and when that was the whole file, its check
 * runs and the descriptor closes at once: a small file costs open, read, fstat and close, nothing
 * more (on a small box each is a thread-pool round trip, and a busy station sends many small files).
 */
export class FileChunks extends Chunks {
    private fd: number | null = null;
    private first: Buffer | null = null;
    /** The check's outcome once run early (undefined: not run yet). */
    private checked: Error | null | undefined;

    constructor(
        private readonly file: string,
        private readonly identity: FileIdentity,
        size: number,
        private readonly start: number,
        options?: OpenOptions,
    ) {
        super(size, options);
    }

    override _construct(cb: (err?: Error | null) => void): void {
        // Destroyed while opening (an upload aborted before it began): what the file turns out to be is
        // nobody's concern any more, and an error now would be one no consumer listens for (an uncaught
        // exception). The descriptor, if any, closes in _destroy.
        const done = (err?: Error | null) => cb(this.destroyed ? null : err);
        // O_NONBLOCK: a FIFO put in the file's place must not hold a thread-pool thread forever.
        fs.open(this.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, (err, fd) => {
            if (err) return done(statError(err, this.file));
            this.fd = fd;
            if (this.size === 0 || this.destroyed) return done(); // nothing to read (or nobody to read it); a check after still runs
            this.readAt(0, Math.min(CHUNK, this.size), (readErr, chunk) => {
                if (readErr) return done(readErr);
                this.first = chunk!;
                if (chunk!.length < this.size || this.destroyed) return done();
                // All of it is read: check now, and let the descriptor go.
                this.check((checkErr) => {
                    this.checked = checkErr ?? null;
                    this.closeFd();
                    done();
                });
            });
        });
    }

    protected next(want: number, cb: (err: Error | null, chunk?: Buffer) => void): void {
        const first = this.first;
        if (first) {
            this.first = null;
            return cb(null, first);
        }
        this.readAt(this.sent, want, cb);
    }

    protected override finish(cb: (err?: Error | null) => void): void {
        if (this.checked !== undefined) return cb(this.checked);
        this.check(cb);
    }

    override release(chunk: Buffer): void {
        giveBack(chunk);
    }

    override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
        // A first chunk read ahead and never handed on (the upload did not start) is nobody's.
        if (this.first) giveBack(this.first);
        this.first = null;
        const fd = this.fd;
        this.fd = null;
        if (fd === null) return cb(err);
        fs.close(fd, () => cb(err));
    }

    private closeFd(): void {
        const fd = this.fd;
        this.fd = null;
        if (fd !== null) fs.close(fd, () => undefined);
    }

    /** A read at `position` of the range; never started once the descriptor is gone (destroyed). */
    private readAt(position: number, want: number, cb: (err: Error | null, chunk?: Buffer) => void): void {
        const fd = this.fd;
        if (fd === null) return;
        const buffer = borrow(want);
        fs.read(fd, buffer, 0, want, this.start + position, (err, n) => {
            if (err) return cb(readError(err, this.file));
            if (n === 0) return cb(fileChanged(this.file, 'shrank'));
            cb(null, lend(buffer, n));
        });
    }

    /** After a complete read: is the open file still the one measured when the message came in? */
    private check(cb: (err?: Error | null) => void): void {
        const fd = this.fd;
        if (fd === null) return; // destroyed meanwhile: nobody waits for the outcome
        fs.fstat(fd, (err, now) => {
            if (err) return cb(readError(err, this.file));
            if (!sameFile(identityOf(now), this.identity)) return cb(fileChanged(this.file, 'identity'));
            cb();
        });
    }
}
