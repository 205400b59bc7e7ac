/**
 * Browser-side setup that must come before anything parses. Zod compiles
 * object schemas with `new Function` when it may; under the page's
 * Content-Security-Policy (no 'unsafe-eval') even its probe for that is
 * reported as a violation, so the browser uses its interpreter instead.
 */
import { z } from 'zod';

z.config({ jitless: true });
