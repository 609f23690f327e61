import { asSerialError, SerialError } from '../errors/serial-error';
import type { Params } from '../errors/texts';
import { CONTROL_CHARACTER } from '../rules/names';
import { FileSource, sourceFromPayload } from '../source/sources';

/** Serial's dataset types the record node writes. */
export type DatumType = 'NUMERICAL' | 'TEXT' | 'BOOLEAN' | 'FILE' | 'IMAGE' | 'LINK';

/** One value of a dataset, as it is sent (a file by its index in the job's files). */
export interface Item {
    value?: number | string | boolean;
    usl?: number;
    lsl?: number;
    expected?: string | boolean;
    file?: number;
    link?: string;
    breakPriorLinks?: boolean;
}

/** The values of one dataset in a record. */
export interface Datum {
    name: string;
    type: DatumType;
    unit?: string;
    items: Item[];
}

/** A validated record: what the job on disk keeps (JSON), its files apart. */
export interface RecordSpec {
    identifier: string;
    process: string;
    station?: string;
    operator?: string;
    /** When the unit was tested (ISO 8601): a record queued offline keeps it. */
    timestamp: string;
    pass?: boolean;
    cycleTime?: number;
    data: Datum[];
}

const MAX_ID = 200;
const MAX_NAME = 255;
/** Values in one record: each is one request and one journal write. */
export const MAX_VALUES = 1000;
/** An ISO 8601 date and time with its offset: a time without one would be read in the gateway's zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
/** How far ahead of the gateway's clock a capture time may be (clocks drift; a typo in the year does not). */
const FUTURE_MS = 24 * 3600 * 1000;

function invalid(field: string, problem: string, params: Params = {}): SerialError {
    return new SerialError('INVALID_RECORD', { params: { field }, reason: { key: `record.${problem}`, params } });
}

/** A plain object, also one made in a function node's sandbox (another realm): not a Map, a Buffer, an array. */
const isObject = (v: unknown): v is Record<string, unknown> => Object.prototype.toString.call(v) === '[object Object]' && !Buffer.isBuffer(v);

/** A string field; ids and names are trimmed, measured values (`keep`) are sent exactly as given. */
function text(v: unknown, field: string, required: boolean, max = MAX_ID, keep = false): string | undefined {
    if (v === undefined || v === null || v === '') {
        if (required) throw invalid(field, 'missing');
        return undefined;
    }
    if (typeof v !== 'string' || !v.trim()) throw invalid(field, 'notText');
    if (v.length > max || CONTROL_CHARACTER.test(v)) throw invalid(field, 'badText', { max });
    return keep ? v : v.trim();
}

function finite(v: unknown, field: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(field, 'notNumber');
    return v;
}

/** Unknown properties are refused (a typo must not drop a value); one set to undefined counts as absent, as in JSON. */
function known(obj: Record<string, unknown>, field: string, keys: string[]): void {
    const extra = Object.keys(obj).filter((k) => !keys.includes(k) && obj[k] !== undefined);
    if (extra.length) throw invalid(field, 'unknownKeys', { keys: extra.join(', ') });
}

/** One value of `data[name]` as a typed item; files are collected into `files` (their index kept). */
async function itemOf(raw: unknown, field: string, files: FileSource[]): Promise<{ type: DatumType; item: Item; unit?: string }> {
    if (typeof raw === 'number') return { type: 'NUMERICAL', item: { value: finite(raw, field) } };
    if (typeof raw === 'string') return { type: 'TEXT', item: { value: text(raw, field, true, 10_000, true) } };
    if (typeof raw === 'boolean') return { type: 'BOOLEAN', item: { value: raw } };
    if (!isObject(raw)) throw invalid(field, 'badValue');
    if ('file' in raw) {
        known(raw, field, ['file', 'filename', 'contentType']);
        let source: FileSource;
        try {
            source = await sourceFromPayload(raw.file, { filename: raw.filename, contentType: raw.contentType });
        } catch (e) {
            throw invalid(`${field}.file`, 'file', { message: asSerialError(e).message });
        }
        files.push(source);
        return { type: source.contentType.startsWith('image/') ? 'IMAGE' : 'FILE', item: { file: files.length - 1 } };
    }
    if ('link' in raw) {
        known(raw, field, ['link', 'breakPriorLinks']);
        if (raw.breakPriorLinks !== undefined && typeof raw.breakPriorLinks !== 'boolean') throw invalid(`${field}.breakPriorLinks`, 'notBoolean');
        return { type: 'LINK', item: { link: text(raw.link, `${field}.link`, true), breakPriorLinks: raw.breakPriorLinks === true } };
    }
    if (!('value' in raw)) throw invalid(field, 'badValue');
    const v = raw.value;
    if (typeof v === 'number') {
        known(raw, field, ['value', 'usl', 'lsl', 'unit']);
        const item: Item = { value: finite(v, `${field}.value`), usl: finite(raw.usl, `${field}.usl`), lsl: finite(raw.lsl, `${field}.lsl`) };
        if (item.usl !== undefined && item.lsl !== undefined && item.lsl > item.usl) throw invalid(`${field}.lsl`, 'limits');
        return { type: 'NUMERICAL', item, unit: text(raw.unit, `${field}.unit`, false, 40) };
    }
    if (typeof v === 'string') {
        known(raw, field, ['value', 'expected']);
        return {
            type: 'TEXT',
            item: { value: text(v, `${field}.value`, true, 10_000, true), expected: text(raw.expected, `${field}.expected`, false, 10_000, true) },
        };
    }
    if (typeof v === 'boolean') {
        known(raw, field, ['value', 'expected']);
        if (raw.expected !== undefined && typeof raw.expected !== 'boolean') throw invalid(`${field}.expected`, 'notBoolean');
        return { type: 'BOOLEAN', item: { value: v, expected: raw.expected as boolean | undefined } };
    }
    throw invalid(`${field}.value`, 'badValue');
}

/**
 * A message's payload as a record, checked whole before any request: INVALID_RECORD names the field.
 * Files are measured now (a path must exist and be a regular file), and become the job's files.
 */
export async function recordFromMessage(
    payload: unknown,
    node: { process: string; station: string },
    arrival: Date,
): Promise<{ spec: RecordSpec; files: FileSource[] }> {
    if (!isObject(payload)) throw invalid('msg.payload', 'notObject');
    known(payload, 'msg.payload', ['identifier', 'process', 'station', 'operator', 'timestamp', 'pass', 'cycleTime', 'data']);
    const spec: RecordSpec = {
        identifier: text(payload.identifier, 'identifier', true)!,
        process: text(payload.process || node.process, 'process', true)!,
        station: text(payload.station || node.station, 'station', false),
        operator: text(payload.operator, 'operator', false),
        timestamp: arrival.toISOString(),
        data: [],
    };
    if (payload.timestamp !== undefined) {
        const t = typeof payload.timestamp === 'string' && ISO_TIME.test(payload.timestamp) ? Date.parse(payload.timestamp) : NaN;
        if (Number.isNaN(t)) throw invalid('timestamp', 'badTime');
        if (t > arrival.getTime() + FUTURE_MS || t < Date.UTC(2000, 0, 1)) throw invalid('timestamp', 'farTime');
        spec.timestamp = new Date(t).toISOString();
    }
    if (payload.pass !== undefined && typeof payload.pass !== 'boolean') throw invalid('pass', 'notBoolean');
    spec.pass = payload.pass as boolean | undefined;
    spec.cycleTime = finite(payload.cycleTime, 'cycleTime');
    if (spec.cycleTime !== undefined && spec.cycleTime < 0) throw invalid('cycleTime', 'negative');
    if (payload.data !== undefined && !isObject(payload.data)) throw invalid('data', 'notObject');
    const files: FileSource[] = [];
    const names = new Set<string>();
    let count = 0;
    for (const [name, raw] of Object.entries((payload.data as Record<string, unknown>) ?? {})) {
        const field = `data[${JSON.stringify(name)}]`;
        text(name, field, true, MAX_NAME);
        // "Voltage" and "Voltage " would be one dataset in Serial: refused, not merged.
        if (names.has(name.trim())) throw invalid(field, 'sameName', { name: name.trim() });
        names.add(name.trim());
        const values = Array.isArray(raw) ? raw : [raw];
        if (!values.length) throw invalid(field, 'empty');
        if ((count += values.length) > MAX_VALUES) throw invalid('data', 'tooMany', { max: MAX_VALUES });
        const datum: Datum = { name: name.trim(), type: 'TEXT', items: [] };
        for (const [i, value] of values.entries()) {
            const one = await itemOf(value, Array.isArray(raw) ? `${field}[${i}]` : field, files);
            // A dataset has one type: every value of a name must be of it (images and other files apart).
            if (i > 0 && one.type !== datum.type) throw invalid(field, 'mixed', { a: datum.type, b: one.type });
            datum.type = one.type;
            // The unit lives on the dataset: one per name.
            if (one.unit !== undefined && datum.unit !== undefined && one.unit !== datum.unit)
                throw invalid(field, 'units', { a: datum.unit, b: one.unit });
            if (one.unit !== undefined) datum.unit = one.unit;
            if (one.item.link !== undefined && one.item.link === spec.identifier) throw invalid(`${field}.link`, 'selfLink');
            datum.items.push(one.item);
        }
        spec.data.push(datum);
    }
    return { spec, files };
}
