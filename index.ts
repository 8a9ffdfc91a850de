/**
 * The root program: the user's lab, described by stack config. `bash scripts/demo.sh` runs it against the built-in
 * lab host; point the `enjailed:*` keys at a real FreeBSD 15 host to run it there.
 *
 * What it builds today, in the runbook's order (../shared/reference/seed.md):
 *   1. the jail root, a ZFS clone of the skeleton snapshot            zfs clone TEMPLATE PARENT/NAME
 *   2. the VM dataset, jailed=on so jail(8) can hand it to the jail   zfs create -o jailed=on PARENT/NAME/vm
 *   3. /etc/jail.conf.d/NAME.conf with the runbook's VNET and ZFS parameters
 * The remaining steps (devfs ruleset, FreeBSD-zfs in the jail, rc.conf.d, the rc.d/zfs patch, starting the jail)
 * arrive with their resources and the BhyveJail component.
 *
 * Stack config (besides the connection keys read by examples/connection.ts):
 *   jailName    jail name                                      default "bhyve"
 *   template    snapshot the jail root is cloned from          default "zroot/usr/jail/15.0@skel"
 *   jailParent  dataset that holds jail roots                  default "zroot/usr/jail"
 *   jailId      the runbook's $id: last octet on both bridges  default 6
 */
import { Config } from "@pulumi/pulumi";
import { connectionFromConfig } from "./examples/connection";
import { seedParameters, seedVariables } from "./examples/jail-conf/seed";
import { JailConf } from "./provider/jailConf";
import { ZfsDataset } from "./provider/zfsDataset";

const cfg = new Config();
const connection = connectionFromConfig();
const jailName = cfg.get("jailName") ?? "bhyve";
const template = cfg.get("template") ?? "zroot/usr/jail/15.0@skel";
const jailParent = cfg.get("jailParent") ?? "zroot/usr/jail";

const root = new ZfsDataset(`${jailName}-root`, {
  connection,
  name: `${jailParent}/${jailName}`,
  origin: template,
});

const vmDataset = new ZfsDataset(`${jailName}-vm`, {
  connection,
  name: `${jailParent}/${jailName}/vm`,
  properties: { jailed: "on" },
  // The VMs live here: `pulumi destroy` keeps it unless destroyData is set on purpose.
  data: true,
}, { dependsOn: [root] });

const conf = new JailConf(`${jailName}-conf`, {
  connection,
  name: jailName,
  variables: { ...seedVariables, id: String(cfg.getNumber("jailId") ?? 6) },
  parameters: { ...seedParameters, "zfs.dataset": [`${jailParent}/\${name}/vm`] },
}, { dependsOn: [root, vmDataset] });

export const jailRoot = root.mountpoint;
export const vmDatasetName = vmDataset.name;
export const jailConfFile = conf.file;
