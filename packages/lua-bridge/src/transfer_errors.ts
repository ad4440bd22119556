/**
 * Events whose data could not be copied to an engine thread (structured clone refuses functions,
 * for one), with the reason. The port bridge sends such an event without its data; the engine's
 * PortBus records it here, and the relay hands it to Lua with `data_error`, counted and logged.
 */
export const transferErrors = new WeakMap<object, string>();
