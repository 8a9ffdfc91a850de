/**
 * The runbook's console output that several acceptance tests compare with (../shared/reference/seed.md), kept in
 * one place. The lab's own golden tests keep their copy: the lab is written independently of everything else.
 */

/** `zfs get jailed,canmount,mounted,mountpoint -r zroot/usr/jail/<jail>` as the runbook shows it for `bhyve`. */
export function seedZfsTable(jail = "bhyve"): string {
  return `
NAME                     PROPERTY    VALUE               SOURCE
zroot/usr/jail/bhyve     jailed      off                 default
zroot/usr/jail/bhyve     canmount    on                  default
zroot/usr/jail/bhyve     mounted     yes                 -
zroot/usr/jail/bhyve     mountpoint  /usr/jail/bhyve     inherited from zroot/usr
zroot/usr/jail/bhyve/vm  jailed      on                  local
zroot/usr/jail/bhyve/vm  canmount    on                  default
zroot/usr/jail/bhyve/vm  mounted     no                  -
zroot/usr/jail/bhyve/vm  mountpoint  /usr/jail/bhyve/vm  inherited from zroot/usr
`.replace(/bhyve/g, jail);
}

/** A table's rows with runs of blanks folded, so column widths (which follow name lengths) do not matter. */
export function tableRows(text: string): string[] {
  return text.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
}
