/** Schema names we accept: plain lowercase identifiers, so they never need escaping. Free of `pg`, so the settings check can use it. */
export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;
