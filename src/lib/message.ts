import { SerialError, isSerialError } from './errors';
import type { Result } from './client';

/** Any thrown value as a SerialError; an unexpected one becomes INVALID_REQUEST. */
export function asSerialError(e: unknown): SerialError {
    return isSerialError(e) ? e : new SerialError('INVALID_REQUEST', { params: { detail: String(e) } });
}

/** Serial's answer onto the message every node passes on: payload, statusCode, attempts. */
export function applyResult(msg: Record<string, unknown>, result: Result<unknown>): void {
    msg.payload = result.value;
    msg.statusCode = result.statusCode;
    msg.attempts = result.attempts;
}

/**
 * A failure onto the message a Catch node will get: statusCode and attempts set, or removed, so a
 * Catch node never sees a status left by an earlier step of the flow. Returns the SerialError.
 */
export function applyFailure(msg: Record<string, unknown>, e: unknown): SerialError {
    const err = asSerialError(e);
    if (err.statusCode !== undefined) msg.statusCode = err.statusCode;
    else delete msg.statusCode;
    if (err.attempts !== undefined) msg.attempts = err.attempts;
    else delete msg.attempts;
    return err;
}
