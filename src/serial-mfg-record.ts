import type { Node, NodeAPI, NodeDef } from 'node-red';
import { acceptInOrder, deliveryFor } from './lib/node-red/delivery';
import { statusTexts } from './lib/node-red/i18n';
import { outcomes, reporting } from './lib/node-red/outcome';
import { serverOf } from './lib/node-red/server';
import { ActivityStatus } from './lib/node-red/status';
import { attemptOptions, readOptions } from './lib/options/read';
import type { Msg } from './lib/outbox/delivery';
import type { Work } from './lib/outbox/job';
import { recordFromMessage } from './lib/record/record';
import { Recorded, runRecord } from './lib/record/steps';
import { RECORD_OPTIONS } from './lib/rules/options';

export = function register(RED: NodeAPI): void {
    function SerialMfgRecordNode(this: Node, def: NodeDef & Record<string, unknown>) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = readOptions(RECORD_OPTIONS, def);
        const server = serverOf(RED, config.server);
        const attempt = attemptOptions(config);
        const status = new ActivityStatus((s) => node.status(s), statusTexts(RED, 'serial-mfg-record'), {
            working: 'status.recording',
            done: 'status.recorded',
        });
        const { failed } = outcomes(RED, status);

        const delivery = deliveryFor<Recorded>(RED, node, config, status, {
            ...reporting(node),
            parallel: server.parallel,
            host: server.host,
            server: config.server,
            firstWaitMs: attempt.backoffMs,
            run: async (task, signal) => {
                status.start();
                try {
                    return await runRecord(server.client(), task, {
                        ...attempt,
                        signal,
                        onRetry: ({ attempt: n, attempts }) => status.retrying(n, attempts),
                    });
                } finally {
                    status.end();
                }
            },
            succeeded: (msg, recorded, send) => {
                msg.payload = recorded.entry;
                msg.files = recorded.files;
                status.done();
                send(msg);
            },
            failed,
        });

        /** The whole record checked before any request: a usable server, every field, every file measured. */
        async function prepare(msg: Msg): Promise<Work> {
            server.client();
            const { spec, files } = await recordFromMessage(msg.payload, config, new Date());
            return { kind: 'record', spec, files, copyFirst: true };
        }

        acceptInOrder(node, delivery, prepare, failed, status);
    }

    RED.nodes.registerType('serial-mfg-record', SerialMfgRecordNode);
};
