/**
 * The stack file, `Pulumi.<stack>.yaml`: every n8n-fleet setting checked like tenants.json, each
 * problem located at its line and column with the fix, a misspelt setting refused rather than ignored.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatProblems } from "../fleet/forms/problems";
import { loadFleetForStack, stackSettingsFromYaml } from "../fleet/stacks/stackFleet";
import { runFleetInChild } from "./harness/runFleet";

/** The problems of a stack file's text, with a valid tenants file. */
function problemsOf(yaml: string): string {
    const settings = stackSettingsFromYaml(yaml, "Pulumi.dev.yaml");
    if (!settings.ok) return formatProblems(settings.problems);
    const result = loadFleetForStack({ stack: "dev", raw: settings.raw, readTenants: () => ({ file: "tenants.json", text: '{ "tenants": [ { "id": "acme", "port": 5701 } ] }' }) });
    assert.ok(!result.ok, "the stack file was accepted");
    return formatProblems(result.problems);
}

const TARGETS = `  n8n-fleet:targets:
    local:
      dockerHost: unix:///var/run/docker.sock
      publicHost: localhost
      capacity: { cpus: 16, memoryGb: 32 }
`;

test("a misspelt n8n-fleet setting is refused with a did-you-mean, at its line and column", () => {
    const problems = problemsOf(`config:\n  n8n-fleet:tenantFile: other.json\n${TARGETS}  n8n-fleet:defaultTraget: local\n  aws:region: eu-west-1\n`);
    assert.match(problems, /^Pulumi\.dev\.yaml:2:3: n8n-fleet:tenantFile: unknown setting "n8n-fleet:tenantFile": n8n-fleet would ignore it\. Fix: did you mean "n8n-fleet:tenantsFile"\?/m);
    assert.match(problems, /^Pulumi\.dev\.yaml:8:3: n8n-fleet:defaultTraget: unknown setting .*Fix: did you mean "n8n-fleet:defaultTarget"\?/m);
    assert.doesNotMatch(problems, /aws:region/, "other namespaces are not n8n-fleet's");
});

test("a problem inside the targets is located at its line and column", () => {
    const problems = problemsOf(`config:\n${TARGETS}      overcommit: { cpu: 0.5 }\n`);
    assert.match(problems, /^Pulumi\.dev\.yaml:7:21: n8n-fleet:targets\.local\.overcommit\.cpu: 0\.5 is below 1\. Fix: write a ratio of 1 \(no overcommit\) or more, such as 1\.5/m);
});

test("a YAML syntax error is located, with the fix", () => {
    const problems = problemsOf(`config:\n  n8n-fleet:targets:\n    local:\n      dockerHost: "unix:///var/run/docker.sock\n`);
    assert.match(problems, /^Pulumi\.dev\.yaml:\d+:\d+: \(top level\): is not valid YAML: .*Fix: correct the YAML at this line and column/);
});

test("under Pulumi, a misspelt setting stops the program before any resource, with the same message", { timeout: 120_000 }, async () => {
    const outcome = await runFleetInChild({ tenants: { tenants: [{ id: "acme", port: 5701 }] }, config: { "n8n-fleet:defaultTraget": "eu-1" } });
    assert.ok(!outcome.ok, "the program ran");
    assert.ok(outcome.isRunError, "a RunError hides the stack trace from the user");
    assert.match(outcome.error, /n8n-fleet:defaultTraget: unknown setting "n8n-fleet:defaultTraget".*did you mean "n8n-fleet:defaultTarget"\?/);
    assert.deepEqual(outcome.resources.filter((r) => r.type !== "pulumi:pulumi:Stack"), []);
});
