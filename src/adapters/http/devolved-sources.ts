/**
 * The devolved parliaments' official member data, as Deps["devolvedSources"]: one builder for
 * both runtimes (fetch only, no Node APIs).
 */
import type { DevolvedBody } from "../../db/schema.devolved";
import type { Clock, DevolvedMemberSource, Logger } from "../../deps";
import type { Config } from "../../env";
import type { FetchOptions } from "./fetch-json";
import { niAssemblyApi } from "./ni-assembly";
import { scottishParliamentApi } from "./scottish-parliament";
import { seneddApi } from "./senedd";

export function devolvedSources(
  config: Config,
  upstream: Omit<FetchOptions, "service">,
  ports: { clock: Clock; logger?: Logger },
): Record<DevolvedBody, DevolvedMemberSource> {
  // The member lists are large and read once a day: allow them longer than a postcode lookup.
  const slow = { ...upstream, timeoutMs: Math.max(upstream.timeoutMs, 20_000) };
  return {
    scottish_parliament: scottishParliamentApi(config.SCOTTISH_PARLIAMENT_API_URL, {
      ...slow,
      clock: ports.clock,
    }),
    senedd: seneddApi(config.SENEDD_API_URL, slow),
    ni_assembly: niAssemblyApi(config.NI_ASSEMBLY_API_URL, { ...slow, logger: ports.logger }),
  };
}
