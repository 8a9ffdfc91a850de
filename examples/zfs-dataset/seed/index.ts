/**
 * The runbook's ZFS steps as a program:
 *
 *   zfs clone zroot/usr/jail/15.0@skel zroot/usr/jail/bhyve
 *   zfs create -o jailed=on zroot/usr/jail/bhyve/vm
 *
 * Stack config: the enjailed:* connection keys; `jail` (default bhyve), `parent` (default zroot/usr/jail) and
 * `skeleton` (default zroot/usr/jail/15.0@skel). The VM dataset is marked `data`: destroying the stack keeps it
 * unless `destroyData` is true.
 */
import { Config } from "@pulumi/pulumi";
import { ZfsDataset } from "../../../provider/zfsDataset";
import { connectionFromConfig } from "../../connection";

const cfg = new Config();
const jail = cfg.get("jail") ?? "bhyve";
const parent = cfg.get("parent") ?? "zroot/usr/jail";
const connection = connectionFromConfig();

const root = new ZfsDataset(`${jail}-root`, {
  connection,
  name: `${parent}/${jail}`,
  origin: cfg.get("skeleton") ?? `${parent}/15.0@skel`,
  destroyChildren: false,
});

const vm = new ZfsDataset(`${jail}-vm`, {
  connection,
  name: root.name.apply((n) => `${n}/vm`),
  properties: { jailed: "on" },
  data: true,
  destroyData: cfg.getBoolean("destroyData") ?? false,
}, { dependsOn: [root] });

export const rootMountpoint = root.mountpoint;
export const vmMountpoint = vm.mountpoint;
export const vmOnDelete = vm.onDelete;
