import fs from 'fs';
import path from 'path';
import type { NodeAPI } from 'node-red';

export type Params = Record<string, string | number>;
export type Translate = (key: string, params?: Params) => string;

const MODULE = 'node-red-contrib-serial-mfg';
const LOCALES = path.join(__dirname, '..', 'locales');
const fallbacks = new Map<string, unknown>();

function fill(text: string, params: Params = {}): string {
    return text.replace(/__(\w+)__/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** The English text of a key, read from the package's own en-US catalog. */
export function englishText(set: string, key: string, params?: Params): string {
    if (!fallbacks.has(set)) {
        try {
            fallbacks.set(set, JSON.parse(fs.readFileSync(path.join(LOCALES, 'en-US', `${set}.json`), 'utf8')));
        } catch {
            fallbacks.set(set, {});
        }
    }
    const found = key.split('.').reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), fallbacks.get(set));
    return typeof found === 'string' ? fill(found, params) : key;
}

/**
 * Status texts of node set `set`: fixed ones go out as catalog keys, which the editor shows in the
 * user's language; ones with parameters are filled in here.
 */
export function statusText(RED: NodeAPI, set: string): Translate {
    const translate = catalog(RED, set);
    return (key, params) => (params ? translate(`${set}.${key}`, params) : `${set}.${key}`);
}

/**
 * Texts from the catalog of node set `set` in the runtime's language, falling back to English where
 * the runtime has no catalog loaded (as under the test helper).
 */
export function catalog(RED: NodeAPI | undefined, set: string): Translate {
    return (key, params) => {
        const full = `${MODULE}/${set}:${key}`;
        const text = RED?._(full, params);
        return text && text !== full && text !== key ? text : englishText(set, key, params);
    };
}
