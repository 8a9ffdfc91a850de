/**
 * One ZFS dataset on a host reached through a jump host, for tests/acceptance/jumpHost.acc.test.ts.
 *
 * Stack config:
 *   enjailed:host, enjailed:port, enjailed:user, enjailed:hostKey, enjailed:become   the target (examples/connection.ts)
 *   enjailed:proxy            JSON object: the jump host's host, port, user, hostKey (connection.proxy)
 *   enjailed:dialErrorLimit   optional number (connection.dialErrorLimit)
 *   name                      the dataset to create (required)
 *
 * The provider authenticates to both hosts with the same credentials (enjailed:sshKeyFile, ENJAILED_SSH_KEY_FILE
 * or the agent).
 */
import { Config } from "@pulumi/pulumi";
import { ZfsDataset } from "../../../../provider/zfsDataset";
import type { ConnectionArgs } from "../../../../provider/lib/connection";
import { connectionFromConfig } from "../../../../examples/connection";

const enjailed = new Config("enjailed");
const cfg = new Config();
const proxy = enjailed.requireObject<NonNullable<ConnectionArgs["proxy"]>>("proxy");
const dialErrorLimit = enjailed.getNumber("dialErrorLimit");
const connection: ConnectionArgs = {
  ...connectionFromConfig(),
  proxy,
  ...(dialErrorLimit === undefined ? {} : { dialErrorLimit }),
};

const dataset = new ZfsDataset("dataset", { connection, name: cfg.require("name"), properties: { compression: "lz4" } });

export const guid = dataset.guid;
