import { neverReachedSerial } from '../errors/http';
import { asSerialError, SerialError } from '../errors/serial-error';
import type { Task } from '../outbox/delivery';
import type { AttemptOptions } from '../options/read';
import type { RequestOptions, SerialClient } from '../serial/client';
import type { FileStorage } from '../serial/file-storage';
import type { Datum, Item, RecordSpec } from './record';

/** What a recorded unit's message carries on: the entry as Serial returned it, the files by dataset. */
export interface Recorded {
    entry: unknown;
    files: Record<string, FileStorage[]>;
}

export interface RecordOptions extends AttemptOptions {
    signal: AbortSignal;
    onRetry?: RequestOptions['onRetry'];
}

interface Unit {
    id: string;
    component_id?: string;
}
interface Dataset {
    id: string;
    /** Created by this record (a new LINK dataset also needs its component link). */
    created: boolean;
}

/** Dataset ids per config node (per client): a station sends the same datasets all day. */
const datasetCache = new WeakMap<SerialClient, Map<string, Promise<Dataset>>>();

/**
 * One station record, step by step, as Serial's SDK makes its calls: the unit by identifier, the
 * datasets (found or created), the files uploaded, the process entry, one PUT per datum, links,
 * and the PATCH that submits it. Each step's result goes to the journal before any step that needs
 * it starts, so a job resumed after an outage, a redeploy or a kill -9 starts at its first unfinished
 * step. Steps that create something in Serial (the entry, a datum) are never repeated blindly: when
 * their answer is lost (the request may have reached Serial) the record stops with REQUEST_UNCERTAIN,
 * to be checked and retried, rather than risk a second entry or a datum attached twice.
 */
export async function runRecord(client: SerialClient, task: Task, options: RecordOptions): Promise<Recorded> {
    const spec = task.spec as RecordSpec;
    const journal = task.journal;
    const running = new Map<string, Promise<unknown>>();
    const call = (method: string, path: string, more: Partial<RequestOptions> = {}) =>
        client.request(method, path, { ...options, ...more }).then((r) => r.value);

    /** A step: its journaled result, or it runs once (concurrent askers share the run) and is journaled. */
    function step<T>(key: string, run: () => Promise<T>): Promise<T> {
        if (key in journal.steps) return Promise.resolve(journal.steps[key] as T);
        let p = running.get(key) as Promise<T> | undefined;
        if (!p) {
            p = run().then(async (value) => {
                await journal.record(key, value);
                return value;
            });
            running.set(key, p);
        }
        return p;
    }

    /** A call that creates something: retried only while the request surely never reached Serial. */
    async function create(method: string, path: string, body: unknown, what: string): Promise<unknown> {
        try {
            return await call(method, path, { body, idempotent: false });
        } catch (e) {
            const err = asSerialError(e);
            if (err.retryable && !neverReachedSerial(err)) {
                throw new SerialError('REQUEST_UNCERTAIN', { statusCode: err.statusCode, params: { what, code: err.code }, attempts: err.attempts });
            }
            throw err;
        }
    }

    const unitOf = (identifier: string, field: string) =>
        step<Unit>(`unit:${identifier}`, async () => {
            const found = await call('GET', '/components/instances', { params: { identifier } });
            const list = Array.isArray(found) ? (found as Unit[]) : [];
            if (list.length === 0) throw new SerialError('UNIT_NOT_FOUND', { params: { identifier, field } });
            if (list.length > 1) throw new SerialError('UNIT_AMBIGUOUS', { params: { identifier, count: list.length } });
            return { id: String(list[0].id), component_id: list[0].component_id && String(list[0].component_id) };
        });

    const datasetOf = (datum: Datum) =>
        step<Dataset>(`dataset:${datum.name}`, async () => {
            let cache = datasetCache.get(client);
            if (!cache) datasetCache.set(client, (cache = new Map()));
            const key = JSON.stringify([spec.process, datum.name, datum.type]);
            let known = cache.get(key);
            if (!known) {
                known = ensureDataset(datum);
                cache.set(key, known);
                known.catch(() => cache!.delete(key));
            }
            return known;
        });

    async function ensureDataset(datum: Datum): Promise<Dataset> {
        const found = await call('GET', '/datasets', { params: { name: datum.name, process_id: spec.process } });
        const same = (Array.isArray(found) ? found : []) as Array<{ id: string; name: string; type: string }>;
        const match = same.find((d) => d.name === datum.name && d.type === datum.type);
        if (match) return { id: String(match.id), created: false };
        const other = same.find((d) => d.name === datum.name);
        if (other) throw new SerialError('DATASET_MISMATCH', { params: { name: datum.name, type: datum.type, existing: other.type } });
        const first = datum.items[0];
        const limits = datum.type === 'NUMERICAL' ? { unit: datum.unit, usl: first.usl, lsl: first.lsl } : {};
        const made = (await call('PUT', '/datasets', { body: { name: datum.name, type: datum.type, process_id: spec.process, ...limits } })) as {
            id: string;
        };
        return { id: String(made.id), created: true };
    }

    const fileOf = (index: number) => step<FileStorage>(`file:${index}`, async () => (await client.upload(task.files[index], { ...options })).value);

    // What can start at once: the unit, every dataset, every file.
    const unit = unitOf(spec.identifier, 'identifier');
    const datasets = spec.data.map((d) => datasetOf(d));
    const uploads = spec.data.map((d) => d.items.map((item) => (item.file === undefined ? undefined : fileOf(item.file))));
    // Every branch is awaited below; none may reject unheard meanwhile.
    for (const p of [unit, ...datasets, ...uploads.flat()]) p?.catch(() => undefined);

    const entry = await step<{ id: string }>('entry', async () => {
        const body = {
            component_instance_id: (await unit).id,
            process_id: spec.process,
            ...(spec.station ? { station_id: spec.station } : {}),
            ...(spec.operator ? { operator_id: spec.operator } : {}),
            timestamp: spec.timestamp,
        };
        const made = (await create('POST', '/processes/entries', body, 'POST /processes/entries')) as { id: string };
        return { id: String(made.id) };
    });
    const entryPath = `/processes/entries/${encodeURIComponent(entry.id)}`;

    const datum = async (d: Datum, g: number, item: Item, i: number) => {
        const dataset = await datasets[g];
        if (d.type === 'LINK') return link(d, g, dataset, item, i);
        await step(`datum:${g}:${i}`, async () => {
            let body: Record<string, unknown>;
            if (d.type === 'FILE' || d.type === 'IMAGE') {
                const stored = await uploads[g][i]!;
                body = { type: d.type, dataset_id: dataset.id, file_id: stored.name, file_name: task.files[item.file!].filename };
            } else if (d.type === 'NUMERICAL') {
                body = {
                    type: d.type,
                    dataset_id: dataset.id,
                    value: item.value,
                    ...(item.usl !== undefined ? { usl: item.usl } : {}),
                    ...(item.lsl !== undefined ? { lsl: item.lsl } : {}),
                };
            } else {
                const expected = item.expected ?? (d.type === 'BOOLEAN' ? true : undefined);
                body = { type: d.type, dataset_id: dataset.id, value: item.value, ...(expected !== undefined ? { expected_value: expected } : {}) };
            }
            await create('PUT', entryPath, body, `PUT ${entryPath} (${d.name})`);
            return true;
        });
    };

    const link = async (d: Datum, g: number, dataset: Dataset, item: Item, i: number) => {
        const parent = await unit;
        const child = await unitOf(item.link!, `data[${JSON.stringify(d.name)}].link`);
        if (dataset.created) {
            await step(`componentLink:${g}`, () =>
                call('PUT', '/components/links', {
                    body: {
                        parent_component_id: parent.component_id,
                        child_component_id: child.component_id,
                        dataset_id: dataset.id,
                        process_id: spec.process,
                    },
                }).then(() => true),
            );
        }
        await step(`link:${g}:${i}`, () =>
            call('PUT', '/components/instances/links', {
                body: {
                    parent_component_instance_id: parent.id,
                    child_component_instance_id: child.id,
                    dataset_id: dataset.id,
                    process_entry_id: entry.id,
                    break_prior_links: item.breakPriorLinks === true,
                },
            }).then(() => true),
        );
    };

    await Promise.all(spec.data.flatMap((d, g) => d.items.map((item, i) => datum(d, g, item, i))));
    const submitted = await step('submit', () =>
        call('PATCH', entryPath, {
            body: {
                is_complete: true,
                ...(spec.pass !== undefined ? { is_pass: spec.pass } : {}),
                ...(spec.cycleTime !== undefined ? { cycle_time: spec.cycleTime } : {}),
            },
        }),
    );
    const files: Record<string, FileStorage[]> = {};
    for (const [g, d] of spec.data.entries()) {
        for (const u of uploads[g]) if (u) (files[d.name] ??= []).push(await u);
    }
    return { entry: submitted, files };
}
