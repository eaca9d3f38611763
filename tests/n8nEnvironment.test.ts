import { test } from "node:test";
import assert from "node:assert/strict";
import { n8nEnvironment } from "../fleet/containers/n8n";
import { reservedEnvReason } from "../fleet/tenants/reservedEnv";
import type { TenantPlan } from "../fleet/tenants/plan";
import { LOCAL_TARGETS, planOf, targetsOf } from "./harness/plans";

const SECRETS = { databaseHost: "postgres" };

const HOST = targetsOf({ local: { ...LOCAL_TARGETS.local, publicHost: "host.example.com" } });

function plan(tenant: Record<string, unknown>): TenantPlan {
    return planOf(tenant, HOST);
}

test("n8n runs in queue mode on the tenant's own PostgreSQL and Redis, with its own key, offloading manual runs", () => {
    const env = n8nEnvironment(plan({ id: "client-a", port: 5701 }), SECRETS);
    assert.equal(env.DB_TYPE, "postgresdb");
    assert.equal(env.DB_POSTGRESDB_DATABASE, "n8n_client_a");
    assert.equal(env.DB_POSTGRESDB_USER, "client_a_user");
    assert.equal(env.DB_POSTGRESDB_PASSWORD_FILE, "/run/n8n-fleet/n8n-database-password");
    assert.equal(env.EXECUTIONS_MODE, "queue");
    assert.equal(env.QUEUE_BULL_REDIS_PASSWORD_FILE, "/run/n8n-fleet/redis-password");
    assert.equal(env.OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS, "true");
    assert.equal(env.QUEUE_HEALTH_CHECK_ACTIVE, "true");
    assert.equal(env.N8N_ENCRYPTION_KEY_FILE, "/run/n8n-fleet/encryption-key");
    assert.equal(env.N8N_DIAGNOSTICS_ENABLED, "false");
});

test("task runners are external, with the tenant's token and a broker reachable from its sidecars", () => {
    const env = n8nEnvironment(plan({ id: "a", port: 5701 }), SECRETS);
    assert.equal(env.N8N_RUNNERS_MODE, "external");
    assert.equal(env.N8N_RUNNERS_AUTH_TOKEN_FILE, "/run/n8n-fleet/runner-token");
    assert.equal(env.N8N_RUNNERS_BROKER_LISTEN_ADDRESS, "0.0.0.0");
});

test("URLs, cookies and time zone follow the tenant's url and timezone", () => {
    const plain = n8nEnvironment(plan({ id: "a", port: 5701 }), SECRETS);
    assert.equal(plain.N8N_EDITOR_BASE_URL, "http://host.example.com:5701/");
    assert.equal(plain.N8N_HOST, "host.example.com");
    assert.equal(plain.N8N_PROTOCOL, "http");
    assert.equal(plain.N8N_SECURE_COOKIE, "false");
    const secure = n8nEnvironment(plan({ id: "a", port: 5701, url: "https://a.example.com/", timezone: "Asia/Tokyo" }), SECRETS);
    assert.equal(secure.N8N_WEBHOOK_URL, "https://a.example.com/");
    assert.equal(secure.N8N_PROTOCOL, "https");
    assert.equal(secure.N8N_SECURE_COOKIE, "true");
    assert.equal(secure.GENERIC_TIMEZONE, "Asia/Tokyo");
    assert.equal(secure.TZ, "Asia/Tokyo");
});

test("the Node heap is sized under the container limit", () => {
    const tenant = plan({ id: "a", port: 5701 });
    const heap = Number(/--max-old-space-size=(\d+)/.exec(n8nEnvironment(tenant, SECRETS).NODE_OPTIONS)?.[1]);
    assert.ok(heap > 0 && heap < tenant.sizing.main.memoryMb);
});

test("a tenant's extra variables are passed on, and every variable n8n-fleet sets itself is reserved", () => {
    const env = n8nEnvironment(plan({ id: "a", port: 5701, env: { N8N_SMTP_HOST: "smtp.example.com" } }), SECRETS);
    assert.equal(env.N8N_SMTP_HOST, "smtp.example.com");
    const own = Object.keys(n8nEnvironment(plan({ id: "a", port: 5701 }), SECRETS));
    for (const name of own) assert.ok(reservedEnvReason(name), `${name} is set by n8n-fleet but a tenant could override it`);
});

test("requests to private, loopback and metadata addresses are blocked for every tenant, with its own exceptions only", () => {
    const plain = n8nEnvironment(plan({ id: "a", port: 5701 }), SECRETS);
    assert.equal(plain.N8N_SSRF_PROTECTION_ENABLED, "true");
    // n8n 2.41.1's own list, and what n8n 3 adds to it: carrier-grade NAT and IPv6 transition ranges.
    const blocked = plain.N8N_SSRF_BLOCKED_IP_RANGES.split(",");
    for (const range of ["default", "100.64.0.0/10", "64:ff9b::/96", "2002::/16", "2001::/32", "::ffff:0:0/96"]) assert.ok(blocked.includes(range), range);
    assert.equal(plain.N8N_SSRF_ALLOWED_HOSTNAMES, undefined);
    assert.equal(plain.N8N_SSRF_ALLOWED_IP_RANGES, undefined);
    const partner = n8nEnvironment(plan({ id: "a", port: 5701, outbound: { allowHostnames: ["api.partner.example", "*.partner.example"], allowIpRanges: ["10.20.0.0/16", "fd00:1::/64"] } }), SECRETS);
    assert.equal(partner.N8N_SSRF_ALLOWED_HOSTNAMES, "api.partner.example,*.partner.example");
    assert.equal(partner.N8N_SSRF_ALLOWED_IP_RANGES, "10.20.0.0/16,fd00:1::/64");
});

test("what a tenant's code may do inside n8n is decided for it: no community packages, Execute Command and local file triggers left out, no environment, files in one folder", () => {
    const env = n8nEnvironment(plan({ id: "a", port: 5701 }), SECRETS);
    assert.deepEqual(
        [env.N8N_COMMUNITY_PACKAGES_ENABLED, env.N8N_VERIFIED_PACKAGES_ENABLED, env.N8N_UNVERIFIED_PACKAGES_ENABLED],
        ["false", "false", "false"],
    );
    assert.deepEqual(JSON.parse(env.NODES_EXCLUDE), ["n8n-nodes-base.executeCommand", "n8n-nodes-base.localFileTrigger"]);
    assert.equal(env.N8N_BLOCK_ENV_ACCESS_IN_NODE, "true");
    assert.equal(env.N8N_RESTRICT_FILE_ACCESS_TO, "/home/node/.n8n-files");
    assert.equal(env.N8N_BLOCK_FILE_ACCESS_TO_N8N_FILES, "true");
    assert.deepEqual([env.N8N_GIT_NODE_DISABLE_BARE_REPOS, env.N8N_GIT_NODE_ENABLE_HOOKS, env.N8N_GIT_NODE_ENABLE_ALL_CONFIG_KEYS], ["true", "false", "false"]);
    assert.equal(env.N8N_AWS_SYSTEM_CREDENTIALS_ACCESS_ENABLED, "false");
});

test("community packages are a tenant's named choice: verified ones, or any", () => {
    const verified = n8nEnvironment(plan({ id: "a", port: 5701, communityPackages: "verified" }), SECRETS);
    assert.deepEqual([verified.N8N_COMMUNITY_PACKAGES_ENABLED, verified.N8N_VERIFIED_PACKAGES_ENABLED, verified.N8N_UNVERIFIED_PACKAGES_ENABLED], ["true", "true", "false"]);
    const any = n8nEnvironment(plan({ id: "a", port: 5701, communityPackages: "any" }), SECRETS);
    assert.deepEqual([any.N8N_COMMUNITY_PACKAGES_ENABLED, any.N8N_UNVERIFIED_PACKAGES_ENABLED], ["true", "true"]);
});

test("a tenant's env cannot turn a protection off: each such variable is refused with the field to use instead", () => {
    for (const name of ["N8N_COMMUNITY_PACKAGES_ENABLED", "N8N_UNVERIFIED_PACKAGES_ENABLED"]) assert.match(reservedEnvReason(name) ?? "", /set "communityPackages"/, name);
    for (const name of ["NODES_EXCLUDE", "NODES_INCLUDE", "N8N_BLOCK_ENV_ACCESS_IN_NODE", "N8N_RESTRICT_FILE_ACCESS_TO", "N8N_GIT_NODE_ENABLE_HOOKS", "N8N_PYTHON_ENABLED", "N8N_AWS_SYSTEM_CREDENTIALS_ACCESS_ENABLED", "N8N_INSECURE_DISABLE_WEBHOOK_IFRAME_SANDBOX"]) {
        assert.match(reservedEnvReason(name) ?? "", /fixes what a tenant's workflow code may reach/, name);
    }
});

test("n8n keeps normal use within the tenant's disk budget: executions pruned by age and by a count that grows with diskGb, request sizes capped, none of it the tenant's to change", () => {
    const names = ["EXECUTIONS_DATA_MAX_AGE", "EXECUTIONS_DATA_PRUNE_MAX_COUNT", "N8N_PAYLOAD_SIZE_MAX", "N8N_FORMDATA_FILE_SIZE_MAX"];
    const small = n8nEnvironment(plan({ id: "a", port: 5701, resources: { diskGb: 10 } }), SECRETS);
    const big = n8nEnvironment(plan({ id: "a", port: 5701, resources: { diskGb: 40 } }), SECRETS);
    for (const env of [small, big]) {
        assert.equal(env.EXECUTIONS_DATA_PRUNE, "true");
        for (const name of names) assert.match(env[name] ?? "", /^[1-9]\d*$/, `${name}: a positive whole number`);
    }
    assert.ok(Number(big.EXECUTIONS_DATA_PRUNE_MAX_COUNT) > Number(small.EXECUTIONS_DATA_PRUNE_MAX_COUNT), "a bigger disk keeps more executions");
    for (const name of ["EXECUTIONS_DATA_PRUNE", ...names]) assert.match(reservedEnvReason(name) ?? "", /resources\.diskGb/, name);
});
