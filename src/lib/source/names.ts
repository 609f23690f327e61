import mime from 'mime-types';
import { SerialError } from '../errors/serial-error';
import { baseName, filenameProblem, isContentType } from '../rules/names';

/** Name Serial stores (default: the path's base name, or upload.<ext> for a Buffer) and its type. */
export interface NameOptions {
    filename?: unknown;
    contentType?: unknown;
}

/**
 * The name as Serial will store it: only the last path segment (a name can never climb out of a
 * folder on the other side), no control characters (they would break the part's header), at most
 * 255 bytes. A quote is escaped when the header is written.
 */
export function cleanFilename(raw: unknown): string {
    if (typeof raw !== 'string') throw new SerialError('INVALID_FILENAME', { reason: { key: 'notString' } });
    const base = baseName(raw);
    const problem = filenameProblem(base);
    if (problem) throw new SerialError('INVALID_FILENAME', { reason: { key: `filename.${problem}` } });
    return base.trim();
}

/** The part's Content-Type: the given one when it is a valid media type, else from the name. */
export function cleanContentType(raw: unknown, filename: string): string {
    if (raw === undefined || raw === null || raw === '') return mime.lookup(filename) || 'application/octet-stream';
    if (typeof raw !== 'string' || !isContentType(raw)) {
        throw new SerialError('INVALID_CONTENT_TYPE', { params: { value: JSON.stringify(String(raw)) } });
    }
    return raw.trim();
}

export function defaultBufferName(contentType: unknown): string {
    const ext = typeof contentType === 'string' && isContentType(contentType) ? mime.extension(contentType.trim()) : false;
    return `upload.${ext || 'bin'}`;
}

/** Characters that cannot be seen in a log line or a dialog, and that a copied path often carries. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u00a0\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]/g;

/** The invisible characters of a text, named as U+XXXX (each once), for an error a person can act on. */
export function invisibleCharacters(text: string): string[] {
    const found = new Set<string>();
    for (const m of text.matchAll(INVISIBLE)) found.add(`U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
    return [...found];
}
