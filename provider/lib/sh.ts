/**
 * The only way values enter a command line.
 *
 * `sh` is a tagged template: the literal text is the command, and every interpolated value is quoted for POSIX sh(1)
 * with single quotes, so quotes, `;`, `$(…)`, backticks, globs, newlines and non-ASCII text all arrive as one word,
 * unchanged. Arrays expand to one quoted word per item. `raw(x)` passes a fragment through unquoted; use it only for
 * text built by `sh` itself or written in the source, never for user input.
 */

/** A fragment that `sh` inserts as is. Create it with {@link raw}. */
export interface RawFragment {
  readonly __enjailedRaw: true;
  readonly text: string;
}

/** A value accepted by the `sh` template. */
export type ShValue = string | number | RawFragment | ReadonlyArray<string | number | RawFragment>;

/** Mark `fragment` as already-safe shell text (for example the output of another `sh` call). */
export function raw(fragment: string): RawFragment {
  return { __enjailedRaw: true, text: fragment };
}

/**
 * Quote one value as a single POSIX sh word. `'` becomes `'\''`. NUL cannot be passed through exec(2) and is refused.
 */
export function quote(value: string): string {
  if (value.includes("\u0000")) throw new Error("quoting a shell word: value contains a NUL character");
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** Build a /bin/sh command line; every interpolated value is single-quoted, arrays become quoted words. */
export function sh(strings: TemplateStringsArray, ...values: ShValue[]): string {
  const word = (v: string | number | RawFragment): string => {
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new Error(`building a command line: ${String(v)} is not a finite number`);
      return quote(String(v));
    }
    if (typeof v === "string") return quote(v);
    if (v !== null && typeof v === "object" && v.__enjailedRaw === true) return v.text;
    throw new Error(`building a command line: cannot interpolate a value of type ${typeof v}`);
  };
  let line = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as ShValue;
    line += Array.isArray(v) ? (v as ReadonlyArray<string | number | RawFragment>).map(word).join(" ") : word(v as string | number | RawFragment);
    line += strings[i + 1] ?? "";
  }
  return line;
}
