/** What the lookup needs from the outside world, independent of which API answers. */

export type RemotePostcode =
  | { kind: "found"; postcode: string; constituencyCode: string | null; constituencyName: string | null }
  | { kind: "terminated"; postcode: string }
  | { kind: "not_found"; postcode: string };

export interface PostcodeSource {
  /** Throws AppError('upstream_unavailable') when the service can't be reached in time. */
  lookup(postcode: string): Promise<RemotePostcode>;
}

export type RemoteMember = {
  parliamentId: number | null;
  name: string;
  party: string | null;
  partyAbbreviation: string | null;
  constituencyName: string;
  /** Official address when the source has one (Members API contact details). */
  email?: string | null;
};

export type RemoteSeat = { kind: "sitting"; member: RemoteMember } | { kind: "vacant" } | { kind: "unknown" };

export interface MemberSource {
  /** The current representation of a constituency, by its exact 2024 name. */
  seatFor(constituencyName: string): Promise<RemoteSeat>;
  /** Every current MP (House of Commons), paging through the API. */
  allCurrent(): Promise<RemoteMember[]>;
  /** The member's preferred official email address, if published. */
  emailFor(parliamentId: number): Promise<string | null>;
}
