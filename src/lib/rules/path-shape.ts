/**
 * The shape rules of a request path template, shared by the runtime and the editor: every shape
 * that could send the request (and with it the key) anywhere but a path below the configured base
 * URL is refused: absolute URLs, relative paths, dot segments, a query or a fragment, backslashes
 * (which URL parsing treats as slashes), white space, control characters and empty segments.
 */

/** `{{entryId}}`, `{{ entry.id }}`, `{{files[0]}}` */
export const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** A msg property name: dotted identifiers with optional numeric indexes; nothing that could evaluate. */
export const PROPERTY_NAME = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\])*$/;
/** What WHATWG URL parsing treats as `.` or `..`, percent-encoded dots included. */
export const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// eslint-disable-next-line no-control-regex
const BAD_CHARACTER = /[\\\s\u0000-\u001f\u007f]/;

export function hasDotSegment(path: string): boolean {
    return path.split('/').some((segment) => DOT_SEGMENT.test(segment));
}

/**
 * What is wrong with a template's shape (each placeholder read as one plain segment character), as
 * the key of the reason in the shared catalog (`reasons.request.<key>`), or '' when nothing is.
 */
export function pathShapeProblem(template: string): string {
    return pathShapeCheck(template).key;
}

/** The problem's key and, for a bad placeholder, its name. */
export function pathShapeCheck(template: string): { key: string; name?: string } {
    const names: string[] = [];
    const shape = template.replace(PLACEHOLDER, (_match, name: string) => {
        names.push(name);
        return 'x';
    });
    if (shape.includes('://') || SCHEME.test(shape)) return { key: 'absoluteUrl' };
    if (!shape.startsWith('/')) return { key: 'notAbsolute' };
    if (shape.includes('?')) return { key: 'query' };
    if (shape.includes('#')) return { key: 'fragment' };
    if (BAD_CHARACTER.test(shape)) return { key: 'character' };
    if (shape.includes('//')) return { key: 'emptySegment' };
    if (hasDotSegment(shape)) return { key: 'dotSegment' };
    if (/[{}]/.test(shape)) return { key: 'braces' };
    const bad = names.find((name) => !PROPERTY_NAME.test(name));
    return bad === undefined ? { key: '' } : { key: 'placeholderName', name: bad };
}
