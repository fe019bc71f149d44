-- The devolved parliaments (issue 13): their areas, links to the 2024 Westminster seats, members
-- and postcode-level areas; the members change log and syncs become per body; representatives'
-- pledges take MSPs, MSs and MLAs.
--
-- Written by hand from drizzle-kit's output: migrations run inside one transaction
-- (better-sqlite3's migrator, D1), where PRAGMA foreign_keys=OFF does nothing. So `member_syncs`,
-- which other tables reference, gains its column by ALTER TABLE (with its CHECK on the column);
-- `member_changes` and `rep_pledges`, which nothing references, are rebuilt; and the CHECKs of
-- rebuilt tables name their columns unqualified, so they still hold after the rename.
-- `letters` needs a wider CHECK on recipient_kind, so it is rebuilt too, with foreign keys
-- deferred to the end of the transaction. Its rows are set aside in a plain copy, the table is
-- dropped and created again under its own name, and the rows go back into it: outbox and
-- letter_stops point at `letters` by name, and each letter put back satisfies again the child
-- rows the drop left pointing at nothing (a table built under another name and renamed would
-- not: the commit would still count those rows as violations). Its letter_bands rows, which the
-- drop cascades away, are set aside and put back too.
CREATE TABLE `devolved_area_links` (
	`westminster_code` text NOT NULL,
	`area_code` text NOT NULL,
	`share` text NOT NULL,
	`source` text NOT NULL,
	PRIMARY KEY(`westminster_code`, `area_code`),
	FOREIGN KEY (`westminster_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`area_code`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "devolved_area_links_share_ck" CHECK("devolved_area_links"."share" in ('whole','most','part'))
);
--> statement-breakpoint
CREATE INDEX `devolved_area_links_area_ix` ON `devolved_area_links` (`area_code`);--> statement-breakpoint
CREATE TABLE `devolved_areas` (
	`code` text PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`name_cy` text,
	`region_code` text,
	`seats` integer NOT NULL,
	`valid_from` text,
	FOREIGN KEY (`region_code`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "devolved_areas_body_ck" CHECK("devolved_areas"."body" in ('scottish_parliament','senedd','ni_assembly')),
	CONSTRAINT "devolved_areas_kind_ck" CHECK("devolved_areas"."kind" in ('constituency','region')),
	CONSTRAINT "devolved_areas_code_ck" CHECK((body = 'scottish_parliament' and ((kind = 'constituency' and code glob 'S16[0-9]*') or (kind = 'region' and code glob 'S17[0-9]*'))) or (body = 'senedd' and kind = 'constituency' and code glob 'W09[0-9]*') or (body = 'ni_assembly' and kind = 'constituency' and code glob 'N06[0-9]*')),
	CONSTRAINT "devolved_areas_seats_ck" CHECK("devolved_areas"."seats" between 1 and 10),
	CONSTRAINT "devolved_areas_region_ck" CHECK(("devolved_areas"."body" = 'scottish_parliament' and "devolved_areas"."kind" = 'constituency') = ("devolved_areas"."region_code" is not null))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `devolved_areas_name_uq` ON `devolved_areas` (`body`,`kind`,`name`);--> statement-breakpoint
CREATE TABLE `devolved_members` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`body` text NOT NULL,
	`area_code` text NOT NULL,
	`source_id` integer,
	`name` text NOT NULL,
	`party` text,
	`email` text,
	`contact_url` text,
	`since` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`area_code`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "devolved_members_body_ck" CHECK("devolved_members"."body" in ('scottish_parliament','senedd','ni_assembly')),
	CONSTRAINT "devolved_members_area_body_ck" CHECK(("devolved_members"."body" = 'scottish_parliament' and ("devolved_members"."area_code" glob 'S16*' or "devolved_members"."area_code" glob 'S17*')) or ("devolved_members"."body" = 'senedd' and "devolved_members"."area_code" glob 'W09*') or ("devolved_members"."body" = 'ni_assembly' and "devolved_members"."area_code" glob 'N06*'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `devolved_members_source_uq` ON `devolved_members` (`body`,`source_id`);--> statement-breakpoint
CREATE INDEX `devolved_members_area_ix` ON `devolved_members` (`area_code`);--> statement-breakpoint
CREATE TABLE `postcode_areas` (
	`postcode` text PRIMARY KEY NOT NULL,
	`holyrood_constituency` text,
	`holyrood_region` text,
	`senedd` text,
	`assembly` text,
	`source` text NOT NULL,
	FOREIGN KEY (`holyrood_constituency`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`holyrood_region`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`senedd`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`assembly`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
PRAGMA defer_foreign_keys = ON;--> statement-breakpoint
CREATE TABLE `__letters_copy` AS SELECT * FROM `letters`;--> statement-breakpoint
CREATE TABLE `__letter_bands_copy` AS SELECT * FROM `letter_bands`;--> statement-breakpoint
DROP TABLE `letters`;--> statement-breakpoint
CREATE TABLE `letters` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`constituency_code` text NOT NULL,
	`recipient_kind` text NOT NULL,
	`recipient_person_id` integer,
	`area_code` text,
	`group_id` text,
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
	`confirm_sent_at` integer,
	`reply_answer` text,
	`reply_answered_at` integer,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`area_code`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "letters_status_ck" CHECK("status" in ('awaiting_confirmation','confirmed','held','sent','undeliverable','cancelled','expired')),
	CONSTRAINT "letters_recipient_kind_ck" CHECK("recipient_kind" in ('mp','candidate','msp','ms','mla')),
	CONSTRAINT "letters_area_ck" CHECK(("recipient_kind" in ('msp','ms','mla')) = ("area_code" is not null)),
	CONSTRAINT "letters_reply_answer_ck" CHECK("reply_answer" is null or "reply_answer" in ('yes','no','not_yet'))
);
--> statement-breakpoint
INSERT INTO `letters`("id", "campaign_id", "constituency_code", "recipient_kind", "recipient_person_id", "recipient_name", "partner_key", "status", "asks", "subject", "body", "supporter_name", "supporter_email", "supporter_address", "supporter_postcode", "idempotency_key", "signature", "similarity", "similar_to", "created_at", "confirmed_at", "sent_at", "confirm_sent_at", "reply_answer", "reply_answered_at") SELECT "id", "campaign_id", "constituency_code", "recipient_kind", "recipient_person_id", "recipient_name", "partner_key", "status", "asks", "subject", "body", "supporter_name", "supporter_email", "supporter_address", "supporter_postcode", "idempotency_key", "signature", "similarity", "similar_to", "created_at", "confirmed_at", "sent_at", "confirm_sent_at", "reply_answer", "reply_answered_at" FROM `__letters_copy`;--> statement-breakpoint
CREATE UNIQUE INDEX `letters_idempotency_uq` ON `letters` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `letters_constituency_created_ix` ON `letters` (`constituency_code`,`created_at`);--> statement-breakpoint
CREATE INDEX `letters_email_created_ix` ON `letters` (`supporter_email`,`created_at`);--> statement-breakpoint
CREATE INDEX `letters_campaign_created_ix` ON `letters` (`campaign_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `letters_status_ix` ON `letters` (`status`);--> statement-breakpoint
CREATE INDEX `letters_group_ix` ON `letters` (`group_id`);--> statement-breakpoint
DELETE FROM `letter_bands`;--> statement-breakpoint
INSERT INTO `letter_bands`(`band`, `letter_id`) SELECT `band`, `letter_id` FROM `__letter_bands_copy`;--> statement-breakpoint
DROP TABLE `__letter_bands_copy`;--> statement-breakpoint
DROP TABLE `__letters_copy`;--> statement-breakpoint
CREATE TABLE `__new_rep_pledges` (
	`id` text PRIMARY KEY NOT NULL,
	`campaign_id` text NOT NULL,
	`kind` text NOT NULL,
	`person_id` integer NOT NULL,
	`election_id` text,
	`constituency_code` text,
	`area_code` text,
	`name` text NOT NULL,
	`party` text,
	`status` text NOT NULL,
	`verified_by` text,
	`verified_note` text,
	`verified_by_user` text,
	`requested_at` integer NOT NULL,
	`link_sent_at` integer,
	`link_mail_id` text,
	`verified_at` integer,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`area_code`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "rep_pledges_kind_ck" CHECK("kind" in ('mp','candidate','msp','ms','mla')),
	CONSTRAINT "rep_pledges_place_ck" CHECK(case when "kind" in ('mp','candidate') then "constituency_code" is not null and "area_code" is null else "area_code" is not null and "constituency_code" is null end),
	CONSTRAINT "rep_pledges_status_ck" CHECK("status" in ('requested','verified')),
	CONSTRAINT "rep_pledges_verified_ck" CHECK(("status" = 'verified') = ("verified_at" is not null and "verified_by" is not null)),
	CONSTRAINT "rep_pledges_admin_note_ck" CHECK("verified_by" is not 'admin' or "verified_note" is not null)
);
--> statement-breakpoint
INSERT INTO `__new_rep_pledges`("id", "campaign_id", "kind", "person_id", "election_id", "constituency_code", "name", "party", "status", "verified_by", "verified_note", "verified_by_user", "requested_at", "link_sent_at", "link_mail_id", "verified_at") SELECT "id", "campaign_id", "kind", "person_id", "election_id", "constituency_code", "name", "party", "status", "verified_by", "verified_note", "verified_by_user", "requested_at", "link_sent_at", "link_mail_id", "verified_at" FROM `rep_pledges`;--> statement-breakpoint
DROP TABLE `rep_pledges`;--> statement-breakpoint
ALTER TABLE `__new_rep_pledges` RENAME TO `rep_pledges`;--> statement-breakpoint
CREATE UNIQUE INDEX `rep_pledges_person_uq` ON `rep_pledges` (`campaign_id`,`kind`,`person_id`);--> statement-breakpoint
CREATE INDEX `rep_pledges_status_ix` ON `rep_pledges` (`campaign_id`,`status`);--> statement-breakpoint
CREATE INDEX `rep_pledges_constituency_ix` ON `rep_pledges` (`constituency_code`);--> statement-breakpoint
CREATE INDEX `rep_pledges_area_ix` ON `rep_pledges` (`area_code`);--> statement-breakpoint
CREATE TABLE `__new_member_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sync_id` text NOT NULL,
	`body` text DEFAULT 'uk_parliament' NOT NULL,
	`constituency_code` text,
	`area_code` text,
	`kind` text NOT NULL,
	`parliament_id` integer,
	`member_name` text,
	`before` text,
	`after` text,
	`effective_on` text,
	`recorded_at` integer NOT NULL,
	FOREIGN KEY (`sync_id`) REFERENCES `member_syncs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`area_code`) REFERENCES `devolved_areas`(`code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "member_changes_kind_ck" CHECK("kind" in ('gained','left','vacant','party','name','email')),
	CONSTRAINT "member_changes_body_ck" CHECK("body" in ('uk_parliament','scottish_parliament','senedd','ni_assembly')),
	CONSTRAINT "member_changes_place_ck" CHECK(case when "body" = 'uk_parliament' then "constituency_code" is not null and "area_code" is null else "area_code" is not null and "constituency_code" is null end)
);
--> statement-breakpoint
INSERT INTO `__new_member_changes`("id", "sync_id", "constituency_code", "kind", "parliament_id", "member_name", "before", "after", "effective_on", "recorded_at") SELECT "id", "sync_id", "constituency_code", "kind", "parliament_id", "member_name", "before", "after", "effective_on", "recorded_at" FROM `member_changes`;--> statement-breakpoint
DROP TABLE `member_changes`;--> statement-breakpoint
ALTER TABLE `__new_member_changes` RENAME TO `member_changes`;--> statement-breakpoint
CREATE INDEX `member_changes_recorded_ix` ON `member_changes` (`recorded_at`);--> statement-breakpoint
CREATE INDEX `member_changes_seat_ix` ON `member_changes` (`constituency_code`,`recorded_at`);--> statement-breakpoint
CREATE INDEX `member_changes_area_ix` ON `member_changes` (`area_code`,`recorded_at`);--> statement-breakpoint
ALTER TABLE `member_syncs` ADD `body` text DEFAULT 'uk_parliament' NOT NULL CONSTRAINT "member_syncs_body_ck" CHECK("body" in ('uk_parliament','scottish_parliament','senedd','ni_assembly'));--> statement-breakpoint
CREATE INDEX `member_syncs_body_ix` ON `member_syncs` (`body`,`finished_at`);