-- Partners as users (issue 15): partner contacts (an account role), invitations, supporters'
-- consents to hear from a partner, partners' webhooks; webhook deliveries as an outbox kind;
-- per-partner tallies by day and nation; a partner's own switch, accent and language.
--
-- Written by hand from drizzle-kit's output, as 0003 and 0004 were: migrations run inside one
-- transaction (better-sqlite3's migrator, D1), where PRAGMA foreign_keys=OFF does nothing. The
-- tables that need wider CHECKs are rebuilt under their own names with foreign keys deferred to
-- the commit: rows set aside in a plain copy, the table dropped and created again, the rows put
-- back (with the new columns' defaults), so the child rows the drop left pointing at nothing are
-- satisfied again by the time the transaction commits. admin_sessions rows, which the drop of
-- admin_users cascades away, are set aside and put back too. CHECKs name their columns
-- unqualified. The new partner tallies are back-filled from the letters and pledges already
-- counted, so a partner's page starts with its history.
PRAGMA defer_foreign_keys = ON;--> statement-breakpoint
CREATE TABLE `__partners_copy` AS SELECT * FROM `partners`;--> statement-breakpoint
DROP TABLE `partners`;--> statement-breakpoint
CREATE TABLE `partners` (
	`key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`allowed_origins` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`embed_enabled` integer DEFAULT true NOT NULL,
	`accent` text,
	`lang` text DEFAULT 'en' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "partners_key_ck" CHECK("key" glob '[a-z0-9]*' and length("key") between 1 and 40 and "key" not glob '*[^a-z0-9-]*'),
	CONSTRAINT "partners_origins_ck" CHECK(json_valid("allowed_origins") and json_type("allowed_origins") = 'array'),
	CONSTRAINT "partners_accent_ck" CHECK("accent" is null or (length("accent") = 6 and "accent" not glob '*[^0-9a-f]*')),
	CONSTRAINT "partners_lang_ck" CHECK("lang" in ('en','cy'))
);--> statement-breakpoint
INSERT INTO `partners`("key", "name", "allowed_origins", "active", "embed_enabled", "accent", "lang", "created_at", "updated_at") SELECT "key", "name", "allowed_origins", "active", 1, NULL, 'en', "created_at", "updated_at" FROM `__partners_copy`;--> statement-breakpoint
DROP TABLE `__partners_copy`;--> statement-breakpoint
CREATE TABLE `partner_consents` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_key` text NOT NULL,
	`source` text NOT NULL,
	`source_ref` text NOT NULL,
	`email_norm` text NOT NULL,
	`name` text NOT NULL,
	`wording_version` text NOT NULL,
	`consented_at` integer NOT NULL,
	`confirmed_at` integer,
	FOREIGN KEY (`partner_key`) REFERENCES `partners`(`key`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "partner_consents_source_ck" CHECK("source" in ('letter','pledge')),
	CONSTRAINT "partner_consents_email_ck" CHECK("email_norm" = lower(trim("email_norm")))
);--> statement-breakpoint
CREATE TABLE `partner_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`partner_key` text NOT NULL,
	`email` text NOT NULL,
	`invited_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`accepted_at` integer,
	FOREIGN KEY (`partner_key`) REFERENCES `partners`(`key`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "partner_invitations_email_ck" CHECK("email" = lower("email"))
);--> statement-breakpoint
CREATE TABLE `partner_webhooks` (
	`partner_key` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`secret_nonce` text NOT NULL,
	`secret_created_at` integer NOT NULL,
	`previous_nonce` text,
	`previous_until` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`partner_key`) REFERENCES `partners`(`key`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "partner_webhooks_events_ck" CHECK(json_valid("events") and json_type("events") = 'array'),
	CONSTRAINT "partner_webhooks_previous_ck" CHECK(("previous_nonce" is null) = ("previous_until" is null))
);--> statement-breakpoint
CREATE UNIQUE INDEX `partner_consents_source_uq` ON `partner_consents` (`partner_key`,`source`,`source_ref`);--> statement-breakpoint
CREATE INDEX `partner_consents_partner_ix` ON `partner_consents` (`partner_key`,`confirmed_at`);--> statement-breakpoint
CREATE INDEX `partner_consents_email_ix` ON `partner_consents` (`email_norm`);--> statement-breakpoint
CREATE INDEX `partner_consents_source_ix` ON `partner_consents` (`source`,`source_ref`);--> statement-breakpoint
CREATE INDEX `partner_invitations_partner_ix` ON `partner_invitations` (`partner_key`);--> statement-breakpoint
CREATE INDEX `partner_invitations_expires_ix` ON `partner_invitations` (`expires_at`);--> statement-breakpoint
CREATE TABLE `__admin_sessions_copy` AS SELECT * FROM `admin_sessions`;--> statement-breakpoint
CREATE TABLE `__admin_users_copy` AS SELECT * FROM `admin_users`;--> statement-breakpoint
DROP TABLE `admin_users`;--> statement-breakpoint
CREATE TABLE `admin_users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text DEFAULT 'lead' NOT NULL,
	`partner_key` text,
	`created_at` integer NOT NULL,
	`last_sign_in_at` integer,
	FOREIGN KEY (`partner_key`) REFERENCES `partners`(`key`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "admin_users_email_ck" CHECK("email" = lower("email")),
	CONSTRAINT "admin_users_role_ck" CHECK("role" in ('lead','partner')),
	CONSTRAINT "admin_users_partner_ck" CHECK(("role" = 'partner') = ("partner_key" is not null))
);--> statement-breakpoint
INSERT INTO `admin_users`("id", "email", "password_hash", "role", "partner_key", "created_at", "last_sign_in_at") SELECT "id", "email", "password_hash", 'lead', NULL, "created_at", "last_sign_in_at" FROM `__admin_users_copy`;--> statement-breakpoint
CREATE UNIQUE INDEX `admin_users_email_uq` ON `admin_users` (`email`);--> statement-breakpoint
CREATE INDEX `admin_users_partner_ix` ON `admin_users` (`partner_key`);--> statement-breakpoint
DELETE FROM `admin_sessions`;--> statement-breakpoint
INSERT INTO `admin_sessions`("token_hash", "user_id", "csrf_token", "created_at", "expires_at") SELECT "token_hash", "user_id", "csrf_token", "created_at", "expires_at" FROM `__admin_sessions_copy`;--> statement-breakpoint
DROP TABLE `__admin_sessions_copy`;--> statement-breakpoint
DROP TABLE `__admin_users_copy`;--> statement-breakpoint
CREATE TABLE `__outbox_copy` AS SELECT * FROM `outbox`;--> statement-breakpoint
DROP TABLE `outbox`;--> statement-breakpoint
CREATE TABLE `outbox` (
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
	`enqueued_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`sent_at` integer,
	`partner_key` text,
	`event_key` text,
	FOREIGN KEY (`letter_id`) REFERENCES `letters`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "outbox_state_ck" CHECK("state" in ('awaiting_confirmation','held','queued','sending','sent','failed','dead','bounced','cancelled','expired')),
	CONSTRAINT "outbox_kind_ck" CHECK("kind" in ('letter','confirm','reminder','sent_notice','followup','service','bounce_notice','webhook')),
	CONSTRAINT "outbox_webhook_partner_ck" CHECK(("kind" = 'webhook') = ("partner_key" is not null)),
	CONSTRAINT "outbox_sending_lease_ck" CHECK("state" <> 'sending' or "lease_until" is not null),
	CONSTRAINT "outbox_attempts_ck" CHECK("attempts" >= 0)
);--> statement-breakpoint
INSERT INTO `outbox`("id", "kind", "letter_id", "state", "to_name", "to_email", "reflect_to", "always_reflect", "from_name", "reply_to_name", "reply_to", "subject", "body_text", "message_id", "attempts", "next_attempt_at", "lease_until", "claim_token", "attempt_limit", "cancel_reason", "expires_at", "reminded_at", "last_error", "enqueued_at", "created_at", "updated_at", "sent_at", "partner_key", "event_key") SELECT "id", "kind", "letter_id", "state", "to_name", "to_email", "reflect_to", "always_reflect", "from_name", "reply_to_name", "reply_to", "subject", "body_text", "message_id", "attempts", "next_attempt_at", "lease_until", "claim_token", "attempt_limit", "cancel_reason", "expires_at", "reminded_at", "last_error", "enqueued_at", "created_at", "updated_at", "sent_at", NULL, NULL FROM `__outbox_copy`;--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_message_id_uq` ON `outbox` (`message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_letter_kind_uq` ON `outbox` (`letter_id`,`kind`) WHERE "outbox"."kind" in ('letter', 'sent_notice', 'followup', 'bounce_notice');--> statement-breakpoint
CREATE INDEX `outbox_due_ix` ON `outbox` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_letter_ix` ON `outbox` (`letter_id`,`kind`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_webhook_event_uq` ON `outbox` (`partner_key`,`event_key`) WHERE "outbox"."event_key" is not null;--> statement-breakpoint
CREATE INDEX `outbox_partner_ix` ON `outbox` (`partner_key`,`created_at`);--> statement-breakpoint
DROP TABLE `__outbox_copy`;--> statement-breakpoint
CREATE TABLE `__letter_tallies_copy` AS SELECT * FROM `letter_tallies`;--> statement-breakpoint
DROP TABLE `letter_tallies`;--> statement-breakpoint
CREATE TABLE `letter_tallies` (
	`campaign_id` text NOT NULL,
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `dimension`, `key`),
	CONSTRAINT "letter_tallies_dimension_ck" CHECK("dimension" in ('day','constituency','partner','recipient','partner_day','partner_nation'))
);--> statement-breakpoint
INSERT INTO `letter_tallies`("campaign_id", "dimension", "key", "n") SELECT "campaign_id", "dimension", "key", "n" FROM `__letter_tallies_copy`;--> statement-breakpoint
DROP TABLE `__letter_tallies_copy`;--> statement-breakpoint
CREATE TABLE `__pledge_tallies_copy` AS SELECT * FROM `pledge_tallies`;--> statement-breakpoint
DROP TABLE `pledge_tallies`;--> statement-breakpoint
CREATE TABLE `pledge_tallies` (
	`campaign_id` text NOT NULL,
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `dimension`, `key`),
	CONSTRAINT "pledge_tallies_dimension_ck" CHECK("dimension" in ('day','constituency','partner','partner_day','partner_nation'))
);--> statement-breakpoint
INSERT INTO `pledge_tallies`("campaign_id", "dimension", "key", "n") SELECT "campaign_id", "dimension", "key", "n" FROM `__pledge_tallies_copy`;--> statement-breakpoint
DROP TABLE `__pledge_tallies_copy`;--> statement-breakpoint
INSERT INTO `letter_tallies`("campaign_id", "dimension", "key", "n") SELECT l."campaign_id", 'partner_day', l."partner_key" || '|' || strftime('%Y-%m-%d', l."confirmed_at" / 1000, 'unixepoch'), count(*) FROM `letters` l JOIN `letter_counted` c ON c."letter_id" = l."id" WHERE l."partner_key" IS NOT NULL AND l."confirmed_at" IS NOT NULL GROUP BY 1, 3;--> statement-breakpoint
INSERT INTO `letter_tallies`("campaign_id", "dimension", "key", "n") SELECT l."campaign_id", 'partner_nation', l."partner_key" || '|' || k."nation", count(*) FROM `letters` l JOIN `letter_counted` c ON c."letter_id" = l."id" JOIN `constituencies` k ON k."ons_code" = l."constituency_code" WHERE l."partner_key" IS NOT NULL GROUP BY 1, 3;--> statement-breakpoint
INSERT INTO `pledge_tallies`("campaign_id", "dimension", "key", "n") SELECT p."campaign_id", 'partner_day', p."partner_key" || '|' || strftime('%Y-%m-%d', p."confirmed_at" / 1000, 'unixepoch'), count(*) FROM `supporter_pledges` p WHERE p."partner_key" IS NOT NULL AND p."counted" = 1 AND p."confirmed_at" IS NOT NULL GROUP BY 1, 3;--> statement-breakpoint
INSERT INTO `pledge_tallies`("campaign_id", "dimension", "key", "n") SELECT p."campaign_id", 'partner_nation', p."partner_key" || '|' || k."nation", count(*) FROM `supporter_pledges` p JOIN `constituencies` k ON k."ons_code" = p."constituency_code" WHERE p."partner_key" IS NOT NULL AND p."counted" = 1 GROUP BY 1, 3;
