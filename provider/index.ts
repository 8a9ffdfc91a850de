// Re-exports only (STYLE.md §3.1).
export { JailConf, jailConfSchema, jailParametersSchema } from "./jailConf";
export type { JailConfArgs, JailConfInputs, JailConfState, JailParameters } from "./jailConf";
export { ZfsDataset, zfsDatasetSchema, zfsPropertiesSchema } from "./zfsDataset";
export type { ZfsDatasetArgs, ZfsDatasetInputs, ZfsDatasetState, ZfsProperties } from "./zfsDataset";
export { connectionSchema } from "./lib/connection";
export type { ConnectionArgs, ConnectionInputs } from "./lib/connection";
