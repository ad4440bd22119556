export * from "./pool/index.js";
