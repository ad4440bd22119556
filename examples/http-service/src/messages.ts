/** What the load step posts to POST /orders. */
export interface OrderRequest {
  item: string;
  qty: number;
}

/** What a handler answers with (`orders create.accepted`), and the service returns with 201. */
export interface AcceptedOrder extends OrderRequest {
  total: number;
  handler: number;
}

/** What the audit worker reports when asked: events it saw, by kind. */
export interface AuditReport {
  events: number;
  byKind: Record<string, number>;
}

/** What a handler worker reports when it is told to stop. */
export interface HandlerReport {
  handler: number;
  received: number;
}

export const HANDLERS = 3;
/** Items a request may name, with their unit prices. */
export const PRICES: Record<string, number> = { book: 12, pen: 2, lamp: 30 };
