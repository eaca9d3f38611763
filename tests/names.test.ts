import { test } from "node:test";
import assert from "node:assert/strict";
import { TENANT_ID_MAX_LENGTH, collisionKey, tenantNames } from "../fleet/tenants/names";
import { MAX_WORKERS } from "../fleet/tenants/tenantsSchema";

test("database and role follow the architecture notes: n8n_client_a and client_a_user", () => {
    const names = tenantNames("client-a");
    assert.equal(names.database, "n8n_client_a");
    assert.equal(names.databaseUser, "client_a_user");
});

test("every derived name of the longest id with the most workers fits a DNS label and a PostgreSQL identifier", () => {
    const id = "a".repeat(TENANT_ID_MAX_LENGTH);
    const names = tenantNames(id);
    const all = [
        names.database,
        names.databaseUser,
        ...Object.values(names.networks),
        ...Object.values(names.volumes),
        ...Object.values(names.containers),
        names.worker(MAX_WORKERS),
        names.runner(MAX_WORKERS),
        names.workerHost(MAX_WORKERS),
    ];
    for (const name of all) assert.ok(name.length <= 63, `${name} is ${name.length} characters`);
});

test("every Docker name of a tenant starts with its id, so two tenants never share one", () => {
    const names = tenantNames("acme");
    const dockerNames = [...Object.values(names.networks), ...Object.values(names.volumes), ...Object.values(names.containers), names.worker(1), names.runner(1)];
    for (const name of dockerNames) assert.match(name, /^acme-/);
    assert.equal(new Set(dockerNames).size, dockerNames.length);
});

test("ids that differ only in case, hyphen or underscore share a collision key", () => {
    assert.equal(collisionKey("Client_A"), collisionKey("client-a"));
    assert.notEqual(collisionKey("client-a"), collisionKey("client-b"));
});
