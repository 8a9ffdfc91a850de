/**
 * The seed's jail (/etc/jail.conf.d/bhyve.conf from the project's runbook) as JailConf inputs, including the ZFS
 * section's allow.mount, allow.mount.zfs and zfs.dataset. The example program and the unit tests share it.
 */

/** Variables of the seed's file. */
export const seedVariables: Record<string, string> = {
  id: "6",
  bridge0: "bridge0",
  bridge0_ip: "${bridge0}:192.168.10.${id}/24",
  bridge1: "bridge1",
  bridge1_ip: "${bridge1}:10.0.0.${id}/24",
  bridges: "${bridge0} ${bridge1}",
  bridgeips: "${bridge0_ip} ${bridge1_ip}",
};

/** Parameters of the seed's file. */
export const seedParameters = {
  "host.hostname": "${name}.lab.net",
  path: "/usr/jail/${name}",
  depend: ["dns", "ldap"],
  "allow.raw_sockets": true,
  "allow.mount": true,
  "allow.mount.zfs": true,
  devfs_ruleset: 5,
  enforce_statfs: 1,
  "mount.devfs": true,
  vnet: true,
  "zfs.dataset": ["zroot/usr/jail/${name}/vm"],
  "exec.clean": true,
  "exec.consolelog": "/var/log/jail_${name}.log",
  "exec.prestart": ["/bin/sh /usr/local/etc/rc.jail prestart ${name} ${bridges}"],
  "exec.created": ["/bin/sh /usr/local/etc/rc.jail created ${name} ${bridgeips}"],
  "exec.start": ["/bin/sh /etc/rc"],
  "exec.stop": ["/bin/sh /etc/rc.shutdown"],
  "exec.poststop": ["/bin/sh /usr/local/etc/rc.jail poststop ${name} ${bridges}"],
};

/** The seed's file, with the ZFS section's lines added as the runbook's greps show them. */
export const seedFile = `bhyve {
  $id = "6";

  $bridge0 = "bridge0";
  $bridge0_ip = "\${bridge0}:192.168.10.\${id}/24";

  $bridge1 = "bridge1";
  $bridge1_ip = "\${bridge1}:10.0.0.\${id}/24";

  $bridges = "\${bridge0} \${bridge1}";
  $bridgeips = "\${bridge0_ip} \${bridge1_ip}";

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
`;
