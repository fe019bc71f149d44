import type { Deps } from "../deps";

export type AppEnv = {
  Variables: {
    deps: Deps;
    requestId: string;
  };
};
