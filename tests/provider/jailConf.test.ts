import fc from "fast-check";
import {
  crossFieldFailures,
  fileMeaning,
  jailConfProvider,
  jailConfSchema,
  renderJailConf,
} from "../../provider/jailConf";
import type { JailConfInputs } from "../../provider/jailConf";
import { meaningDifferences } from "../../provider/jailConfSyntax";
import { UNKNOWN } from "../../provider/lib/inputs";
import { seedFile, seedParameters, seedVariables } from "../../examples/jail-conf/seed";

const connection = { host: "192.0.2.10", hostKey: "SHA256:" + "A".repeat(43) };

function inputs(over: Record<string, unknown> = {}): JailConfInputs {
  return jailConfSchema().parse({ connection, name: "bhyve", variables: seedVariables, parameters: seedParameters, ...over });
}

async function check(news: Record<string, unknown>) {
  return jailConfProvider.check!({} as JailConfInputs, news as JailConfInputs);
}

describe("JailConf", () => {
  describe("rendering", () => {
    it("seed: renders the seed's parameters and values exactly (compared by meaning)", () => {
      const rendered = renderJailConf(inputs());
      expect(meaningDifferences(fileMeaning(rendered, "bhyve"), fileMeaning(seedFile, "bhyve"))).toEqual([]);
      const meaning = fileMeaning(rendered, "bhyve");
      expect(meaning["zfs.dataset"]).toEqual(["zroot/usr/jail/bhyve/vm"]);
      expect(meaning["exec.created"]).toEqual(["/bin/sh /usr/local/etc/rc.jail created bhyve bridge0:192.168.10.6/24 bridge1:10.0.0.6/24"]);
      expect(meaning["allow.mount"]).toBe(true);
      expect(meaning["allow.mount.zfs"]).toBe(true);
    });

    it("seed: the rendering is byte-stable and independent of key order", () => {
      const a = renderJailConf(inputs());
      const reversed = Object.fromEntries(Object.entries(seedParameters).reverse());
      const b = renderJailConf(inputs({ parameters: reversed, variables: Object.fromEntries(Object.entries(seedVariables).reverse()) }));
      expect(b).toBe(a);
      expect(renderJailConf(inputs())).toBe(a);
    });

    it("seed: reads like the hand-written file", () => {
      expect(renderJailConf(inputs())).toBe(`# /etc/jail.conf.d/bhyve.conf: managed by enjailed (JailConf); changes made here show as drift
bhyve {
  $bridge0 = "bridge0";
  $bridge0_ip = "\${bridge0}:192.168.10.\${id}/24";
  $bridge1 = "bridge1";
  $bridge1_ip = "\${bridge1}:10.0.0.\${id}/24";
  $bridgeips = "\${bridge0_ip} \${bridge1_ip}";
  $bridges = "\${bridge0} \${bridge1}";
  $id = "6";

  host.hostname = "\${name}.lab.net";
  path = "/usr/jail/\${name}";

  depend  = "dns";
  depend += "ldap";

  # keep-sorted start
  allow.mount.zfs;
  allow.mount;
  allow.raw_sockets;
  devfs_ruleset = 5;
  enforce_statfs = 1;
  mount.devfs;
  vnet;
  # keep-sorted end

  zfs.dataset = "zroot/usr/jail/\${name}/vm";

  exec.clean;
  exec.consolelog = "/var/log/jail_\${name}.log";

  exec.prestart = "/bin/sh /usr/local/etc/rc.jail prestart \${name} \${bridges}";
  exec.created  = "/bin/sh /usr/local/etc/rc.jail created \${name} \${bridgeips}";
  exec.start    = "/bin/sh /etc/rc";

  exec.stop     = "/bin/sh /etc/rc.shutdown";
  exec.poststop = "/bin/sh /usr/local/etc/rc.jail poststop \${name} \${bridges}";
}
`);
    });

    it("renders false flags with jail(8)'s no prefix, vnet=false as inherit, and extra parameters last", () => {
      const text = renderJailConf(inputs({
        variables: {},
        parameters: { path: "/j", persist: false, vnet: false },
        extraParameters: { sysvshm: "new", "allow.nfsd": true, "meta": ["a", "b"], osreldate: 1500000 },
      }));
      const m = fileMeaning(text, "bhyve");
      expect(m).toEqual({
        path: ["/j"], nopersist: true, vnet: ["inherit"], sysvshm: ["new"], "allow.nfsd": true, meta: ["a", "b"], osreldate: ["1500000"],
      });
    });

    it("round trip: any value list and template survives render → read (property)", () => {
      const text = fc.string({ maxLength: 20 }).filter((s) => !/[\n\r\u0000]/.test(s)).map((s) => s.replace(/\$/g, "$$$$"));
      fc.assert(
        fc.property(fc.array(text, { minLength: 1, maxLength: 3 }), text, (start, hostname) => {
          const i = inputs({ variables: {}, parameters: { path: "/j", persist: true, "exec.start": start, "host.hostname": hostname } });
          const m = fileMeaning(renderJailConf(i), "bhyve");
          const lit = (s: string) => s.replace(/\$\$/g, "$");
          expect(m["exec.start"]).toEqual(start.map(lit));
          expect(m["host.hostname"]).toEqual([lit(hostname)]);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe("check", () => {
    it("accepts the seed and fills defaults", async () => {
      const r = await check({ connection, name: "bhyve", variables: seedVariables, parameters: seedParameters });
      expect(r.failures ?? []).toEqual([]);
      expect(r.inputs?.deleteWhileRunning).toBe(false);
      expect(r.inputs?.parameters["exec.start"]).toEqual(["/bin/sh /etc/rc"]);
    });

    it("fails a jail name with a space, naming the property", async () => {
      const r = await check({ connection, name: "my jail", parameters: { path: "/j", persist: true } });
      expect(r.failures).toEqual([
        { property: "name", reason: 'must be a jail name: letters, digits, _ and -, at most 63 characters (no spaces, no .), got "my jail"' },
      ]);
    });

    it("fails a value with a newline", async () => {
      const r = await check({ connection, name: "j", parameters: { path: "/j", persist: true, "exec.start": ["/bin/sh\n/etc/rc"] } });
      expect(r.failures?.map((f) => f.property)).toEqual(["parameters.exec.start.0"]);
      expect(r.failures?.[0]?.reason).toMatch(/^must not contain a newline/);
    });

    it("fails a bad extra parameter name and a typed name used as extra", async () => {
      const r = await check({ connection, name: "j", parameters: { path: "/j", persist: true }, extraParameters: { "Bad Name": "x" } });
      expect(r.failures?.[0]?.property).toBe("extraParameters.Bad Name");
      const r2 = await check({ connection, name: "j", parameters: { path: "/j", persist: true }, extraParameters: { persist: true } });
      expect(r2.failures).toEqual([{ property: "extraParameters.persist", reason: "is a typed parameter: set parameters.persist instead" }]);
    });

    it("fails zfs.dataset without allow.mount, allow.mount.zfs and enforce_statfs < 2 (zfs-jail(8))", async () => {
      const r = await check({ connection, name: "j", parameters: { path: "/j", persist: true, "zfs.dataset": "zroot/j/vm" } });
      expect(r.failures?.map((f) => f.property)).toEqual(["parameters.allow.mount", "parameters.allow.mount.zfs", "parameters.enforce_statfs"]);
      expect(r.failures?.[0]?.reason).toContain("zfs-jail(8)");
    });

    it("fails vnet.interface without vnet, and allow.mount.zfs without allow.mount", () => {
      const f = crossFieldFailures(inputs({ variables: {}, parameters: { path: "/j", persist: true, "vnet.interface": "e0b_j", "allow.mount.zfs": true, enforce_statfs: 1 } }));
      expect(f.map((x) => x.property)).toEqual(["parameters.allow.mount", "parameters.vnet"]);
    });

    it("fails a reference to nothing, and a variable named like a parameter", () => {
      const f = crossFieldFailures(inputs({ variables: { path: "x" }, parameters: { path: "/j/${nope}", persist: true } }));
      expect(f).toEqual([
        { property: "variables.path", reason: "has the same name as a parameter (jail.conf(5) rejects that)" },
        { property: "parameters.path", reason: "refers to ${nope}, which is neither a variable, name, nor a parameter this file sets" },
      ]);
    });

    it("fails a jail with neither persist nor exec.start (jail(8))", () => {
      expect(crossFieldFailures(inputs({ variables: {}, parameters: { path: "/j" } }))).toEqual([
        { property: "parameters.exec.start", reason: "must be set unless persist is true (jail(8): a new jail needs persist or exec.start)" },
      ]);
    });

    it("fails a lone $ with the hint to write $$", async () => {
      const r = await check({ connection, name: "j", parameters: { path: "/j", persist: true, "exec.start": "echo $ 1" } });
      expect(r.failures?.[0]?.reason).toMatch(/write \$\$ for a literal dollar sign/);
    });

    it("ignores issues on preview unknowns", async () => {
      const r = await check({ connection, name: UNKNOWN, parameters: { path: UNKNOWN, "exec.start": [UNKNOWN] } });
      expect(r.failures ?? []).toEqual([]);
    });
  });

  describe("diff", () => {
    const state = () => ({ ...inputs(), file: "/etc/jail.conf.d/bhyve.conf", content: renderJailConf(inputs()), ownership: "0644 root:wheel" });

    it("no change: same inputs, __provider and outputs ignored", async () => {
      const d = await jailConfProvider.diff!("x", { ...state(), __provider: "old" } as never, { ...inputs(), __provider: "new" } as never);
      expect(d).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("a parameter change updates in place", async () => {
      const d = await jailConfProvider.diff!("x", state(), inputs({ parameters: { ...seedParameters, devfs_ruleset: 6 } }));
      expect(d).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("a name or host change replaces", async () => {
      expect((await jailConfProvider.diff!("x", state(), inputs({ name: "other" }))).replaces).toEqual(["name"]);
      expect((await jailConfProvider.diff!("x", state(), inputs({ connection: { ...connection, host: "192.0.2.11" } }))).replaces).toEqual(["connection"]);
      expect((await jailConfProvider.diff!("x", state(), inputs({ connection: { ...connection, port: 2222 } }))).replaces).toEqual([]);
    });

    it("drift recorded by read (content differs from the rendering) is a change", async () => {
      const d = await jailConfProvider.diff!("x", { ...state(), content: "bhyve { path = /elsewhere; }\n" }, inputs());
      expect(d.changes).toBe(true);
    });
  });
});
