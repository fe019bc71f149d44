CREATE TABLE `candidates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`election_id` text NOT NULL,
	`constituency_code` text NOT NULL,
	`person_id` integer NOT NULL,
	`name` text NOT NULL,
	`party` text,
	`email` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `candidates_election_person_uq` ON `candidates` (`election_id`,`person_id`);--> statement-breakpoint
CREATE INDEX `candidates_election_constituency_ix` ON `candidates` (`election_id`,`constituency_code`);--> statement-breakpoint
CREATE TABLE `constituencies` (
	`ons_code` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`nation` text NOT NULL,
	`region_code` text NOT NULL,
	`region_name` text NOT NULL,
	`hex_q` integer,
	`hex_r` integer,
	`is_test` integer DEFAULT false NOT NULL,
	CONSTRAINT "constituencies_nation_ck" CHECK("constituencies"."nation" in ('England','Scotland','Wales','Northern Ireland','Test'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `constituencies_name_uq` ON `constituencies` (`name`);--> statement-breakpoint
CREATE TABLE `lookup_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `lookup_cache_expires_ix` ON `lookup_cache` (`expires_at`);--> statement-breakpoint
CREATE TABLE `members` (
	`constituency_code` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`parliament_id` integer,
	`name` text,
	`party` text,
	`party_abbreviation` text,
	`email` text,
	`reflects_to_sender` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "members_vacancy_ck" CHECK(("members"."status" = 'vacant' and "members"."name" is null and "members"."parliament_id" is null) or ("members"."status" = 'sitting' and "members"."name" is not null))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `members_parliament_id_uq` ON `members` (`parliament_id`);--> statement-breakpoint
CREATE TABLE `postcodes` (
	`postcode` text PRIMARY KEY NOT NULL,
	`constituency_code` text,
	`terminated` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE `admin_sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `admin_users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `admin_sessions_expires_ix` ON `admin_sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `admin_sessions_user_ix` ON `admin_sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `admin_users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_sign_in_at` integer,
	CONSTRAINT "admin_users_email_ck" CHECK("admin_users"."email" = lower("admin_users"."email"))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `admin_users_email_uq` ON `admin_users` (`email`);--> statement-breakpoint
CREATE TABLE `captured_mail` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`from_header` text NOT NULL,
	`to_header` text NOT NULL,
	`reply_to` text,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`captured_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `captured_mail_message_ix` ON `captured_mail` (`message_id`);--> statement-breakpoint
CREATE TABLE `delivery_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`outbox_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`outcome` text NOT NULL,
	`smtp_code` integer,
	`detail` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`outbox_id`) REFERENCES `outbox`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "delivery_log_outcome_ck" CHECK("delivery_log"."outcome" in ('sent','temporary_failure','permanent_failure','reclaimed'))
);
--> statement-breakpoint
CREATE INDEX `delivery_log_outbox_ix` ON `delivery_log` (`outbox_id`,`attempt`);--> statement-breakpoint
CREATE TABLE `letter_bands` (
	`band` text NOT NULL,
	`letter_id` text NOT NULL,
	FOREIGN KEY (`letter_id`) REFERENCES `letters`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `letter_bands_band_ix` ON `letter_bands` (`band`);--> statement-breakpoint
CREATE INDEX `letter_bands_letter_ix` ON `letter_bands` (`letter_id`);--> statement-breakpoint
CREATE TABLE `letters` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`constituency_code` text NOT NULL,
	`recipient_kind` text NOT NULL,
	`recipient_person_id` integer,
	`recipient_name` text NOT NULL,
	`partner_key` text,
	`status` text NOT NULL,
	`asks` text NOT NULL,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`supporter_name` text NOT NULL,
	`supporter_email` text NOT NULL,
	`supporter_address` text NOT NULL,
	`supporter_postcode` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`signature` text,
	`similarity` real,
	`similar_to` text,
	`created_at` integer NOT NULL,
	`confirmed_at` integer,
	`sent_at` integer,
	`reply_answer` text,
	`reply_answered_at` integer,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "letters_status_ck" CHECK("letters"."status" in ('awaiting_confirmation','confirmed','held','sent','undeliverable','cancelled','expired')),
	CONSTRAINT "letters_recipient_kind_ck" CHECK("letters"."recipient_kind" in ('mp','candidate')),
	CONSTRAINT "letters_reply_answer_ck" CHECK("letters"."reply_answer" is null or "letters"."reply_answer" in ('yes','no','not_yet'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `letters_idempotency_uq` ON `letters` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `letters_constituency_created_ix` ON `letters` (`constituency_code`,`created_at`);--> statement-breakpoint
CREATE INDEX `letters_email_created_ix` ON `letters` (`supporter_email`,`created_at`);--> statement-breakpoint
CREATE INDEX `letters_campaign_created_ix` ON `letters` (`campaign_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `letters_status_ix` ON `letters` (`status`);--> statement-breakpoint
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
	`expires_at` integer,
	`reminded_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`letter_id`) REFERENCES `letters`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "outbox_state_ck" CHECK("outbox"."state" in ('awaiting_confirmation','held','queued','sending','sent','failed','dead','bounced','cancelled','expired')),
	CONSTRAINT "outbox_kind_ck" CHECK("outbox"."kind" in ('letter','confirm','reminder','sent_notice','followup','service')),
	CONSTRAINT "outbox_sending_lease_ck" CHECK("outbox"."state" <> 'sending' or "outbox"."lease_until" is not null)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_message_id_uq` ON `outbox` (`message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `outbox_letter_kind_uq` ON `outbox` (`letter_id`,`kind`) WHERE "outbox"."kind" in ('letter', 'sent_notice', 'followup');--> statement-breakpoint
CREATE INDEX `outbox_due_ix` ON `outbox` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbox_letter_ix` ON `outbox` (`letter_id`,`kind`);--> statement-breakpoint
CREATE TABLE `letter_counted` (
	`letter_id` text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE `letter_tallies` (
	`campaign_id` text NOT NULL,
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `dimension`, `key`),
	CONSTRAINT "letter_tallies_dimension_ck" CHECK("letter_tallies"."dimension" in ('day','constituency','partner','recipient'))
);
--> statement-breakpoint
CREATE TABLE `pledge_tallies` (
	`campaign_id` text NOT NULL,
	`dimension` text NOT NULL,
	`key` text NOT NULL,
	`n` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `dimension`, `key`),
	CONSTRAINT "pledge_tallies_dimension_ck" CHECK("pledge_tallies"."dimension" in ('day','constituency','partner'))
);
--> statement-breakpoint
CREATE TABLE `privacy_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`email_norm` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`completed_at` integer,
	CONSTRAINT "privacy_requests_kind_ck" CHECK("privacy_requests"."kind" in ('export','erase'))
);
--> statement-breakpoint
CREATE INDEX `privacy_requests_expires_ix` ON `privacy_requests` (`expires_at`);--> statement-breakpoint
CREATE TABLE `rep_pledges` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`kind` text NOT NULL,
	`person_id` integer NOT NULL,
	`election_id` text,
	`constituency_code` text NOT NULL,
	`name` text NOT NULL,
	`party` text,
	`status` text NOT NULL,
	`verified_by` text,
	`verified_note` text,
	`verified_by_user` text,
	`requested_at` integer NOT NULL,
	`link_sent_at` integer,
	`verified_at` integer,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "rep_pledges_kind_ck" CHECK("rep_pledges"."kind" in ('mp','candidate')),
	CONSTRAINT "rep_pledges_status_ck" CHECK("rep_pledges"."status" in ('requested','verified')),
	CONSTRAINT "rep_pledges_verified_ck" CHECK(("rep_pledges"."status" = 'verified') = ("rep_pledges"."verified_at" is not null and "rep_pledges"."verified_by" is not null)),
	CONSTRAINT "rep_pledges_admin_note_ck" CHECK("rep_pledges"."verified_by" is not 'admin' or "rep_pledges"."verified_note" is not null)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rep_pledges_person_uq` ON `rep_pledges` (`campaign_id`,`kind`,`person_id`);--> statement-breakpoint
CREATE INDEX `rep_pledges_status_ix` ON `rep_pledges` (`campaign_id`,`status`);--> statement-breakpoint
CREATE INDEX `rep_pledges_constituency_ix` ON `rep_pledges` (`constituency_code`);--> statement-breakpoint
CREATE TABLE `supporter_pledges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` text NOT NULL,
	`email_norm` text NOT NULL,
	`email_hash` text NOT NULL,
	`name` text NOT NULL,
	`postcode` text NOT NULL,
	`constituency_code` text NOT NULL,
	`partner_key` text,
	`status` text NOT NULL,
	`pledge_consent_version` text NOT NULL,
	`pledge_consent_at` integer NOT NULL,
	`updates_consent_version` text,
	`updates_consent_at` integer,
	`counted` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`confirm_sent_at` integer,
	`confirmed_at` integer,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "supporter_pledges_status_ck" CHECK("supporter_pledges"."status" in ('unconfirmed','confirmed')),
	CONSTRAINT "supporter_pledges_confirmed_ck" CHECK(("supporter_pledges"."status" = 'confirmed') = ("supporter_pledges"."confirmed_at" is not null)),
	CONSTRAINT "supporter_pledges_updates_consent_ck" CHECK(("supporter_pledges"."updates_consent_version" is null) = ("supporter_pledges"."updates_consent_at" is null)),
	CONSTRAINT "supporter_pledges_email_ck" CHECK("supporter_pledges"."email_norm" = lower(trim("supporter_pledges"."email_norm")))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `supporter_pledges_email_uq` ON `supporter_pledges` (`campaign_id`,`email_norm`);--> statement-breakpoint
CREATE INDEX `supporter_pledges_status_created_ix` ON `supporter_pledges` (`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `suppressions` (
	`email_hash` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tally_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `partners` (
	`key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`allowed_origins` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "partners_key_ck" CHECK("partners"."key" glob '[a-z0-9]*' and length("partners"."key") between 1 and 40 and "partners"."key" not glob '*[^a-z0-9-]*'),
	CONSTRAINT "partners_origins_ck" CHECK(json_valid("partners"."allowed_origins") and json_type("partners"."allowed_origins") = 'array')
);
