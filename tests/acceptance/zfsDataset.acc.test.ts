/**
 * ZfsDataset through the real engine over real SSH, against the lab (or ENJAILED_TEST_HOST): create, no-op preview,
 * update in place, out-of-band change found by refresh, out-of-band delete, replace, adopt existing, delete, and the
 * runbook's dataset steps checked with `zfs get … -r` as the runbook shows them.
 * Programs: examples/zfs-dataset and examples/zfs-dataset/seed (compiled by `npm run build`).
 */
import { randomBytes } from "crypto";
import { EngineRunError, openStack } from "../helpers/engine";
import type { TestStack } from "../helpers/engine";
import { seedZfsTable, tableRows } from "./seed";
import { acquireTarget, stackConfig } from "./target";
import type { Target } from "./target";

const minutes = 60_000;
jest.setTimeout(15 * minutes);

/** Parent of every dataset these tests create; on a real host point it somewhere disposable. */
const PARENT = process.env.ENJAILED_TEST_ZFS_PARENT ?? "zroot/usr/jail";
const tag = () => randomBytes(3).toString("hex");

let target: Target;

beforeAll(async () => {
  target = await acquireTarget();
});

afterAll(async () => {
  await target?.release();
});

function connectionConfig(): Record<string, string> {
  return stackConfig(target.connection, { privateKeyFile: target.privateKeyFile });
}

async function host(command: string): Promise<string> {
  const r = await target?.hostExec(command);
  if (r.code !== 0) throw new Error(`host: ${command}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function exists(name: string): Promise<boolean> {
  return (await target?.hostExec(`zfs list -H -o name '${name}'`)).code === 0;
}

async function prop(name: string, property: string): Promise<string> {
  return (await host(`zfs get -H -o value,source ${property} '${name}'`)).trim();
}

describe("ZfsDataset acceptance", () => {
  describe("lifecycle", () => {
    const first = `${PARENT}/enjailed-acc-${tag()}`;
    const second = `${first}-renamed`;
    let stack: TestStack;

    beforeAll(async () => {
      stack = await openStack("examples/zfs-dataset", { config: { ...connectionConfig(), name: first, compression: "lz4" } });
    });

    afterAll(async () => {
      await stack?.destroy().catch(() => undefined);
      await stack?.remove();
      for (const d of [first, second]) await target?.hostExec(`zfs destroy -r '${d}'`);
    });

    it("basic: up creates the dataset with its properties", async () => {
      const up = await stack.up();
      expect(up.changes).toEqual({ create: 2 });
      expect(await prop(first, "compression")).toBe("lz4\tlocal");
      expect(up.outputs.guid).toBe((await host(`zfs get -H -p -o value guid '${first}'`)).trim());
      expect(up.outputs.onDelete).toBe("destroy");
    });

    it("no-op preview: nothing changes", async () => {
      expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 2 });
    });

    it("update compression: in place, no replace", async () => {
      await stack.setConfig("compression", "zstd");
      expect((await stack.up()).changes).toEqual({ same: 1, update: 1 });
      expect(await prop(first, "compression")).toBe("zstd\tlocal");
    });

    it("drift: zfs inherit behind Pulumi's back shows in refresh, and up sets it back", async () => {
      await host(`zfs inherit compression '${first}'`);
      expect((await stack.refresh()).changes).toEqual({ same: 1, update: 1 });
      expect((await stack.up()).changes).toEqual({ same: 1, update: 1 });
      expect(await prop(first, "compression")).toBe("zstd\tlocal");
    });

    it("disappears: destroyed out of band, refresh drops it, up recreates it", async () => {
      await host(`zfs destroy '${first}'`);
      expect((await stack.refresh()).changes).toEqual({ same: 1, delete: 1 });
      expect((await stack.up()).changes).toEqual({ same: 1, create: 1 });
      expect(await exists(first)).toBe(true);
    });

    it("replace name: deletes the old dataset, then creates the new one", async () => {
      await stack.setConfig("name", second);
      const up = await stack.up();
      expect(up.changes).toEqual({ same: 1, replace: 1 });
      expect(await exists(first)).toBe(false);
      expect(await exists(second)).toBe(true);
    });

    it("delete: destroy removes it", async () => {
      expect((await stack.destroy()).changes).toEqual({ delete: 2 });
      expect(await exists(second)).toBe(false);
    });
  });

  describe("adopt existing", () => {
    const same = `${PARENT}/enjailed-acc-${tag()}`;
    const differs = `${PARENT}/enjailed-acc-${tag()}`;
    const stacks: TestStack[] = [];

    afterAll(async () => {
      for (const s of stacks) {
        await s.destroy().catch(() => undefined);
        await s.remove();
      }
      for (const d of [same, differs]) await target?.hostExec(`zfs destroy -r '${d}'`);
    });

    it("adopts a hand-made dataset that matches, keeping its guid", async () => {
      await host(`zfs create -o compression=lz4 '${same}'`);
      const guid = (await host(`zfs get -H -p -o value guid '${same}'`)).trim();
      const stack = await openStack("examples/zfs-dataset", { config: { ...connectionConfig(), name: same, compression: "lz4" } });
      stacks.push(stack);
      const up = await stack.up();
      expect(up.changes).toEqual({ create: 2 });
      expect(up.outputs.guid).toBe(guid);
    });

    it("fails on a hand-made dataset that differs, then takeOver sets it", async () => {
      await host(`zfs create -o compression=off '${differs}'`);
      const stack = await openStack("examples/zfs-dataset", { config: { ...connectionConfig(), name: differs, compression: "lz4" } });
      stacks.push(stack);
      const refused = await stack.up().then(() => undefined, (e: EngineRunError) => e);
      expect(refused).toBeInstanceOf(EngineRunError);
      expect(refused?.output).toMatch(/it already exists and differs from the inputs; set takeOver to take it over/);
      expect(refused?.output).toContain('properties.compression: want "lz4", host has "off"');
      expect(await prop(differs, "compression")).toBe("off\tlocal");
      await stack.setConfig("takeOver", "true");
      await stack.up();
      expect(await prop(differs, "compression")).toBe("lz4\tlocal");
    });
  });

  describe("data datasets", () => {
    const name = `${PARENT}/enjailed-acc-${tag()}`;
    let stack: TestStack;

    afterAll(async () => {
      await stack?.remove();
      await target?.hostExec(`zfs destroy -r '${name}'`);
    });

    it("delete keeps a data dataset and says so", async () => {
      stack = await openStack("examples/zfs-dataset", { config: { ...connectionConfig(), name, data: "true" } });
      expect((await stack.up()).outputs.onDelete).toBe("keep");
      const destroy = await stack.destroy();
      expect(destroy.changes).toEqual({ delete: 2 });
      expect(destroy.output).toContain(`kept ZFS dataset ${name}: it is marked data`);
      expect(await exists(name)).toBe(true);
    });
  });

  describe("seed", () => {
    // On the lab the runbook's names are used as is; on a real host a random jail name keeps real jails untouched.
    const jail = process.env.ENJAILED_TEST_HOST === undefined ? "bhyve" : `acc${tag()}`;
    let stack: TestStack;

    afterAll(async () => {
      if (stack !== undefined) {
        await stack.setConfig("destroyData", "true");
        await stack.up().catch(() => undefined);
        await stack.destroy().catch(() => undefined);
        await stack.remove();
      }
    });

    it("the runbook's dataset steps give the runbook's zfs get table", async () => {
      stack = await openStack("examples/zfs-dataset/seed", { config: { ...connectionConfig(), jail } });
      expect((await stack.up()).changes).toEqual({ create: 3 });
      const out = await host(`zfs get jailed,canmount,mounted,mountpoint -r zroot/usr/jail/${jail}`);
      expect(tableRows(out)).toEqual(tableRows(seedZfsTable(jail)));
    });

    it("destroy keeps the VM data and the jail root that holds it; the next up adopts both", async () => {
      const root = `zroot/usr/jail/${jail}`;
      const guids = await host(`zfs get -H -o value guid ${root} ${root}/vm`);
      const destroy = await stack!.destroy();
      expect(destroy.changes).toEqual({ delete: 3 });
      expect(destroy.output).toContain(`kept ZFS dataset ${root}/vm: it is marked data`);
      expect(destroy.output).toContain(`kept ZFS dataset ${root}: it still holds data that is kept (${root}/vm)`);
      expect(await host(`zfs get -H -o value guid ${root} ${root}/vm`)).toBe(guids);

      const again = await stack!.up();
      expect(again.changes).toEqual({ create: 3 });
      expect(await host(`zfs get -H -o value guid ${root} ${root}/vm`)).toBe(guids);
    });
  });
});
