/**
 * The connection every example program uses, built from stack config (docs/CONTRACTS.md):
 * `enjailed:host`, `enjailed:port` (default 22), `enjailed:user` (default root), `enjailed:hostKey` (an OpenSSH
 * public key line or a SHA256 fingerprint) and `enjailed:become` (doas, sudo or none; default doas).
 * The private key never appears here: the provider reads `enjailed:sshKeyFile`, ENJAILED_SSH_KEY_FILE or the agent.
 */
import { Config } from "@pulumi/pulumi";
import type { ConnectionArgs } from "../provider/lib/connection";

export function connectionFromConfig(): ConnectionArgs {
  const c = new Config("enjailed");
  const become = c.get("become") ?? "doas";
  if (become !== "doas" && become !== "sudo" && become !== "none") {
    throw new Error(`enjailed:become must be doas, sudo or none, got ${JSON.stringify(become)}`);
  }
  return {
    host: c.require("host"),
    port: c.getNumber("port") ?? 22,
    user: c.get("user") ?? "root",
    hostKey: c.require("hostKey"),
    become,
  };
}
