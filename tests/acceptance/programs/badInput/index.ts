/**
 * One JailConf whose parameters come whole from stack config, so tests/acceptance/badInput.acc.test.ts can give it
 * combinations examples/jail-conf cannot express (for example zfs.dataset without allow.mount.zfs).
 *
 * Stack config:
 *   enjailed:host, enjailed:port, enjailed:user, enjailed:hostKey, enjailed:become   how to reach the host
 *   name         jail name (required)
 *   parameters   JSON object of jail.conf(5) parameters (required)
 */
import { Config } from "@pulumi/pulumi";
import { JailConf } from "../../../../provider/jailConf";
import type { JailConfArgs } from "../../../../provider/jailConf";
import { connectionFromConfig } from "../../../../examples/connection";

const cfg = new Config();

const conf = new JailConf("conf", {
  connection: connectionFromConfig(),
  name: cfg.require("name"),
  parameters: cfg.requireObject<NonNullable<JailConfArgs["parameters"]>>("parameters"),
});

export const file = conf.file;
