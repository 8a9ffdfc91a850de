/**
 * Smoke program for the engine: one dynamic resource, a marker file on this machine.
 *
 *   create  write <dir>/<name> with the content
 *   read    the file's content (missing ⇒ gone), so refresh sees out-of-band changes
 *   update  rewrite the content
 *   delete  remove the file
 *
 * It needs no host and no SSH: it only proves that the engine, the dynamic-provider launcher and the state
 * backend work offline. Stack config: `dir` (required), `content` (default "hello").
 */
import * as pulumi from "@pulumi/pulumi";

interface MarkerInputs { dir: string; name: string; content: string }

const markerProvider: pulumi.dynamic.ResourceProvider<MarkerInputs, MarkerInputs> = {
  async check(_olds, news) {
    const failures = typeof news.content === "string" && news.content.includes("\0")
      ? [{ property: "content", reason: "must not contain NUL" }] : [];
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    const replaces = olds.dir !== news.dir || olds.name !== news.name ? ["dir"] : [];
    return { changes: replaces.length > 0 || olds.content !== news.content, replaces, deleteBeforeReplace: true };
  },
  async create(inputs) {
    const fs = require("fs") as typeof import("fs");
    const path = require("path") as typeof import("path");
    fs.mkdirSync(inputs.dir, { recursive: true });
    fs.writeFileSync(path.join(inputs.dir, inputs.name), inputs.content);
    return { id: path.join(inputs.dir, inputs.name), outs: { dir: inputs.dir, name: inputs.name, content: inputs.content } };
  },
  async read(id, props) {
    const fs = require("fs") as typeof import("fs");
    if (!fs.existsSync(id)) return {};
    const state = { ...(props as MarkerInputs), content: fs.readFileSync(id, "utf8") };
    return { id, props: state, inputs: state };
  },
  async update(id, _olds, news) {
    const fs = require("fs") as typeof import("fs");
    fs.writeFileSync(id, news.content);
    return { outs: { dir: news.dir, name: news.name, content: news.content } };
  },
  async delete(id) {
    const fs = require("fs") as typeof import("fs");
    fs.rmSync(id, { force: true });
  },
};

class Marker extends pulumi.dynamic.Resource {
  declare readonly content: pulumi.Output<string>;
  constructor(name: string, args: { dir: pulumi.Input<string>; name: pulumi.Input<string>; content: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
    super(markerProvider, name, args, opts, "enjailed", "SmokeMarker");
  }
}

const config = new pulumi.Config();
const marker = new Marker("marker", { dir: config.require("dir"), name: "marker.txt", content: config.get("content") ?? "hello" });

export const content = marker.content;
