import { z } from "zod";

/**
 * One message on the Workers delivery queue: an outbox row's id and nothing else (no address,
 * no text: the queue is outside the database's erasure and retention). The consumer reads
 * everything else from the row, through the state machine.
 */
export const OutboxQueueMessage = z.object({
  // UUIDs, and the database's own ids for rows it builds (partners' webhook events: wh_<hex>).
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "an outbox row id"),
});
export type OutboxQueueMessage = z.infer<typeof OutboxQueueMessage>;
