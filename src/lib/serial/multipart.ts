import crypto from 'crypto';
import type { Frame } from '../source/chunks';
import type { FileSource } from '../source/sources';

// Unpredictable boundaries (a file's bytes must not be able to close its part), from a pool refilled
// now and then: one getrandom call per request is measurable on a small box.
let randomPool = Buffer.alloc(0);
let randomAt = 0;
export function randomHex(bytes: number): string {
    if (randomAt + bytes > randomPool.length) {
        randomPool = crypto.randomBytes(4096);
        randomAt = 0;
    }
    randomAt += bytes;
    return randomPool.toString('hex', randomAt - bytes, randomAt);
}

/** A quote in a name would end the header's quoted string; names hold no control characters (checked). */
const escapeQuotes = (value: string) => value.replace(/"/g, '%22');

export interface MultipartBody {
    contentType: string;
    /** The whole body's length: Serial gets a Content-Length, never chunked encoding. */
    length: number;
    frame: Frame;
}

/**
 * The multipart/form-data framing of one part named `file` around the source's bytes. Written as
 * form-data writes it (same header lines; a quote in the name escaped as browsers do), but the
 * source's own stream carries it: no combined and delayed streams per request, and nothing here
 * holds the bytes.
 */
export function multipartBody(source: FileSource): MultipartBody {
    const boundary = `--------------------------${randomHex(12)}`;
    const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${escapeQuotes(source.filename)}"\r\n` +
            `Content-Type: ${source.contentType}\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    return { contentType: `multipart/form-data; boundary=${boundary}`, length: head.length + source.size + tail.length, frame: { head, tail } };
}
