export { NatsBridge, type NatsBridgeStats } from "./bridge.js";
export {
  type BatchHeader,
  type DecodeResult,
  decodeMessage,
  encodeMessage,
  MAX_EPOCH,
  WIRE_VERSION,
  type WireMessage,
} from "./envelope.js";
export { NatsConnectError } from "./errors.js";
export type {
  BridgedEvent,
  BridgePattern,
  CataloguedPattern,
  CataloguedPatterns,
  NatsBridgeOptions,
} from "./options.js";
export {
  encodeName,
  encodeToken,
  type SubjectFilter,
  subjectFor,
  translateFilter,
  translatePattern,
} from "./subject.js";
