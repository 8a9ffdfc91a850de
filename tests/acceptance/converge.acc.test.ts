/**
 * Re-running after a failure converges, through the real Pulumi engine over real SSH, with the lab's fault injection:
 * - ZfsDataset: the read-back after `zfs create` fails once; the dataset exists, and the next `up` converges on it
 *   (the same dataset, not a second one) and a preview after it shows no changes;
 * - ZfsDataset: `zfs create` itself fails once; nothing exists and nothing is recorded; the next `up` creates it;
 * - JailConf: the connection drops during the file write (before the write runs, and after it ran); `up` says the
 *   outcome is unknown; the next `up` converges on the runbook's file;
 * - the seed's two datasets (jail root clone, then the VM dataset) where the VM dataset's create fails once: the first
 *   `up` records the root only, the second creates the VM dataset, and `zfs get` shows the runbook's table.
 *
 * Programs: examples/zfs-dataset, examples/zfs-dataset/seed, examples/jail-conf (compiled by `npm run build`).
 * Fault injection needs the lab, so each describe starts its own (ENJAILED_TEST_HOST does not apply here).
 */
import { randomBytes } from "crypto";
import { writeFile } from "fs/promises";
import { engineFailure, openStack } from "../helpers/engine";
import { seedZfsTable, tableRows } from "./seed";
import type { Deployment, TestStack } from "../helpers/engine";
import { startLab } from "../lab/lab";
import type { FaultRule, Lab } from "../lab/lab";
import { jailConfSchema, renderJailConf } from "../../provider/jailConf";
import { seedParameters, seedVariables } from "../../examples/jail-conf/seed";
import { stackConfig } from "./target";

const minutes = 60_000;
jest.setTimeout(10 * minutes);

const tag = (): string => randomBytes(3).toString("hex");
const ZFS_DATASET = "pulumi-nodejs:dynamic/enjailed:ZfsDataset";
const JAIL_CONF = "pulumi-nodejs:dynamic/enjailed:JailConf";
/** The read that ZfsDataset's create runs before and after `zfs create` (provider/zfsDataset.ts getCommand). */
const ZFS_GET = "zfs get -H -p -o property,value,source ";

// ── helpers ─────────────────────────────────────────────────────────────────

/** A regular expression matching `s` literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function config(lab: Lab): Record<string, string> {
  const c = lab.connection;
  return stackConfig(
    { host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, become: c.become },
    { privateKeyFile: c.privateKeyFile },
  );
}


/**
 * Appends rules to the lab's faults.json as written (in place, as docs/lab.md asks). Used where LabFaults has no
 * helper: a `slow` rule with a count, which lets the first match of a pattern through so the second one fails.
 */
async function addRules(lab: Lab, rules: FaultRule[]): Promise<void> {
  const current = await lab.faults.rules();
  await writeFile(lab.hostPath("/var/db/freebsd-sim/faults.json"), `${JSON.stringify({ rules: [...current, ...rules], poolFull: false }, null, 2)}\n`);
}

/** Root shell in the lab, bypassing the code under test. */
async function host(lab: Lab, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return lab.rootExec(command);
}

/** Dataset names at and below `name` on the lab, or [] when it does not exist. */
async function datasets(lab: Lab, name: string): Promise<string[]> {
  const r = await host(lab, `zfs list -H -o name -r '${name}'`);
  return r.code === 0 ? r.stdout.split("\n").filter((l) => l !== "") : [];
}

type StateResource = NonNullable<Deployment["resources"]>[number] & { initErrors?: string[] };

async function resourcesOf(stack: TestStack, type: string): Promise<StateResource[]> {
  return ((await stack.state()).resources ?? []).filter((r) => r.type === type) as StateResource[];
}

// ── 1. ZfsDataset: the read-back after create fails ─────────────────────────

describe("ZfsDataset converges after the read-back fails", () => {
  let lab: Lab;
  let stack: TestStack;
  const name = `zroot/usr/jail/enjailed-cv-${tag()}`;

  beforeAll(async () => {
    lab = await startLab({ escalation: ["doas"] });
    stack = await openStack("examples/zfs-dataset", {
      config: { ...config(lab), name, compression: "lz4", properties: JSON.stringify({ atime: "off" }) },
    });
  });
  afterAll(async () => {
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  it("up: fails naming the dataset and the read; the dataset exists on the host", async () => {
    const read = `${literal(ZFS_GET)}.*${literal(name)}`;
    // the first read (does it exist?) goes through; the second (the read-back after zfs create) fails
    await addRules(lab, [
      { match: read, scope: "session", action: "slow", delayMs: 1, times: 1 },
      { match: read, scope: "session", action: "fail", times: 1, exitCode: 1, stderr: "internal error: Input/output error" },
    ]);
    const output = await engineFailure(() => stack.up());
    expect(await lab.faults.rules()).toEqual([]);
    expect(output).toContain(`creating ZFS dataset (${name}): command failed with exit code 1 on ${lab.connection.user}@${lab.connection.host}:${lab.connection.port}`);
    expect(output).toContain(`  $ ${ZFS_GET}`);
    expect(output).toContain("internal error: Input/output error");
    expect(await datasets(lab, name)).toEqual([name]);
    const sessions = (await lab.sessions()).map((s) => s.command);
    expect(sessions.filter((c) => c.includes("zfs create"))).toHaveLength(1);

    // the engine keeps track of it (partialFailure): recorded, with its id, as initialization failed
    const recorded = await resourcesOf(stack, ZFS_DATASET);
    expect(recorded.map((r) => r.id)).toEqual([name]);
    expect(recorded[0]?.initErrors?.join("\n")).toContain(`creating ZFS dataset (${name})`);
  });

  it("up again: succeeds on the same dataset with the wanted properties, then a preview shows no changes", async () => {
    const guid = (await host(lab, `zfs get -H -p -o value guid '${name}'`)).stdout.trim();
    const up = await stack.up();
    // the engine retries an initialization-failed resource as an update: no second create, no replacement
    expect(up.changes).toEqual({ same: 1, update: 1 });
    expect(up.outputs.guid).toBe(guid);
    expect(await datasets(lab, name)).toEqual([name]);
    expect((await host(lab, `zfs get -H -o property,value,source compression,atime '${name}'`)).stdout)
      .toBe("compression\tlz4\tlocal\natime\toff\tlocal\n");
    expect((await host(lab, `zfs get -H -p -o value guid '${name}'`)).stdout.trim()).toBe(guid);
    const recorded = await resourcesOf(stack, ZFS_DATASET);
    expect(recorded.map((r) => [r.id, r.initErrors ?? []])).toEqual([[name, []]]);
    expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 2 });
  });
});

// ── 2. ZfsDataset: zfs create fails ─────────────────────────────────────────

describe("ZfsDataset converges after zfs create fails", () => {
  let lab: Lab;
  let stack: TestStack;
  const name = `zroot/usr/jail/enjailed-cv-${tag()}`;

  beforeAll(async () => {
    lab = await startLab({ escalation: ["doas"] });
    stack = await openStack("examples/zfs-dataset", { config: { ...config(lab), name, compression: "lz4" } });
  });
  afterAll(async () => {
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  it("up: fails naming the dataset, the command and its stderr; nothing on the host, nothing recorded", async () => {
    const stderr = `cannot create '${name}': out of space`;
    await lab.faults.failNext(`zfs create .*${literal(name)}`, 1, { exitCode: 1, stderr });
    const output = await engineFailure(() => stack.up());
    expect(await lab.faults.rules()).toEqual([]);
    expect(output).toContain(`creating ZFS dataset (${name}): command failed with exit code 1 on ${lab.connection.user}@${lab.connection.host}:${lab.connection.port}`);
    expect(output).toContain(`  $ zfs create -o 'compression=lz4' '${name}'`);
    expect(output).toContain(stderr);
    expect(await datasets(lab, name)).toEqual([]);
    expect(await resourcesOf(stack, ZFS_DATASET)).toEqual([]);
  });

  it("up again: creates it; a preview then shows no changes", async () => {
    const up = await stack.up();
    expect(up.changes.create).toBe(1);
    expect(await datasets(lab, name)).toEqual([name]);
    expect((await host(lab, `zfs get -H -o value,source compression '${name}'`)).stdout).toBe("lz4\tlocal\n");
    expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 2 });
  });
});

// ── 3. JailConf: the connection drops during the file write ─────────────────

describe.each([
  { when: "before the write runs", afterRunning: false, leftOnHost: false },
  { when: "after the write ran", afterRunning: true, leftOnHost: true },
])("JailConf converges after the connection drops $when", ({ afterRunning, leftOnHost }) => {
  let lab: Lab;
  let stack: TestStack;
  const jail = `cv${tag()}`;
  const file = `/etc/jail.conf.d/${jail}.conf`;
  const wanted = renderJailConf(jailConfSchema().parse({
    connection: { host: "h", hostKey: "SHA256:" + "A".repeat(43) },
    name: jail,
    variables: seedVariables,
    parameters: seedParameters,
  }));

  beforeAll(async () => {
    lab = await startLab({ escalation: ["doas"] });
    stack = await openStack("examples/jail-conf", { config: { ...config(lab), name: jail } });
  });
  afterAll(async () => {
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  it("up: fails saying the outcome is unknown, naming the file", async () => {
    // the atomic write (provider/lib/files.ts writeRemoteFile): its temporary file is filled from stdin
    await lab.faults.dropNext(literal(`cat > "$t"`), { afterRunning, delayMs: 50 });
    const output = await engineFailure(() => stack.up());
    expect(await lab.faults.rules()).toEqual([]);
    const c = lab.connection;
    expect(output).toContain(`creating jail.conf file (${file}): connection to ${c.user}@${c.host}:${c.port} was lost while a command ran; it may or may not have taken effect`);
    const onHost = await host(lab, `cat '${file}'`);
    expect(onHost.code === 0).toBe(leftOnHost);
    if (leftOnHost) expect(onHost.stdout).toBe(wanted);
    // no temporary file is left next to it
    expect((await host(lab, "ls -A /etc/jail.conf.d")).stdout.split("\n").filter((l) => l.startsWith(".enjailed."))).toEqual([]);
  });

  it("up again: the file has the runbook's content and mode; a preview then shows no changes", async () => {
    const up = await stack.up();
    expect(up.changes.create).toBe(1);
    expect((await host(lab, `cat '${file}'`)).stdout).toBe(wanted);
    expect((await host(lab, `stat -c '%a %U:%G' '${file}'`)).stdout.trim()).toBe("644 root:wheel");
    expect((await resourcesOf(stack, JAIL_CONF)).map((r) => r.id)).toEqual([file]);
    expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 2 });
  });
});

// ── 4. the seed's two datasets, the second create fails ─────────────────────

describe("the seed's datasets converge after the VM dataset's create fails", () => {
  let lab: Lab;
  let stack: TestStack;
  const root = "zroot/usr/jail/bhyve";
  const vm = `${root}/vm`;

  beforeAll(async () => {
    lab = await startLab({ escalation: ["doas"] });
    stack = await openStack("examples/zfs-dataset/seed", { config: { ...config(lab), jail: "bhyve" } });
  });
  afterAll(async () => {
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  it("up: the jail root is created and recorded, the VM dataset fails and is not", async () => {
    const stderr = `cannot create '${vm}': out of space`;
    await lab.faults.failNext(`zfs create .*${literal(vm)}`, 1, { exitCode: 1, stderr });
    const output = await engineFailure(() => stack.up());
    expect(await lab.faults.rules()).toEqual([]);
    expect(output).toContain(`creating ZFS dataset (${vm}): command failed with exit code 1`);
    expect(output).toContain(stderr);
    expect(await datasets(lab, root)).toEqual([root]);
    expect((await resourcesOf(stack, ZFS_DATASET)).map((r) => [r.id, r.initErrors ?? []])).toEqual([[root, []]]);
  });

  it("up again: creates the VM dataset only; zfs get shows the runbook's table; a preview shows no changes", async () => {
    const rootGuid = (await host(lab, `zfs get -H -p -o value guid '${root}'`)).stdout.trim();
    const up = await stack.up();
    expect(up.changes).toEqual({ create: 1, same: 2 });
    expect((await host(lab, `zfs get -H -p -o value guid '${root}'`)).stdout.trim()).toBe(rootGuid);
    const out = (await host(lab, `zfs get jailed,canmount,mounted,mountpoint -r ${root}`)).stdout;
    expect(tableRows(out)).toEqual(tableRows(seedZfsTable()));
    expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 3 });
  });
});
