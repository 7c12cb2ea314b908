import type { ErrorResponse } from "../src/api-types.js";
import { ACCEPT_JSON, takePrefetched } from "./prefetch.js";

/** What went wrong, in words for the banner, with what to do. */
export class ApiError extends Error {
  constructor(message: string, readonly hint: string, readonly code: string) {
    super(message);
  }
}

/** GET a JSON API path (or take the boot script's request for it); any failure becomes an ApiError the page can show as is. */
export async function getJson<T>(path: string): Promise<T> {
  let response: Response;
  try {
    response = await (takePrefetched(path) ?? fetch(path, { headers: ACCEPT_JSON }));
  } catch {
    throw new ApiError("The dashboard server does not answer.", "Is `resourcemonitor dashboard` still running? The page retries on its own.", "server-down");
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok && body !== undefined) return body as T;
  const error = (body as ErrorResponse | undefined)?.error;
  if (error) throw new ApiError(error.message, error.hint, error.code);
  throw new ApiError(`The dashboard answered ${response.status} ${response.statusText}.`, "Check the dashboard's log.", "http");
}
