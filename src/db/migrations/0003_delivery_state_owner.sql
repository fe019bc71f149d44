-- Delivery you can trust (issue 10): relay pause, bounced-address flags, claim tokens, requeue
-- limits, cancel reasons, two supporter notice kinds, one delivery-log row per attempt.
--
-- Written by hand from drizzle-kit's output: migrations run inside one transaction (better-sqlite3
-- migrator, D1), where PRAGMA foreign_keys=OFF does nothing, so rebuilding `outbox` while
-- `delivery_log` still references it would fail on any database with log rows. The log is set
-- aside in a plain copy first, `outbox` is rebuilt with no children left, then the log comes back.
-- The new log has one row per (outbox_id, attempt): an older duplicate (a stale worker's second
-- line for the same attempt) keeps its `sent` row, else its first.
CREATE TABLE `recipient_flags` (
	`address` text PRIMARY KEY NOT NULL,
	`detail` text NOT NULL,
	`outbox_id` text,
	`source` text NOT NULL,
	`flagged_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `relay_status` (
	`id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`detail` text,
	`since` integer,
	`failures` integer DEFAULT 0 NOT NULL,
	`next_probe_at` integer,
	`updated_at` integer NOT NULL,
	CONSTRAINT "relay_status_state_ck" CHECK("state" in ('ok','paused')),
	CONSTRAINT "relay_status_paused_ck" CHECK("state" <> 'paused' or "next_probe_at" is not null)
);
--> statement-breakpoint
CREATE TABLE `__delivery_log_copy` AS SELECT * FROM `delivery_log`;--> statement-breakpoint
DROP TABLE `delivery_log`;--> statement-breakpoint
CREATE TABLE `__new_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`letter_id` text,
	`state` text NOT NULL,
	`to_name` text,
	`to_email` text NOT NULL,
	`reflect_to` text NOT NULL,
	`always_reflect` integer DEFAULT false NOT NULL,
	`from_name` text NOT NULL,
	`reply_to_name` text,
	`reply_to` text,
	`subject` text NOT NULL,
	`body_text` text NOT NULL,
	`message_id` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer,
	`claim_token` text,
	`attempt_limit` integer,
	`cancel_reason` text,
	`expires_at` integer,
	`reminded_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`letter_id`) REFERENCES `letters`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "outbox_state_ck" CHECK("state" in ('awaiting_confirmation','held','queued','sending','sent','failed','dead','bounced','cancelled','expired')),
	CONSTRAINT "outbox_kind_ck" CHECK("kind" in ('letter','confirm','reminder','sent_notice','followup','service','bounce_notice')),
	CONSTRAINT "outbox_sending_lease_ck" CHECK("state" <> 'sending' or "lease_until" is not null),
	CONSTRAINT "outbox_attempts_ck" CHECK("attempts" >= 0)
);
--> statement-breakpoint
INSERT INTO `__new_outbox`("id", "kind", "letter_id", "state", "to_name", "to_email", "reflect_to", "always_reflect", "from_name", "reply_to_name", "reply_to", "subject", "body_text", "message_id", "attempts", "next_attempt_at", "lease_until", "expires_at", "reminded_at", "last_error", "created_at", "updated_at", "sent_at") SELECT "id", "kind", "letter_id", "state", "to_name", "to_email", "reflect_to", "always_reflect", "from_name", "reply_to_name", "reply_to", "subject", "body_text", "message_id", "attempts", "next_attempt_at", "lease_until", "expires_at", "reminded_at", "last_error", "created_at", "updated_at", "sent_at" FROM `outbox`;--> statement-breakpoint
DROP TABLE `outbox`;--> statement-breakpoint
ALTER TABLE `__new_outbox` RENAME TO `outbox`;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_message_id_uq` ON `outbox` (`message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_letter_kind_uq` ON `outbox` (`letter_id`,`kind`) WHERE "outbox"."kind" in ('letter', 'sent_notice', 'followup', 'bounce_notice');--> statement-breakpoint
CREATE INDEX `outbox_due_ix` ON `outbox` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_letter_ix` ON `outbox` (`letter_id`,`kind`);--> statement-breakpoint
CREATE TABLE `delivery_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`outbox_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`outcome` text NOT NULL,
	`smtp_code` integer,
	`detail` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "delivery_log_outcome_ck" CHECK("outcome" in ('sent','temporary_failure','permanent_failure','reclaimed','lost'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `delivery_log_attempt_uq` ON `delivery_log` (`outbox_id`,`attempt`);--> statement-breakpoint
INSERT OR IGNORE INTO `delivery_log`("id", "outbox_id", "attempt", "outcome", "smtp_code", "detail", "at") SELECT "id", "outbox_id", "attempt", "outcome", "smtp_code", "detail", "at" FROM `__delivery_log_copy` ORDER BY ("outcome" = 'sent') DESC, "id";--> statement-breakpoint
DROP TABLE `__delivery_log_copy`;--> statement-breakpoint
ALTER TABLE `letters` ADD `confirm_sent_at` integer;--> statement-breakpoint
ALTER TABLE `supporter_pledges` ADD `letter_id` text;--> statement-breakpoint
CREATE INDEX `supporter_pledges_letter_ix` ON `supporter_pledges` (`letter_id`);
