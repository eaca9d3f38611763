/**
 * n8n environment variables a tenant's `env` may not set: the ones that wire a tenant to its own
 * database, Redis, key and runners (isolation), and the ones n8n-fleet derives from other fields.
 */

interface ReservedFamily {
    /** Variable names of the family; a prefix ends with `_`. */
    names: readonly string[];
    /** Why the family is reserved and what to do instead: the end of the error sentence. */
    reason: string;
}

const RESERVED: readonly ReservedFamily[] = [
    { names: ["DB_"], reason: "it would point n8n away from the tenant's own PostgreSQL; isolation-critical settings cannot be overridden, remove it (the database is chosen with `database`)" },
    { names: ["QUEUE_BULL_"], reason: "it would point n8n away from the tenant's own Redis; isolation-critical settings cannot be overridden, remove it" },
    { names: ["N8N_ENCRYPTION_KEY", "N8N_ENCRYPTION_KEY_FILE"], reason: "each tenant's encryption key is generated once by n8n-fleet and kept as a secret; isolation-critical settings cannot be overridden, remove it" },
    { names: ["N8N_RUNNERS_"], reason: "the runner token and broker are generated per tenant by n8n-fleet; isolation-critical settings cannot be overridden, remove it" },
    { names: ["EXECUTIONS_MODE", "OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS", "QUEUE_HEALTH_CHECK_"], reason: "every tenant runs in queue mode with health checks on; remove it (set `workers` and `concurrency` instead)" },
    { names: ["N8N_HOST", "N8N_PORT", "N8N_PROTOCOL", "N8N_EDITOR_BASE_URL", "WEBHOOK_URL", "N8N_WEBHOOK_URL", "N8N_SECURE_COOKIE", "N8N_LISTEN_ADDRESS", "N8N_PROXY_HOPS"], reason: "n8n-fleet derives it from the tenant's `url` and `port` (behind an edge, its `domain`); remove it and set `url` instead (`domain` behind an edge)" },
    { names: ["N8N_INSTANCE_OWNER_"], reason: "the owner is set at provisioning from `owner`, with a generated password; remove it and set `owner` instead" },
    { names: ["GENERIC_TIMEZONE", "TZ"], reason: "n8n-fleet derives it from `timezone`; remove it and set `timezone` instead" },
    { names: ["NODE_OPTIONS"], reason: "n8n-fleet sizes the Node heap from `resources`; remove it and change `resources` instead" },
    { names: ["N8N_USER_FOLDER", "npm_config_cache", "N8N_DIAGNOSTICS_ENABLED", "N8N_VERSION_NOTIFICATIONS_ENABLED", "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS"], reason: "n8n-fleet fixes it for every tenant (data folder on the tenant's volume, telemetry off); remove it" },
    { names: ["N8N_SSRF_"], reason: "n8n-fleet turns the protection against requests to private and metadata addresses on for every tenant; remove it and list exceptions in `outbound` instead" },
    {
        names: ["EXECUTIONS_DATA_PRUNE", "EXECUTIONS_DATA_MAX_AGE", "EXECUTIONS_DATA_PRUNE_MAX_COUNT", "N8N_PAYLOAD_SIZE_MAX", "N8N_FORMDATA_FILE_SIZE_MAX"],
        reason: "n8n-fleet derives it from the tenant's disk budget, so that normal use stays within it; remove it and change `resources.diskGb` instead",
    },
    { names: ["N8N_GRACEFUL_SHUTDOWN_TIMEOUT"], reason: "n8n-fleet sets it together with the time Docker waits before it kills a stopping container; remove it" },
    {
        names: ["N8N_COMMUNITY_PACKAGES_", "N8N_VERIFIED_PACKAGES_ENABLED", "N8N_UNVERIFIED_PACKAGES_ENABLED", "N8N_REINSTALL_MISSING_PACKAGES"],
        reason: 'community packages run unsandboxed in the tenant\'s n8n, so n8n-fleet decides them; remove it and set "communityPackages" ("off", "verified" or "any") instead',
    },
    {
        names: [
            "NODES_EXCLUDE",
            "NODES_INCLUDE",
            "N8N_BLOCK_ENV_ACCESS_IN_NODE",
            "N8N_RESTRICT_FILE_ACCESS_TO",
            "N8N_BLOCK_FILE_ACCESS_TO_N8N_FILES",
            "N8N_BLOCK_FILE_PATTERNS",
            "N8N_GIT_NODE_",
            "N8N_PYTHON_ENABLED",
            "N8N_AWS_SYSTEM_CREDENTIALS_",
            "N8N_INSECURE_",
        ],
        reason: "n8n-fleet fixes what a tenant's workflow code may reach inside n8n (nodes, environment, files, git, cloud credentials) for every tenant, as a host of untrusted code must; remove it",
    },
];

function matches(name: string, reserved: string): boolean {
    return reserved.endsWith("_") ? name.startsWith(reserved) : name === reserved;
}

/** Why `name` is reserved, or undefined when a tenant may set it. */
export function reservedEnvReason(name: string): string | undefined {
    return RESERVED.find((family) => family.names.some((reserved) => matches(name, reserved)))?.reason;
}

/** The same rule as a regular expression, for the JSON Schema that editors check while typing. */
export const ALLOWED_ENV_NAME = new RegExp(
    `^(?!(?:${RESERVED.flatMap((family) => family.names)
        .map((reserved) => (reserved.endsWith("_") ? reserved : `${reserved}$`))
        .join("|")}))[A-Z_][A-Z0-9_]*$`,
);

/**
 * Why a tenants.json key that is not in the schema looks like an attempt to wire a tenant to
 * something outside its isolation (a shared database, Redis, key or token), or undefined.
 */
export function isolationKeyReason(key: string): string | undefined {
    if (/encrypt/i.test(key)) return "each tenant's encryption key is generated once by n8n-fleet and kept as a secret; isolation-critical settings cannot be overridden, remove it";
    if (/redis|queue/i.test(key)) return "every tenant gets its own Redis, wired by n8n-fleet; isolation-critical settings cannot be overridden, remove it";
    if (/token|runner/i.test(key)) return "the runner token is generated per tenant by n8n-fleet; isolation-critical settings cannot be overridden, remove it";
    if (/postgres|^db|host|user|password|secret|connection/i.test(key)) return "every tenant gets its own database and generated passwords, wired by n8n-fleet; isolation-critical settings cannot be overridden, remove it";
    return undefined;
}
