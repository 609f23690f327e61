import type { Node, NodeAPI, NodeMessage } from 'node-red';
import type { SerialError } from '../errors/serial-error';
import type { Done, Msg, Send } from '../outbox/delivery';
import type { Result } from '../serial/client';
import { applyFailure, applyResult } from './message';
import type { ActivityStatus } from './status';

/**
 * What every node does with an outcome, as core nodes do: the result onto the incoming message,
 * which goes on with every other property kept; a failure to the Catch node once, through done(err),
 * with code, status and attempts set on the message first.
 */
export function outcomes(RED: NodeAPI, status: ActivityStatus, doneParams?: (result: Result<unknown>) => Record<string, string | number>) {
    return {
        succeeded(msg: Msg, result: Result<unknown>, send: Send): void {
            applyResult(msg, result);
            status.done(doneParams?.(result));
            send(msg);
        },
        failed(msg: Msg, e: unknown, done: Done): SerialError {
            const err = applyFailure(RED, msg, e);
            status.failed(err.code);
            done(err);
            return err;
        },
    };
}

/** How a node reports what concerns no message in flight: a job delivered after a restart, a warning. */
export function reporting(node: Node) {
    return {
        send: (msg: Msg) => node.send(msg as NodeMessage),
        error: (err: Error, msg: Msg) => node.error(err, msg as NodeMessage),
        warn: (text: string) => node.warn(text),
    };
}
