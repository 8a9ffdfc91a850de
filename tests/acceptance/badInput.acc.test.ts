/**
 * Bad input through the real Pulumi engine (issue #5: "Bad input ... fails in check or with a clear error before
 * anything on the host changes"), against the lab:
 * - invalid inputs fail `preview` and `up` in check, with the property and the rule in the engine's output, and the
 *   lab's session log shows that no command reached the host (check never opens SSH);
 * - a clone from a snapshot that does not exist passes check (only the host knows), then fails the `up` with an error
 *   naming the snapshot, and creates nothing.
 *
 * Programs: examples/zfs-dataset, examples/jail-conf, and tests/acceptance/programs/badInput (a JailConf with
 * parameters from config, for combinations examples/jail-conf cannot express). Needs the lab for its session log.
 */
import { randomBytes } from "crypto";
import { engineFailure, openStack } from "../helpers/engine";
import type { TestStack } from "../helpers/engine";
import { startLab } from "../lab/lab";
import type { Lab } from "../lab/lab";
import { stackConfig } from "./target";

const minutes = 60_000;
jest.setTimeout(10 * minutes);

const PARENT = "zroot/usr/jail";
const tag = (): string => randomBytes(3).toString("hex");


interface BadCase {
  label: string;
  program: string;
  config: Record<string, string>;
  /** The failing input's path as check reports it. */
  property: string;
  /** The rule, as the engine prints it. */
  rule: string;
  /** A shell test, run as root in the lab, that must fail afterwards: the thing was not created. */
  absent: string;
}

describe("bad input through the engine", () => {
  let lab: Lab;
  const stacks: TestStack[] = [];
  const connection = (): Record<string, string> => {
    const c = lab.connection;
    return stackConfig({ host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, become: c.become }, { privateKeyFile: c.privateKeyFile });
  };

  beforeAll(async () => {
    lab = await startLab({ escalation: ["doas"] });
  });
  afterAll(async () => {
    for (const s of stacks) await s.remove().catch(() => undefined);
    await lab?.stop();
  });

  const jail = `bi${tag()}`;
  const cases: BadCase[] = [
    {
      label: "ZfsDataset: a dataset name with a space",
      program: "examples/zfs-dataset",
      config: { name: "zroot/bad name" },
      property: "name",
      rule: 'must be a dataset name like zroot/jails/web (pool/child, no spaces), got "zroot/bad name"',
      absent: "zfs list -H -o name 'zroot/bad name'",
    },
    {
      label: "ZfsDataset: a property value with a newline",
      program: "examples/zfs-dataset",
      config: { name: `${PARENT}/enjailed-bn-${tag()}`, properties: JSON.stringify({ "org.enjailed:note": "one\ntwo" }) },
      property: "properties.org.enjailed:note",
      rule: "must not contain a newline, tab or NUL",
      absent: "zfs list -H -o name -r zroot | grep -q enjailed-bn-",
    },
    {
      label: "ZfsDataset: an origin without @",
      program: "examples/zfs-dataset",
      config: { name: `${PARENT}/enjailed-bo-${tag()}`, origin: `${PARENT}/15.0` },
      property: "origin",
      rule: `must be a snapshot like zroot/usr/jail/15.0@skel, got "${PARENT}/15.0"`,
      absent: "zfs list -H -o name -r zroot | grep -q enjailed-bo-",
    },
    {
      label: 'ZfsDataset: quota "ten gigs"',
      program: "examples/zfs-dataset",
      config: { name: `${PARENT}/enjailed-bq-${tag()}`, properties: JSON.stringify({ quota: "ten gigs" }) },
      property: "properties.quota",
      rule: 'must be a ZFS size such as 10G or none, got "ten gigs"',
      absent: "zfs list -H -o name -r zroot | grep -q enjailed-bq-",
    },
    {
      label: "JailConf: a jail name with a space",
      program: "examples/jail-conf",
      config: { name: "bad name" },
      property: "name",
      rule: "must be a jail name: letters, digits, _ and -, at most 63 characters (no spaces, no .)",
      absent: "ls /etc/jail.conf.d/ | grep -q bad",
    },
    {
      label: "JailConf: zfs.dataset without allow.mount.zfs",
      program: "tests/acceptance/programs/badInput",
      config: {
        name: jail,
        parameters: JSON.stringify({
          path: "/usr/jail/${name}",
          "exec.start": ["/bin/sh /etc/rc"],
          "allow.mount": true,
          enforce_statfs: 1,
          "zfs.dataset": [`${PARENT}/${jail}/vm`],
        }),
      },
      property: "parameters.allow.mount.zfs",
      rule: "must be true when zfs.dataset is set (zfs-jail(8): a dataset attached to a jail is usable only with allow.mount, allow.mount.zfs and enforce_statfs below 2)",
      absent: `test -e /etc/jail.conf.d/${jail}.conf`,
    },
  ];

  it.each(cases)("fails preview and up in check: $label; no command reaches the host", async (c) => {
    const stack = await openStack(c.program, { config: { ...connection(), ...c.config } });
    stacks.push(stack);
    const before = (await lab.sessions()).length;
    for (const operation of ["preview", "up"] as const) {
      const output = await engineFailure(() => stack[operation]());
      // the engine prints a CheckFailure as
      //   error: <type> resource '<name>': property <property> value {<nil>} has a problem: <reason>
      const printed = output.split("\n").filter((l) => l.includes(`property ${c.property} `) && l.includes(`has a problem: ${c.rule}`));
      expect({ operation, printed: printed.length }).toEqual({ operation, printed: 1 });
    }
    expect((await lab.sessions()).slice(before).map((s) => s.command)).toEqual([]);
    expect((await lab.rootExec(c.absent)).code).not.toBe(0);
  });

  it("fails up cloning from a snapshot that does not exist, naming the snapshot; nothing is created", async () => {
    const name = `${PARENT}/enjailed-bs-${tag()}`;
    const snapshot = `${PARENT}/enjailed-nosuch-${tag()}@gone`;
    const stack = await openStack("examples/zfs-dataset", { config: { ...connection(), name, origin: snapshot } });
    stacks.push(stack);
    expect((await stack.preview()).changes).toEqual({ create: 2 }); // check passes: only the host knows
    const before = (await lab.sessions()).length;
    const output = await engineFailure(() => stack.up());
    const errorLine = output.split("\n").find((l) => l.includes(`creating ZFS dataset (${name})`)) ?? "";
    expect(errorLine).not.toBe("");
    // the snapshot is named in the cause (zfs's own message), not only in the echoed command line
    expect(output).toContain(`  $ zfs clone '${snapshot}' '${name}'`);
    expect(output).toContain(`  cannot open '${snapshot}': dataset does not exist`);
    // what reached the host: reads and the one failed clone, nothing that creates
    const commands = (await lab.sessions()).slice(before).map((s) => s.command);
    expect(commands.filter((cmd) => cmd.includes("zfs clone") && cmd.includes(snapshot))).toHaveLength(1); // the log records this run
    expect(commands.filter((cmd) => /zfs (create|set|snapshot|rename)/.test(cmd))).toEqual([]);
    expect((await lab.rootExec(`zfs list -H -o name '${name}'`)).code).not.toBe(0);
    expect((await lab.rootExec(`zfs list -H -o name -t snapshot '${snapshot}'`)).code).not.toBe(0);
  });
});
