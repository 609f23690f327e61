import fs from 'fs';
import path from 'path';
import { Readable } from 'stream';
import mime from 'mime-types';
import { SerialError } from './errors';

/** Bytes to upload, reopenable once per attempt: a stream can be sent only once. */
export interface FileSource {
    readonly size: number;
    readonly filename: string;
    readonly contentType: string;
    /** Absolute path when the bytes live in a file (a user's file or an outbox job). */
    readonly path?: string;
    readonly buffer?: Buffer;
    /** A fresh stream of exactly `size` bytes; it errors with FILE_CHANGED if the file changed under it. */
    open(options?: OpenOptions): SourceStream;
}

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
     * The consumer is done with this chunk for good (e.g. the socket has written it): the stream may
     * read into its memory again. Optional to call; a chunk never handed back is simply never reused.
     */
    release(chunk: Buffer): void;
}

export interface NameOptions {
    /** Name Serial stores; default the path's base name, or upload.<ext> for a Buffer. */
    filename?: unknown;
    contentType?: unknown;
}

const CHUNK = 256 * 1024;
/** Chunks kept for reuse per stream, at most (the ones in flight are a few more). */
const MAX_SPARE = 8;
const MAX_NAME_BYTES = 255;
// Control characters other than CR and LF, which are escaped the way browsers do (see escapeParam in client.ts).
const FORBIDDEN_IN_NAME = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]/;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const CONTENT_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=("[^"\\\\\\r\\n]*"|${TOKEN}))*$`);

/**
 * The name as Serial will store it: only the last path segment (a name can never climb out of
 * a folder on the other side), no control characters, at most 255 bytes.
 */
export function cleanFilename(raw: unknown): string {
    if (typeof raw !== 'string') {
        throw new SerialError('INVALID_FILENAME', { params: { reason: 'not a string' } });
    }
    const base = raw.split(/[\\/]/).pop()!.trim();
    if (!base || base === '.' || base === '..') {
        throw new SerialError('INVALID_FILENAME', { params: { reason: 'empty' } });
    }
    if (FORBIDDEN_IN_NAME.test(base)) {
        throw new SerialError('INVALID_FILENAME', { params: { reason: 'control character' } });
    }
    if (Buffer.byteLength(base) > MAX_NAME_BYTES) {
        throw new SerialError('INVALID_FILENAME', { params: { reason: 'longer than 255 bytes' } });
    }
    return base;
}

export function cleanContentType(raw: unknown, filename: string): string {
    if (raw === undefined || raw === null || raw === '') {
        return mime.lookup(filename) || 'application/octet-stream';
    }
    if (typeof raw !== 'string' || !CONTENT_TYPE.test(raw.trim())) {
        throw new SerialError('INVALID_CONTENT_TYPE', { params: { value: JSON.stringify(String(raw).slice(0, 100)) } });
    }
    return raw.trim();
}

function defaultBufferName(contentType: unknown): string {
    const ext = typeof contentType === 'string' ? mime.extension(contentType.trim()) : false;
    return `upload.${ext || 'bin'}`;
}

/**
 * The one stream every upload body comes from: `size` bytes in chunks of at most CHUNK, counted as
 * they are handed on, inside the frame when one is given. A plain Readable with its own reads, not a
 * pipe through a Transform: for small files the per-request work (objects, listeners, thread-pool
 * round trips) is what costs, not bytes.
 */
abstract class Chunks extends Readable implements SourceStream {
    protected sent = 0;
    private headSent = false;
    private completing = false;
    constructor(protected readonly size: number, private readonly options: OpenOptions = {}) {
        super({ highWaterMark: CHUNK });
    }

    /** The next chunk at `this.sent` (never empty while bytes are left), or an error. */
    protected abstract next(want: number, cb: (err: Error | null, chunk?: Buffer) => void): void;

    release(_chunk: Buffer): void { /* nothing to reuse by default */ }

    /** Called once all bytes were handed on; may refuse them after all. Synchronous when it can be. */
    protected finish(cb: (err?: Error | null) => void): void {
        cb();
    }

    override _read(): void {
        if (this.sent >= this.size) return this.complete();
        this.next(Math.min(CHUNK, this.size - this.sent), (err, chunk) => {
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
        if (this.completing) return;
        this.completing = true;
        this.finish((err) => {
            if (err) return void this.destroy(err);
            if (this.destroyed) return;
            this.pushHead(); // an empty source still gets its part header
            if (this.options.frame) this.push(this.options.frame.tail);
            this.push(null);
        });
    }

    private pushHead(): void {
        if (this.headSent) return;
        this.headSent = true;
        if (this.options.frame) this.push(this.options.frame.head);
    }
}

/** Views into the Buffer, never copies of it. */
class BufferChunks extends Chunks {
    constructor(private readonly buffer: Buffer, options?: OpenOptions) {
        super(buffer.length, options);
    }
    protected next(want: number, cb: (err: Error | null, chunk?: Buffer) => void): void {
        cb(null, this.buffer.subarray(this.sent, this.sent + want));
    }
}

/** What a file was when the message came in: a file read later must still be this one. */
interface FileIdentity {
    size: number;
    mtimeMs: number;
    ino: number;
    dev: number;
}

const sameFile = (a: FileIdentity, b: FileIdentity) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;

/**
 * Exactly `size` bytes of a file through one descriptor, then a check on that descriptor that the
 * file is still the one measured when the message came in: same size, modification time and inode
 * (callback fs: a fraction of the cost of fs.promises and of a ReadStream piped through a Transform).
 *
 * The first chunk is read as soon as the file is open, and when that was the whole file, its check
 * runs and the descriptor closes at once: a small file costs open, read, fstat and close, nothing
 * more (on a small box each is a thread-pool round trip, and a busy station sends many small files).
 */
class FileChunks extends Chunks {
    private fd: number | null = null;
    private first: Buffer | null = null;
    /**
     * Full-size chunks handed back by the consumer, read into again: a 2 GiB upload then allocates a
     * handful of buffers instead of 8192, and the garbage collector, which external memory churn
     * drives into full collections every few dozen MiB, has nothing to do.
     */
    private readonly owned = new WeakSet<Buffer>();
    private spare: Buffer[] = [];
    /** The check's outcome once run early (undefined: not run yet). */
    private checked: Error | null | undefined;

    constructor(private readonly file: string, private readonly identity: FileIdentity, options?: OpenOptions) {
        super(identity.size, options);
    }

    override _construct(cb: (err?: Error | null) => void): void {
        // O_NONBLOCK: a FIFO put in the file's place must not hold a thread-pool thread forever.
        fs.open(this.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, (err, fd) => {
            if (err) return cb(statError(err, this.file));
            this.fd = fd;
            if (this.size === 0) return cb(); // nothing to read; the check after still runs
            this.readAt(0, Math.min(CHUNK, this.size), (readErr, chunk) => {
                if (readErr) return cb(readErr);
                this.first = chunk!;
                if (chunk!.length < this.size) return cb();
                // All of it is read: check now, and let the descriptor go.
                this.check((checkErr) => {
                    this.checked = checkErr ?? null;
                    this.closeFd();
                    cb();
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
        if (this.owned.has(chunk) && this.spare.length < MAX_SPARE && !this.destroyed) this.spare.push(chunk);
    }

    override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
        this.first = null;
        this.spare = [];
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

    private readAt(position: number, want: number, cb: (err: Error | null, chunk?: Buffer) => void): void {
        let chunk: Buffer;
        if (want === CHUNK) {
            chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK);
            this.owned.add(chunk);
        } else chunk = Buffer.allocUnsafe(want);
        fs.read(this.fd!, chunk, 0, want, position, (err, n) => {
            if (err) return cb(readError(err, this.file));
            if (n === 0) return cb(fileChanged(this.file, 'shrank while being read'));
            cb(null, n === want ? chunk : chunk.subarray(0, n));
        });
    }

    /** After a complete read: is the open file still the one measured when the message came in? */
    private check(cb: (err?: Error | null) => void): void {
        fs.fstat(this.fd!, (err, now) => {
            if (err) return cb(readError(err, this.file));
            if (!sameFile(now, this.identity)) return cb(fileChanged(this.file, 'size, modification time or inode changed'));
            cb();
        });
    }
}

function fileChanged(path: string, reason: string): SerialError {
    return new SerialError('FILE_CHANGED', { params: { path, reason } });
}

export function bufferSource(buffer: Buffer, names: NameOptions = {}): FileSource {
    const filename = cleanFilename(names.filename ?? defaultBufferName(names.contentType));
    const contentType = cleanContentType(names.contentType, filename);
    return {
        size: buffer.length,
        filename,
        contentType,
        buffer,
        open: (options) => new BufferChunks(buffer, options),
    };
}

function statError(err: NodeJS.ErrnoException, file: string): SerialError {
    const params = { path: file };
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return new SerialError('FILE_NOT_FOUND', { params });
    return new SerialError('FILE_UNREADABLE', { params: { ...params, reason: err.code ?? 'error' } });
}

/** A read that fails: on a directory or a FIFO put in the file's place, it is not a file any more. */
function readError(err: NodeJS.ErrnoException, file: string): SerialError {
    if (err.code === 'EISDIR' || err.code === 'ESPIPE' || err.code === 'EAGAIN') return fileChanged(file, 'no longer a regular file');
    return statError(err, file);
}

/**
 * A file on disk, measured now (exists, is a regular file: its size, modification time and inode)
 * and streamed later, never read whole. Each stream reads exactly the size seen here and then checks
 * on its open descriptor that the file is still this one, so a file rewritten or replaced in the
 * meantime fails loudly (FILE_CHANGED) instead of sending another version under this message.
 * Whether it can be read shows when it is opened (FILE_UNREADABLE).
 */
export function pathSource(file: string, names: NameOptions = {}): Promise<FileSource> {
    if (file.trim() === '') return Promise.reject(new SerialError('EMPTY_PATH'));
    const abs = path.resolve(file);
    // The names first: a bad name is refused without touching the disk.
    let filename: string;
    let contentType: string;
    try {
        filename = cleanFilename(names.filename ?? path.basename(abs));
        contentType = cleanContentType(names.contentType, filename);
    } catch (err) {
        return Promise.reject(err);
    }
    // Callback fs wrapped by hand: half the cost of fs.promises per call.
    return new Promise((resolve, reject) => fs.stat(abs, (err, stat) => {
        if (err) return reject(statError(err, abs));
        if (!stat.isFile()) return reject(new SerialError('NOT_A_FILE', { params: { path: abs } }));
        const identity: FileIdentity = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino, dev: stat.dev };
        resolve({
            size: identity.size,
            filename,
            contentType,
            path: abs,
            open: (options) => new FileChunks(abs, identity, options),
        });
    }));
}

/** The one entry point for a message's payload: a Buffer, or a string naming a file. */
export async function sourceFromPayload(payload: unknown, names: NameOptions = {}): Promise<FileSource> {
    if (Buffer.isBuffer(payload)) return bufferSource(payload, names);
    if (typeof payload === 'string') return pathSource(payload, names);
    const type = payload === null ? 'null' : Array.isArray(payload) ? 'array' : typeof payload;
    throw new SerialError('INVALID_PAYLOAD', { params: { type } });
}
