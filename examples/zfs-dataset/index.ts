/**
 * One ZFS dataset, everything from stack config, so an acceptance "update" step is a config change.
 *
 *   enjailed:host, enjailed:port, enjailed:user, enjailed:hostKey, enjailed:become   how to reach the host
 *   name            the dataset (required), for example zroot/usr/jail/bhyve/vm
 *   origin          snapshot to clone from (optional), for example zroot/usr/jail/15.0@skel
 *   properties      JSON object of zfsprops(7) properties (optional), for example {"jailed":"on"}
 *   compression     shorthand for properties.compression (optional)
 *   createParents, data, destroyData, destroyChildren, takeOver   booleans (default false)
 */
import { Config } from "@pulumi/pulumi";
import { ZfsDataset } from "../../provider/zfsDataset";
import { connectionFromConfig } from "../connection";

const cfg = new Config();
const compression = cfg.get("compression");
const properties: Record<string, string> = {
  ...(cfg.getObject<Record<string, string>>("properties") ?? {}),
  ...(compression === undefined ? {} : { compression }),
};

const dataset = new ZfsDataset("dataset", {
  connection: connectionFromConfig(),
  name: cfg.require("name"),
  ...(cfg.get("origin") === undefined ? {} : { origin: cfg.require("origin") }),
  properties,
  createParents: cfg.getBoolean("createParents") ?? false,
  data: cfg.getBoolean("data") ?? false,
  destroyData: cfg.getBoolean("destroyData") ?? false,
  destroyChildren: cfg.getBoolean("destroyChildren") ?? false,
  takeOver: cfg.getBoolean("takeOver") ?? false,
});

export const name = dataset.name;
export const guid = dataset.guid;
export const mountpoint = dataset.mountpoint;
export const onDelete = dataset.onDelete;
