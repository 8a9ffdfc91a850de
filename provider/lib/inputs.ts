/**
 * Preview unknowns and input typing shared by every resource.
 *
 * During preview the engine sends the fixed string {@link UNKNOWN} in place of any value that is not known yet, even
 * for fields that are numbers or objects (pulumi/pulumi#6310). `check` and `diff` must treat it as "not known", never
 * as bad input. The constant is written out here instead of being imported from `@pulumi/pulumi`, so provider code
 * never references the SDK at run time.
 */
import type { Input } from "@pulumi/pulumi";
import type { z } from "zod";

/** The engine's stand-in for a value that is not known until apply. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `v` is the unknown sentinel or contains it anywhere (array items, object values, at any depth). */
export function isUnknown(v: unknown): boolean {
  if (v === "04da6b54-80e4-46f7-96ec-b56ff0331ba9") return true;
  if (Array.isArray(v)) return v.some(isUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(isUnknown);
  return false;
}

/** Alias of {@link isUnknown}, under the name STYLE.md uses. */
export function containsUnknown(v: unknown): boolean {
  return isUnknown(v);
}

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/**
 * Deep `pulumi.Input` wrapping of a plain type: every property, array item and nested property may be an Output.
 * Homomorphic on objects, so JSDoc written on schema keys reaches editor hovers. An optional value is
 * `Input<T> | undefined`, not `Input<T | undefined>`, so the shapes match @pulumi/command's connection args.
 */
export type PulumiInputs<T> = T extends Primitive
  ? T
  : T extends ReadonlyArray<infer E>
    ? Input<PulumiInputs<E>>[]
    : { [K in keyof T]: undefined extends T[K] ? Input<PulumiInputs<Exclude<T[K], undefined>>> | undefined : Input<PulumiInputs<T[K]>> };

/**
 * The top-level input keys of a schema factory, for `DiffPolicy.keys`: diff then never looks at `__provider` or at
 * computed outputs.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any ZodObject shape is accepted
export function inputKeys<S extends z.ZodObject<any>>(schemaFactory: () => S): (keyof z.output<S> & string)[] {
  return Object.keys(schemaFactory().shape) as (keyof z.output<S> & string)[];
}
