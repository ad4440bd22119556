export { NatsBridge, type NatsBridgeStats } from "./bridge.js";
export { decodeEnvelope, type Envelope, encodeEnvelope, envelopeSchema, WIRE_VERSION } from "./envelope.js";
export { NatsConnectError } from "./errors.js";
export type { BridgePattern, NatsBridgeOptions } from "./options.js";
export {
  encodeName,
  encodeToken,
  type SubjectFilter,
  subjectFor,
  translateFilter,
  translatePattern,
} from "./subject.js";
