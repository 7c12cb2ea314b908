import { Readable } from "node:stream";
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput, MetadataBearer, MiddlewareStack } from "@smithy/types";
import type { LeanOutcome, LeanResponse } from "./lean-http.js";

/** The headers of an answer as the SDK's handler hands them on: lower-case names, one string each. */
function flatHeaders(headers: LeanResponse["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  return flat;
}

interface Replayable<Input extends object, Output extends MetadataBearer> {
  middlewareStack: MiddlewareStack<Input, Output>;
}

/**
 * Makes the SDK's first attempt of `command` end as the lean request did (the same answer, or the same
 * network error), without sending it again: the SDK then parses, retries and reports exactly as if it had
 * sent that request itself, and its later attempts go to the network as usual. Nothing to replay when the
 * lean request was never sent.
 */
export function replayFirstAttempt<Input extends object, Output extends MetadataBearer>(command: Replayable<Input, Output>, outcome: LeanOutcome): void {
  if (outcome.kind === "unsent") return;
  let replayed = false;
  command.middlewareStack.add(
    (next: DeserializeHandler<Input, Output>) => async (args: DeserializeHandlerArguments<Input>): Promise<DeserializeHandlerOutput<Output>> => {
      if (replayed) return next(args);
      replayed = true;
      if (outcome.kind === "failed") throw outcome.error;
      const { status, headers, body } = outcome.response;
      return { response: { statusCode: status, headers: flatHeaders(headers), body: Readable.from([body]) }, output: undefined as unknown as Output };
    },
    { step: "deserialize", priority: "low", name: "resourcemonitorLeanReplay" },
  );
}
