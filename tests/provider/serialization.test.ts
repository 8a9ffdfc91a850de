/**
 * Every exported provider object in provider/*.ts must survive Pulumi's closure serializer, the way
 * `dynamic.Resource` serializes it: no error, no secrets, no zod schema captured by value, and a size budget.
 * A provider built in this file from every provider/lib helper is serialized too, so the plumbing is covered even
 * before a resource uses all of it. Runs under jest's module system (it works there; see the report if it stops).
 */
import { readdirSync } from "fs";
import { join } from "path";
import { runtime } from "@pulumi/pulumi";
import type { dynamic } from "@pulumi/pulumi";
import { checkWith } from "../../provider/lib/check";
import { connectionSchema } from "../../provider/lib/connection";
import { configureFrom } from "../../provider/lib/config";
import { diffWith } from "../../provider/lib/diff";
import { describeDifferences } from "../../provider/lib/adopt";
import { partialFailure, problem } from "../../provider/lib/errors";
import { ConnectionError, RemoteCommandError, run } from "../../provider/lib/exec";
import { readRemoteFile, removeRemoteFile, withRemoteLock, writeRemoteFile } from "../../provider/lib/files";
import { inputKeys } from "../../provider/lib/inputs";
import { sh } from "../../provider/lib/sh";
import { z } from "zod";

/** Serialized provider text may not exceed this many characters (lib alone is about a third of it). */
const SIZE_BUDGET = 400_000;

function probeSchema() {
  return z.object({ connection: connectionSchema(), path: z.string() });
}

/** Uses every runtime export of provider/lib, like a resource would. */
const libProbeProvider: dynamic.ResourceProvider = {
  async configure(req) {
    configureFrom(req);
  },
  async check(_olds, news) {
    return checkWith(probeSchema, news);
  },
  async diff(_id, olds, news) {
    return diffWith(olds, news, { keys: inputKeys(probeSchema), replaceOn: ["path"], deleteBeforeReplace: true });
  },
  async create(inputs) {
    try {
      const before = await readRemoteFile(inputs.connection, inputs.path);
      if (before.kind === "file") describeDifferences({ content: "x" }, { content: before.content });
      await writeRemoteFile(inputs.connection, inputs.path, "x");
      await withRemoteLock(inputs.connection, "/var/run/x.lock", sh`touch ${inputs.path}`);
      await run(inputs.connection, sh`ls ${inputs.path}`);
      return { id: inputs.path, outs: inputs };
    } catch (e) {
      if (e instanceof RemoteCommandError) throw partialFailure(inputs.path, inputs, problem("creating", "file", inputs.path, e));
      throw e;
    }
  },
  async delete(_id, props) {
    await removeRemoteFile(props.connection, props.path);
  },
};

async function providersInProviderDir(): Promise<[string, object][]> {
  const dir = join(__dirname, "../../provider");
  const found: [string, object][] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort()) {
    const mod = (await import(join(dir, file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (name.endsWith("Provider") && value !== null && typeof value === "object") found.push([`${file}:${name}`, value]);
    }
  }
  return found;
}

describe("provider serialization", () => {
  it("serializes the provider/lib probe provider", async () => {
    const s = await runtime.serializeFunction(() => libProbeProvider, { allowSecrets: true });
    expect(s.containsSecrets).toBe(false);
    expect(s.text).not.toContain("_zod");
    expect(s.text.length).toBeLessThan(SIZE_BUDGET);
    expect(s.text).toContain("require(\"ssh2\")");
  });

  it("keeps error messages in the serialized copy (the engine printed `{}` for ConnectionError once)", async () => {
    const probe = {
      make(): unknown[] {
        const outcome = { command: "zfs get", exitCode: 1, stdout: "", stderr: "no such pool", target: "admin@h:22" };
        const c = new ConnectionError("connecting to admin@h:22: host key differs");
        const r = new RemoteCommandError(outcome);
        const wrapped = problem("reading", "ZFS dataset", "zroot/x", c);
        return [c instanceof Error, c instanceof ConnectionError, c.name, c.message,
          r instanceof Error, r instanceof RemoteCommandError, r.summary, wrapped.message];
      },
    };
    const s = await runtime.serializeFunction(() => probe, { allowSecrets: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require("require-from-string") as (text: string) => { handler: () => typeof probe };
    expect(load(s.text).handler().make()).toEqual([
      true, true, "ConnectionError", "connecting to admin@h:22: host key differs",
      true, true, "command failed with exit code 1 on admin@h:22",
      "reading ZFS dataset (zroot/x): connecting to admin@h:22: host key differs",
    ]);
  });

  it("serializes every exported *Provider in provider/*.ts", async () => {
    const providers = await providersInProviderDir();
    const problems: string[] = [];
    for (const [name, provider] of providers) {
      try {
        const s = await runtime.serializeFunction(() => provider, { allowSecrets: true });
        if (s.containsSecrets) problems.push(`${name}: captures a secret`);
        if (s.text.includes("_zod")) problems.push(`${name}: captures a zod schema by value (build schemas in a factory)`);
        if (s.text.length >= SIZE_BUDGET) problems.push(`${name}: ${s.text.length} characters, over the ${SIZE_BUDGET} budget`);
      } catch (e) {
        problems.push(`${name}: ${(e as Error).message.split("\n").filter((l) => /could not be serialized|Unexpected|which/.test(l)).slice(-3).map((l) => l.trim()).join(" / ")}`);
      }
    }
    // Resources land in parallel; the lib probe above keeps this layer meaningful when none exist yet.
    expect(problems).toEqual([]);
  });
});
