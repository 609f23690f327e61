import fs from 'fs';
import path from 'path';
import { SerialError } from '../errors/serial-error';
import { BufferChunks, FileChunks, FileIdentity, identityOf, OpenOptions, SourceStream, statError } from './chunks';
import { cleanContentType, cleanFilename, defaultBufferName, invisibleCharacters, NameOptions } from './names';

/** Bytes to upload, reopenable once per attempt: a stream can be sent only once. */
export interface FileSource {
    readonly size: number;
    readonly filename: string;
    readonly contentType: string;
    /** Absolute path when the bytes live in a file (a user's file or an outbox job). */
    readonly path?: string;
    /** The file as it was measured, when the bytes live in one. */
    readonly identity?: FileIdentity;
    readonly buffer?: Buffer;
    /** A fresh stream of exactly `size` bytes; it errors with FILE_CHANGED if the file changed under it. */
    open(options?: OpenOptions): SourceStream;
}

export function bufferSource(buffer: Buffer, names: NameOptions = {}): FileSource {
    const filename = cleanFilename(names.filename ?? defaultBufferName(names.contentType));
    const contentType = cleanContentType(names.contentType, filename);
    return { size: buffer.length, filename, contentType, buffer, open: (options) => new BufferChunks(buffer, options) };
}

/**
 * `size` bytes from `start` of a file measured earlier as `identity` (an outbox job's bytes, or a
 * user's file): streamed, never read whole, and checked to be that file still at the end.
 */
export function fileRangeSource(
    file: string,
    identity: FileIdentity,
    names: { filename: string; contentType: string },
    range: { start: number; size: number } = { start: 0, size: identity.size },
): FileSource {
    return {
        size: range.size,
        filename: names.filename,
        contentType: names.contentType,
        path: file,
        identity,
        open: (options) => new FileChunks(file, identity, range.size, range.start, options),
    };
}

/** A path as a user's flow hands it over: the line break an exec node leaves at the end goes. */
export function trimPath(raw: string): string {
    return raw.replace(/[\r\n]+$/, '');
}

function notFound(file: string): SerialError {
    const invisible = invisibleCharacters(file);
    if (!invisible.length) return new SerialError('FILE_NOT_FOUND', { params: { path: file } });
    // Quoted as JSON, so the invisible characters show as escapes.
    return new SerialError('FILE_NOT_FOUND', {
        params: { path: JSON.stringify(file) },
        reason: { key: 'invisible', params: { chars: invisible.join(', ') } },
    });
}

/**
 * A file on disk, measured now (exists, is a regular file: its size, modification time and inode)
 * and streamed later, never read whole. Each stream reads exactly the size seen here and then checks
 * on its open descriptor that the file is still this one, so a file rewritten or replaced in the
 * meantime fails loudly (FILE_CHANGED) instead of sending another version under this message.
 * Whether it can be read shows when it is opened (FILE_UNREADABLE).
 */
export function pathSource(raw: string, names: NameOptions = {}): Promise<FileSource> {
    const file = trimPath(raw);
    if (file.trim() === '') return Promise.reject(new SerialError('EMPTY_PATH'));
    // No file can have a NUL in its path; fs would throw an argument error.
    if (file.includes('\u0000')) return Promise.reject(notFound(file));
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
    return new Promise((resolve, reject) =>
        fs.stat(abs, (err, stat) => {
            if (err) return reject(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG'].includes(err.code ?? '') ? notFound(abs) : statError(err, abs));
            if (!stat.isFile()) return reject(new SerialError('NOT_A_FILE', { params: { path: abs } }));
            resolve(fileRangeSource(abs, identityOf(stat), { filename, contentType }));
        }),
    );
}

/** The one entry point for a message's payload: a Buffer, or a string naming a file. */
export async function sourceFromPayload(payload: unknown, names: NameOptions = {}): Promise<FileSource> {
    if (Buffer.isBuffer(payload)) return bufferSource(payload, names);
    if (typeof payload === 'string') return pathSource(payload, names);
    const type = payload === null ? 'null' : Array.isArray(payload) ? 'array' : typeof payload;
    throw new SerialError('INVALID_PAYLOAD', { params: { type } });
}
