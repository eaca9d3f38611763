/**
 * HTTP for tests, on a fresh connection every time. A reused keep-alive connection that the server
 * has just closed fails the next request with "other side closed": whether that happens depends on
 * the machine's pace, so a test never reuses one.
 */
import { Agent, fetch as undiciFetch } from "undici";

/** `pipelining: 0` makes undici close each connection after its response. */
const noReuse = new Agent({ pipelining: 0 });

export type FetchInit = NonNullable<Parameters<typeof undiciFetch>[1]>;

export function fetch(url: string, init: FetchInit = {}) {
    return undiciFetch(url, { ...init, dispatcher: noReuse });
}
