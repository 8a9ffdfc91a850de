import { z } from "zod";
import { inputKeys, isUnknown, UNKNOWN } from "../../../provider/lib/inputs";

describe("inputs", () => {
  it("isUnknown: finds the sentinel at any depth", () => {
    expect(isUnknown(UNKNOWN)).toBe(true);
    expect(isUnknown({ a: [{ b: UNKNOWN }] })).toBe(true);
    expect(isUnknown([1, "x", { c: null }])).toBe(false);
    expect(isUnknown("04da6b54")).toBe(false);
    expect(isUnknown(undefined)).toBe(false);
  });

  it("inputKeys: lists the schema's top-level keys only", () => {
    const schema = () => z.object({ name: z.string(), properties: z.record(z.string(), z.string()).default({}) });
    expect(inputKeys(schema)).toEqual(["name", "properties"]);
  });
});
