import os from 'os';
import path from 'path';
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';
import { readOptions } from '../options/read';
import { DeliveryHooks, DirectDelivery, DiskDelivery, Delivery, Done, Msg } from '../outbox/delivery';
import { InOrder } from '../outbox/in-order';
import type { Work } from '../outbox/job';
import { OUTBOX_OPTIONS } from '../rules/options';
import { sharedCatalog } from './i18n';
import type { ActivityStatus } from './status';

/** Where outboxes live unless a node names another folder: <user dir>/serial-mfg-outbox. */
export function outboxBase(RED: NodeAPI, configured?: string): string {
    return configured || path.join(RED.settings.userDir ?? path.join(os.homedir(), '.node-red'), 'serial-mfg-outbox');
}

/**
 * A node's delivery from its Outbox settings: through <folder>/<node id>/ on disk (the default), or
 * direct. The status shows the outbox's queue and problems; going offline or held is logged once.
 */
export function deliveryFor<R>(
    RED: NodeAPI,
    node: Node & { name?: string },
    stored: Record<string, unknown>,
    status: ActivityStatus,
    hooks: Omit<DeliveryHooks<R>, 'queue' | 'problem'> & { parallel: () => number; firstWaitMs: number; server: string; host: () => string },
): Delivery {
    const options = readOptions(OUTBOX_OPTIONS, stored);
    if (options.outbox === 'off') return new DirectDelivery(hooks);
    const text = sharedCatalog(RED);
    let reported: string | undefined;
    let lastState: string | undefined;
    return new DiskDelivery(
        {
            dir: path.join(outboxBase(RED, options.outboxDir), node.id),
            limits: { maxFiles: options.outboxMaxFiles, maxBytes: options.outboxMaxSize * 1048576 },
            parallel: hooks.parallel,
            firstWaitMs: hooks.firstWaitMs,
            owner: { id: node.id, type: node.type, name: node.name ?? '', server: hooks.server },
        },
        {
            ...hooks,
            queue: (s) => {
                status.queue({ depth: s.depth, inFlight: s.inFlight, state: s.state, code: s.cause?.code, oldest: s.oldest });
                // Going offline or held is logged once, with its cause and where Serial was looked for.
                const key = `${s.state}|${s.cause?.code ?? ''}`;
                if (key === lastState) return;
                lastState = key;
                if ((s.state === 'offline' || s.state === 'held') && s.cause) {
                    hooks.warn(text(`warnings.${s.state}`, { count: s.depth, code: s.cause.code, message: s.cause.text(text), host: hooks.host() }));
                }
            },
            problem: (err) => {
                if (!err) return status.queue({ depth: 0, inFlight: 0, state: 'online' });
                status.problem(err.code);
                // Tried again and again until it opens: said once per cause, not per try.
                if (reported !== err.code) hooks.warn(text('warnings.outbox', { message: err.text(text) }));
                reported = err.code;
            },
        },
    );
}

/**
 * The input and close of every node that delivers work: messages are prepared side by side but
 * admitted one after another, in the order they came; a message that cannot be prepared fails alone.
 * On close the delivery stops (the outbox keeps its jobs) and the status is cleared.
 */
export function acceptInOrder(
    node: Node,
    delivery: Delivery,
    prepare: (msg: Msg) => Promise<Work>,
    failed: (msg: Msg, e: unknown, done: Done) => unknown,
    status: ActivityStatus,
): void {
    const arrivals = new InOrder();
    node.on('input', (msg: NodeMessageInFlow, send, done) => {
        const m = msg as Msg;
        arrivals.add(prepare(m), (work) => delivery.admit(work, m, send, done)).catch((e) => failed(m, e, done));
    });
    node.on('close', (_removed: boolean, done: () => void) => {
        delivery.close().finally(() => {
            status.clear();
            done();
        });
    });
}
