/**
 * `diff` for every resource. Pure: never opens SSH.
 *
 * - Only `policy.keys` are compared (take them from `inputKeys(schema)`): `__provider` and computed outputs are never
 *   looked at, so a change of provider code alone shows no diff (see docs/transport.md).
 * - Values are compared as canonical JSON (object keys sorted), so key order never counts as a change.
 * - A preview unknown counts as a change, and as a replacement when the key is in `replaceOn` or has a `replaceIf`
 *   rule (conservative: preview may announce a replacement that apply then does not perform).
 * - `changes` is always returned explicitly: anything else makes the engine run its own diff over every input.
 */
import { isUnknown } from "./inputs";

/** How a resource's inputs are diffed. */
export interface DiffPolicy<I> {
  /** Input keys to compare. Never state-only keys, never `__provider`. */
  keys: readonly (keyof I & string)[];
  /** Any change to these replaces the thing. */
  replaceOn: readonly (keyof I & string)[];
  /**
   * Finer rules: a change of this key replaces the thing only when the predicate says so (for example
   * `connection: (o, n) => o.host !== n.host`). Not called when the old state lacks the key (state written by older
   * code): that is an update.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the published signature; rules narrow it themselves
  replaceIf?: Partial<Record<keyof I & string, (olds: any, news: any) => boolean>>;
  /** True when old and new would collide on the host (same path, same dataset name). */
  deleteBeforeReplace: boolean;
}

/** What `diffWith` returns; assignable to `pulumi.dynamic.DiffResult`. */
export interface DiffOutcome {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
}

/** Compare old state with new inputs over `policy.keys`. */
export function diffWith<I>(olds: Partial<I>, news: I, policy: DiffPolicy<I>): DiffOutcome {
  const o = (olds ?? {}) as Record<string, unknown>;
  const n = (news ?? {}) as Record<string, unknown>;
  const changed = policy.keys.filter((k) => isUnknown(n[k]) || !sameValue(o[k], n[k]));
  const replaces = changed.filter((k) => {
    if (policy.replaceOn.includes(k)) return true;
    const rule = policy.replaceIf?.[k];
    if (rule === undefined || o[k] === undefined) return false;
    return isUnknown(n[k]) || rule(o[k], n[k]);
  });
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 && policy.deleteBeforeReplace };
}

/** Deep equality through canonical JSON: object keys sorted, `undefined` members dropped. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON text with object keys sorted at every depth; `undefined` becomes `null` at the top level. */
export function canonicalJson(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map((e) => (e === undefined ? null : norm(e)));
    if (x !== null && typeof x === "object") {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(x).sort()) {
        const value = (x as Record<string, unknown>)[key];
        if (value !== undefined) out[key] = norm(value);
      }
      return out;
    }
    return x;
  };
  return JSON.stringify(v === undefined ? null : norm(v)) ?? "null";
}
