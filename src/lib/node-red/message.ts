import type { NodeAPI } from 'node-red';
import type { SerialError } from '../errors/serial-error';
import type { Result } from '../serial/client';
import { localize } from './i18n';

/** Serial's answer onto the message every node passes on: payload, statusCode, attempts. */
export function applyResult(msg: Record<string, unknown>, result: Result<unknown>): void {
    msg.payload = result.value;
    msg.statusCode = result.statusCode;
    msg.attempts = result.attempts;
}

/**
 * A failure onto the message a Catch node will get: statusCode and attempts set, or removed, so a
 * Catch node never sees a status left by an earlier step of the flow. Returns the error, its message
 * in the runtime's language.
 */
export function applyFailure(RED: NodeAPI, msg: Record<string, unknown>, e: unknown): SerialError {
    const err = localize(RED, e);
    if (err.statusCode !== undefined) msg.statusCode = err.statusCode;
    else delete msg.statusCode;
    if (err.attempts !== undefined) msg.attempts = err.attempts;
    else delete msg.attempts;
    return err;
}
