import fs from 'fs';
import path from 'path';

export type Params = Record<string, string | number>;
/** A text of the package's shared catalog (the config node's), by key, in some language. */
export type Translate = (key: string, params?: Params) => string;

/** The shared message catalog: errors, their reasons and the texts every node uses. */
export const SHARED_CATALOG = 'serial-mfg-config';
const LOCALES = path.join(__dirname, '..', '..', 'locales');
const catalogs = new Map<string, unknown>();

export function fill(text: string, params: Params = {}): string {
    return text.replace(/__(\w+?)__/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** A text from the package's own en-US catalog of node set `set` (full key, e.g. `serial-mfg-upload.status.done`). */
export function englishText(key: string, params: Params | undefined, set: string): string {
    if (!catalogs.has(set)) {
        try {
            catalogs.set(set, JSON.parse(fs.readFileSync(path.join(LOCALES, 'en-US', `${set}.json`), 'utf8')));
        } catch {
            catalogs.set(set, {});
        }
    }
    const found = key
        .split('.')
        .reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), catalogs.get(set));
    return typeof found === 'string' ? fill(found, params) : key;
}

/** A text of the shared catalog in English, by its key below `serial-mfg-config.` (e.g. `errors.STALLED`). */
export const sharedEnglish: Translate = (key, params) => englishText(`${SHARED_CATALOG}.${key}`, params, SHARED_CATALOG);
