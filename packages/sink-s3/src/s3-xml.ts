/** The few parts of S3's XML answers the lean path reads: a ListObjectsV2 page and an error's code. */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** XML text with its entities replaced; undefined for a stray `&` (no XML S3 would send). */
function decodeText(text: string): string | undefined {
  let malformed = false;
  const decoded = text.replace(/&([^;&]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(";")) malformed = true;
    if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    const known = ENTITIES[name];
    if (known === undefined) malformed = true;
    return known ?? whole;
  });
  return malformed ? undefined : decoded;
}

export interface ListPage {
  keys: string[];
  truncated: boolean;
  nextToken: string | undefined;
}

/** The keys of a `ListBucketResult` page, or undefined when the text is not one (the SDK then reads it). */
export function parseListPage(xml: string): ListPage | undefined {
  if (!/<ListBucketResult[\s>]/.test(xml) || !xml.includes("</ListBucketResult>")) return undefined;
  const keys: string[] = [];
  for (const match of xml.matchAll(/<Contents>[\s\S]*?<\/Contents>/g)) {
    const raw = /<Key>([^<]*)<\/Key>/.exec(match[0])?.[1];
    const key = raw === undefined ? undefined : decodeText(raw);
    if (key === undefined) return undefined;
    keys.push(key);
  }
  const truncated = /<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml);
  const rawToken = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
  const nextToken = rawToken === undefined ? undefined : decodeText(rawToken);
  if (rawToken !== undefined && nextToken === undefined) return undefined;
  return { keys, truncated, nextToken };
}

/** The `<Code>` of an S3 error answer, if it has one. */
export function errorCode(xml: string): string | undefined {
  return /<Error>[\s\S]*?<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}
