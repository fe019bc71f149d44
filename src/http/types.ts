import type { Deps } from "../deps";

export type AppEnv = {
  Variables: {
    deps: Deps;
    requestId: string;
    /** Who the request is from (src/http/client.ts). */
    client: import("./client").ClientAddress;
    /** A rate-limit refusal a form handler shows inside its form (src/http/rate-limit.ts). */
    limitRefusal?: import("../lib/errors").AppError;
    /** Set by the widget's /embed routes: the partner the page is rendered for (see modules/widget). */
    embed?: import("../modules/widget/widget.embed").EmbedContext;
  };
};
