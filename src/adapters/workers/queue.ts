/**
 * The outbox's hand-over on Workers: ids of rows that became ready go on a Cloudflare Queue,
 * delayed until they are due (wrangler.toml [[queues.producers]] OUTBOX_QUEUE). Nothing but the
 * id travels: the queue is outside erasure and retention, so it must hold no personal data.
 */
import type { Queue } from "@cloudflare/workers-types";
import { chunks } from "../../db/limits";
import type { Clock, OutboxQueue } from "../../deps";
import { MAX_QUEUE_DELAY_S, queueDelaySeconds } from "../../modules/delivery/delivery.queue";
import type { OutboxQueueMessage } from "../../modules/delivery/delivery.schemas";

/** Queues take at most 100 messages per sendBatch. */
const SEND_BATCH = 100;

export function cloudflareOutboxQueue(queue: Queue<OutboxQueueMessage>, clock: Clock): OutboxQueue {
  return {
    async enqueue(rows) {
      const now = clock.now();
      // Due beyond the queue's longest delay (a follow-up in 14 days): the cron's sweep
      // announces it once it is due.
      const messages = rows
        .filter((r) => r.dueAt - now <= MAX_QUEUE_DELAY_S * 1000)
        .map((r) => ({ body: { id: r.id }, delaySeconds: queueDelaySeconds(r.dueAt - now) }));
      for (const batch of chunks(messages, SEND_BATCH)) await queue.sendBatch(batch);
    },
  };
}
