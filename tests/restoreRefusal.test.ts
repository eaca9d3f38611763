/**
 * What `npm run restore` checks before it changes anything.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { keyFingerprint, restoreRefusal } from "../fleet/containers/backup";

const KEY = "the-tenant-key";
const manifest = (fields: object) => JSON.stringify({ format: 1, tenant: "acme", kind: "scheduled", keyFingerprint: keyFingerprint(KEY), ...fields });

test("a set of the tenant, taken with the key in hand, may be restored", () => {
    assert.equal(restoreRefusal(manifest({}), "acme", KEY), undefined);
});

test("a set taken with another key is refused, naming both fingerprints", () => {
    const refusal = restoreRefusal(manifest({}), "acme", "another-tenants-key");
    assert.match(refusal ?? "", /the encryption key in hand \(sha256:[0-9a-f]{64}\) is not the one this set was taken with \(sha256:[0-9a-f]{64}\): restored with it, no credential could be decrypted/);
});

test("a set of another tenant, or a file that is not a manifest, is refused", () => {
    assert.match(restoreRefusal(manifest({ tenant: "acme-eu" }), "acme", KEY) ?? "", /a set of tenant "acme-eu", not of "acme"/);
    assert.match(restoreRefusal("not json", "acme", KEY) ?? "", /not JSON/);
});

test("the fingerprint is a SHA-256 of the key, never the key", () => {
    assert.match(keyFingerprint(KEY), /^sha256:[0-9a-f]{64}$/);
    assert.ok(!keyFingerprint(KEY).includes(KEY));
    assert.notEqual(keyFingerprint(KEY), keyFingerprint(`${KEY}x`));
});
