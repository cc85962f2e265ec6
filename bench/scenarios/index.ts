// Every scenario, in the order they run. To add one: write a module next to this one exporting a
// Scenario (see types.ts; common.ts has helpers), and list it here.

import { get4kAccounting, put4kAccounting } from './accounting.js';
import { get4kPolicy, put4kPolicy } from './authz.js';
import { get4kCors } from './cors.js';
import { get4kLogging } from './logging.js';
import { get1m } from './get1m.js';
import { get256m } from './get256m.js';
import { get4k } from './get4k.js';
import { list100k, list100kDelimiter } from './list100k.js';
import { list1m } from './list1m.js';
import { mem5g } from './mem5g.js';
import { mp1g } from './mp1g.js';
import { put1m } from './put1m.js';
import { put256m } from './put256m.js';
import { put4k } from './put4k.js';
import { get1mSseC, get1mSseS3, get256mSseC, get256mSseS3, put1mSseC, put1mSseS3, put256mSseC, put256mSseS3 } from './sse.js';
import { versions10k } from './versions10k.js';
import type { Scenario } from './types.js';

export const SCENARIOS: Scenario[] = [put4k, get4k, get4kCors, get4kLogging, put4kAccounting, get4kAccounting, put4kPolicy, get4kPolicy, put1m, get1m, put1mSseS3, get1mSseS3, put1mSseC, get1mSseC, put256m, get256m, put256mSseS3, get256mSseS3, put256mSseC, get256mSseC, list100k, list100kDelimiter, mp1g, versions10k, mem5g, list1m];
