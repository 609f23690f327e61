/**
 * Every node option with its default and limits, defined once. The runtime reads flows with these
 * (see options/read.ts) and the editor builds its defaults and validators from the same definitions
 * (resources/serial-mfg-rules.js is generated from this folder at build time), so the two cannot drift.
 *
 * This folder is shared with the browser: plain data and pure functions, no imports outside it.
 */

export interface NumberOption {
    kind: 'number';
    default: number;
    min: number;
    max: number;
    integer?: boolean;
}
export interface ChoiceOption {
    kind: 'choice';
    default: string;
    choices: readonly string[];
}
export interface FlagOption {
    kind: 'flag';
    default: boolean;
}
export interface TextOption {
    kind: 'text';
    default: string;
}
/** The id of a config node of `type`; `optional` ones may be left empty. */
export interface NodeOption {
    kind: 'node';
    default: '';
    type: string;
    optional?: boolean;
}
export type OptionDefinition = NumberOption | ChoiceOption | FlagOption | TextOption | NodeOption;
export type OptionSet = Record<string, OptionDefinition>;

const text = (value = ''): TextOption => ({ kind: 'text', default: value });
const flag = (value: boolean): FlagOption => ({ kind: 'flag', default: value });
const seconds = (value: number, min: number, max: number): NumberOption => ({ kind: 'number', default: value, min, max });
const count = (value: number, min: number, max: number): NumberOption => ({ kind: 'number', default: value, min, max, integer: true });

export const REQUEST_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const OUTBOX_MODES = ['disk', 'off'] as const;

/** serial-mfg-config: the Serial server. */
export const CONFIG_OPTIONS = {
    name: text(),
    baseUrl: text('https://api.serial.io'),
    allowHttp: flag(false),
    // 8, not 4: 4 uploads of 64 KiB in flight leave a 40 ms / 50 Mbit/s uplink idle a third of the
    // time (a latency limit); 6 to 16 fill it about alike (npm run bench, the uplink rows).
    concurrency: count(8, 1, 64),
    tls: { kind: 'node', default: '', type: 'tls-config', optional: true },
    proxy: { kind: 'node', default: '', type: 'http proxy', optional: true },
} satisfies OptionSet;

/** Retries and timeouts: the "Delivery" section of every node that talks to Serial. */
export const DELIVERY_OPTIONS = {
    attempts: count(5, 1, 100),
    backoff: seconds(1, 0, 3600),
    connectTimeout: seconds(15, 0.1, 3600),
    stallTimeout: seconds(60, 0.1, 86400),
    responseTimeout: seconds(120, 0.1, 86400),
} satisfies OptionSet;

/** The durable outbox of the nodes that deliver through it. */
export const OUTBOX_OPTIONS = {
    outbox: { kind: 'choice', default: 'disk', choices: OUTBOX_MODES },
    outboxDir: text(),
    outboxMaxFiles: count(1000, 1, 1_000_000),
    outboxMaxSize: count(1024, 1, 1_048_576),
} satisfies OptionSet;

const SERVER: NodeOption = { kind: 'node', default: '', type: 'serial-mfg-config' };

export const UPLOAD_OPTIONS = {
    name: text(),
    server: SERVER,
    filename: text('filename'),
    filenameType: { kind: 'choice', default: 'msg', choices: ['msg', 'flow', 'global', 'str', 'env'] },
    contentType: text('contentType'),
    contentTypeType: { kind: 'choice', default: 'msg', choices: ['msg', 'flow', 'global', 'str', 'env'] },
    emptyFile: { kind: 'choice', default: 'warn', choices: ['send', 'warn', 'refuse'] },
    ...DELIVERY_OPTIONS,
    ...OUTBOX_OPTIONS,
} satisfies OptionSet;

export const REQUEST_OPTIONS = {
    name: text(),
    server: SERVER,
    method: { kind: 'choice', default: '', choices: ['', ...REQUEST_METHODS] },
    path: text(),
    ...DELIVERY_OPTIONS,
    retryPost: flag(false),
} satisfies OptionSet;

export const RECORD_OPTIONS = {
    name: text(),
    server: SERVER,
    /** A process id; empty: msg.payload.process. */
    process: text(),
    /** A station id, optional; msg.payload.station wins. */
    station: text(),
    ...DELIVERY_OPTIONS,
    ...OUTBOX_OPTIONS,
} satisfies OptionSet;

export const WATCH_EXISTING = ['send', 'skip'] as const;

/** serial-mfg-watch: a hot folder, each complete file sent once per version. */
export const WATCH_OPTIONS = {
    name: text(),
    /** The folder to watch, absolute (a relative one is resolved against Node-RED's working directory). */
    folder: text(),
    /** A glob on the file name (not the path): `*.csv`, `report-*.{xml,json}`. */
    pattern: text('*'),
    recursive: flag(false),
    /** Seconds a file's size and mtime must stay unchanged before it counts as complete. */
    settle: seconds(2, 0.1, 3600),
    /** What to do with the files already there at the first start. */
    existing: { kind: 'choice', default: 'send', choices: WATCH_EXISTING },
    /** Polling instead of change events: for network shares where events do not arrive. */
    poll: flag(false),
    pollInterval: seconds(5, 0.1, 3600),
} satisfies OptionSet;

/** The options of each node type, by type: what the editor's shared script serves. */
export const NODE_OPTIONS: Record<string, OptionSet> = {
    'serial-mfg-config': CONFIG_OPTIONS,
    'serial-mfg-upload': UPLOAD_OPTIONS,
    'serial-mfg-request': REQUEST_OPTIONS,
    'serial-mfg-record': RECORD_OPTIONS,
    'serial-mfg-watch': WATCH_OPTIONS,
};

/** Whole-value environment variables such as ${SERIAL_URL}: Node-RED substitutes them on deploy. */
export const ENV_VAR = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** A number as the editor stores it (often a string), if it is one. */
export function parseNumber(value: unknown): number | undefined {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    return Number.isFinite(n) ? n : undefined;
}

/** Whether `value` is within the option's limits (the editor's check). */
export function numberInRange(option: NumberOption, value: unknown): boolean {
    const n = parseNumber(value);
    return n !== undefined && n >= option.min && n <= option.max && (!option.integer || Math.floor(n) === n);
}

/** The value the runtime uses: the number clamped to the limits, or the default when it is none. */
export function readNumber(option: NumberOption, value: unknown): number {
    const n = parseNumber(value);
    if (n === undefined) return option.default;
    const clamped = Math.min(option.max, Math.max(option.min, n));
    return option.integer ? Math.floor(clamped) : clamped;
}

/** The value the runtime uses for a choice: one of the choices, else the default. */
export function readChoice(option: ChoiceOption, value: unknown): string {
    return typeof value === 'string' && option.choices.includes(value) ? value : option.default;
}
