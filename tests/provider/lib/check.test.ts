import { z } from "zod";
import { checkWith } from "../../../provider/lib/check";
import { connectionSchema } from "../../../provider/lib/connection";
import { UNKNOWN } from "../../../provider/lib/inputs";

const FP = "SHA256:" + "A".repeat(43);

function datasetSchema() {
  return z
    .object({
      /** connection */
      connection: connectionSchema(),
      /** name */
      name: z.string().regex(/^[a-z0-9_./-]+$/, "must be a dataset name like zroot/jails/web"),
      /** properties */
      properties: z.record(z.string(), z.string().regex(/^\d+[KMGT]?$|^none$/, "must be a ZFS size such as 10G or none")).default({}),
      /** protect */
      protect: z.boolean().default(false),
      /** recursiveDestroy */
      recursiveDestroy: z.boolean().default(false),
    })
    .superRefine((v, ctx) => {
      if (v.protect && v.recursiveDestroy) ctx.addIssue({ code: "custom", path: ["recursiveDestroy"], message: "cannot be true while protect is set" });
    });
}

describe("checkWith", () => {
  it("check: fills defaults and keeps __provider", () => {
    const r = checkWith(datasetSchema, { __provider: "code", connection: { host: "h", hostKey: FP }, name: "zroot/a" });
    expect(r.failures).toEqual([]);
    expect(r.inputs).toEqual({
      __provider: "code",
      connection: { transport: "ssh", host: "h", port: 22, user: "root", hostKey: FP, become: "doas", dialErrorLimit: 10, perDialTimeout: 15 },
      name: "zroot/a",
      properties: {},
      protect: false,
      recursiveDestroy: false,
    });
  });

  it("check: reports properties.quota, not the whole object", () => {
    const r = checkWith(datasetSchema, { connection: { host: "h", hostKey: FP }, name: "zroot/a", properties: { quota: "ten gigs" } });
    expect(r.inputs).toBeUndefined();
    expect(r.failures).toEqual([{ property: "properties.quota", reason: "must be a ZFS size such as 10G or none, got \"ten gigs\"" }]);
  });

  it("check: names nested connection fields and missing ones", () => {
    const r = checkWith(datasetSchema, { connection: { host: "h", port: 0, hostKey: FP }, name: "zroot/a" });
    expect(r.failures.map((f) => f.property).sort()).toEqual(["connection.port"]);
    expect(r.failures[0]!.reason).toMatch(/^too small: expected number to be >=1, got 0$/);
    const missing = checkWith(datasetSchema, { connection: { host: "h", hostKey: FP } });
    expect(missing.failures).toEqual([{ property: "name", reason: "is required" }]);
  });

  it("check: a missing hostKey is a failure for ssh, not for the local transport", () => {
    expect(checkWith(connectionSchema, { host: "h" }).failures).toEqual([
      { property: "hostKey", reason: "is required: pin the host's key (ssh-keyscan, or /etc/ssh/ssh_host_ed25519_key.pub on the host)" },
    ]);
    expect(checkWith(connectionSchema, { host: "h", transport: "local" }).failures).toEqual([]);
  });

  it("check: cross-field rules point at their property", () => {
    const r = checkWith(datasetSchema, { connection: { host: "h", hostKey: FP }, name: "a", protect: true, recursiveDestroy: true });
    expect(r.failures).toEqual([{ property: "recursiveDestroy", reason: "cannot be true while protect is set" }]);
  });

  it("check: ignores issues on preview unknowns, even in number and object fields", () => {
    const r = checkWith(datasetSchema, { __provider: "p", connection: { host: UNKNOWN, port: UNKNOWN, hostKey: UNKNOWN }, name: UNKNOWN, properties: { quota: UNKNOWN } });
    expect(r.failures).toEqual([]);
    expect(r.inputs).toEqual({
      __provider: "p",
      connection: { transport: "ssh", host: UNKNOWN, port: UNKNOWN, user: "root", hostKey: UNKNOWN, become: "doas", dialErrorLimit: 10, perDialTimeout: 15 },
      name: UNKNOWN,
      properties: { quota: UNKNOWN },
      protect: false,
      recursiveDestroy: false,
    });
    const whole = checkWith(datasetSchema, { connection: UNKNOWN, name: "zroot/a" });
    expect(whole.failures).toEqual([]);
    expect(whole.inputs).toMatchObject({ connection: UNKNOWN, name: "zroot/a", protect: false });
  });

  it("check: still reports known bad values next to unknowns", () => {
    const r = checkWith(datasetSchema, { connection: { host: UNKNOWN, hostKey: FP }, name: "BAD NAME" });
    expect(r.failures).toEqual([{ property: "name", reason: "must be a dataset name like zroot/jails/web, got \"BAD NAME\"" }]);
  });

  it("check: runs extra rules only when every input is known", () => {
    const extra = jest.fn(() => [{ property: "name", reason: "is taken" }]);
    expect(checkWith(datasetSchema, { connection: { host: "h", hostKey: FP }, name: "a" }, extra).failures)
      .toEqual([{ property: "name", reason: "is taken" }]);
    expect(checkWith(datasetSchema, { connection: { host: UNKNOWN, hostKey: FP }, name: "a" }, extra).failures).toEqual([]);
    expect(extra).toHaveBeenCalledTimes(1);
  });

  it("check: does not echo values of secret-looking keys", () => {
    const s = () => z.object({ password: z.string().min(12, "must be at least 12 characters") });
    expect(checkWith(s, { password: "hunter2" }).failures).toEqual([{ property: "password", reason: "must be at least 12 characters" }]);
  });
});
