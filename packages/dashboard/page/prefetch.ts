/**
 * Requests the boot script starts while the page is still loading, so that the answers are on their way
 * before the page's main script (uPlot and the views) has even run. Each is handed out once.
 */
declare global {
  interface Window {
    resourcemonitorPrefetch?: Map<string, Promise<Response>>;
  }
}

export const ACCEPT_JSON = { accept: "application/json" };

export function prefetch(paths: string[]): void {
  const pending = new Map<string, Promise<Response>>();
  for (const path of paths) {
    const response = fetch(path, { headers: ACCEPT_JSON });
    // Its taker sees a failure; until then it is no unhandled rejection.
    response.catch(() => undefined);
    pending.set(path, response);
  }
  window.resourcemonitorPrefetch = pending;
}

/** The response already requested for `path`, once; undefined when none was. */
export function takePrefetched(path: string): Promise<Response> | undefined {
  const pending = window.resourcemonitorPrefetch;
  const response = pending?.get(path);
  pending?.delete(path);
  return response;
}

/** Forgets requests nobody took (the address changed before the main script ran). */
export function dropPrefetched(): void {
  window.resourcemonitorPrefetch = undefined;
}
