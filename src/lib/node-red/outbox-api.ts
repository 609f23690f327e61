import fs from 'fs';
import path from 'path';
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { backlogOf, deadLetterBacklog, discardDeadLetter, listDeadLetters } from '../outbox/dead-letter';
import { outboxBases, registered, registeredEntry, OutboxEntry } from '../outbox/registry';
import { outboxBase } from './delivery';

/** One outbox as the panel shows it. Never the key, never a path a request could choose. */
export interface OutboxView {
    id: string;
    name: string;
    type: string;
    server: string;
    state: 'online' | 'offline' | 'held' | 'paused' | 'orphaned';
    queued: { files: number; bytes: number; oldest: string | null };
    deadLetter: { files: number; bytes: number };
    lastError: { code: string; message: string; at: string } | null;
}

/** A node id as Node-RED writes them, and nothing that could climb out of a folder. */
const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

interface Orphan {
    id: string;
    dir: string;
    owner: { id?: string; type?: string; name?: string; server?: string };
}

/** Outbox folders under the known bases that no node of this runtime owns, and no other process either. */
async function orphans(bases: string[]): Promise<Orphan[]> {
    const live = new Set(registered().map((e) => path.resolve(e.dir)));
    const out: Orphan[] = [];
    for (const base of bases) {
        for (const id of await fs.promises.readdir(base).catch(() => [] as string[])) {
            const dir = path.join(base, id);
            if (!NODE_ID.test(id) || live.has(path.resolve(dir)) || !(await fs.promises.stat(path.join(dir, 'jobs')).catch(() => undefined)))
                continue;
            if (await fs.promises.stat(path.join(dir, 'lock')).catch(() => undefined)) continue; // another process has it
            let owner: Orphan['owner'] = {};
            try {
                owner = JSON.parse(await fs.promises.readFile(path.join(dir, 'owner.json'), 'utf8'));
            } catch {
                /* an outbox of 0.1.0: its owner is not known */
            }
            out.push({ id, dir, owner });
        }
    }
    return out;
}

async function viewOf(entry: OutboxEntry): Promise<OutboxView> {
    const s = entry.worker.current;
    return {
        id: entry.id,
        name: entry.name,
        type: entry.type,
        server: entry.server,
        state: s.state,
        queued: entry.box.stats(),
        deadLetter: await deadLetterBacklog(entry.box.deadDir),
        lastError: entry.lastError(),
    };
}

async function orphanView(o: Orphan): Promise<OutboxView> {
    return {
        id: o.id,
        name: o.owner.name ?? '',
        type: o.owner.type ?? '',
        server: o.owner.server ?? '',
        state: 'orphaned',
        queued: await backlogOf(path.join(o.dir, 'jobs')),
        deadLetter: await deadLetterBacklog(path.join(o.dir, 'dead-letter')),
        lastError: null,
    };
}

/**
 * The outbox panel's admin API, behind Node-RED's permissions: read with serial-mfg-upload.read,
 * act with serial-mfg-upload.write. Every id is checked and looked up, never joined into a path as is.
 */
export function registerOutboxApi(RED: NodeAPI): void {
    const bases = () => [...new Set([outboxBase(RED), ...outboxBases()])];
    const read = RED.auth.needsPermission('serial-mfg-upload.read');
    const write = RED.auth.needsPermission('serial-mfg-upload.write');
    const orphanById = async (id: string) => (await orphans(bases())).find((o) => o.id === id);
    /** The dead-letter folder of a live outbox or of an orphaned one; undefined for any other id. */
    const deadDirOf = async (id: string): Promise<string | undefined> => {
        if (!NODE_ID.test(id)) return undefined;
        const entry = registeredEntry(id);
        if (entry) return entry.box.deadDir;
        const orphan = await orphanById(id);
        return orphan && path.join(orphan.dir, 'dead-letter');
    };
    const notFound = (res: Response) => res.status(404).json({ error: 'no such outbox or job' });
    const guard = (handler: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response) =>
        handler(req, res).catch((err: Error) => res.status(500).json({ error: err.message }));

    RED.httpAdmin.get(
        '/serial-mfg/outbox',
        read,
        guard(async (_req, res) => {
            const views = await Promise.all(registered().map(viewOf));
            // An orphaned outbox with nothing in it needs no decision: it is not shown.
            const left = (await Promise.all((await orphans(bases())).map(orphanView))).filter((v) => v.queued.files + v.deadLetter.files > 0);
            res.json([...views, ...left]);
        }),
    );

    RED.httpAdmin.get(
        '/serial-mfg/outbox/:id/dead-letter',
        read,
        guard(async (req, res) => {
            const dir = await deadDirOf(String(req.params.id));
            if (!dir) return notFound(res);
            res.json(
                (await listDeadLetters(dir)).map(({ job, filename, size, createdAt, error }) => ({
                    job,
                    filename,
                    size,
                    createdAt,
                    error: { code: error.code, message: error.message },
                })),
            );
        }),
    );

    RED.httpAdmin.post(
        '/serial-mfg/outbox/:id/dead-letter/:job/retry',
        write,
        guard(async (req, res) => {
            const entry = registeredEntry(String(req.params.id));
            const job = entry && (await entry.box.readmit(String(req.params.job)));
            if (!entry || !job) return notFound(res);
            entry.worker.resume();
            res.json({ ok: true });
        }),
    );

    RED.httpAdmin.delete(
        '/serial-mfg/outbox/:id/dead-letter/:job',
        write,
        guard(async (req, res) => {
            const dir = await deadDirOf(String(req.params.id));
            if (!dir || !(await discardDeadLetter(dir, String(req.params.job)))) return notFound(res);
            res.json({ ok: true });
        }),
    );

    /** Every dead-lettered job back in the queue; for an orphaned outbox, its jobs adopted by a node on the same server. */
    RED.httpAdmin.post(
        '/serial-mfg/outbox/:id/retry-all',
        write,
        guard(async (req, res) => {
            const id = String(req.params.id);
            const entry = registeredEntry(id);
            if (entry) {
                for (const d of await listDeadLetters(entry.box.deadDir)) await entry.box.readmit(d.job);
                entry.worker.resume();
                return res.json({ ok: true });
            }
            const orphan = NODE_ID.test(id) ? await orphanById(id) : undefined;
            if (!orphan) return notFound(res);
            // The node named in the body, or the first on the same server; an outbox of 0.1.0 (owner not known)
            // is adopted only by a node named.
            const named = typeof req.body?.node === 'string' ? registeredEntry(req.body.node) : undefined;
            const sameServer = (e: OutboxEntry) =>
                (orphan.owner.server === undefined || e.server === orphan.owner.server) && (!orphan.owner.type || e.type === orphan.owner.type);
            const adopter = named
                ? sameServer(named)
                    ? named
                    : undefined
                : orphan.owner.server === undefined
                  ? undefined
                  : registered().find(sameServer);
            if (!adopter) return res.status(409).json({ error: 'no node on the same Serial server can take these jobs: deploy one, then retry' });
            const jobs = path.join(orphan.dir, 'jobs');
            let adopted = 0;
            for (const name of (await fs.promises.readdir(jobs)).filter((n) => /\.(job|json)$/.test(n)).sort()) {
                if (await adopter.box.readmit(name.replace(/\.(job|json)$/, ''), jobs)) adopted++;
            }
            for (const d of await listDeadLetters(path.join(orphan.dir, 'dead-letter'))) {
                if (await adopter.box.readmit(d.job, path.join(orphan.dir, 'dead-letter', d.job))) adopted++;
            }
            adopter.worker.resume();
            if ((await backlogOf(jobs)).files === 0 && (await listDeadLetters(path.join(orphan.dir, 'dead-letter'))).length === 0) {
                await fs.promises.rm(orphan.dir, { recursive: true, force: true });
            }
            res.json({ ok: true, adoptedBy: adopter.id, jobs: adopted });
        }),
    );

    /** Discards an orphaned outbox with everything in it: the panel asks the person first. */
    RED.httpAdmin.delete(
        '/serial-mfg/outbox/:id',
        write,
        guard(async (req, res) => {
            const id = String(req.params.id);
            const orphan = NODE_ID.test(id) ? await orphanById(id) : undefined;
            if (!orphan) return notFound(res);
            await fs.promises.rm(orphan.dir, { recursive: true, force: true });
            res.json({ ok: true });
        }),
    );

    for (const action of ['pause', 'resume'] as const) {
        RED.httpAdmin.post(
            `/serial-mfg/outbox/:id/${action}`,
            write,
            guard(async (req, res) => {
                const entry = registeredEntry(String(req.params.id));
                if (!entry) return notFound(res);
                entry.worker[action]();
                // A paused outbox stays paused across a redeploy or a restart, until someone resumes it.
                const mark = path.join(entry.dir, 'paused');
                await (action === 'pause' ? fs.promises.writeFile(mark, new Date().toISOString()) : fs.promises.rm(mark, { force: true }));
                res.json({ ok: true, state: entry.worker.current.state });
            }),
        );
    }
}
