import { diffWith, sameValue } from "../../../provider/lib/diff";
import type { DiffPolicy } from "../../../provider/lib/diff";
import { UNKNOWN } from "../../../provider/lib/inputs";

interface Inputs {
  connection: { host: string; port: number };
  name: string;
  properties: Record<string, string>;
}

const policy: DiffPolicy<Inputs> = {
  keys: ["connection", "name", "properties"],
  replaceOn: ["name"],
  replaceIf: { connection: (o: Inputs["connection"], n: Inputs["connection"]) => o.host !== n.host },
  deleteBeforeReplace: true,
};
const base: Inputs = { connection: { host: "h", port: 22 }, name: "zroot/a", properties: { compression: "lz4", atime: "off" } };

describe("diffWith", () => {
  it("diff: no changes when equal, ignoring __provider, computed outputs and key order", () => {
    const olds = { ...base, properties: { atime: "off", compression: "lz4" }, __provider: "old code", guid: "123" };
    const news = { ...base, __provider: "new code" };
    expect(diffWith(olds, news, policy)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("diff: an update when a plain key changes", () => {
    expect(diffWith(base, { ...base, properties: { compression: "off" } }, policy))
      .toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("diff: replaces on replaceOn keys, with deleteBeforeReplace from the policy", () => {
    expect(diffWith(base, { ...base, name: "zroot/b" }, policy)).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
    expect(diffWith(base, { ...base, name: "zroot/b" }, { ...policy, deleteBeforeReplace: false }).deleteBeforeReplace).toBe(false);
  });

  it("diff: replaceIf decides for its key", () => {
    expect(diffWith(base, { ...base, connection: { host: "h", port: 2222 } }, policy).replaces).toEqual([]);
    expect(diffWith(base, { ...base, connection: { host: "other", port: 22 } }, policy).replaces).toEqual(["connection"]);
  });

  it("diff: unknown counts as changed, and as a replacement where the key can force one", () => {
    expect(diffWith(base, { ...base, properties: { compression: UNKNOWN } }, policy))
      .toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(diffWith(base, { ...base, name: UNKNOWN }, policy).replaces).toEqual(["name"]);
    expect(diffWith(base, { ...base, connection: { host: UNKNOWN, port: 22 } }, policy).replaces).toEqual(["connection"]);
  });

  it("diff: state from older code that lacks a key is an update, not a replacement", () => {
    const { connection: _c, ...old } = base;
    void _c;
    expect(diffWith(old, base, policy)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("sameValue: deep, order-insensitive for objects, order-sensitive for arrays", () => {
    expect(sameValue({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue({ a: undefined }, {})).toBe(true);
    expect(sameValue(1, "1")).toBe(false);
  });
});
