/**
 * IANA time zones as the containers' tzdata knows them: exact case, since `TZ=europe/berlin`
 * silently falls back to UTC inside the container while Intl would accept it.
 */
const KNOWN = new Set(Intl.supportedValuesOf("timeZone"));

export function isTimeZone(name: string): boolean {
    if (name === "UTC" || KNOWN.has(name)) return true;
    try {
        return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone === name;
    } catch {
        return false;
    }
}
