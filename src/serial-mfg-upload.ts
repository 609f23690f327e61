import type { Node, NodeAPI, NodeDef } from 'node-red';
import { SerialError } from './lib/errors/serial-error';
import { acceptInOrder, deliveryFor } from './lib/node-red/delivery';
import { sharedCatalog, statusTexts } from './lib/node-red/i18n';
import { outcomes, reporting } from './lib/node-red/outcome';
import { evaluate } from './lib/node-red/properties';
import { serverOf } from './lib/node-red/server';
import { ActivityStatus } from './lib/node-red/status';
import { attemptOptions, readOptions } from './lib/options/read';
import type { Work } from './lib/outbox/job';
import type { Msg } from './lib/outbox/delivery';
import { UPLOAD_OPTIONS } from './lib/rules/options';
import type { FileStorage } from './lib/serial/file-storage';
import type { Result } from './lib/serial/client';
import { sourceFromPayload } from './lib/source/sources';

export = function register(RED: NodeAPI): void {
    const text = sharedCatalog(RED);

    function SerialMfgUploadNode(this: Node, def: NodeDef & Record<string, unknown>) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = readOptions(UPLOAD_OPTIONS, def);
        const server = serverOf(RED, config.server);
        const attempt = attemptOptions(config);
        const status = new ActivityStatus((s) => node.status(s), statusTexts(RED, 'serial-mfg-upload'), {
            working: 'status.uploading',
            done: 'status.done',
        });
        const { succeeded, failed } = outcomes(RED, status);

        const delivery = deliveryFor<Result<FileStorage>>(RED, node, config, status, {
            ...reporting(node),
            parallel: server.parallel,
            host: server.host,
            server: config.server,
            firstWaitMs: attempt.backoffMs,
            run: async (task, signal) => {
                status.start();
                try {
                    return await server.client().upload(task.files[0], {
                        ...attempt,
                        signal,
                        onBytes: (sent, total) => status.progress(sent, total),
                        onRetry: ({ attempt: n, attempts }) => status.retrying(n, attempts),
                    });
                } finally {
                    status.end();
                }
            },
            succeeded,
            failed,
        });

        /** What a message needs before it joins a queue: a usable server, its bytes measured and named. */
        async function prepare(msg: Msg): Promise<Work> {
            server.client();
            const source = await sourceFromPayload(msg.payload, {
                filename: await evaluate(RED, node, msg, config.filename, config.filenameType),
                contentType: await evaluate(RED, node, msg, config.contentType, config.contentTypeType),
            });
            if (source.size === 0 && config.emptyFile === 'refuse') throw new SerialError('FILE_EMPTY', { params: { name: source.filename } });
            if (source.size === 0 && config.emptyFile === 'warn') node.warn(text('warnings.emptyFile', { name: source.filename }));
            return { kind: 'upload', spec: {}, files: [source] };
        }

        acceptInOrder(node, delivery, prepare, failed, status);
    }

    RED.nodes.registerType('serial-mfg-upload', SerialMfgUploadNode);
};
