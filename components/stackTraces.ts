/**
 * Why declaring 1,700 resources took 40 s: for every property of every resource, the SDK wraps four
 * promises in a "debuggable" promise that captures `new Error().stack` (runtime/debuggable.js,
 * reached from transferProperties in prepareResource), and the language host installs
 * source-map-support, which maps every frame of every such trace. A docker.Container has about 90
 * properties, so each container cost some 360 formatted stack traces; three quarters of the whole
 * run went there (CPU profile, README "How it scales"). Those traces are only read when
 * PULUMI_DEBUG_PROMISE_LEAKS is set.
 */

/**
 * Runs `declare` with no stack traces captured by default. The SDK still records each resource's
 * source position (it raises the limit itself for that). Errors thrown inside carry their message
 * but no stack, which is why only the declaration runs here, not the reading of the stack's files.
 * With PULUMI_DEBUG_PROMISE_LEAKS set, nothing changes.
 */
export function withoutPromiseStackTraces<T>(declare: () => T): T {
    if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return declare();
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return declare();
    } finally {
        Error.stackTraceLimit = limit;
    }
}
