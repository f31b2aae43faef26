// Imported first by run.mjs and profile.mjs: exits with a clear message on a Node.js too old for
// the bench (see requireSupportedNode in setup.mjs) before anything that would fail obscurely loads.
import { requireSupportedNode } from './setup.mjs';

requireSupportedNode();
