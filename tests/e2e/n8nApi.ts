/**
 * The few n8n REST calls the end-to-end test makes, as the editor makes them: a session cookie
 * and a browser id. Every call uses a fresh connection (tests/harness/http.ts).
 */
import { setTimeout as pause } from "node:timers/promises";
import { fetch } from "../harness/http";

export class N8nApi {
    private cookie = "";

    constructor(private readonly baseUrl: string) {}

    private async request(method: string, path: string, body?: unknown): Promise<any> {
        const response = await fetch(`${this.baseUrl}${path}`, {
            method,
            headers: { "content-type": "application/json", "browser-id": "n8n-fleet-e2e", cookie: this.cookie },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(60_000),
        });
        const setCookie = response.headers.get("set-cookie");
        if (setCookie) this.cookie = setCookie.split(";")[0];
        const text = await response.text();
        if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
        return text ? JSON.parse(text).data : undefined;
    }

    setupOwner(email: string, password: string): Promise<unknown> {
        return this.request("POST", "/rest/owner/setup", { email, password, firstName: "Fleet", lastName: "Operator" });
    }

    login(email: string, password: string): Promise<unknown> {
        return this.request("POST", "/rest/login", { emailOrLdapLoginId: email, password });
    }

    /** Creates a workflow without publishing it; returns its id. */
    async createWorkflow(workflow: unknown): Promise<string> {
        return (await this.request("POST", "/rest/workflows", workflow)).id;
    }

    /** Creates a workflow and publishes (activates) its current version; returns its id. */
    async publishWorkflow(workflow: unknown): Promise<string> {
        const created = await this.request("POST", "/rest/workflows", workflow);
        await this.request("POST", `/rest/workflows/${created.id}/activate`, { versionId: created.versionId });
        return created.id;
    }

    workflow(id: string): Promise<{ id: string; name: string; active: boolean; activeVersionId?: string | null }> {
        return this.request("GET", `/rest/workflows/${id}`);
    }

    async createCredential(name: string, type: string, data: Record<string, string>): Promise<string> {
        return (await this.request("POST", "/rest/credentials", { name, type, data })).id;
    }

    credentialData(id: string): Promise<{ data: Record<string, string> }> {
        return this.request("GET", `/rest/credentials/${id}?includeData=true`);
    }
}

/** A production webhook call; resolves with the status and JSON body. */
export async function callWebhook(url: string, body: unknown, timeoutMs = 60_000): Promise<{ status: number; body: any }> {
    const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
        parsed = JSON.parse(text);
    } catch {
        // not JSON: kept as text for the message
    }
    return { status: response.status, body: parsed };
}

/**
 * A production webhook call; publishing registers the webhook in the background, so 404 is
 * retried every half second until `registrationMs`. Each call may take `callTimeoutMs`.
 */
export async function callWebhookOnceRegistered(url: string, body: unknown, { registrationMs = 60_000, callTimeoutMs = 60_000 } = {}): Promise<{ status: number; body: any }> {
    const deadline = Date.now() + registrationMs;
    for (;;) {
        const answer = await callWebhook(url, body, callTimeoutMs);
        if (answer.status !== 404 || Date.now() > deadline) return answer;
        await pause(500);
    }
}

/** A workflow with a Webhook trigger and a Code node that adds two numbers, answering with the last node's output. */
export function sumWorkflow(tenantId: string): Record<string, unknown> {
    return {
        name: `sum for ${tenantId}`,
        nodes: [
            {
                id: "6f0c1f0e-0000-4000-8000-000000000001",
                name: "Webhook",
                type: "n8n-nodes-base.webhook",
                typeVersion: 2,
                position: [0, 0],
                webhookId: "6f0c1f0e-0000-4000-8000-0000000000aa",
                parameters: { httpMethod: "POST", path: `sum-${tenantId}`, responseMode: "lastNode", options: {} },
            },
            {
                id: "6f0c1f0e-0000-4000-8000-000000000002",
                name: "Code",
                type: "n8n-nodes-base.code",
                typeVersion: 2,
                position: [220, 0],
                parameters: { jsCode: `const { a, b } = $input.first().json.body;\nreturn [{ json: { sum: a + b, tenant: ${JSON.stringify(tenantId)} } }];` },
            },
        ],
        connections: { Webhook: { main: [[{ node: "Code", type: "main", index: 0 }]] } },
        settings: { executionOrder: "v1" },
    };
}

/**
 * A workflow whose Webhook trigger makes an HTTP Request node call `url` and answers with what it
 * got; a failed request continues with its error, so the answer shows why it failed.
 */
export function callOutWorkflow(tenantId: string, url: string): Record<string, unknown> {
    return {
        name: `call out for ${tenantId}`,
        nodes: [
            {
                id: "6f0c1f0e-0000-4000-8000-000000000011",
                name: "Webhook",
                type: "n8n-nodes-base.webhook",
                typeVersion: 2,
                position: [0, 0],
                webhookId: "6f0c1f0e-0000-4000-8000-0000000000bb",
                parameters: { httpMethod: "POST", path: `call-out-${tenantId}`, responseMode: "lastNode", options: {} },
            },
            {
                id: "6f0c1f0e-0000-4000-8000-000000000012",
                name: "HTTP Request",
                type: "n8n-nodes-base.httpRequest",
                typeVersion: 4.2,
                position: [220, 0],
                onError: "continueRegularOutput",
                parameters: { url, options: {} },
            },
        ],
        connections: { Webhook: { main: [[{ node: "HTTP Request", type: "main", index: 0 }]] } },
        settings: { executionOrder: "v1" },
    };
}
