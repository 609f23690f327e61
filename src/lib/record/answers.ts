import { SerialError } from '../errors/serial-error';

/** What the record node accepts of Serial's answers before it journals or caches them. */
export const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const hasId = (v: unknown): v is { id: string | number } =>
    isPlain(v) && (typeof v.id === 'string' || typeof v.id === 'number') && v.id !== '';

/** An answer of the wrong shape: trusted, it would be journaled or cached and poison every later step. */
export function shapeError(what: string, detail: string): SerialError {
    return new SerialError('INVALID_RESPONSE', { reason: { key: 'answerShape', params: { what, detail } } });
}

/** What identifies a datum among an entry's data when it is read back. */
export function signature(body: Record<string, unknown>): string {
    return JSON.stringify(['type', 'dataset_id', 'file_id', 'value', 'expected_value', 'usl', 'lsl'].map((k) => body[k] ?? null));
}
