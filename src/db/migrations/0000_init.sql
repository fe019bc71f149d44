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
