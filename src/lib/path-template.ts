import { SerialError } from './errors';
import { englishText, Params } from './i18n';

/** Texts for the reasons a request is refused, keyed below `serial-mfg-request.` in the request node's catalog. */
export type ReasonText = (key: string, params?: Params) => string;

export const englishReasons: ReasonText = (key, params) => englishText('serial-mfg-request', `serial-mfg-request.${key}`, params);

/** `{{entryId}}`, `{{ entry.id }}`, `{{files[0]}}` */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** A msg property name: dotted identifiers with optional numeric indexes; nothing that could evaluate. */
const PROPERTY_NAME = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\])*$/;
/** What WHATWG URL parsing treats as `.` or `..`, percent-encoded dots included. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function invalidRequest(text: ReasonText, key: string, params?: Params): SerialError {
    return new SerialError('INVALID_REQUEST', { params: { detail: text(`invalid.${key}`, params) } });
}

function typeName(value: unknown): string {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'array';
    if (Buffer.isBuffer(value)) return 'Buffer';
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return typeof value;
}

/**
 * Refuses every template whose shape could send the request (and with it the key) anywhere but a
 * path below the configured base URL: absolute URLs, relative paths, dot segments, a query or a
 * fragment, backslashes (which URL parsing treats as slashes) and empty segments.
 */
function checkShape(shape: string, text: ReasonText): void {
    const brief = shape.slice(0, 100);
    if (shape.includes('://') || SCHEME.test(shape)) throw invalidRequest(text, 'absoluteUrl', { path: brief });
    if (!shape.startsWith('/')) throw invalidRequest(text, 'notAbsolute', { path: brief });
    if (shape.includes('?')) throw invalidRequest(text, 'query');
    if (shape.includes('#')) throw invalidRequest(text, 'fragment');
    // eslint-disable-next-line no-control-regex
    if (/[\\\s\u0000-\u001f\u007f]/.test(shape)) throw invalidRequest(text, 'character');
    if (shape.includes('//')) throw invalidRequest(text, 'emptySegment');
    if (shape.split('/').some((segment) => DOT_SEGMENT.test(segment))) throw invalidRequest(text, 'dotSegment');
    if (/[{}]/.test(shape)) throw invalidRequest(text, 'braces');
}

/** One placeholder's value as a single, encoded path segment (or part of one). */
function encodeValue(name: string, value: unknown, text: ReasonText): string {
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
        throw invalidRequest(text, 'missingValue', { name });
    }
    const scalar = typeof value === 'string' || typeof value === 'bigint' || typeof value === 'boolean'
        || (typeof value === 'number' && Number.isFinite(value));
    if (!scalar) throw invalidRequest(text, 'notScalar', { name, type: typeName(value) });
    const encoded = encodeURIComponent(String(value));
    // encodeURIComponent leaves dots alone, and URL parsing would turn "." or ".." into a move up the path.
    if (DOT_SEGMENT.test(encoded)) throw invalidRequest(text, 'dotValue', { name });
    return encoded;
}

/**
 * Fills `{{name}}` placeholders of a path template with values from `lookup`, each URL-encoded so a
 * value can never change the path's shape: `a/../b?x` stays one segment, `a%2F..%2Fb%3Fx`.
 * Throws INVALID_REQUEST for a template or value that is not allowed.
 */
export function fillPath(template: unknown, lookup: (name: string) => unknown, text: ReasonText = englishReasons): string {
    if (typeof template !== 'string' || template.trim() === '') throw invalidRequest(text, 'noPath');
    const path = template.trim();
    const names: string[] = [];
    // The template's shape is checked with each placeholder as a plain segment character.
    checkShape(path.replace(PLACEHOLDER, (_match, name: string) => {
        names.push(name);
        return 'x';
    }), text);
    for (const name of names) {
        if (!PROPERTY_NAME.test(name)) throw invalidRequest(text, 'placeholderName', { name: name.slice(0, 60) });
    }
    const filled = path.replace(PLACEHOLDER, (_match, name: string) => encodeValue(name, lookup(name), text));
    // Values joined inside one segment ("{{a}}{{b}}" with "." and ".") could still form a dot segment.
    if (filled.split('/').some((segment) => DOT_SEGMENT.test(segment))) throw invalidRequest(text, 'dotSegment');
    return filled;
}
