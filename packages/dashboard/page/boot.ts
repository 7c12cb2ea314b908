// The page's first script, small and run as soon as the head is parsed: it starts the current view's API
// requests, which the main script (larger, run after parsing) then takes over (prefetch.ts).
import { prefetch } from "./prefetch.js";
import { parseRoute, viewRequests } from "./route.js";

try {
  prefetch(viewRequests(parseRoute(location.hash)));
} catch {
  // An address the main script cannot read either (it says so on the page); it asks for itself.
}
