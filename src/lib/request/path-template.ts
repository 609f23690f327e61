import { SerialError } from '../errors/serial-error';
import type { Params } from '../errors/texts';
import { DOT_SEGMENT, hasDotSegment, PLACEHOLDER, pathShapeCheck } from '../rules/path-shape';

/** INVALID_REQUEST with the reason `key` (`reasons.request.<key>` in the shared catalog). */
export function invalidRequest(key: string, params?: Params): SerialError {
    return new SerialError('INVALID_REQUEST', { reason: { key: `request.${key}`, params } });
}

export function typeName(value: unknown): string {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'array';
    if (Buffer.isBuffer(value)) return 'Buffer';
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return typeof value;
}

/** One placeholder's value as a single, encoded path segment (or part of one). */
function encodeValue(name: string, value: unknown): string {
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
        throw invalidRequest('missingValue', { name });
    }
    const scalar =
        typeof value === 'string' || typeof value === 'bigint' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!scalar) throw invalidRequest('notScalar', { name, type: typeName(value) });
    const encoded = encodeURIComponent(String(value));
    // encodeURIComponent leaves dots alone, and URL parsing would turn "." or ".." into a move up the path.
    if (DOT_SEGMENT.test(encoded)) throw invalidRequest('dotValue', { name });
    return encoded;
}

/**
 * Fills `{{name}}` placeholders of a path template with values from `lookup`, each URL-encoded so a
 * value can never change the path's shape: `a/../b?x` stays one segment, `a%2F..%2Fb%3Fx`.
 * Throws INVALID_REQUEST for a template or value that is not allowed.
 */
export function fillPath(template: unknown, lookup: (name: string) => unknown): string {
    if (typeof template !== 'string' || template.trim() === '') throw invalidRequest('noPath');
    const path = template.trim();
    const problem = pathShapeCheck(path);
    if (problem.key) throw invalidRequest(problem.key, { path, name: problem.name ?? '' });
    const filled = path.replace(PLACEHOLDER, (_match, name: string) => encodeValue(name, lookup(name)));
    // Values joined inside one segment ("{{a}}{{b}}" with "." and ".") could still form a dot segment.
    if (hasDotSegment(filled)) throw invalidRequest('dotSegment');
    return filled;
}
