import fs from 'fs';
import path from 'path';
import { Readable, Transform, TransformCallback } from 'stream';
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
    open(onBytes?: (n: number) => void): Readable;
}

export interface NameOptions {
    /** Name Serial stores; default the path's base name, or upload.<ext> for a Buffer. */
    filename?: unknown;
    contentType?: unknown;
}

const CHUNK = 256 * 1024;
const MAX_NAME_BYTES = 255;
// Control characters other than CR and LF, which are escaped the way browsers do (see partHeader).
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

/** Counts bytes as they are pulled and fails the stream if the total is not the size announced. */
class Meter extends Transform {
    private seen = 0;
    constructor(private readonly label: string, private readonly expected: number,
                private readonly onBytes?: (n: number) => void, private readonly verify?: () => Promise<void>) {
        super();
    }
    override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
        this.seen += chunk.length;
        if (this.seen > this.expected) return cb(fileChanged(this.label, 'grew while being read'));
        this.onBytes?.(chunk.length);
        cb(null, chunk);
    }
    override _flush(cb: TransformCallback): void {
        if (this.seen !== this.expected) return cb(fileChanged(this.label, 'shrank while being read'));
        if (!this.verify) return cb();
        this.verify().then(() => cb(), cb);
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
        open(onBytes) {
            // Views into the Buffer, never copies of it.
            function* chunks() {
                for (let at = 0; at < buffer.length; at += CHUNK) yield buffer.subarray(at, at + CHUNK);
            }
            return Readable.from(chunks(), { objectMode: false }).pipe(new Meter('(Buffer)', buffer.length, onBytes));
        },
    };
}

function statError(err: NodeJS.ErrnoException, file: string): SerialError {
    const params = { path: file };
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return new SerialError('FILE_NOT_FOUND', { params });
    return new SerialError('FILE_UNREADABLE', { params: { ...params, reason: err.code ?? 'error' } });
}

/**
 * A file on disk, checked now (exists, regular, readable) and streamed later, never read whole.
 * Each stream reads exactly the size seen here and then checks that size and mtime still hold,
 * so a file rewritten mid-upload fails loudly instead of sending a mix of two versions.
 */
export async function pathSource(file: string, names: NameOptions = {}): Promise<FileSource> {
    if (file.trim() === '') throw new SerialError('EMPTY_PATH');
    const abs = path.resolve(file);
    let stat: fs.Stats;
    try {
        stat = await fs.promises.stat(abs);
    } catch (err) {
        throw statError(err as NodeJS.ErrnoException, abs);
    }
    if (!stat.isFile()) throw new SerialError('NOT_A_FILE', { params: { path: abs } });
    try {
        // Opening is what really tells readability (permission bits, ACLs, root-squash, FUSE).
        await (await fs.promises.open(abs, 'r')).close();
    } catch (err) {
        throw statError(err as NodeJS.ErrnoException, abs);
    }
    const filename = cleanFilename(names.filename ?? path.basename(abs));
    const contentType = cleanContentType(names.contentType, filename);
    const { size, mtimeMs } = stat;
    const verify = async () => {
        let now: fs.Stats;
        try {
            now = await fs.promises.stat(abs);
        } catch {
            return; // removed after a complete read: the bytes sent are the file as it was
        }
        if (now.size !== size || now.mtimeMs !== mtimeMs) throw fileChanged(abs, 'size or modification time changed');
    };
    return {
        size,
        filename,
        contentType,
        path: abs,
        open(onBytes) {
            const meter = new Meter(abs, size, onBytes, verify);
            if (size === 0) return Readable.from([]).pipe(meter);
            const raw = fs.createReadStream(abs, { start: 0, end: size - 1, highWaterMark: CHUNK });
            raw.on('error', (err: NodeJS.ErrnoException) => meter.destroy(statError(err, abs)));
            meter.on('close', () => raw.destroy());
            return raw.pipe(meter);
        },
    };
}

/** The one entry point for a message's payload: a Buffer, or a string naming a file. */
export async function sourceFromPayload(payload: unknown, names: NameOptions = {}): Promise<FileSource> {
    if (Buffer.isBuffer(payload)) return bufferSource(payload, names);
    if (typeof payload === 'string') return pathSource(payload, names);
    const type = payload === null ? 'null' : Array.isArray(payload) ? 'array' : typeof payload;
    throw new SerialError('INVALID_PAYLOAD', { params: { type } });
}
