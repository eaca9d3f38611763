/**
 * What a target may declare about how the program reaches its Docker daemon.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatProblems } from "../fleet/forms/problems";
import { parseStackSettings } from "../fleet/targets/stackSettings";
import { TYPES, runFleetInChild } from "./harness/runFleet";

const target = (fields: object) => ({ eu: { dockerHost: "tcp://10.0.0.5:2376", publicHost: "eu.example.com", capacity: { cpus: 16, memoryGb: 32 }, ...fields } });

test("a tcp:// Docker host without TLS is refused: whoever reaches its port is root on the host", () => {
    const parsed = parseStackSettings({ targets: target({}) }, "Pulumi.prod.yaml");
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    const text = formatProblems(parsed.problems);
    assert.match(text, /Pulumi\.prod\.yaml: n8n-fleet:targets\.eu\.tls: is missing for a tcp:\/\/ Docker host: without TLS, anyone who reaches that port is root on the host\. Fix: add "tls": \{ "certPath"/);
});

test("a tcp:// Docker host with its TLS folder is accepted, and a misspelt TLS key is named", () => {
    const parsed = parseStackSettings({ targets: target({ tls: { certPath: "/etc/n8n-fleet/eu-certs" } }) }, "Pulumi.prod.yaml");
    assert.equal(parsed.ok, true, parsed.ok ? "" : formatProblems(parsed.problems));
    const typo = parseStackSettings({ targets: target({ tls: { certPth: "/etc/n8n-fleet/eu-certs" } }) }, "Pulumi.prod.yaml");
    assert.equal(typo.ok, false);
    if (!typo.ok) assert.match(formatProblems(typo.problems), /certPth.*certPath/);
});

test("unix:// and ssh:// hosts need no TLS settings", () => {
    for (const dockerHost of ["unix:///var/run/docker.sock", "ssh://deploy@eu.example.com"]) {
        const parsed = parseStackSettings({ targets: target({ dockerHost }) }, "Pulumi.prod.yaml");
        assert.equal(parsed.ok, true, parsed.ok ? "" : formatProblems(parsed.problems));
    }
});

test("the target's Docker provider is given the TLS folder", async () => {
    const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701 }] }, targets: target({ tls: { certPath: "/etc/n8n-fleet/eu-certs" } }), defaultTarget: "eu" });
    assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
    const [provider] = outcome.run.ofType(TYPES.dockerProvider);
    assert.deepEqual([provider.inputs.host, provider.inputs.certPath], ["tcp://10.0.0.5:2376", "/etc/n8n-fleet/eu-certs"]);
});
