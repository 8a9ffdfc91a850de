// The two providers of issue #5 survive Pulumi's closure serializer, and the *deserialized* copy still works (as the
// dynamic-provider host runs it: the serialized text loaded as a module). Values the serializer mangles (Sets, Maps
// held at module level) break only there, so check, diff and the pure helpers run on the copy.
import Module from "module";
import { runtime } from "@pulumi/pulumi";
import type { dynamic } from "@pulumi/pulumi";
import { jailConfProvider, jailConfSchema } from "../../provider/jailConf";
import { zfsDatasetProvider, zfsDatasetSchema } from "../../provider/zfsDataset";
import { seedParameters, seedVariables } from "../../examples/jail-conf/seed";

const connection = { host: "192.0.2.10", hostKey: "SHA256:" + "A".repeat(43) };

async function roundTrip(provider: dynamic.ResourceProvider): Promise<{ copy: dynamic.ResourceProvider; text: string; secrets: boolean }> {
  const s = await runtime.serializeFunction(() => provider, { allowSecrets: true });
  const m = new Module("serialized-provider") as Module & { _compile(code: string, file: string): void };
  m.paths = module.paths;
  m._compile(s.text, "serialized-provider.js");
  const handler = (m.exports as { handler: () => dynamic.ResourceProvider }).handler;
  return { copy: handler(), text: s.text, secrets: s.containsSecrets };
}

describe("provider serialization (issue #5 resources)", () => {
  it("JailConf: serializes without schema or secret, and the copy checks and diffs", async () => {
    const { copy, text, secrets } = await roundTrip(jailConfProvider);
    expect(secrets).toBe(false);
    expect(text).not.toMatch(/_zod/);
    const news = { connection, name: "bhyve", variables: seedVariables, parameters: seedParameters };
    const checked = await copy.check!({}, news);
    expect(checked.failures).toEqual([]);
    const inputs = jailConfSchema().parse(news);
    const created = { ...inputs, file: "/etc/jail.conf.d/bhyve.conf", content: "bhyve { path = /elsewhere; }\n", ownership: "0644 root:wheel" };
    expect(await copy.diff!("x", created, inputs)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect((await copy.check!({}, { ...news, parameters: { path: "/j", persist: true, "zfs.dataset": "z/v" } })).failures?.length).toBe(3);
  }, 60_000);

  it("ZfsDataset: serializes without schema or secret, and the copy checks and diffs", async () => {
    const { copy, text, secrets } = await roundTrip(zfsDatasetProvider);
    expect(secrets).toBe(false);
    expect(text).not.toMatch(/_zod/);
    expect((await copy.check!({}, { connection, name: "zroot/a", properties: { quota: "10G" } })).failures).toEqual([]);
    const olds = { ...zfsDatasetSchema().parse({ connection, name: "zroot/a" }), guid: "1", mountpoint: "/a", originSnapshot: "", onDelete: "destroy" };
    expect((await copy.diff!("zroot/a", olds, zfsDatasetSchema().parse({ connection, name: "zroot/b" }))).replaces).toEqual(["name"]);
  }, 60_000);
});
