import type { ChoiceOption, FlagOption, NodeOption, NumberOption, OptionSet, TextOption } from '../rules/options';

/** An option as a flow stores it: the editor keeps what was typed, so numbers are often strings. */
type Stored<O> = O extends NumberOption ? number | string : O extends FlagOption ? boolean : string;
/** An option as the runtime uses it, after `readOptions`. */
type Read<O> = O extends NumberOption ? number : O extends FlagOption ? boolean : O extends ChoiceOption | TextOption | NodeOption ? string : never;

export type StoredOptions<S extends OptionSet> = { [K in keyof S]: Stored<S[K]> };
export type ReadOptions<S extends OptionSet> = { [K in keyof S]: Read<S[K]> };
