/**
 * Many resources on one host through one provider process, for tests/acceptance/transport.acc.test.ts.
 *
 * Stack config:
 *   enjailed:host, enjailed:port, enjailed:user, enjailed:hostKey, enjailed:become   how to reach the host
 *   parent       a dataset to create (required), for example zroot/usr/jail/enjailed-transport
 *   children     how many child datasets to create under it, in parallel (default 0)
 *   jail         when set, also a JailConf of that name (a second resource type on the same connection)
 *
 * Every resource shares one connection input, so the provider process should open one SSH connection for them all.
 */
import { Config } from "@pulumi/pulumi";
import { JailConf } from "../../../../provider/jailConf";
import { ZfsDataset } from "../../../../provider/zfsDataset";
import { connectionFromConfig } from "../../../../examples/connection";

const cfg = new Config();
const connection = connectionFromConfig();
const parentName = cfg.require("parent");
const children = cfg.getNumber("children") ?? 0;
const jail = cfg.get("jail");

const parent = new ZfsDataset("parent", { connection, name: parentName, properties: { compression: "lz4" } });

const kids = Array.from({ length: children }, (_, i) =>
  new ZfsDataset(`child-${i}`, { connection, name: `${parentName}/c${i}`, properties: { atime: "off" } }, { dependsOn: [parent] }),
);

const conf = jail === undefined
  ? undefined
  : new JailConf("jail", {
    connection,
    name: jail,
    parameters: { path: "/usr/jail/${name}", "host.hostname": "${name}.lab.net", "exec.start": ["/bin/sh /etc/rc"] },
  });

export const parentGuid = parent.guid;
export const childGuids = kids.map((k) => k.guid);
export const jailFile = conf?.file;
