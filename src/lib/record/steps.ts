import { neverReachedSerial } from '../errors/http';
import { asSerialError, SerialError } from '../errors/serial-error';
import type { Task } from '../outbox/delivery';
import type { AttemptOptions } from '../options/read';
import type { RequestOptions, SerialClient } from '../serial/client';
import type { FileStorage } from '../serial/file-storage';
import { hasId, isPlain, shapeError, signature } from './answers';
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
 * A journal key that marks a creating request as sent, before it goes: found without the step's
 * result after a restart, it means Serial may have done it. A person's retry from dead-letter clears it.
 */
export const DOUBT = '?';

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
    const run: Run = { steps: new Map(), stopped: false };
    try {
        return await recordSteps(client, task, options, run);
    } catch (err) {
        // A failed run ends only once none of its steps is still out: a step left running would upload
        // from memory the job hands back once it leaves the queue, and journal into a job moved to
        // dead-letter or already run again. No new step starts meanwhile.
        run.stopped = true;
        for (let seen = -1; seen !== run.steps.size;) {
            seen = run.steps.size;
            await Promise.allSettled(run.steps.values());
        }
        throw err;
    }
}

/** The steps a run has started, and whether it has failed (then none starts any more). */
interface Run {
    steps: Map<string, Promise<unknown>>;
    stopped: boolean;
}

async function recordSteps(client: SerialClient, task: Task, options: RecordOptions, run: Run): Promise<Recorded> {
    const spec = task.spec as RecordSpec;
    const journal = task.journal;
    const call = (method: string, path: string, more: Partial<RequestOptions> = {}) =>
        client.request(method, path, { ...options, ...more }).then((r) => r.value);

    /** A step: its journaled result, or it runs once (concurrent askers share the run) and is journaled. */
    function step<T>(key: string, work: () => Promise<T>): Promise<T> {
        if (key in journal.steps) return Promise.resolve(journal.steps[key] as T);
        let p = run.steps.get(key) as Promise<T> | undefined;
        if (!p) {
            if (run.stopped) return Promise.reject(new SerialError('ABORTED'));
            p = work().then(async (value) => {
                await journal.record(key, value);
                return value;
            });
            run.steps.set(key, p);
        }
        return p;
    }

    const uncertain = (what: string, code: string, err?: SerialError) =>
        new SerialError('REQUEST_UNCERTAIN', { statusCode: err?.statusCode, params: { what, code }, attempts: err?.attempts });

    /**
     * A call that creates something and cannot be read back: marked as sent in the journal first, and
     * retried only while the request surely never reached Serial. Marked but without a result (a crash
     * or a redeploy while it was out) or answered in a way that leaves it open: REQUEST_UNCERTAIN.
     */
    async function createOnce(key: string, method: string, path: string, body: unknown, check: (v: unknown) => boolean): Promise<unknown> {
        const what = `${method} ${path}`;
        if (DOUBT + key in journal.steps) throw uncertain(what, 'INTERRUPTED');
        await journal.record(DOUBT + key, true);
        let value: unknown;
        try {
            value = await call(method, path, { body, idempotent: false });
        } catch (e) {
            const err = asSerialError(e);
            if ((err.retryable && !neverReachedSerial(err)) || err.code === 'INVALID_RESPONSE') throw uncertain(what, err.code, err);
            throw err;
        }
        if (!check(value)) throw uncertain(what, 'INVALID_RESPONSE');
        return value;
    }

    const unitOf = (identifier: string, field: string) =>
        step<Unit>(`unit:${identifier}`, async () => {
            const found = await call('GET', '/components/instances', { params: { identifier } });
            if (!Array.isArray(found) || !found.every(hasId)) throw shapeError('GET /components/instances', 'not a list of units');
            const list = found as Unit[];
            if (list.length === 0) throw new SerialError('UNIT_NOT_FOUND', { params: { identifier, field } });
            if (list.length > 1) throw new SerialError('UNIT_AMBIGUOUS', { params: { identifier, count: list.length } });
            return { id: String(list[0].id), component_id: list[0].component_id && String(list[0].component_id) };
        });

    const datasetOf = (datum: Datum) =>
        step<Dataset>(`dataset:${datum.name}`, async () => {
            let cache = datasetCache.get(client);
            if (!cache) datasetCache.set(client, (cache = new Map()));
            const key = JSON.stringify([spec.process, datum.name, datum.type]);
            const known = cache.get(key);
            if (known) return known.then((d) => ({ ...d, created: false })); // only its creator links it
            const made = ensureDataset(datum);
            cache.set(key, made);
            made.catch(() => cache!.delete(key));
            return made;
        });

    async function findDatasets(params: Record<string, string>): Promise<Array<{ id: string; name: string; type: string }>> {
        const found = await call('GET', '/datasets', { params });
        if (!Array.isArray(found) || !found.every(hasId)) throw shapeError('GET /datasets', 'not a list of datasets');
        return (found as Array<{ id: string; name: string; type: string }>).filter((d) => d.name === params.name);
    }

    async function ensureDataset(datum: Datum): Promise<Dataset> {
        const query = { name: datum.name, type: datum.type, process_id: spec.process };
        const match = (await findDatasets(query)).find((d) => d.type === datum.type);
        if (match) return { id: String(match.id), created: false };
        const other = (await findDatasets({ name: datum.name, process_id: spec.process }))[0];
        if (other) throw new SerialError('DATASET_MISMATCH', { params: { name: datum.name, type: datum.type, existing: other.type } });
        const first = datum.items[0];
        const limits = datum.type === 'NUMERICAL' ? { unit: datum.unit, usl: first.usl, lsl: first.lsl } : {};
        let made: unknown;
        try {
            made = await call('PUT', '/datasets', { body: { ...query, ...limits } });
        } catch (e) {
            // Made meanwhile (by another gateway, or by this request once its answer was lost): use that one.
            const again = asSerialError(e).code === 'CLIENT_ERROR' ? (await findDatasets(query)).find((d) => d.type === datum.type) : undefined;
            if (!again) throw e;
            return { id: String(again.id), created: false };
        }
        if (!hasId(made)) throw shapeError('PUT /datasets', 'not a dataset');
        return { id: String(made.id), created: true };
    }

    const fileOf = (index: number) => step<FileStorage>(`file:${index}`, async () => (await client.upload(task.files[index], { ...options })).value);

    // What can start at once: the unit, every dataset, every linked unit, every file.
    const unit = unitOf(spec.identifier, 'identifier');
    const datasets = spec.data.map((d) => datasetOf(d));
    const children = spec.data.map((d) =>
        d.items.map((item) => (item.link === undefined ? undefined : unitOf(item.link, `data[${JSON.stringify(d.name)}].link`))),
    );
    const uploads = spec.data.map((d) => d.items.map((item) => (item.file === undefined ? undefined : fileOf(item.file))));
    // Every branch is awaited below; none may reject unheard meanwhile.
    for (const p of [unit, ...datasets, ...children.flat(), ...uploads.flat()]) p?.catch(() => undefined);
    // The entry is made once every lookup has succeeded: an unknown unit or a dataset of another type
    // leaves no half-made entry in Serial.
    await Promise.all([unit, ...datasets, ...children.flat()]);

    const resumed = 'entry' in journal.steps;
    const entry = await step<{ id: string }>('entry', async () => {
        const body = {
            component_instance_id: (await unit).id,
            process_id: spec.process,
            ...(spec.station ? { station_id: spec.station } : {}),
            ...(spec.operator ? { operator_id: spec.operator } : {}),
            timestamp: spec.timestamp,
        };
        const made = await createOnce('entry', 'POST', '/processes/entries', body, hasId);
        return { id: String((made as { id: string }).id) };
    });
    const entryPath = `/processes/entries/${encodeURIComponent(entry.id)}`;

    /** The signatures of the entry's data as Serial has them now, with how often each occurs. */
    async function dataInSerial(): Promise<Map<string, number>> {
        const found = await call('GET', '/processes/entries', { params: { id: entry.id } });
        const one = Array.isArray(found) ? found.find((e) => hasId(e) && String(e.id) === entry.id) : found;
        if (!isPlain(one) || !Array.isArray(one.data)) throw shapeError('GET /processes/entries', 'not the entry with its data');
        const counts = new Map<string, number>();
        for (const d of one.data as Record<string, unknown>[]) counts.set(signature(d), (counts.get(signature(d)) ?? 0) + 1);
        return counts;
    }
    /** Data of this record confirmed in Serial (journaled, or just confirmed), by step key: their signatures. */
    const putSigs = new Map<string, string>();
    const alreadyPut = (sig: string) => {
        const keys = new Set([...putSigs].filter(([, s]) => s === sig).map(([k]) => k));
        for (const [k, v] of Object.entries(journal.steps)) if (k.startsWith('datum:') && v === sig) keys.add(k);
        return keys.size;
    };
    // A record resumed on an entry asks Serial once which of its data are there, before its first put
    // (a datum put just before a crash or a redeploy is not put again); resumed at its submit, it asks nothing.
    let inSerial: Promise<Map<string, number>> | undefined;

    /** One datum: read back instead of guessed when its request may have reached Serial. */
    async function putDatum(key: string, body: Record<string, unknown>): Promise<void> {
        const sig = signature(body);
        const present = async (counts: Map<string, number>) => (counts.get(sig) ?? 0) > alreadyPut(sig);
        if (resumed && (await present(await (inSerial ??= dataInSerial())))) return void putSigs.set(key, sig);
        for (let round = 0; ; round++) {
            try {
                await call('PUT', entryPath, { body, idempotent: false });
                return void putSigs.set(key, sig);
            } catch (e) {
                const err = asSerialError(e);
                if (!(err.retryable && !neverReachedSerial(err)) && err.code !== 'INVALID_RESPONSE') throw err;
                // The request may have reached Serial: read the entry back rather than guess.
                if (await present(await dataInSerial())) return void putSigs.set(key, sig);
                if (round >= 1) throw err;
            }
        }
    }

    const datum = async (d: Datum, g: number, item: Item, i: number) => {
        const dataset = await datasets[g];
        if (d.type === 'LINK') return link(g, dataset, item, i);
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
            await putDatum(`datum:${g}:${i}`, body);
            return signature(body); // journaled: what a later read-back counts as this record's
        });
    };

    // Links create something and cannot be read back: marked before they go, uncertain when in doubt.
    const link = async (g: number, dataset: Dataset, item: Item, i: number) => {
        const parent = await unit;
        const child = (await children[g][i])!;
        if (dataset.created) {
            await step(`componentLink:${g}`, () =>
                createOnce(
                    `componentLink:${g}`,
                    'PUT',
                    '/components/links',
                    {
                        parent_component_id: parent.component_id,
                        child_component_id: child.component_id,
                        dataset_id: dataset.id,
                        process_id: spec.process,
                    },
                    () => true,
                ).then(() => true),
            );
        }
        await step(`link:${g}:${i}`, () =>
            createOnce(
                `link:${g}:${i}`,
                'PUT',
                '/components/instances/links',
                {
                    parent_component_instance_id: parent.id,
                    child_component_instance_id: child.id,
                    dataset_id: dataset.id,
                    process_entry_id: entry.id,
                    break_prior_links: item.breakPriorLinks === true,
                },
                () => true,
            ).then(() => true),
        );
    };

    await Promise.all(spec.data.flatMap((d, g) => d.items.map((item, i) => datum(d, g, item, i))));
    const submitted = await step('submit', async () => {
        const answer = await call('PATCH', entryPath, {
            body: {
                is_complete: true,
                ...(spec.pass !== undefined ? { is_pass: spec.pass } : {}),
                ...(spec.cycleTime !== undefined ? { cycle_time: spec.cycleTime } : {}),
            },
        });
        if (!isPlain(answer)) throw shapeError(`PATCH ${entryPath}`, 'not an entry');
        return answer;
    });
    // By dataset name, as own properties: a dataset may be called "constructor" or "__proto__".
    const files: Record<string, FileStorage[]> = {};
    for (const [g, d] of spec.data.entries()) {
        for (const u of uploads[g]) {
            if (!u) continue;
            if (!Object.prototype.hasOwnProperty.call(files, d.name))
                Object.defineProperty(files, d.name, { value: [], enumerable: true, writable: true, configurable: true });
            files[d.name].push(await u);
        }
    }
    return { entry: submitted, files };
}
