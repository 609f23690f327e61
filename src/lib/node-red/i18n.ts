import type { NodeAPI } from 'node-red';
import { asSerialError, SerialError } from '../errors/serial-error';
import { englishText, Params, SHARED_CATALOG, Translate } from '../errors/texts';

const MODULE = 'node-red-contrib-serial-mfg';

/**
 * Texts from the catalog of node set `set` in the runtime's language, falling back to the package's
 * English catalog where the runtime has none loaded (as under the test helper).
 */
export function catalog(RED: NodeAPI | undefined, set: string): Translate {
    return (key, params) => {
        const full = `${MODULE}/${set}:${key}`;
        const text = RED?._(full, params);
        return text && text !== full && text !== key ? text : englishText(key, params, set);
    };
}

/** The shared catalog (errors, reasons, what every node says), by keys below `serial-mfg-config.`. */
export function sharedCatalog(RED: NodeAPI | undefined): Translate {
    const texts = catalog(RED, SHARED_CATALOG);
    return (key, params) => texts(`${SHARED_CATALOG}.${key}`, params);
}

/** Status texts are sent as a catalog key when fixed, which the editor shows in the user's language. */
export type StatusText = (key: string, params?: Params) => string;

/**
 * Status texts of node set `set` (`key`) or of the shared catalog (`shared:key`): fixed ones go out
 * as catalog keys, ones with parameters are filled in here.
 */
export function statusTexts(RED: NodeAPI, set: string): StatusText {
    const own = catalog(RED, set);
    const shared = catalog(RED, SHARED_CATALOG);
    return (key, params) => {
        const [where, full] = key.startsWith('shared:') ? [SHARED_CATALOG, `${SHARED_CATALOG}.${key.slice(7)}`] : [set, `${set}.${key}`];
        // The editor reads a node's own keys in the node's namespace; shared ones need theirs.
        if (!params) return where === set ? full : `${MODULE}/${where}:${full}`;
        return (where === set ? own : shared)(full, params);
    };
}

/** The error as the runtime's user reads it: its message in the runtime's language. */
export function localize(RED: NodeAPI, e: unknown): SerialError {
    const err = asSerialError(e);
    err.message = err.text(sharedCatalog(RED));
    return err;
}
