/**
 * `check` for every resource: run the zod schema, turn its issues into CheckFailures that name the property path and
 * the rule, and let preview unknowns through. Pure: never opens SSH, so `pulumi preview` works with no route to the
 * host.
 *
 * - A failure's `property` is the dotted path (`properties.quota`, `connection.hostKey`); a rule on the whole object
 *   gives `""`, which the engine shows as a resource-level error.
 * - The reason is the schema's message with a lowercase first letter; a missing required field reads `is required`.
 *   When the offending value is a short string, number or boolean, `, got <value as JSON>` is appended, except for
 *   custom rules (`refine`/`superRefine`: their message is the author's) and under keys whose name suggests a secret (password, passphrase, privateKey, secret, token, stdin, content).
 * - Issues on values that are, contain, or sit inside the preview sentinel are dropped: apply checks again with the
 *   real values. The returned inputs then hold every known value with its defaults filled, and the sentinels as is.
 * - `__provider` is kept in the returned inputs (the schema itself strips unknown keys).
 */
import type { z } from "zod";
import { isUnknown } from "./inputs";

/** One invalid input, as the engine prints it. */
export interface CheckFailure {
  /** Dotted path of the input, for example `properties.quota`; `""` for the resource as a whole. */
  property: string;
  /** The rule that failed, lower case, no final period. */
  reason: string;
}

/** What `checkWith` returns; assignable to `pulumi.dynamic.CheckResult`. */
export interface CheckOutcome<T> {
  inputs?: T;
  failures: CheckFailure[];
}

/** Run `schemaFactory()` as Pulumi `check`; `extra` adds cross-field rules, run only when every input is known. */
export function checkWith<S extends z.ZodType>(
  schemaFactory: () => S,
  news: unknown,
  extra?: (inputs: z.output<S>) => CheckFailure[],
): CheckOutcome<z.output<S>> {
  const schema = schemaFactory();
  const parsed = schema.safeParse(news);
  const failures: CheckFailure[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String);
      const value = checkValueAt(news, path);
      if (value.unknown) continue;
      failures.push({ property: path.join("."), reason: checkReason(issue.code, issue.message, path, value.value) });
    }
    if (failures.length > 0) return { failures };
  }
  const inputs = (parsed.success ? parsed.data : checkFillKnown(schema, news)) as z.output<S>;
  if (extra !== undefined && !isUnknown(news)) failures.push(...extra(inputs));
  if (failures.length > 0) return { failures };
  const provider = news !== null && typeof news === "object" ? (news as Record<string, unknown>).__provider : undefined;
  if (provider !== undefined && inputs !== null && typeof inputs === "object") {
    return { inputs: { ...(inputs as object), __provider: provider } as z.output<S>, failures };
  }
  return { inputs, failures };
}

/** The value at `path` in `root`, and whether it (or anything on the way to it) is a preview unknown. */
function checkValueAt(root: unknown, path: string[]): { value: unknown; unknown: boolean } {
  let v: unknown = root;
  for (const key of path) {
    if (v === "04da6b54-80e4-46f7-96ec-b56ff0331ba9") return { value: v, unknown: true };
    if (v === null || typeof v !== "object") return { value: undefined, unknown: false };
    v = (v as Record<string, unknown>)[key];
  }
  return { value: v, unknown: isUnknown(v) };
}

function checkReason(code: string, message: string, path: string[], value: unknown): string {
  if (code === "invalid_type" && value === undefined) return "is required";
  let reason = message.length > 0 ? message[0]!.toLowerCase() + message.slice(1) : "is invalid";
  reason = reason.replace(/\.$/, "");
  const last = path[path.length - 1] ?? "";
  const sensitive = /password|passphrase|privatekey|secret|token|stdin|content/i.test(last);
  const shortPrimitive = (typeof value === "string" && value.length <= 80) || typeof value === "number"
    || typeof value === "boolean";
  if (code !== "custom" && shortPrimitive && !sensitive && !/\bgot\b/.test(reason)) reason += `, got ${JSON.stringify(value)}`;
  return reason;
}

/** Parse what can be parsed, keeping preview sentinels in place, so the preview still sees defaults. */
function checkFillKnown(schema: z.ZodType, value: unknown): unknown {
  if (value === "04da6b54-80e4-46f7-96ec-b56ff0331ba9") return value;
  if (!isUnknown(value)) {
    const r = schema.safeParse(value);
    return r.success ? r.data : value;
  }
  const inner = checkObjectOf(schema);
  if (inner === undefined || value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(inner.shape)) {
    const filled = checkFillKnown(field as z.ZodType, (value as Record<string, unknown>)[key]);
    if (filled !== undefined) out[key] = filled;
  }
  return out;
}

/** The object schema under optional/default/nullable wrappers, if there is one. */
function checkObjectOf(schema: z.ZodType): { shape: Record<string, unknown> } | undefined {
  let s: unknown = schema;
  for (let depth = 0; depth < 8 && s !== undefined; depth++) {
    const def = (s as { def?: { type?: string; innerType?: unknown } }).def;
    if (def?.type === "object") return s as { shape: Record<string, unknown> };
    if (def?.type === "optional" || def?.type === "default" || def?.type === "nullable" || def?.type === "prefault") {
      s = def.innerType;
    } else {
      return undefined;
    }
  }
  return undefined;
}
