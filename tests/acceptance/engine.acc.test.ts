/**
 * The engine itself: the smoke program goes preview → up → preview (no changes) → refresh → destroy through the
 * real Pulumi CLI, offline, and the harness fails loudly when the engine is missing or broken.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineRunError, openStack, repoRoot } from "../helpers/engine";

const smoke = "tests/acceptance/programs/smoke";
const minutes = 60_000;

function engineBin(): string {
  return execFileSync("bash", [path.join(repoRoot, "scripts", "engine.sh"), "--check"], { encoding: "utf8" }).trim();
}

describe("engine", () => {
  it("version: the built CLI is the same version as the installed @pulumi/pulumi", () => {
    const sdk = (JSON.parse(fs.readFileSync(path.join(repoRoot, "node_modules/@pulumi/pulumi/package.json"), "utf8")) as { version: string }).version;
    const cli = execFileSync(path.join(engineBin(), "pulumi"), ["version"], { encoding: "utf8" }).trim();
    expect(cli).toBe(`v${sdk}`);
  });

  it("smoke: preview, up, no-op preview, refresh finds drift, destroy — offline", async () => {
    const files = fs.mkdtempSync(path.join(os.tmpdir(), "enjailed-smoke-"));
    const stack = await openStack(smoke, { config: { dir: files, content: "first" } });
    try {
      const preview = await stack.preview();
      expect(preview.changes).toEqual({ create: 2 });
      expect(preview.output).toContain("pulumi-nodejs:dynamic/enjailed:SmokeMarker");
      expect(fs.existsSync(path.join(files, "marker.txt"))).toBe(false); // preview changed nothing

      const up = await stack.up();
      expect(up.changes).toEqual({ create: 2 });
      expect(up.outputs).toEqual({ content: "first" });
      expect(fs.readFileSync(path.join(files, "marker.txt"), "utf8")).toBe("first");

      const again = await stack.preview({ expectNoChanges: true });
      expect(again.changes).toEqual({ same: 2 });

      fs.writeFileSync(path.join(files, "marker.txt"), "changed behind Pulumi's back");
      const refresh = await stack.refresh();
      expect(refresh.changes).toEqual({ same: 1, update: 1 });
      const state = await stack.state();
      const marker = state.resources?.find((r) => r.type === "pulumi-nodejs:dynamic/enjailed:SmokeMarker");
      expect(marker?.outputs?.["content"]).toBe("changed behind Pulumi's back");

      const converge = await stack.up();
      expect(converge.changes).toEqual({ same: 1, update: 1 });
      expect(fs.readFileSync(path.join(files, "marker.txt"), "utf8")).toBe("first");

      const destroy = await stack.destroy();
      expect(destroy.changes).toEqual({ delete: 2 });
      expect(fs.existsSync(path.join(files, "marker.txt"))).toBe(false);
    } finally {
      await stack.remove();
      fs.rmSync(files, { recursive: true, force: true });
    }
  }, 5 * minutes);

  it("fails with a broken engine: a pulumi that does not work makes every operation fail", async () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), "enjailed-broken-"));
    fs.mkdirSync(path.join(fake, "bin"));
    fs.writeFileSync(path.join(fake, "bin", "pulumi"), "#!/bin/sh\necho 'v3.248.0'\n[ \"$1\" = version ] && exit 0\necho 'engine exploded' >&2\nexit 3\n", { mode: 0o755 });
    const stack = await openStack(smoke, { config: { dir: fake }, env: { ENJAILED_PULUMI_BIN: path.join(fake, "bin") } });
    try {
      await expect(stack.up()).rejects.toThrow(EngineRunError);
      await expect(stack.preview()).rejects.toThrow(/engine exploded/);
    } finally {
      fs.rmSync(fake, { recursive: true, force: true });
    }
  }, 2 * minutes);

  it("fails with no engine, saying how to build one", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "enjailed-noengine-"));
    const stack = await openStack(smoke, {
      config: { dir: empty },
      env: { ENJAILED_PULUMI_BIN: "", ENJAILED_CACHE: empty, PATH: "/usr/bin:/bin" },
    });
    try {
      await expect(stack.up()).rejects.toThrow(/no Pulumi engine found[\s\S]*build one with: bash scripts\/engine\.sh/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, 2 * minutes);
});
