import { RANGES, type RangeName } from "../src/api-types.js";

/** What the address names: the fleet table, or one host over a range. */
export type Route = { view: "fleet" } | { view: "host"; host: string; range: RangeName };

export function parseRoute(hash: string): Route {
  const match = /^#\/host\/([^?]+)(?:\?range=(\w+))?$/.exec(hash);
  if (!match) return { view: "fleet" };
  const range = (match[2] ?? "1h") in RANGES ? ((match[2] ?? "1h") as RangeName) : "1h";
  return { view: "host", host: decodeURIComponent(match[1] as string), range };
}

/** About one sample per device pixel across the window: more would not show, and each costs a store read. */
export function pointsWanted(): number {
  return Math.min(3600, Math.max(300, Math.round(window.innerWidth * window.devicePixelRatio)));
}

export const hostsPath = "/api/hosts";
/** A host's history for the range, with its latest document (one request for the whole host view). */
export const hostViewPath = (host: string, range: RangeName): string => `/api/hosts/${encodeURIComponent(host)}/history?range=${range}&points=${pointsWanted()}&latest=1`;

/** The API paths a view asks for when it opens (and on each refresh). */
export function viewRequests(route: Route): string[] {
  return route.view === "fleet" ? [hostsPath] : [hostViewPath(route.host, route.range)];
}
