/**
 * What a file name and a content type may be, shared by the runtime and the editor. Both end up in
 * the multipart part's headers, so no control character may pass: a CR or LF there could end the
 * header block and change what Serial stores.
 */

export const MAX_NAME_BYTES = 255;
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** type/subtype with optional parameters; only spaces and tabs as white space. */
const CONTENT_TYPE = new RegExp(`^${TOKEN}/${TOKEN}([ \\t]*;[ \\t]*${TOKEN}=("[^"\\\\\\u0000-\\u001f\\u007f]*"|${TOKEN}))*$`);

/** The last segment of a path or name: a name can never climb out of a folder on the other side. */
export function baseName(raw: string): string {
    return raw.split(/[\\/]/).pop() ?? '';
}

/** The reason a (base) name cannot be uploaded, as a catalog key, or '' when it can. */
export function filenameProblem(name: string): string {
    if (!name.trim() || name.trim() === '.' || name.trim() === '..') return 'empty';
    if (CONTROL_CHARACTER.test(name)) return 'control';
    if (new TextEncoder().encode(name.trim()).length > MAX_NAME_BYTES) return 'tooLong';
    return '';
}

export function isContentType(value: string): boolean {
    return !CONTROL_CHARACTER.test(value) && CONTENT_TYPE.test(value.trim());
}
