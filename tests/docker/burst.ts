/**
 * A burst of webhook calls through the end-to-end test's Webhook + Code workflow: `calls` calls,
 * `concurrency` at a time, each checked for the right answer. Used by the figures and the
 * throughput tests.
 */
import { callWebhook } from "../e2e/n8nApi";

export interface BurstResult {
    calls: number;
    seconds: number;
    /** One line per wrong or failed answer. */
    failures: string[];
}

export async function burst(webhook: string, calls: number, concurrency: number): Promise<BurstResult> {
    const failures: string[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (next < calls) {
                const i = next++;
                const answer = await callWebhook(webhook, { a: i, b: 1 }, 300_000).catch((error: Error) => ({ status: 0, body: error.message }));
                const body = answer.body as { sum?: unknown } | string;
                if (answer.status !== 200 || typeof body !== "object" || body.sum !== i + 1) failures.push(`call ${i}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
            }
        }),
    );
    return { calls, seconds: (performance.now() - started) / 1000, failures };
}

/** The number of calls an environment variable asks for, or `fallback`; refuses anything but a whole number. */
export function callsFrom(name: string, fallback: number): number {
    const setting = process.env[name];
    if (setting === undefined || setting === "") return fallback;
    if (!/^[1-9]\d*$/.test(setting)) throw new Error(`${name}=${setting}: give a whole number of calls, such as 100`);
    return Number(setting);
}
