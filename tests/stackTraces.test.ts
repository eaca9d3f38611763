/**
 * The declaration runs without the SDK's per-property promise stack traces (components/stackTraces.ts),
 * and loses nothing the engine shows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { withoutPromiseStackTraces } from "../components/stackTraces";
import { runFleetInChild, TYPES } from "./harness/runFleet";

test("inside, an Error captures no frames; outside, the limit is what it was, also after a throw", () => {
    const before = Error.stackTraceLimit;
    assert.equal(withoutPromiseStackTraces(() => new Error("x").stack), "Error: x");
    assert.throws(() => withoutPromiseStackTraces(() => { throw new Error("boom"); }), /boom/);
    assert.equal(Error.stackTraceLimit, before);
    assert.match(new Error("y").stack ?? "", /\n\s+at /);
});

test("with PULUMI_DEBUG_PROMISE_LEAKS set, stack traces are kept for the SDK's leak report", () => {
    process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
    try {
        assert.match(withoutPromiseStackTraces(() => new Error("x").stack) ?? "", /\n\s+at /);
    } finally {
        delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
    }
});

test("every resource carries the same source position as without it, the one the engine shows in diagnostics", async () => {
    const run = async (debugLeaks: boolean) => {
        if (debugLeaks) process.env.PULUMI_DEBUG_PROMISE_LEAKS = "1";
        try {
            const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701 }] } });
            if (!outcome.ok) throw new Error(outcome.error);
            return outcome.run;
        } finally {
            delete process.env.PULUMI_DEBUG_PROMISE_LEAKS;
        }
    };
    const [without, withTraces] = await Promise.all([run(false), run(true)]);
    assert.deepEqual(
        without.resources.map((r) => [r.name, r.sourcePosition]),
        withTraces.resources.map((r) => [r.name, r.sourcePosition]),
    );
    for (const c of without.ofType(TYPES.container)) {
        // The host guard is the target's, declared by its DockerHost; every other container by its tenant's ClientInstance.
        const declaredIn = c.parent.includes("$n8n-fleet:index:DockerHost::") ? "dockerHost" : "clientInstance";
        assert.match(c.sourcePosition, new RegExp(`^file://.*/components/${declaredIn}\\.ts:\\d+$`), c.name);
    }
    assert.ok(without.ofType(TYPES.container).some((c) => c.sourcePosition.includes("/components/dockerHost.ts:")), "the host guard is checked too");
});
