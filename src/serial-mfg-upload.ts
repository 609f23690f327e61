import os from 'os';
import path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Result } from './lib/client';
import type { SerialConfigNode } from './lib/config';
import { SerialError } from './lib/errors';
import type { FileStorage } from './lib/file-storage';
import { statusText } from './lib/i18n';
import { InOrder } from './lib/in-order';
import { applyFailure, applyResult } from './lib/message';
import { attemptOptions, numberOption } from './lib/options';
import { Job, Outbox } from './lib/outbox';
import { OutboxWorker } from './lib/outbox-worker';
import { evaluate } from './lib/properties';
import { FileSource, sourceFromPayload } from './lib/source';
import { UploadStatus } from './lib/status';
import { UPLOAD_DEFAULTS, UploadNodeOptions } from './lib/types';

type UploadDef = NodeDef & Partial<UploadNodeOptions>;
type Msg = NodeMessageInFlow & Record<string, unknown>;
type Send = (msg: NodeMessage) => void;
type Done = (err?: Error) => void;

export = function register(RED: NodeAPI): void {
    const text = statusText(RED, 'serial-mfg-upload');

    function SerialMfgUploadNode(this: Node, def: UploadDef) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = { ...UPLOAD_DEFAULTS, ...def };
        const server = RED.nodes.getNode(config.server) as SerialConfigNode | null;
        const attempt = attemptOptions(config);
        const closing = new AbortController();
        const status = new UploadStatus((s) => node.status(s), text);

        /** The client, or the configuration problem that prevents one. */
        const client = () => {
            if (!server) throw new SerialError('NO_CONFIG');
            return server.client();
        };

        /** Every kind of input becomes a FileSource: one pipeline from here on. */
        async function sourceOf(msg: Msg): Promise<FileSource> {
            return sourceFromPayload(msg.payload, {
                filename: await evaluate(RED, node, msg, config.filename, config.filenameType),
                contentType: await evaluate(RED, node, msg, config.contentType, config.contentTypeType),
            });
        }

        async function upload(source: FileSource, signal: AbortSignal): Promise<Result<FileStorage>> {
            status.start();
            try {
                return await client().upload(source, {
                    ...attempt,
                    signal,
                    onBytes: (sent, total) => status.progress(sent, total),
                    onRetry: ({ attempt: n, attempts }) => status.retrying(n, attempts),
                });
            } finally {
                status.end();
            }
        }

        function succeed(msg: Msg, result: Result<FileStorage>, send: Send) {
            applyResult(msg, result);
            status.done();
            send(msg as NodeMessage);
        }

        function fail(msg: Msg, e: unknown, report: (err: SerialError) => void) {
            const err = applyFailure(msg, e);
            status.failed(err.code);
            report(err);
        }

        // Outbox 'disk': every accepted message is first a job on disk; a worker drains the jobs in order.
        const live = new Map<string, { msg: Msg; send: Send; done: Done }>();
        /** Copies into the outbox under way: close waits for them, so a restart never finds one half-written. */
        const copying = new Set<Promise<Job>>();
        let outbox: Promise<{ box: Outbox; worker: OutboxWorker<Result<FileStorage>> }> | undefined;
        if (config.outbox === 'disk') {
            const base = config.outboxDir || path.join(RED.settings.userDir ?? path.join(os.homedir(), '.node-red'), 'serial-mfg-outbox');
            const limits = {
                maxFiles: Math.floor(numberOption(config.outboxMaxFiles, Number(UPLOAD_DEFAULTS.outboxMaxFiles), 1)),
                maxBytes: numberOption(config.outboxMaxSize, Number(UPLOAD_DEFAULTS.outboxMaxSize), 1) * 1048576,
            };
            let parallel = 1;
            try {
                parallel = client().limiter.limit;
            } catch { /* reported when the outbox resumes, and to each message */ }
            outbox = Outbox.open(path.join(base, node.id), limits).then((box) => {
                const worker = new OutboxWorker<Result<FileStorage>>(box, parallel, attempt.backoffMs, {
                    upload: async (job, signal) => upload(await box.source(job), signal),
                    delivered: (job, result) => {
                        const { msg, send, done } = takeLive(job);
                        succeed(msg, result, send);
                        done();
                    },
                    deadLettered: (job, err, where) => {
                        const { msg, done } = takeLive(job);
                        msg.deadLetter = where;
                        fail(msg, err, done);
                    },
                    state: (state) => status.queue(state),
                });
                return { box, worker };
            });
            // Jobs left by an earlier run resume now, once the configuration can reach Serial.
            outbox.then(({ worker }) => {
                client();
                worker.kick();
            }).catch((err: SerialError) => {
                status.failed(err.code);
                node.error(err);
            });
        }

        /** The waiting message for a job, or after a restart, the message rebuilt from the job. */
        function takeLive(job: Job): { msg: Msg; send: Send; done: Done } {
            const entry = live.get(job.meta.id);
            live.delete(job.meta.id);
            if (entry) return entry;
            const msg = { ...job.meta.msg } as Msg;
            return { msg, send: (m) => node.send(m), done: (err) => (err ? node.error(err, msg) : undefined) };
        }

        /** What a message needs before it joins a queue: a usable server, its bytes measured and named. */
        async function prepare(msg: Msg): Promise<{ source: FileSource; disk?: Awaited<typeof outbox> }> {
            client();
            const source = await sourceOf(msg);
            return { source, disk: await outbox };
        }

        /** Called in arrival order: the upload joins the client's queue, or the copy the outbox's. */
        async function admit(msg: Msg, { source, disk }: Awaited<ReturnType<typeof prepare>>, send: Send, done: Done) {
            if (closing.signal.aborted) throw new SerialError('ABORTED');
            if (!disk) {
                succeed(msg, await upload(source, closing.signal), send);
                done();
                return;
            }
            const adding = disk.box.add(source, msg, closing.signal);
            copying.add(adding);
            try {
                const job = await adding;
                live.set(job.meta.id, { msg, send, done });
                disk.worker.kick();
            } finally {
                copying.delete(adding);
            }
        }

        // Messages are prepared side by side but admitted one after another, in the order they came.
        const arrivals = new InOrder();
        node.on('input', (msg, send, done) => {
            const m = msg as Msg;
            arrivals.add(prepare(m), (prepared) => admit(m, prepared, send, done)).catch((e) => fail(m, e, done));
        });

        node.on('close', (_removed: boolean, done: () => void) => {
            closing.abort();
            // Aborted jobs stay on disk and resume after the redeploy or restart.
            const stopped = outbox
                ? Promise.allSettled([...copying]).then(() => outbox!.then(({ worker }) => worker.close(), () => undefined))
                : Promise.resolve();
            stopped.finally(() => {
                live.clear();
                status.clear();
                done();
            });
        });
    }

    RED.nodes.registerType('serial-mfg-upload', SerialMfgUploadNode);
};
