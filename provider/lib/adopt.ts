/**
 * Adopting what already exists. `pulumi import` cannot work for dynamic resources, so every `create` first looks at
 * the host: an object that already matches the inputs is adopted; one that differs is refused with the differences
 * listed, unless the resource's take-over flag is set.
 */
import { canonicalJson } from "./diff";

/**
 * One line per difference, in the order of `expected`'s keys, nested plain objects as dotted keys:
 * `compression: want "lz4", host has "off"`, or `host has nothing` when the host lacks it. Keys only in `actual` are
 * not listed (the host may carry more than the inputs manage).
 */
export function describeDifferences(expected: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const walk = (prefix: string, e: Record<string, unknown>, a: Record<string, unknown> | undefined): void => {
    for (const [key, want] of Object.entries(e)) {
      if (want === undefined) continue;
      const name = prefix + key;
      const has = a?.[key];
      const plain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
      if (plain(want) && (has === undefined || plain(has))) {
        walk(`${name}.`, want, has);
      } else if (canonicalJson(want) !== canonicalJson(has)) {
        lines.push(`${name}: want ${canonicalJson(want)}, host has ${has === undefined ? "nothing" : canonicalJson(has)}`);
      }
    }
  };
  walk("", expected, actual);
  return lines;
}

/**
 * The error `create` throws for an existing object that differs:
 * `creating <thing> (<id>): it already exists and differs from the inputs; set <flag> to take it over`, then one
 * indented line per difference.
 */
export function adoptionRefused(thing: string, id: string, differences: string[], flag = "takeOver"): Error {
  return new Error([
    `creating ${thing} (${id}): it already exists and differs from the inputs; set ${flag} to take it over`,
    ...differences.map((d) => `  ${d}`),
  ].join("\n"));
}
