/**
 * The runbook's /etc/jail.conf.d/bhyve.conf as a JailConf, everything from stack config so an acceptance "update"
 * step is a config change.
 *
 *   enjailed:host, enjailed:port, enjailed:user, enjailed:hostKey, enjailed:become   how to reach the host
 *   name                 jail name (default bhyve)
 *   devfsRuleset         devfs_ruleset (default 5, as in the runbook)
 *   takeOver, deleteWhileRunning   booleans (default false)
 */
import { Config } from "@pulumi/pulumi";
import { JailConf } from "../../provider/jailConf";
import { connectionFromConfig } from "../connection";
import { seedParameters, seedVariables } from "./seed";

const cfg = new Config();

const conf = new JailConf("conf", {
  connection: connectionFromConfig(),
  name: cfg.get("name") ?? "bhyve",
  variables: seedVariables,
  parameters: { ...seedParameters, devfs_ruleset: cfg.getNumber("devfsRuleset") ?? 5 },
  takeOver: cfg.getBoolean("takeOver") ?? false,
  deleteWhileRunning: cfg.getBoolean("deleteWhileRunning") ?? false,
});

export const file = conf.file;
export const content = conf.content;
