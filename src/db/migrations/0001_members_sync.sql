CREATE TABLE `letter_stops` (
	`letter_id` text PRIMARY KEY NOT NULL,
	`sync_id` text NOT NULL,
	`reason` text NOT NULL,
	`new_member_name` text,
	`at` integer NOT NULL,
	`notified_at` integer,
	FOREIGN KEY (`letter_id`) REFERENCES `letters`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`sync_id`) REFERENCES `member_syncs`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "letter_stops_reason_ck" CHECK("letter_stops"."reason" in ('member_left','seat_vacant'))
);
--> statement-breakpoint
CREATE INDEX `letter_stops_unnotified_ix` ON `letter_stops` (`notified_at`);--> statement-breakpoint
CREATE TABLE `member_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sync_id` text NOT NULL,
	`constituency_code` text NOT NULL,
	`kind` text NOT NULL,
	`parliament_id` integer,
	`member_name` text,
	`before` text,
	`after` text,
	`effective_on` text,
	`recorded_at` integer NOT NULL,
	FOREIGN KEY (`sync_id`) REFERENCES `member_syncs`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`constituency_code`) REFERENCES `constituencies`(`ons_code`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "member_changes_kind_ck" CHECK("member_changes"."kind" in ('gained','left','vacant','party','name','email'))
);
--> statement-breakpoint
CREATE INDEX `member_changes_recorded_ix` ON `member_changes` (`recorded_at`);--> statement-breakpoint
CREATE INDEX `member_changes_seat_ix` ON `member_changes` (`constituency_code`,`recorded_at`);--> statement-breakpoint
CREATE TABLE `member_syncs` (
	`id` text PRIMARY KEY NOT NULL,
	`trigger` text NOT NULL,
	`source` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer NOT NULL,
	`members_received` integer,
	`seats_changed` integer DEFAULT 0 NOT NULL,
	`changes` integer DEFAULT 0 NOT NULL,
	`contacts_checked` integer DEFAULT 0 NOT NULL,
	`letters_stopped` integer DEFAULT 0 NOT NULL,
	`letters_redirected` integer DEFAULT 0 NOT NULL,
	`forced` integer DEFAULT false NOT NULL,
	`detail` text,
	CONSTRAINT "member_syncs_status_ck" CHECK("member_syncs"."status" in ('applied','refused','failed')),
	CONSTRAINT "member_syncs_trigger_ck" CHECK("member_syncs"."trigger" in ('seed','schedule','cron','cli','import'))
);
--> statement-breakpoint
CREATE INDEX `member_syncs_finished_ix` ON `member_syncs` (`finished_at`);--> statement-breakpoint
ALTER TABLE `members` ADD `since` text;--> statement-breakpoint
ALTER TABLE `members` ADD `email_checked_at` integer;