/** The collectors the agent runs when the configuration names none. */
export const DEFAULT_COLLECTORS = ["cpu", "memory", "thermal", "nvidia"];
