import type { Node, NodeAPI, NodeDef } from 'node-red';
import os from 'os';
import path from 'path';
import { catalog, statusTexts } from './lib/node-red/i18n';
import { LatestStatus } from './lib/node-red/status';
import { readOptions } from './lib/options/read';
import { WATCH_OPTIONS } from './lib/rules/options';
import { FolderWatch, type FoundFile, type WatchState } from './lib/watch/folder-watch';
import { SeenStore, storeFile } from './lib/watch/seen-store';

const TYPE = 'serial-mfg-watch';
/** Longest file name a status shows (status texts stay short). */
const NAME_IN_STATUS = 24;

export = function register(RED: NodeAPI): void {
    const text = catalog(RED, TYPE);

    function SerialMfgWatchNode(this: Node, def: NodeDef & Record<string, unknown>) {
        RED.nodes.createNode(this, def);
        const node = this;
        const config = readOptions(WATCH_OPTIONS, def);
        const statusText = statusTexts(RED, TYPE);
        const status = new LatestStatus((s) => node.status(s));
        let watch: FolderWatch | undefined;
        let closed = false;

        /** A problem as an error a Catch node receives, with `msg.error.code` and the path in `msg.payload`. */
        const problem = (code: string, where: string, e: unknown) => {
            const reason = e instanceof Error ? e.message : String(e);
            const key = code === 'EACCES' || code === 'EPERM' ? 'denied' : code === 'STORE_FAILED' ? 'store' : 'failed';
            const err = Object.assign(new Error(text(`${TYPE}.errors.${key}`, { path: where, reason, code })), {
                code: key === 'denied' ? 'PERMISSION_DENIED' : code,
            });
            node.error(err, { payload: where, _msgid: RED.util.generateId() });
        };

        const state = (s: WatchState) => {
            if (s.kind === 'watching') status.set({ fill: 'green', shape: 'ring', text: statusText('status.watching', { count: s.count }) });
            else if (s.kind === 'missing') status.set({ fill: 'yellow', shape: 'ring', text: statusText('status.missing') }, true);
            else status.set({ fill: 'red', shape: 'ring', text: statusText('status.denied') }, true);
        };

        const file = (f: FoundFile) => {
            const filename = path.basename(f.path);
            node.send({
                _msgid: RED.util.generateId(),
                payload: f.path,
                filename,
                topic: f.rel.split(path.sep).join('/'),
                size: f.size,
                // Rounded as fs.Stats rounds its `mtime`.
                mtime: new Date(Math.round(f.mtimeMs)).toISOString(),
            });
            const shown = filename.length > NAME_IN_STATUS ? `${filename.slice(0, NAME_IN_STATUS - 1)}…` : filename;
            status.set({ fill: 'green', shape: 'dot', text: statusText('status.sent', { name: shown }) });
        };

        const folder = config.folder.trim();
        const opened = (async () => {
            if (!folder) {
                status.set({ fill: 'red', shape: 'ring', text: statusText('status.noFolder') }, true);
                node.error(Object.assign(new Error(text(`${TYPE}.errors.noFolder`)), { code: 'NO_FOLDER' }));
                return;
            }
            const selection = { folder: path.resolve(folder), pattern: config.pattern.trim() || '*', recursive: config.recursive };
            const userDir = RED.settings.userDir ?? path.join(os.homedir(), '.node-red');
            const store = await SeenStore.open(storeFile(userDir, node.id), selection, (e) =>
                problem('STORE_FAILED', storeFile(userDir, node.id), e),
            );
            if (closed) return;
            watch = new FolderWatch(
                {
                    ...selection,
                    settleMs: config.settle * 1000,
                    existing: config.existing === 'skip' ? 'skip' : 'send',
                    poll: config.poll,
                    pollMs: config.pollInterval * 1000,
                },
                store,
                { file, state, problem },
            );
            watch.start();
        })().catch((e) => problem('WATCH_FAILED', folder, e));

        node.on('close', (_removed: boolean, done: () => void) => {
            closed = true;
            opened
                .then(() => watch?.close())
                .catch((e) => problem('STORE_FAILED', folder, e))
                .finally(() => {
                    status.clear();
                    done();
                });
        });
    }

    RED.nodes.registerType(TYPE, SerialMfgWatchNode);
};
